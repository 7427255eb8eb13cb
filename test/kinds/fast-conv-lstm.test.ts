/**
 * ConvLSTM1D/2D/3D: the fast path (fast-conv-lstm.ts → src/kernels/conv-recurrent.ts, patches × [W; U] on the packed
 * SIMD matmul) against the kind's readable step (conv-lstm.ts), and the fast path against real Keras.
 *
 * 1. Randomized layers (seeded weights, inputs, states) called through the kind twice:
 *    - untraced: the fast path — asserted by fastConvLstmRunCount() rising by one per call;
 *    - traced (ctx.trace): the readable step — asserted by the counter not moving and one trace per call.
 *    Source of truth: the readable step, whose formulas test/conformance checks against Keras's own numbers.
 *    float64 fast path: equal to 1e-12 on every output and carried state; float32 (default where SIMD runs): every
 *    value a float32 number and within Keras's tolerance 1e-5·max(1, |value|) — except layers with a relu/linear
 *    activation, which must have stayed float64 (1e-12).
 * 2. Every ConvLSTM case Keras itself ran (test/fixtures/keras3-real/conv_lstm*, ../shared/keras-reference/keras3/
 *    conv_lstm*) through the real pipeline in every saved format: the fast path must run (counter) and the outputs
 *    must be within 1e-5·max(1, |keras|) of Keras's expected.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { kindFor } from '../../src/model/kinds/index';
import { fastConvLstmRunCount, setFastConvLstmPrecision } from '../../src/model/kinds/fast-conv-lstm';
import { setPreferredMatmulBackend, simdSupported, type Precision } from '../../src/kernels/workspace';
import type { ForwardArgs, LayerConfig, Mask, RecurrentTrace, RunContext, Tensor } from '../../src/model/types';
import type { RecurrentKind } from '../../src/model/kinds/recurrent';
import { seededSigned } from '../fixtures/models';
import { caseFormats, compareOutputs, loadCases, runCase } from '../conformance/keras3-cases';

const BATCH = 3;
const STEPS = 4;
const FILTERS = 3;

interface Case {
  name: string;
  className: 'ConvLSTM1D' | 'ConvLSTM2D' | 'ConvLSTM3D';
  config: Record<string, unknown>;
  /** Spatial sizes and channels of one input step, channels_last order. */
  spatial: number[];
  channels: number;
  masked?: boolean;
  initial?: boolean;
  /** Two calls sharing ctx.states; compare both and the carried states. */
  stateful?: boolean;
  kerasVersion?: string;
}

