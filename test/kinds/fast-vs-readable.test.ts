/**
 * The two implementations of every recurrent step, head to head through the real pipeline: for each recurrent kind
 * and option a model is built with buildModel() from an in-memory model file (stored weight names and shapes as
 * Keras writes them, so binding, CuDNN bias summing, GRU reset_after inferred from the bias shape and the forced
 * CuDNN activations all take part), then predicted twice:
 *   - untraced: the kinds take the packed fast path (fast-recurrent.ts → src/kernels) — asserted by
 *     fastRecurrentRunCount() rising by one per recurrent layer call (two for Bidirectional);
 *   - traced (`trace: true`): the kinds run their own readable step (time-loop.ts runRecurrent) — asserted by the
 *     counter not moving and by a trace per call.
 * Source of truth: the readable step, whose formulas are checked against Keras's own numbers in test/conformance and
 * test/oracle. The fast path runs in both precisions (setFastRecurrentPrecision):
 *   - float64: it must reproduce the readable step to 1e-12 on every output (sequence, last output, returned
 *     states) and on the states a stateful layer carries into its second call;
 *   - float32 (the default where SIMD runs): every output value must be a float32 number (so float32 really ran)
 *     and within Keras's own tolerance of the float64 readable step, 1e-5·max(1, |value|) — except layers with
 *     relu/linear activations, which must have stayed float64 (1e-12).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel } from '../../src/model/graph';
import { predict, PredictSession } from '../../src/engine/predict';
import { fastRecurrentRunCount, setFastRecurrentPrecision } from '../../src/model/kinds/fast-recurrent';
import { setPreferredMatmulBackend, simdSupported, type Precision } from '../../src/kernels/workspace';
import type { LayerConfig, Tensor } from '../../src/model/types';
import { seededRandom } from '../fixtures/models';
import { inputLayer, layer, memoryFile, modelConfig, ref, type MemoryWeight } from '../engine/memoryModel';

const rand = seededRandom(8011);
const values = (n: number, scale: number) => Array.from({ length: n }, () => (rand() * 2 - 1) * scale);

const STEPS = 6;
const FEATURES = 3;
const BATCH = 3;
const U = 5;

type Cell = 'lstm' | 'gru' | 'simple_rnn';
const GATES: Record<Cell, number> = { lstm: 4, gru: 3, simple_rnn: 1 };
const STATES: Record<Cell, number> = { lstm: 2, gru: 1, simple_rnn: 1 };

/** kernel, recurrent_kernel and bias of one cell, stored under `<prefix>/<role>:0` with the bias shape given. */
function cellWeights(prefix: string, cell: Cell, biasShape: number[] | null): MemoryWeight[] {
  const g = GATES[cell] * U;
  const w: MemoryWeight[] = [
    { name: `${prefix}/kernel:0`, shape: [FEATURES, g], data: values(FEATURES * g, 0.8) },
    { name: `${prefix}/recurrent_kernel:0`, shape: [U, g], data: values(U * g, 0.8) },
  ];
  if (biasShape) w.push({ name: `${prefix}/bias:0`, shape: biasShape, data: values(biasShape.reduce((a, b) => a * b, 1), 0.5) });
  return w;
}

interface Case {
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** Stored weights of the layer named 'rnn'. */
  weights: () => MemoryWeight[];
  /** State tensors per direction (given as initial_state inputs when `initial`). */
  cell: Cell;
  kerasVersion?: string;
  /** A Masking layer in front, and input steps that are all zeros (masked). */
  masked?: boolean;
  initial?: boolean;
  /** Predict twice in one session and compare both calls (states carried). */
  stateful?: boolean;
  /** Recurrent layer calls per predict (Bidirectional runs two). */
  calls?: number;
}

