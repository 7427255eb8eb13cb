/**
 * Weightless kinds in settings the tfjs oracle cannot reach (Subtract, channels_first, Keras 1 spellings, keepdims,
 * Permute of rank 4, Dot on 3D inputs with normalize); expected values are worked out by hand in the comments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, inferShapes } from '../../src/model/graph';
import { predict } from '../../src/engine/predict';
import { inputLayer, layer, memoryFile, modelConfig, ref } from './memoryModel';

const t = (shape: number[], data: number[]) => ({ shape, data: Float64Array.from(data) });

async function runOne(className: string, config: Record<string, unknown>, inputShapes: number[][], inputs: { shape: number[]; data: Float64Array }[], kerasVersion = '2.2.4') {
  const names = inputShapes.map((_, i) => `in_${i}`);
  const cfg = modelConfig(
    [...inputShapes.map((s, i) => inputLayer(names[i], s)), layer('l', className, config, names.map((n) => ref(n)))],
    names.map((n) => ref(n)),
    [ref('l')],
  );
  const shapes = inferShapes(cfg, kerasVersion);
  const r = await predict(await buildModel(memoryFile(cfg, {}, kerasVersion)), inputs);
  return { out: r.outputs[0], inferred: shapes.get('l:0:0') };
}

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-12) {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i] - e) <= tol, `[${i}] ${actual[i]} vs ${e}`));
}

test('Subtract: x0 − x1; Minimum over three inputs; lower-rank input broadcast after the batch axis', async () => {
  const s = await runOne('Subtract', {}, [[3], [3]], [t([1, 3], [5, 7, 9]), t([1, 3], [1, 2, 3])]);
  close(s.out.data, [4, 5, 6]);
  const m = await runOne('Minimum', {}, [[2], [2], [2]], [t([1, 2], [1, 5]), t([1, 2], [3, 2]), t([1, 2], [0, 9])]);
  close(m.out.data, [0, 2]);
  // Keras _Merge: a (batch, 2) input beside (batch, 3, 2) gets an axis at 1 -> (batch, 1, 2), then broadcasts
  const a = await runOne('Add', {}, [[3, 2], [2]], [t([1, 3, 2], [1, 2, 3, 4, 5, 6]), t([1, 2], [10, 20])]);
  close(a.out.data, [11, 22, 13, 24, 15, 26]);
  assert.deepEqual(a.inferred, [null, 3, 2]);
});

test('Dot on 3D inputs with normalize: cosine similarities between steps', async () => {
  // x1 steps [3,4],[1,0]; x2 steps [4,3],[0,2]; axes 2 -> (1, 2, 2) matrix of cosines
  const d = await runOne('Dot', { axes: 2, normalize: true }, [[2, 2], [2, 2]], [t([1, 2, 2], [3, 4, 1, 0]), t([1, 2, 2], [4, 3, 0, 2])]);
  assert.deepEqual(d.out.shape, [1, 2, 2]);
  // cos([3,4],[4,3]) = 24/25; cos([3,4],[0,2]) = 8/10; cos([1,0],[4,3]) = 4/5; cos([1,0],[0,2]) = 0
  close(d.out.data, [0.96, 0.8, 0.8, 0], 1e-12);
  assert.deepEqual(d.inferred, [null, 2, 2]);
  // 2D inputs: one number per sample, shape (batch, 1)
  const v = await runOne('Dot', { axes: -1 }, [[3], [3]], [t([2, 3], [1, 2, 3, 1, 1, 1]), t([2, 3], [4, 5, 6, 2, 2, 2])]);
  assert.deepEqual(v.out.shape, [2, 1]);
  close(v.out.data, [32, 6]);
});

test('pooling: channels_first, Keras 1 pool_length/stride/border_mode, same padding averages only real cells', async () => {
  // channels_first (batch, channels=1, steps=4): max over pairs of steps
  const cf = await runOne('MaxPooling1D', { pool_size: [2], strides: [2], padding: 'valid', data_format: 'channels_first' }, [[1, 4]], [t([1, 1, 4], [1, 5, 2, 3])]);
  assert.deepEqual(cf.out.shape, [1, 1, 2]);
  close(cf.out.data, [5, 3]);
  // Keras 1 spellings; same padding over 5 steps with pool 2 stride 2: windows [1,2], [3,4], [5] -> 1.5, 3.5, 5
  const k1 = await runOne('AveragePooling1D', { pool_length: 2, stride: 2, border_mode: 'same' }, [[5, 1]], [t([1, 5, 1], [1, 2, 3, 4, 5])], '1.2.2');
  close(k1.out.data, [1.5, 3.5, 5]);
  assert.deepEqual(k1.inferred, [null, 3, 1]);
});

test('GlobalAveragePooling1D keepdims and channels_first; GlobalMaxPooling1D', async () => {
  const keep = await runOne('GlobalAveragePooling1D', { keepdims: true }, [[2, 2]], [t([1, 2, 2], [1, 2, 3, 6])]);
  assert.deepEqual(keep.out.shape, [1, 1, 2]);
  close(keep.out.data, [2, 4]);
  assert.deepEqual(keep.inferred, [null, 1, 2]);
  // channels_first (batch, channels=2, steps=3): mean over steps per channel
  const cf = await runOne('GlobalAveragePooling1D', { data_format: 'channels_first' }, [[2, 3]], [t([1, 2, 3], [1, 2, 3, 4, 5, 9])]);
  close(cf.out.data, [2, 6]);
  const mx = await runOne('GlobalMaxPooling1D', {}, [[3, 2]], [t([1, 3, 2], [1, -2, 7, -5, 3, -1])]);
  close(mx.out.data, [7, -1]);
});

test('Flatten with channels_first moves channels last first; Permute on rank 4; Reshape with -1; RepeatVector', async () => {
  // (batch, channels=2, steps=2): channels-last order is [c0s0, c1s0, c0s1, c1s1]
  const f = await runOne('Flatten', { data_format: 'channels_first' }, [[2, 2]], [t([1, 2, 2], [1, 2, 3, 4])]);
  close(f.out.data, [1, 3, 2, 4]);
  const p = await runOne('Permute', { dims: [3, 1, 2] }, [[1, 2, 3]], [t([1, 1, 2, 3], [0, 1, 2, 3, 4, 5])]);
  assert.deepEqual(p.out.shape, [1, 3, 1, 2]);
  // out[k][0][j] = in[0][j][k]
  close(p.out.data, [0, 3, 1, 4, 2, 5]);
  assert.deepEqual(p.inferred, [null, 3, 1, 2]);
  const r = await runOne('Reshape', { target_shape: [-1, 2] }, [[3, 2]], [t([1, 3, 2], [1, 2, 3, 4, 5, 6])]);
  assert.deepEqual(r.out.shape, [1, 3, 2]);
  assert.deepEqual(r.inferred, [null, 3, 2]);
  const rv = await runOne('RepeatVector', { n: 2 }, [[2]], [t([1, 2], [7, 8])]);
  close(rv.out.data, [7, 8, 7, 8]);
});

test('activation layers follow the Keras version: LeakyReLU default slope 0.3; ReLU threshold; Softmax axis', async () => {
  const lr = await runOne('LeakyReLU', {}, [[2]], [t([1, 2], [-1, 2])]);
  close(lr.out.data, [-0.3, 2]);
  // ReLU(max_value=2, threshold=1): Keras keeps x only where x > threshold (x * (x > 1)), then clips at 2
  const relu = await runOne('ReLU', { max_value: 2, threshold: 1 }, [[4]], [t([1, 4], [0.5, 1, 1.5, 3])]);
  close(relu.out.data, [0, 0, 1.5, 2]);
  // softmax over axis 1 of (batch, 2, 1): each column sums to 1
  const sm = await runOne('Softmax', { axis: 1 }, [[2, 1]], [t([1, 2, 1], [0, Math.log(3)])]);
  close(sm.out.data, [0.25, 0.75], 1e-12);
  const drop = await runOne('Dropout', { rate: 0.9 }, [[3]], [t([1, 3], [1, 2, 3])]);
  close(drop.out.data, [1, 2, 3]);
});