const base = { filters: FILTERS, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true };
const cases: Case[] = [
  { name: '1D valid', className: 'ConvLSTM1D', config: { ...base, kernel_size: [3] }, spatial: [9], channels: 2 },
  { name: '1D same, strides 2, return_sequences', className: 'ConvLSTM1D', config: { ...base, kernel_size: [3], strides: [2], padding: 'same', return_sequences: true }, spatial: [9], channels: 2 },
  { name: '1D same, dilation 2, go_backwards, masked', className: 'ConvLSTM1D', config: { ...base, kernel_size: [2], dilation_rate: [2], padding: 'same', go_backwards: true, return_sequences: true }, spatial: [8], channels: 3, masked: true },
  { name: '1D valid, dilation 3, zero_output_for_mask, masked, return_state', className: 'ConvLSTM1D', config: { ...base, kernel_size: [2], dilation_rate: [3], return_sequences: true, zero_output_for_mask: true, return_state: true }, spatial: [10], channels: 2, masked: true },
  { name: '1D channels_first, no bias, initial state', className: 'ConvLSTM1D', config: { ...base, kernel_size: [3], padding: 'same', data_format: 'channels_first', use_bias: false, return_sequences: true }, spatial: [7], channels: 2, initial: true },
  { name: '1D relu activation, hard_sigmoid (Keras 3): stays float64', className: 'ConvLSTM1D', config: { ...base, kernel_size: [3], activation: 'relu', recurrent_activation: 'hard_sigmoid', return_state: true }, spatial: [6], channels: 2, kerasVersion: '3.15.1' },
  { name: '2D valid', className: 'ConvLSTM2D', config: { ...base, kernel_size: [3, 3] }, spatial: [6, 6], channels: 2 },
  { name: '2D same, return_sequences', className: 'ConvLSTM2D', config: { ...base, kernel_size: [3, 2], padding: 'same', return_sequences: true }, spatial: [5, 6], channels: 2 },
  { name: '2D same, strides (2, 1), go_backwards', className: 'ConvLSTM2D', config: { ...base, kernel_size: [3, 3], strides: [2, 1], padding: 'same', go_backwards: true, return_sequences: true }, spatial: [7, 5], channels: 3 },
  { name: '2D valid, strides 2, masked, return_state', className: 'ConvLSTM2D', config: { ...base, kernel_size: [2, 2], strides: [2, 2], return_state: true }, spatial: [7, 6], channels: 2, masked: true },
  { name: '2D same, dilation (2, 1), initial state, channels_first, return_state', className: 'ConvLSTM2D', config: { ...base, kernel_size: [3, 3], dilation_rate: [2, 1], padding: 'same', data_format: 'channels_first', return_sequences: true, return_state: true }, spatial: [6, 5], channels: 2, initial: true },
  { name: '2D valid, dilation 2, masked go_backwards zero_output_for_mask', className: 'ConvLSTM2D', config: { ...base, kernel_size: [2, 3], dilation_rate: [2, 2], go_backwards: true, zero_output_for_mask: true, return_sequences: true }, spatial: [6, 7], channels: 1, masked: true },
  { name: '2D hard_sigmoid (Keras 2), stateful, second call', className: 'ConvLSTM2D', config: { ...base, kernel_size: [3, 3], padding: 'same', recurrent_activation: 'hard_sigmoid', stateful: true, return_state: true }, spatial: [4, 5], channels: 2, stateful: true, kerasVersion: '2.2.4' },
  { name: '2D linear activation: stays float64', className: 'ConvLSTM2D', config: { ...base, kernel_size: [2, 2], activation: 'linear', return_sequences: true }, spatial: [4, 4], channels: 2 },
  { name: '3D same, return_sequences', className: 'ConvLSTM3D', config: { ...base, kernel_size: [2, 3, 2], padding: 'same', return_sequences: true }, spatial: [3, 4, 3], channels: 2 },
  { name: '3D valid, strides (2, 1, 2), go_backwards, return_state', className: 'ConvLSTM3D', config: { ...base, kernel_size: [2, 2, 2], strides: [2, 1, 2], go_backwards: true, return_state: true }, spatial: [5, 4, 4], channels: 1 },
  { name: '3D same, dilation (1, 2, 1), channels_first, masked', className: 'ConvLSTM3D', config: { ...base, kernel_size: [1, 2, 2], dilation_rate: [1, 2, 1], padding: 'same', data_format: 'channels_first', return_sequences: true }, spatial: [3, 4, 3], channels: 2, masked: true },
  { name: '3D valid, initial state, stateful', className: 'ConvLSTM3D', config: { ...base, kernel_size: [2, 2, 2], stateful: true }, spatial: [3, 3, 4], channels: 2, initial: true, stateful: true },
];

const product = (v: number[]) => v.reduce((a, b) => a * b, 1);

/** Output spatial sizes by Keras's padding rule (TensorFlow's: 'same' → ceil(size / stride)). */
function outSpatial(c: Case): number[] {
  const n = c.spatial.length;
  const tuple = (k: string) => (c.config[k] as number[] | undefined) ?? new Array<number>(n).fill(1);
  const ks = c.config.kernel_size as number[];
  const [s, d] = [tuple('strides'), tuple('dilation_rate')];
  return c.spatial.map((size, i) => (c.config.padding === 'same' ? Math.ceil(size / s[i]) : Math.floor((size - (ks[i] - 1) * d[i] - 1) / s[i]) + 1));
}

interface Setup {
  layer: LayerConfig;
  kind: RecurrentKind;
  weights: Map<string, Tensor>;
  x: Tensor;
  mask: Mask | null;
  initial?: Tensor[];
}

