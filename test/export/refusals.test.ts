/**
 * The variants of the newer exported kinds that the export does not write code for are refused in one line naming
 * the layer, its class, the language and the setting — never exported wrongly and never a stack trace. Source of
 * truth: the layer settings each model is built with (BatchNormalization over a non-last axis, Keras 1 mode=1,
 * LayerNormalization over a non-last axis, Permute beyond 4 axes, channels_first ZeroPadding1D and ConvLSTM1D,
 * AdditiveAttention over inputs with an extra leading axis).
 * Each model is also checked to be otherwise exportable: the same model with the setting at its supported value
 * (Permute: 4 axes) exports, so the refusal is about that setting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel } from '../../src/model/graph';
import { exportPredictor } from '../../src/export/index';
import { KerasLensError } from '../../src/model/types';
import { inputLayer, layer, memoryFile, modelConfig, ref, type MemoryWeight } from '../engine/memoryModel';

const values = (n: number, seed: number) => Array.from({ length: n }, (_, i) => 0.3 + 0.5 * Math.abs(Math.sin(seed * 31 + i * 7.7)));

/** `inputs`: how many times the layer takes x (Attention: [query, value] = [x, x], self-attention). */
async function attempt(shape: number[], className: string, config: Record<string, unknown>, weights: MemoryWeight[], inputs = 1) {
  const refs = Array.from({ length: inputs }, () => ref('x'));
  const model = await buildModel(
    memoryFile(modelConfig([inputLayer('x', shape), layer('n', className, config, refs)], [ref('x')], [ref('n')]), weights.length ? { n: weights } : {}),
  );
  await model.bindAll();
  return exportPredictor(model, 'numpy');
}

const bnWeights = (c: number): MemoryWeight[] =>
  ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((r, k) => ({ name: `n/${r}:0`, shape: [c], data: values(c, k + 1) }));

const lnWeights = (c: number): MemoryWeight[] => ['gamma', 'beta'].map((r, k) => ({ name: `n/${r}:0`, shape: [c], data: values(c, k + 5) }));

const CASES: { what: string; shape: number[]; className: string; bad: Record<string, unknown>; good: Record<string, unknown>; goodShape?: number[]; inputs?: number; weights: (bad: boolean) => MemoryWeight[]; why: RegExp }[] = [
  { what: 'BatchNormalization over axis 1 of (steps, features)', shape: [4, 3], className: 'BatchNormalization', bad: { axis: 1 }, good: { axis: -1 }, weights: (bad) => bnWeights(bad ? 4 : 3), why: /axis 1 is not exported \(only the last axis/ },
  { what: 'Keras 1 BatchNormalization mode=1', shape: [4, 3], className: 'BatchNormalization', bad: { axis: -1, mode: 1 }, good: { axis: -1, mode: 0 }, weights: () => bnWeights(3), why: /mode=1 normalises with the batch's statistics/ },
  { what: 'Permute of 5 axes', shape: [2, 1, 2, 1, 2], className: 'Permute', bad: { dims: [5, 4, 3, 2, 1] }, good: { dims: [4, 3, 2, 1] }, goodShape: [2, 1, 2, 3], weights: () => [], why: /Permute of 5 axes after the batch is not exported \(at most 4\)/ },
  { what: 'LayerNormalization over axis 1 of (steps, features)', shape: [4, 3], className: 'LayerNormalization', bad: { axis: [1] }, good: { axis: [-1] }, weights: (bad) => lnWeights(bad ? 4 : 3), why: /axis \[1\] is not exported \(only the last axis\)/ },
  {
    what: 'ConvLSTM1D channels_first',
    shape: [3, 2, 5],
    className: 'ConvLSTM1D',
    bad: { filters: 2, kernel_size: [2], padding: 'valid', data_format: 'channels_first' },
    good: { filters: 2, kernel_size: [2], padding: 'valid', data_format: 'channels_last' },
    goodShape: [3, 5, 2],
    weights: () => [
      { name: 'n/kernel:0', shape: [2, 2, 8], data: values(32, 11) },
      { name: 'n/recurrent_kernel:0', shape: [2, 2, 8], data: values(32, 12) },
      { name: 'n/bias:0', shape: [8], data: values(8, 13) },
    ],
    why: /channels_first is not exported/,
  },
  {
    // Keras's AdditiveAttention broadcasts over extra leading axes (expand_dims at -2 / -3); the export runs (steps, features)
    what: 'AdditiveAttention over (rows, steps, features) inputs',
    shape: [2, 4, 3],
    className: 'AdditiveAttention',
    bad: { use_scale: true },
    good: { use_scale: true },
    goodShape: [4, 3],
    inputs: 2,
    weights: () => [{ name: 'n/scale:0', shape: [3], data: values(3, 17) }],
    why: /AdditiveAttention is exported for \(steps, features\) query, value and key/,
  },
  { what: 'ZeroPadding1D channels_first', shape: [4, 3], className: 'ZeroPadding1D', bad: { padding: 1, data_format: 'channels_first' }, good: { padding: 1, data_format: 'channels_last' }, weights: () => [], why: /channels_first is not exported/ },
];

for (const c of CASES) {
  test(`export refuses ${c.what} in one line; the supported setting exports`, async () => {
    await assert.rejects(
      () => attempt(c.shape, c.className, c.bad, c.weights(true), c.inputs),
      (err: unknown) => {
        assert.ok(err instanceof KerasLensError, `a KerasLensError, not ${String(err)}`);
        assert.match(err.problem, new RegExp(`^cannot export layer 'n' \\(${c.className}\\) to numpy: `));
        assert.match(err.problem, c.why);
        assert.ok(!err.message.includes('\n'), 'one line');
        return true;
      },
    );
    const ok = await attempt(c.goodShape ?? c.shape, c.className, c.good, c.weights(false), c.inputs);
    assert.ok(ok.files.some((f) => f.path === 'model.py'));
  });
}