const lstmCfg = { units: U, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true };
const gruCfg = { ...lstmCfg };
const seq = { return_sequences: true };
const bidi = (cell: Cell, className: string, inner: Record<string, unknown>, merge: string | null, more: Partial<Case> = {}): Case => ({
  name: `Bidirectional(${className}) merge_mode=${merge}${more.masked ? ' masked' : ''}${more.initial ? ' initial state' : ''}`,
  className: 'Bidirectional',
  config: { layer: { class_name: className, config: { name: cell, ...inner } }, merge_mode: merge },
  weights: () => {
    const bias = cell === 'gru' && inner.reset_after ? [2, 3 * U] : [GATES[cell] * U];
    return [...cellWeights(`rnn/forward_${cell}/${cell}_cell`, cell, bias), ...cellWeights(`rnn/backward_${cell}/${cell}_cell`, cell, bias)];
  },
  cell,
  calls: 2,
  kerasVersion: '2.15.0',
  ...more,
});

const cases: Case[] = [
  { name: 'LSTM', className: 'LSTM', config: lstmCfg, cell: 'lstm', weights: () => cellWeights('rnn', 'lstm', [4 * U]) },
  { name: 'LSTM return_sequences + return_state, masked', className: 'LSTM', config: { ...lstmCfg, ...seq, return_state: true }, cell: 'lstm', masked: true, weights: () => cellWeights('rnn', 'lstm', [4 * U]) },
  { name: 'LSTM go_backwards, masked, zero_output_for_mask', className: 'LSTM', config: { ...lstmCfg, ...seq, go_backwards: true, zero_output_for_mask: true }, cell: 'lstm', masked: true, weights: () => cellWeights('rnn', 'lstm', [4 * U]) },
  { name: 'LSTM initial state, hard_sigmoid, no bias', className: 'LSTM', config: { ...lstmCfg, recurrent_activation: 'hard_sigmoid', use_bias: false }, cell: 'lstm', initial: true, weights: () => cellWeights('rnn', 'lstm', null) },
  { name: 'LSTM stateful, second call', className: 'LSTM', config: { ...lstmCfg, stateful: true, return_state: true }, cell: 'lstm', stateful: true, weights: () => cellWeights('rnn', 'lstm', [4 * U]) },
  // CuDNNLSTM: bias (8u) = input half + recurrent half, summed by the kind; activations forced to sigmoid/tanh
  { name: 'CuDNNLSTM (bias halves summed, activations forced)', className: 'CuDNNLSTM', config: { units: U, ...seq, activation: 'relu' }, cell: 'lstm', kerasVersion: '2.2.4', weights: () => cellWeights('rnn', 'lstm', [8 * U]) },
  { name: 'CuDNNLSTM go_backwards, return_state', className: 'CuDNNLSTM', config: { units: U, go_backwards: true, return_state: true }, cell: 'lstm', kerasVersion: '2.2.4', weights: () => cellWeights('rnn', 'lstm', [8 * U]) },
  { name: 'GRU reset_after=true', className: 'GRU', config: { ...gruCfg, ...seq, reset_after: true }, cell: 'gru', kerasVersion: '2.15.0', weights: () => cellWeights('rnn', 'gru', [2, 3 * U]) },
  { name: 'GRU reset_after=false', className: 'GRU', config: { ...gruCfg, ...seq, reset_after: false }, cell: 'gru', weights: () => cellWeights('rnn', 'gru', [3 * U]) },
  { name: 'GRU reset_after inferred true from a (2, 3u) bias (Keras 2.2.4 config silent)', className: 'GRU', config: { ...gruCfg, ...seq }, cell: 'gru', kerasVersion: '2.2.4', weights: () => cellWeights('rnn', 'gru', [2, 3 * U]) },
  { name: 'GRU reset_after inferred false from a (3u) bias (tf.keras 2.15 config silent)', className: 'GRU', config: { ...gruCfg }, cell: 'gru', kerasVersion: '2.15.0', weights: () => cellWeights('rnn', 'gru', [3 * U]) },
  { name: 'GRU reset_after=true masked, go_backwards, initial state', className: 'GRU', config: { ...gruCfg, ...seq, reset_after: true, go_backwards: true }, cell: 'gru', masked: true, initial: true, kerasVersion: '2.15.0', weights: () => cellWeights('rnn', 'gru', [2, 3 * U]) },
  { name: 'GRU reset_after=false masked, initial state, return_state', className: 'GRU', config: { ...gruCfg, reset_after: false, return_state: true }, cell: 'gru', masked: true, initial: true, weights: () => cellWeights('rnn', 'gru', [3 * U]) },
  { name: 'GRU stateful, second call', className: 'GRU', config: { ...gruCfg, reset_after: true, stateful: true }, cell: 'gru', stateful: true, kerasVersion: '2.15.0', weights: () => cellWeights('rnn', 'gru', [2, 3 * U]) },
  { name: 'CuDNNGRU (bias 6u read as (2, 3u), activations forced)', className: 'CuDNNGRU', config: { units: U, ...seq, recurrent_activation: 'hard_sigmoid' }, cell: 'gru', kerasVersion: '2.2.4', weights: () => cellWeights('rnn', 'gru', [6 * U]) },
  { name: 'SimpleRNN', className: 'SimpleRNN', config: { units: U, activation: 'tanh', ...seq }, cell: 'simple_rnn', weights: () => cellWeights('rnn', 'simple_rnn', [U]) },
  { name: 'SimpleRNN relu, masked, go_backwards, initial state', className: 'SimpleRNN', config: { units: U, activation: 'relu', go_backwards: true, return_state: true }, cell: 'simple_rnn', masked: true, initial: true, weights: () => cellWeights('rnn', 'simple_rnn', [U]) },
  { name: 'SimpleRNN stateful, second call', className: 'SimpleRNN', config: { units: U, activation: 'tanh', stateful: true }, cell: 'simple_rnn', stateful: true, weights: () => cellWeights('rnn', 'simple_rnn', [U]) },
  { name: 'RNN(LSTMCell) masked', className: 'RNN', config: { ...seq, cell: { class_name: 'LSTMCell', config: { name: 'lstm_cell', ...lstmCfg } } }, cell: 'lstm', masked: true, kerasVersion: '2.15.0', weights: () => cellWeights('rnn/lstm_cell', 'lstm', [4 * U]) },
  { name: 'RNN(GRUCell reset_after) go_backwards', className: 'RNN', config: { go_backwards: true, cell: { class_name: 'GRUCell', config: { name: 'gru_cell', ...gruCfg, reset_after: true } } }, cell: 'gru', kerasVersion: '2.15.0', weights: () => cellWeights('rnn/gru_cell', 'gru', [2, 3 * U]) },
  { name: 'RNN(SimpleRNNCell) initial state', className: 'RNN', config: { ...seq, cell: { class_name: 'SimpleRNNCell', config: { name: 'simple_rnn_cell', units: U, activation: 'tanh' } } }, cell: 'simple_rnn', initial: true, kerasVersion: '2.15.0', weights: () => cellWeights('rnn/simple_rnn_cell', 'simple_rnn', [U]) },
  bidi('lstm', 'LSTM', { ...lstmCfg, ...seq }, 'concat'),
  bidi('lstm', 'LSTM', { ...lstmCfg, ...seq }, 'sum', { masked: true }),
  bidi('lstm', 'LSTM', { ...lstmCfg }, 'mul', { initial: true }),
  bidi('gru', 'GRU', { ...gruCfg, ...seq, reset_after: true }, 'ave', { masked: true }),
  bidi('gru', 'GRU', { ...gruCfg, reset_after: false, return_state: true }, null, { initial: true }),
  bidi('simple_rnn', 'SimpleRNN', { units: U, activation: 'tanh', ...seq }, null, { masked: true }),
];