function setup(c: Case, seed: number): Setup {
  const r = seededSigned(seed);
  const f32 = (n: number, scale: number) => Float32Array.from({ length: n }, () => r() * scale);
  const ks = c.config.kernel_size as number[];
  const taps = product(ks);
  const G = 4 * FILTERS;
  const weights = new Map<string, Tensor>([
    ['kernel', { shape: [...ks, c.channels, G], data: f32(taps * c.channels * G, 0.6) }],
    ['recurrent_kernel', { shape: [...ks, FILTERS, G], data: f32(taps * FILTERS * G, 0.6) }],
  ]);
  if (c.config.use_bias !== false) weights.set('bias', { shape: [G], data: f32(G, 0.5) });
  const cf = c.config.data_format === 'channels_first';
  const step = cf ? [c.channels, ...c.spatial] : [...c.spatial, c.channels];
  const x: Tensor = { shape: [BATCH, STEPS, ...step], data: Float64Array.from(f32(BATCH * STEPS * product(step), 1.5)) };
  let mask: Mask | null = null;
  if (c.masked) {
    // sample 0 starts with two masked steps, sample 1 has one inside, sample 2 ends with one
    mask = { batch: BATCH, steps: STEPS, data: new Uint8Array(BATCH * STEPS).fill(1) };
    for (const [b, t] of [[0, 0], [0, 1], [1, 2], [2, STEPS - 1]]) mask.data[b * STEPS + t] = 0;
  }
  const out = outSpatial(c);
  const stateShape = cf ? [BATCH, FILTERS, ...out] : [BATCH, ...out, FILTERS];
  const initial = c.initial ? [0, 1].map(() => ({ shape: stateShape, data: Float64Array.from(f32(product(stateShape), 0.9)) })) : undefined;
  const layer: LayerConfig = { name: 'conv_lstm', className: c.className, config: { name: 'conv_lstm', ...c.config }, inbound: [] };
  return { layer, kind: kindFor(c.className) as RecurrentKind, weights, x, mask, initial };
}

function call(s: Setup, ctx: RunContext): Tensor[] {
  const args: ForwardArgs = { layer: s.layer, inputs: [s.x], masks: [s.mask], weights: s.weights, initialStates: s.initial, ctx };
  return s.kind.forward(args).outputs;
}

/** float64: |fast − readable| ≤ 1e-12; float32: ≤ 1e-5·max(1, |readable|) and every value a float32 number. */
function assertSame(fast: Tensor[], readable: Tensor[], label: string, precision: Precision): void {
  const f32 = precision === 'float32';
  assert.deepEqual(fast.map((t) => t.shape), readable.map((t) => t.shape), `${label}: output shapes`);
  fast.forEach(({ data }, i) => {
    const errors = Array.from(data, (v, k) => Math.abs(v - readable[i].data[k]) / (f32 ? Math.max(1, Math.abs(readable[i].data[k])) : 1));
    const worst = errors.some(Number.isNaN) ? Infinity : Math.max(0, ...errors);
    assert.ok(worst <= (f32 ? 1e-5 : 1e-12), `${label}: output ${i} differs by ${worst}`);
    if (f32) assert.ok(data.every((v) => Math.fround(v) === v), `${label}: output ${i} holds values that are not float32 numbers`);
  });
}

const PRECISIONS: Precision[] = simdSupported() ? ['float64', 'float32'] : ['float64'];
const saturating = (name: unknown) => ['tanh', 'sigmoid', 'hard_sigmoid'].includes(String(name));
/** float32 runs only where both activations saturate (fast-recurrent.ts SATURATING); else float64. */
const ranIn = (c: Case, asked: Precision): Precision => (asked === 'float32' && saturating(c.config.activation) && saturating(c.config.recurrent_activation) ? 'float32' : 'float64');

cases.forEach((c, index) => {
  for (const precision of PRECISIONS) {
    test(`${c.className} ${c.name}: ${precision} fast path ran and equals the readable step`, () => {
      setFastConvLstmPrecision(precision);
      const s = setup(c, 7100 + index);
      const ran = ranIn(c, precision);
      const fastCtx: RunContext = { kerasVersion: c.kerasVersion ?? '2.15.0', states: new Map() };
      const readableCtx: RunContext = { ...fastCtx, states: new Map() };
      for (let n = 0; n < (c.stateful ? 2 : 1); n++) {
        const label = `${c.name}${c.stateful ? `, call ${n + 1}` : ''} (${ran})`;
        const before = fastConvLstmRunCount();
        const fast = call(s, fastCtx);
        assert.equal(fastConvLstmRunCount() - before, 1, `${label}: the fast path did not run`);
        const trace: RecurrentTrace[] = [];
        const readable = call(s, { ...readableCtx, trace });
        assert.equal(fastConvLstmRunCount() - before, 1, `${label}: a traced call must run the readable step`);
        assert.equal(trace.length, 1, `${label}: one trace`);
        assertSame(fast, readable, label, ran);
        if (c.stateful) for (const [key, states] of readableCtx.states) assertSame(fastCtx.states.get(key) ?? [], states, `${label}: carried state '${key}'`, ran);
        // the second call of a stateful layer starts from the carried states, not the given ones
        s.initial = undefined;
      }
    });
  }
});

