/**
 * predict() with float32 inputs (src/engine/predict.ts lazyFloat64; the fast recurrent path reads the float32 values
 * themselves, fast-recurrent.ts rememberFloat32Input). Source of truth: the same values given as a Float64Array,
 * which always took the float64 path — outputs must be equal bit for bit, for a recurrent layer on the fast path, a
 * Dense layer reading the float64 view, and a recurrent layer fed by another layer; the caller changing its array
 * while predict() awaits must not change the result (the values are taken at the call), and outputs are plain
 * Float64Array tensors even when an output is a model input passed through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel } from '../../src/model/graph';
import { predict } from '../../src/engine/predict';
import { fastRecurrentRunCount } from '../../src/model/kinds/fast-recurrent';
import { seededRandom } from '../fixtures/models';
import { inputLayer, layer, memoryFile, modelConfig, ref } from './memoryModel';

const rand = seededRandom(31);
const values = (n: number, s: number) => Array.from({ length: n }, () => Math.fround((rand() * 2 - 1) * s));

async function model() {
  const steps = 7;
  const features = 5;
  const units = 6;
  const w = (name: string, shape: number[]) => ({ name, shape, data: values(shape.reduce((a, b) => a * b, 1), 0.5) });
  const config = modelConfig(
    [
      inputLayer('x', [steps, features]),
      layer('gru', 'GRU', { units, return_sequences: true }, [ref('x')]),
      layer('lstm', 'LSTM', { units }, [ref('gru')]),
      layer('dense', 'Dense', { units: 3 }, [ref('x')]),
    ],
    [ref('x')],
    [ref('lstm'), ref('dense'), ref('x')],
  );
  const file = memoryFile(config, {
    gru: [w('kernel', [features, 3 * units]), w('recurrent_kernel', [units, 3 * units]), w('bias', [2, 3 * units])],
    lstm: [w('kernel', [units, 4 * units]), w('recurrent_kernel', [units, 4 * units]), w('bias', [4 * units])],
    dense: [w('kernel', [features, 3]), w('bias', [3])],
  });
  return { m: await buildModel(file), shape: [3, steps, features] };
}

test('float32 inputs give bit for bit the outputs of the same values in float64 (fast path, Dense, passed-through input)', async () => {
  const { m, shape } = await model();
  const data = values(shape.reduce((a, b) => a * b, 1), 1.5);
  const f64 = await predict(m, { shape, data: Float64Array.from(data) });
  const before = fastRecurrentRunCount();
  const f32 = await predict(m, { shape, data: Float32Array.from(data) });
  assert.equal(fastRecurrentRunCount() - before, 2, 'both recurrent layers on the fast path');
  assert.equal(f32.outputs.length, 3);
  f32.outputs.forEach((t, k) => {
    assert.ok(t.data instanceof Float64Array, `output ${k} is float64`);
    assert.deepEqual(Object.getOwnPropertyDescriptor(t, 'data')?.get, undefined, `output ${k} is a plain tensor`);
    assert.deepEqual(t.data, f64.outputs[k].data, `output ${k}`);
    assert.deepEqual(t.shape, f64.outputs[k].shape);
  });
});

test('the caller changing its float32 array while predict() awaits does not change the result', async () => {
  const { m, shape } = await model();
  const data = Float32Array.from(values(shape.reduce((a, b) => a * b, 1), 1.5));
  const expected = await predict(m, { shape, data: Float64Array.from(data) });
  const running = predict(m, { shape, data });
  data.fill(0.25);
  const got = await running;
  got.outputs.forEach((t, k) => assert.deepEqual(t.data, expected.outputs[k].data, `output ${k}`));
});