function modelFor(c: Case) {
  const layers: LayerConfig[] = [inputLayer('x', [STEPS, FEATURES])];
  let feed = ref('x');
  if (c.masked) {
    layers.push(layer('masking', 'Masking', { mask_value: 0 }, [ref('x')]));
    feed = ref('masking');
  }
  const inputs = [ref('x')];
  const rnn = layer('rnn', c.className, c.config, [feed]);
  if (c.initial) {
    const names = Array.from({ length: STATES[c.cell] * (c.calls ?? 1) }, (_, k) => `s${k}`);
    for (const n of names) layers.push(inputLayer(n, [U]));
    inputs.push(...names.map((n) => ref(n)));
    rnn.inboundKwargs = [{ initial_state: names.map((n) => ref(n)) }];
  }
  layers.push(rnn);
  const returnsState = c.config.return_state === true || (c.className === 'Bidirectional' && (c.config.layer as { config: Record<string, unknown> }).config.return_state === true);
  const bidiNone = c.className === 'Bidirectional' && c.config.merge_mode === null;
  const outputCount = (bidiNone ? 2 : 1) + (returnsState ? STATES[c.cell] * (c.calls ?? 1) : 0);
  const outputs = Array.from({ length: outputCount }, (_, k) => ref('rnn', 0, k));
  return memoryFile(modelConfig(layers, inputs, outputs), { rnn: c.weights() }, c.kerasVersion ?? '2.2.4');
}