test('the table covers what it claims: 1D/2D/3D, same/valid, strides, dilation, masks, go_backwards, states, channels_first', () => {
  for (const k of ['ConvLSTM1D', 'ConvLSTM2D', 'ConvLSTM3D']) {
    const of = cases.filter((c) => c.className === k);
    assert.ok(of.some((c) => c.config.padding === 'same') && of.some((c) => c.config.padding !== 'same'), `${k}: same and valid`);
    assert.ok(of.some((c) => (c.config.strides as number[] | undefined)?.some((v) => v > 1)), `${k}: strides`);
    assert.ok(of.some((c) => (c.config.dilation_rate as number[] | undefined)?.some((v) => v > 1)), `${k}: dilation`);
    assert.ok(of.some((c) => c.config.return_sequences) && of.some((c) => c.masked), `${k}: return_sequences, masks`);
    assert.ok(of.some((c) => c.config.data_format === 'channels_first'), `${k}: channels_first`);
  }
  assert.ok(cases.some((c) => c.config.go_backwards) && cases.some((c) => c.initial) && cases.some((c) => c.stateful));
  assert.ok(cases.some((c) => c.config.zero_output_for_mask) && cases.some((c) => c.config.return_state));
});

test('the TypeScript backend runs the fast path in float64 whatever precision is asked (float32 needs SIMD)', () => {
  const c = cases.find((x) => x.name === '2D same, strides (2, 1), go_backwards')!;
  setFastConvLstmPrecision('float32');
  setPreferredMatmulBackend('typescript');
  try {
    const s = setup(c, 99);
    const before = fastConvLstmRunCount();
    const fast = call(s, { kerasVersion: '2.15.0', states: new Map() });
    assert.equal(fastConvLstmRunCount() - before, 1);
    assertSame(fast, call(s, { kerasVersion: '2.15.0', states: new Map(), trace: [] }), 'typescript backend', 'float64');
  } finally {
    setPreferredMatmulBackend('auto');
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Real Keras, through the pipeline, on the fast path (the default precision)
// ---------------------------------------------------------------------------------------------------------------

const kerasCases = [
  ...loadCases(join(__dirname, '../fixtures/keras3-real')),
  ...loadCases(join(__dirname, '../../../shared/keras-reference/keras3')),
].filter((c) => c.name.startsWith('conv_lstm'));

test('the real-Keras ConvLSTM cases are there (1D, 2D, 3D; masks, Bidirectional, initial state)', () => {
  const names = kerasCases.map((c) => c.name);
  for (const n of ['conv_lstm1d', 'conv_lstm2d', 'conv_lstm3d', 'conv_lstm1d_masked', 'conv_lstm3d_masked', 'conv_lstm1d_bidirectional', 'conv_lstm1d_initial_state']) {
    assert.ok(names.includes(n), n);
  }
});

for (const c of kerasCases) {
  for (const format of caseFormats(c)) {
    test(`real Keras ${c.name} (${format}) through the fast path: within 1e-5 of Keras`, async () => {
      setFastConvLstmPrecision('float32');
      const before = fastConvLstmRunCount();
      const run = await runCase(c, format);
      const calls = c.name.includes('bidirectional') ? 2 : 1; // Bidirectional runs the layer once per direction
      assert.equal(fastConvLstmRunCount() - before, calls, `${c.name} (${format}): the fast path did not run for every ConvLSTM call`);
      const { problem } = compareOutputs(run, 1e-5);
      assert.equal(problem, null, `${c.name} (${format}): ${problem}`);
    });
  }
}
