// Recurrent kinds vs small float64 references written here, independently, from the Keras formulas:
// GRU reset_after, CuDNNLSTM/CuDNNGRU binding, masks (state carried, previous output repeated), Bidirectional masks,
// initial states, return_state, the gate trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kindFor } from '../../src/model/kinds/index';
import type { LayerConfig, Mask, RecurrentTrace, RunContext, Tensor, WeightRef } from '../../src/model/types';
import { setFastRecurrentPrecision } from '../../src/model/kinds/fast-recurrent';
import { seededSigned } from '../fixtures/models';

// The formulas are checked here in float64 against float64 references (1e-12); the float32 fast path is held to
// Keras's own outputs by test/conformance and test/oracle, and to the readable step by test/kinds/fast-vs-readable.
setFastRecurrentPrecision('float64');

// ---- deterministic data -------------------------------------------------------------------------
function arr(n: number, r: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => Math.fround(r() * scale));
}
const sig = (x: number) => 1 / (1 + Math.exp(-x));
const hardSig2 = (x: number) => Math.min(1, Math.max(0, 0.2 * x + 0.5));

/** Row vector v (len n) times matrix M (n × m) → len m; `col0` selects columns [col0, col0+w) of a wider matrix. */
function vecMat(v: number[], M: Float32Array, n: number, m: number, col0 = 0, w = m): number[] {
  const out = new Array(w).fill(0);
  for (let j = 0; j < w; j++) for (let k = 0; k < n; k++) out[j] += v[k] * M[k * m + col0 + j];
  return out;
}

function stored(layer: string, names: string[], arrays: { shape: number[]; data: Float32Array }[]) {
  return arrays.map((a, i) => ({
    ref: { layer, name: `${layer}/${names[i]}:0`, path: `/${layer}/${names[i]}`, shape: a.shape, dtype: '<f4', read: async () => a.data } as WeightRef,
    data: a.data,
  }));
}