function inputsFor(c: Case): Record<string, Tensor> {
  const x = Float64Array.from(values(BATCH * STEPS * FEATURES, 1.5));
  if (c.masked) {
    // masked steps: sample 0 starts with two, sample 1 has one inside, sample 2 ends with one
    for (const [b, t] of [[0, 0], [0, 1], [1, 3], [2, STEPS - 1]]) x.fill(0, (b * STEPS + t) * FEATURES, (b * STEPS + t + 1) * FEATURES);
  }
  const out: Record<string, Tensor> = { x: { shape: [BATCH, STEPS, FEATURES], data: x } };
  if (c.initial) {
    for (let k = 0; k < STATES[c.cell] * (c.calls ?? 1); k++) out[`s${k}`] = { shape: [BATCH, U], data: Float64Array.from(values(BATCH * U, 0.9)) };
  }
  return out;
}

/**
 * float64: |fast − readable| ≤ 1e-12; float32: within 1e-5·max(1, |readable|), and every value a float32 number
 * unless the outputs were merged arithmetically after the layer (Bidirectional sum/mul/ave compute in float64).
 */
function assertSame(fast: Tensor[], readable: Tensor[], label: string, precision: Precision, merged = false): void {
  assert.equal(fast.length, readable.length, `${label}: output count`);
  fast.forEach((t, i) => {
    assert.deepEqual(t.shape, readable[i].shape, `${label}: output ${i} shape`);
    let worst = 0;
    for (let k = 0; k < t.data.length; k++) {
      const want = readable[i].data[k];
      const d = Math.abs(t.data[k] - want) / (precision === 'float64' ? 1 : Math.max(1, Math.abs(want)));
      worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
      if (precision === 'float32' && !merged) assert.equal(Math.fround(t.data[k]), t.data[k], `${label}: output ${i} value ${k} is not a float32 number`);
    }
    assert.ok(worst <= (precision === 'float64' ? 1e-12 : 1e-5), `${label}: output ${i} differs by ${worst}`);
  });
}

const PRECISIONS: Precision[] = simdSupported() ? ['float64', 'float32'] : ['float64'];

/**
 * The precision a case must run in when `asked` is set: float32 only for saturating activations (CuDNN layers are
 * always tanh/sigmoid); a relu or linear layer keeps float64 (fast-recurrent.ts, SATURATING).
 */
function expectedPrecision(c: Case, asked: Precision): Precision {
  if (asked === 'float64' || c.className.startsWith('CuDNN')) return asked;
  const inner = (k: string) => (c.config[k] as { config: Record<string, unknown> }).config;
  const cfg = c.className === 'Bidirectional' ? inner('layer') : c.className === 'RNN' ? inner('cell') : c.config;
  const saturating = (name: unknown) => ['tanh', 'sigmoid', 'hard_sigmoid'].includes(String(name));
  return saturating(cfg.activation ?? 'tanh') && (c.cell === 'simple_rnn' || saturating(cfg.recurrent_activation ?? 'sigmoid')) ? 'float32' : 'float64';
}

for (const c of cases) for (const precision of PRECISIONS) {
  test(`${precision} fast path = readable step (${precision === 'float64' ? '1e-12' : '1e-5'}), and the fast path ran: ${c.name}`, async () => {
    setFastRecurrentPrecision(precision);
    const model = await buildModel(modelFor(c));
    const inputs = inputsFor(c);
    const calls = c.calls ?? 1;
    const fastSession = new PredictSession();
    const readableSession = new PredictSession();
    for (let call = 0; call < (c.stateful ? 2 : 1); call++) {
      const label = `${c.name}${c.stateful ? `, call ${call + 1}` : ''}`;
      const before = fastRecurrentRunCount();
      const fast = await predict(model, inputs, { session: fastSession });
      assert.equal(fastRecurrentRunCount() - before, calls, `${label}: the fast path did not run for every recurrent call`);
      const mid = fastRecurrentRunCount();
      const readable = await predict(model, inputs, { session: readableSession, trace: true });
      assert.equal(fastRecurrentRunCount(), mid, `${label}: a traced predict must run the readable step`);
      assert.equal(readable.trace?.length, calls, `${label}: one trace per recurrent call`);
      const merged = c.className === 'Bidirectional' && ['sum', 'mul', 'ave'].includes(String(c.config.merge_mode));
      const ran = expectedPrecision(c, precision);
      assertSame(fast.outputs, readable.outputs, `${label} (${ran})`, ran, merged);
      if (c.stateful) {
        for (const [key, states] of readableSession.states) assertSame(fastSession.states.get(key) ?? [], states, `${label}: carried state '${key}'`, ran);
      }
    }
  });
}

test('the table covers what it claims: every class, every merge mode, masks, go_backwards, initial and stateful states', () => {
  const classes = new Set(cases.map((c) => c.className));
  for (const k of ['LSTM', 'CuDNNLSTM', 'GRU', 'CuDNNGRU', 'SimpleRNN', 'RNN', 'Bidirectional']) assert.ok(classes.has(k), k);
  const merges = new Set(cases.filter((c) => c.className === 'Bidirectional').map((c) => c.config.merge_mode));
  for (const m of ['concat', 'sum', 'mul', 'ave', null]) assert.ok(merges.has(m), String(m));
  const gru = cases.filter((c) => c.className === 'GRU');
  assert.ok(gru.some((c) => c.config.reset_after === true) && gru.some((c) => c.config.reset_after === false));
  assert.ok(gru.filter((c) => !('reset_after' in c.config)).length >= 2, 'reset_after inferred from the bias, both ways');
  assert.ok(cases.some((c) => c.masked) && cases.some((c) => c.initial) && cases.some((c) => c.stateful));
  assert.ok(cases.some((c) => c.config.go_backwards === true));
});

test('the TypeScript backend computes in float64 whatever precision is asked (float32 needs SIMD)', async () => {
  const c = cases[0];
  const model = await buildModel(modelFor(c));
  const inputs = inputsFor(c);
  setFastRecurrentPrecision('float32');
  setPreferredMatmulBackend('typescript');
  try {
    const before = fastRecurrentRunCount();
    const fast = await predict(model, inputs);
    assert.equal(fastRecurrentRunCount() - before, 1);
    assertSame(fast.outputs, (await predict(model, inputs, { trace: true })).outputs, 'typescript backend', 'float64');
  } finally {
    setPreferredMatmulBackend('auto');
  }
});