function forward(layer: LayerConfig, weights: Map<string, Tensor>, x: Tensor, opts: { mask?: Mask; version?: string; trace?: RecurrentTrace[]; initialStates?: Tensor[] } = {}) {
  const ctx: RunContext = { kerasVersion: opts.version ?? '2.2.4', states: new Map(), trace: opts.trace };
  return kindFor(layer.className)!.forward({ layer, inputs: [x], masks: [opts.mask ?? null], weights, ctx, initialStates: opts.initialStates });
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// ---- GRU reference (Keras formulas) ---------------------------------------------------------------
/** h sequence for one sample. bias: reset_after → [b_in (3u), b_rec (3u)], else [b (3u)]. */
function gruReference(x: number[][], W: Float32Array, U: Float32Array, bIn: Float32Array, bRec: Float32Array | null, u: number, act: (v: number) => number, rec: (v: number) => number): number[][] {
  const d = x[0].length;
  let h = new Array(u).fill(0);
  const out: number[][] = [];
  for (const xt of x) {
    const xw = vecMat(xt, W, d, 3 * u).map((v, j) => v + bIn[j]);
    let z: number[], r: number[], hh: number[];
    if (bRec) {
      // reset_after: inner = h·U + b_rec; h̃ = act(x·W_h + b_in_h + r ⊙ inner_h)
      const inner = vecMat(h, U, u, 3 * u).map((v, j) => v + bRec[j]);
      z = xw.slice(0, u).map((v, j) => rec(v + inner[j]));
      r = xw.slice(u, 2 * u).map((v, j) => rec(v + inner[u + j]));
      hh = xw.slice(2 * u).map((v, j) => act(v + r[j] * inner[2 * u + j]));
    } else {
      z = vecMat(h, U, u, 3 * u, 0, u).map((v, j) => rec(xw[j] + v));
      r = vecMat(h, U, u, 3 * u, u, u).map((v, j) => rec(xw[u + j] + v));
      const rh = h.map((v, j) => r[j] * v);
      hh = vecMat(rh, U, u, 3 * u, 2 * u, u).map((v, j) => act(xw[2 * u + j] + v));
    }
    h = h.map((hp, j) => z[j] * hp + (1 - z[j]) * hh[j]); // h' = z⊙h + (1−z)⊙h̃
    out.push(h);
  }
  return out;
}

function lstmReference(x: number[][], W: Float32Array, U: Float32Array, b: number[], u: number, act: (v: number) => number, rec: (v: number) => number, h0?: number[], c0?: number[]) {
  const d = x[0].length;
  let h = h0 ?? new Array(u).fill(0);
  let c = c0 ?? new Array(u).fill(0);
  const hs: number[][] = [];
  const cs: number[][] = [];
  for (const xt of x) {
    const z = vecMat(xt, W, d, 4 * u).map((v, j) => v + b[j]);
    const zh = vecMat(h, U, u, 4 * u);
    const g = z.map((v, j) => v + zh[j]);
    const i = g.slice(0, u).map(rec);
    const f = g.slice(u, 2 * u).map(rec);
    const cc = g.slice(2 * u, 3 * u).map(act);
    const o = g.slice(3 * u).map(rec);
    c = c.map((cp, j) => f[j] * cp + i[j] * cc[j]);
    h = o.map((ov, j) => ov * act(c[j]));
    hs.push(h);
    cs.push(c);
  }
  return { hs, cs };
}

const B = 2, T = 5, D = 3, U = 4;
function makeInput(seed: number): { x: Tensor; rows: number[][][] } {
  const r = seededSigned(seed);
  const data = Float64Array.from({ length: B * T * D }, () => r() * 2);
  const rows = [0, 1].map((b) => Array.from({ length: T }, (_, t) => Array.from(data.slice((b * T + t) * D, (b * T + t + 1) * D))));
  return { x: { shape: [B, T, D], data }, rows };
}

test('GRU reset_after=True matches an independent float64 reference; bias (2,3u) rows are input/recurrent', () => {
  const r = seededSigned(7);
  const W = arr(D * 3 * U, r), Uk = arr(U * 3 * U, r), bias = arr(2 * 3 * U, r);
  const layer: LayerConfig = { name: 'gru', className: 'GRU', config: { units: U, reset_after: true, activation: 'tanh', recurrent_activation: 'sigmoid', return_sequences: true }, inbound: [] };
  const kind = kindFor('GRU')!;
  const roles = kind.weightRoles(layer, { kerasVersion: '2.3.1', inputShapes: [[null, T, D]] });
  assert.deepEqual(roles.map((x) => x.shape), [[D, 12], [U, 12], [2, 12]]);
  const w = kind.bindWeights(layer, stored('gru', ['kernel', 'recurrent_kernel', 'bias'], [{ shape: [D, 12], data: W }, { shape: [U, 12], data: Uk }, { shape: [2, 12], data: bias }]), { kerasVersion: '2.3.1', inputShapes: [] });
  const { x, rows } = makeInput(11);
  const out = forward(layer, w, x).outputs[0];
  const want = rows.flatMap((s) => gruReference(s, W, Uk, bias.subarray(0, 12), bias.subarray(12), U, Math.tanh, sig).flat());
  assert.ok(maxDiff(out.data, want) < 1e-12, `reset_after: ${maxDiff(out.data, want)}`);
  // the other formula (reset before the matmul) with the summed bias is a different GRU
  const summed = Float32Array.from(bias.subarray(0, 12), (v, j) => v + bias[12 + j]);
  const other = rows.flatMap((s) => gruReference(s, W, Uk, summed, null, U, Math.tanh, sig).flat());
  assert.ok(maxDiff(out.data, other) > 1e-3, 'reset_after and reset-before differ');
});

test('GRU reset_after=False (Keras 2.0/2.1, hard_sigmoid) matches the independent reference', () => {
  const r = seededSigned(8);
  const W = arr(D * 3 * U, r), Uk = arr(U * 3 * U, r), bias = arr(3 * U, r);
  const layer: LayerConfig = { name: 'gru', className: 'GRU', config: { units: U, activation: 'tanh', recurrent_activation: 'hard_sigmoid', return_sequences: true }, inbound: [] };
  const w = kindFor('GRU')!.bindWeights(layer, stored('gru', ['kernel', 'recurrent_kernel', 'bias'], [{ shape: [D, 12], data: W }, { shape: [U, 12], data: Uk }, { shape: [12], data: bias }]), { kerasVersion: '2.1.2', inputShapes: [] });
  const { x, rows } = makeInput(12);
  const out = forward(layer, w, x, { version: '2.1.2' }).outputs[0];
  const want = rows.flatMap((s) => gruReference(s, W, Uk, bias, null, U, Math.tanh, hardSig2).flat());
  assert.ok(maxDiff(out.data, want) < 1e-12);
});

test('Keras 1 GRU split arrays (W_z,U_z,b_z,W_r,...) are fused by name into z, r, h', () => {
  const r = seededSigned(9);
  const parts: Record<string, Float32Array> = {};
  for (const g of ['z', 'r', 'h']) {
    parts[`W_${g}`] = arr(D * U, r);
    parts[`U_${g}`] = arr(U * U, r);
    parts[`b_${g}`] = arr(U, r);
  }
  // stored in a scrambled order: h first
  const order = ['W_h', 'U_h', 'b_h', 'W_z', 'U_z', 'b_z', 'W_r', 'U_r', 'b_r'];
  const layer: LayerConfig = { name: 'gru_1', className: 'GRU', config: { units: U, activation: 'tanh', recurrent_activation: 'hard_sigmoid' }, inbound: [] };
  const st = order.map((n) => ({
    ref: { layer: 'gru_1', name: `gru_1_${n}`, path: `/gru_1/gru_1_${n}`, shape: n.startsWith('W') ? [D, U] : n.startsWith('U') ? [U, U] : [U], dtype: '<f4', read: async () => parts[n] } as WeightRef,
    data: parts[n],
  }));
  const kind = kindFor('GRU')!;
  const roles = kind.storedRoles(layer, st.map((s) => s.ref), { kerasVersion: '1.2.2', inputShapes: [[null, T, D]] });
  assert.deepEqual(roles.map((x) => `${x.role}:${x.blocks[0].label}`), order.map((n) => `${{ W: 'kernel', U: 'recurrent_kernel', b: 'bias' }[n[0]]}:${n[2]}`));
  assert.equal(roles[0].blocks[0].meaning, 'candidate (h̃)');
  const w = kind.bindWeights(layer, st, { kerasVersion: '1.2.2', inputShapes: [] });
  const k = w.get('kernel')!;
  assert.deepEqual(k.shape, [D, 3 * U]);
  for (let row = 0; row < D; row++) {
    assert.deepEqual(Array.from(k.data.slice(row * 12 + 8, row * 12 + 12)), Array.from(parts.W_h.slice(row * U, row * U + U)), 'W_h in the h block');
    assert.deepEqual(Array.from(k.data.slice(row * 12, row * 12 + 4)), Array.from(parts.W_z.slice(row * U, row * U + U)), 'W_z in the z block');
  }
});

test('CuDNNLSTM: bias (8u) = input half + recurrent half, sigmoid/tanh; matches the reference with both biases added', () => {
  const r = seededSigned(21);
  const W = arr(D * 4 * U, r), Uk = arr(U * 4 * U, r), bias = arr(8 * U, r);
  const layer: LayerConfig = { name: 'cu_dnnlstm_1', className: 'CuDNNLSTM', config: { units: U, return_sequences: true }, inbound: [] };
  const kind = kindFor('CuDNNLSTM')!;
  const roles = kind.weightRoles(layer, { kerasVersion: '2.2.4', inputShapes: [[null, T, D]] });
  assert.deepEqual(roles.map((x) => x.shape), [[D, 16], [U, 16], [32]]);
  assert.deepEqual(roles[2].blocks.map((b) => `${b.label}${b.start}`), ['i0', 'f4', 'c8', 'o12', 'i16', 'f20', 'c24', 'o28']);
  const w = kind.bindWeights(layer, stored('cu_dnnlstm_1', ['kernel', 'recurrent_kernel', 'bias'], [{ shape: [D, 16], data: W }, { shape: [U, 16], data: Uk }, { shape: [32], data: bias }]), { kerasVersion: '2.2.4', inputShapes: [] });
  assert.deepEqual(w.get('bias')!.shape, [32], 'bound bias keeps the stored 8u layout');
  const { x, rows } = makeInput(22);
  const out = forward(layer, w, x).outputs[0];
  const b = Array.from({ length: 16 }, (_, j) => bias[j] + bias[16 + j]);
  const want = rows.flatMap((s) => lstmReference(s, W, Uk, b, U, Math.tanh, sig).hs.flat());
  assert.ok(maxDiff(out.data, want) < 1e-6, `${maxDiff(out.data, want)}`);
});

test('CuDNNGRU: bias (6u) = [input z,r,h | recurrent z,r,h] read as (2,3u); reset_after semantics', () => {
  const r = seededSigned(23);
  const W = arr(D * 3 * U, r), Uk = arr(U * 3 * U, r), bias = arr(6 * U, r);
  const layer: LayerConfig = { name: 'cu_dnngru_1', className: 'CuDNNGRU', config: { units: U, return_sequences: true }, inbound: [] };
  const kind = kindFor('CuDNNGRU')!;
  assert.deepEqual(kind.weightRoles(layer, { kerasVersion: '2.2.4', inputShapes: [[null, T, D]] })[2].shape, [24]);
  const w = kind.bindWeights(layer, stored('cu_dnngru_1', ['kernel', 'recurrent_kernel', 'bias'], [{ shape: [D, 12], data: W }, { shape: [U, 12], data: Uk }, { shape: [24], data: bias }]), { kerasVersion: '2.2.4', inputShapes: [] });
  assert.deepEqual(w.get('bias')!.shape, [24], 'bound bias keeps the stored 6u layout');
  const { x, rows } = makeInput(24);
  const out = forward(layer, w, x).outputs[0];
  const want = rows.flatMap((s) => gruReference(s, W, Uk, bias.subarray(0, 12), bias.subarray(12), U, Math.tanh, sig).flat());
  assert.ok(maxDiff(out.data, want) < 1e-12);
});

// ---- masks -------------------------------------------------------------------------------------------
function lstmSetup(seed: number, config: Record<string, unknown>) {
  const r = seededSigned(seed);
  const W = arr(D * 4 * U, r), Uk = arr(U * 4 * U, r), bias = arr(4 * U, r);
  const layer: LayerConfig = { name: 'lstm', className: 'LSTM', config: { units: U, activation: 'tanh', recurrent_activation: 'sigmoid', ...config }, inbound: [] };
  const w = kindFor('LSTM')!.bindWeights(layer, stored('lstm', ['kernel', 'recurrent_kernel', 'bias'], [{ shape: [D, 16], data: W }, { shape: [U, 16], data: Uk }, { shape: [16], data: bias }]), { kerasVersion: '2.2.4', inputShapes: [] });
  return { W, Uk, bias: Array.from(bias), layer, w };
}

/** Keras rnn() with a mask, written out: masked step → states carried, output = previous output (zeros at first). */
function maskedLstmReference(x: number[][], m: number[], s: ReturnType<typeof lstmSetup>, goBackwards: boolean, zeroOutput: boolean) {
  const order = x.map((_, t) => t);
  if (goBackwards) order.reverse();
  let h = new Array(U).fill(0), c = new Array(U).fill(0), prev = new Array(U).fill(0);
  const outs: number[][] = [];
  for (const t of order) {
    const step = lstmReference([x[t]], s.W, s.Uk, s.bias, U, Math.tanh, sig, h, c);
    if (m[t]) {
      h = step.hs[0];
      c = step.cs[0];
      prev = h;
    } else {
      prev = zeroOutput ? new Array(U).fill(0) : prev;
    }
    outs.push(prev);
  }
  return { outs, h, c };
}

const MASK_ROWS = [
  [1, 1, 0, 1, 0],
  [0, 1, 1, 0, 0],
];
const mask: Mask = { batch: B, steps: T, data: Uint8Array.from(MASK_ROWS.flat()) };

for (const goBackwards of [false, true]) {
  test(`LSTM with a mask (go_backwards=${goBackwards}): state carried, output repeats the previous output; return_state`, () => {
    const s = lstmSetup(31, { return_sequences: true, return_state: true, go_backwards: goBackwards });
    const { x, rows } = makeInput(32);
    const trace: RecurrentTrace[] = [];
    const res = forward(s.layer, s.w, x, { mask, trace });
    assert.equal(res.outputs.length, 3, '[out, h, c]');
    const refs = rows.map((row, b) => maskedLstmReference(row, MASK_ROWS[b], s, goBackwards, false));
    assert.ok(maxDiff(res.outputs[0].data, refs.flatMap((r) => r.outs.flat())) < 1e-12, 'sequence');
    assert.ok(maxDiff(res.outputs[1].data, refs.flatMap((r) => r.h)) < 1e-12, 'final h');
    assert.ok(maxDiff(res.outputs[2].data, refs.flatMap((r) => r.c)) < 1e-12, 'final c');
    // the output mask is the input mask (return_sequences), the states have none
    assert.equal(res.masks?.[0], mask);
    assert.equal(res.masks?.[1], null);
    // the trace: one record, gates i,f,c,o per processed step, skipped steps flagged
    assert.equal(trace.length, 1);
    assert.deepEqual(trace[0].gates, ['i', 'f', 'c', 'o']);
    assert.equal(trace[0].gateValues.f.length, T);
    assert.equal(trace[0].hidden.length, T);
    assert.equal(trace[0].cell!.length, T);
    const firstT = goBackwards ? T - 1 : 0;
    assert.deepEqual(Array.from(trace[0].skipped![0]), [1 - MASK_ROWS[0][firstT], 1 - MASK_ROWS[1][firstT]]);
    for (const v of trace[0].gateValues.i[0].data) assert.ok(v > 0 && v < 1, 'input gate is a sigmoid');
  });
}

test('LSTM with a mask and return_sequences=False returns the last unmasked output', () => {
  const s = lstmSetup(33, {});
  const { x, rows } = makeInput(34);
  const out = forward(s.layer, s.w, x, { mask }).outputs[0];
  const want = rows.flatMap((row, b) => maskedLstmReference(row, MASK_ROWS[b], s, false, false).outs[T - 1]);
  assert.ok(maxDiff(out.data, want) < 1e-12);
});

test('Bidirectional LSTM with a mask: tf.keras zeroes masked outputs, backward reversed to input time; Keras 2.2 repeats', () => {
  const r = seededSigned(41);
  const f = lstmSetup(42, {});
  const bwd = lstmSetup(43, {});
  const layer: LayerConfig = {
    name: 'bidi',
    className: 'Bidirectional',
    config: { merge_mode: 'concat', layer: { class_name: 'LSTM', config: { name: 'lstm', units: U, activation: 'tanh', recurrent_activation: 'sigmoid', return_sequences: true } } },
    inbound: [],
  };
  void r;
  const kind = kindFor('Bidirectional')!;
  const arrays = [f, bwd].flatMap((s) => [
    { shape: [D, 16], data: s.W },
    { shape: [U, 16], data: s.Uk },
    { shape: [16], data: Float32Array.from(s.bias) },
  ]);
  const names = ['forward_lstm/kernel', 'forward_lstm/recurrent_kernel', 'forward_lstm/bias', 'backward_lstm/kernel', 'backward_lstm/recurrent_kernel', 'backward_lstm/bias'];
  const w = kind.bindWeights(layer, stored('bidi', names, arrays), { kerasVersion: '2.2.4-tf', inputShapes: [] });
  assert.deepEqual([...w.keys()].sort(), names.map((n) => n.replace('_lstm', '')).sort());
  const { x, rows } = makeInput(44);
  for (const [version, zero] of [['2.2.4-tf', true], ['3.3.3', true], ['2.2.0', false]] as const) {
    const trace: RecurrentTrace[] = [];
    const out = forward(layer, w, x, { mask, version, trace }).outputs[0];
    assert.deepEqual(out.shape, [B, T, 2 * U]);
    assert.deepEqual(trace.map((t) => t.direction), ['forward', 'backward']);
    const want: number[] = [];
    rows.forEach((row, b) => {
      const fw = maskedLstmReference(row, MASK_ROWS[b], f, false, zero).outs;
      const bw = maskedLstmReference(row, MASK_ROWS[b], bwd, true, zero).outs.reverse();
      for (let t = 0; t < T; t++) want.push(...fw[t], ...bw[t]);
    });
    assert.ok(maxDiff(out.data, want) < 1e-12, `${version}: ${maxDiff(out.data, want)}`);
  }
});

test('LSTM initial states from args.initialStates and stateful states carried between calls', () => {
  const s = lstmSetup(51, { return_state: true });
  const { x, rows } = makeInput(52);
  const r = seededSigned(53);
  const h0 = Array.from({ length: B * U }, () => r());
  const c0 = Array.from({ length: B * U }, () => r());
  const res = forward(s.layer, s.w, x, { initialStates: [{ shape: [B, U], data: Float64Array.from(h0) }, { shape: [B, U], data: Float64Array.from(c0) }] });
  const want = rows.flatMap((row, b) => lstmReference(row, s.W, s.Uk, s.bias, U, Math.tanh, sig, h0.slice(b * U, b * U + U), c0.slice(b * U, b * U + U)).hs[T - 1]);
  assert.ok(maxDiff(res.outputs[0].data, want) < 1e-12);

  const stateful: LayerConfig = { ...s.layer, config: { ...s.layer.config, stateful: true } };
  const ctx: RunContext = { kerasVersion: '2.2.4', states: new Map() };
  const kind = kindFor('LSTM')!;
  const first = kind.forward({ layer: stateful, inputs: [x], masks: [null], weights: s.w, ctx });
  const second = kind.forward({ layer: stateful, inputs: [x], masks: [null], weights: s.w, ctx });
  const again = rows.flatMap((row, b) => {
    const one = lstmReference(row, s.W, s.Uk, s.bias, U, Math.tanh, sig);
    return lstmReference(row, s.W, s.Uk, s.bias, U, Math.tanh, sig, one.hs[T - 1], one.cs[T - 1]).hs[T - 1];
  });
  assert.ok(maxDiff(second.outputs[0].data, again) < 1e-12, 'second call starts from the first call’s final state');
  assert.ok(maxDiff(first.outputs[0].data, second.outputs[0].data) > 1e-4);
});

test('weightRoles works without input shapes (shape null) and counts the weights', () => {
  const ctx = { kerasVersion: null, inputShapes: [] };
  const count = (className: string, config: Record<string, unknown>) =>
    kindFor(className)!.weightRoles({ name: 'l', className, config, inbound: [] }, ctx);
  assert.equal(count('LSTM', { units: 3 })[0].shape, null);
  assert.deepEqual(count('LSTM', { units: 3 }).map((r) => r.role), ['kernel', 'recurrent_kernel', 'bias']);
  assert.equal(count('GRU', { units: 3, use_bias: false }).length, 2);
  assert.equal(count('Bidirectional', { layer: { class_name: 'GRU', config: { units: 3 } } }).length, 6);
  assert.equal(count('BatchNormalization', { center: false }).length, 3);
  assert.equal(count('LayerNormalization', { scale: false }).length, 1);
  assert.equal(count('Dense', { units: 2 })[0].shape, null);
  assert.equal(count('TimeDistributed', { layer: { class_name: 'Dense', config: { units: 2, use_bias: false } } }).length, 1);
  assert.deepEqual(count('ConvLSTM2D', { filters: 2, kernel_size: 3 }).map((r) => r.shape), [null, [3, 3, 2, 8], [8]]);
});
