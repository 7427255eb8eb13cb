/**
 * The fast recurrent runners (src/kernels/recurrent.ts) against a straightforward float64 implementation
 * written here from the Keras formulas: random shapes including odd sizes, masks, go_backwards, initial states,
 * both input array types, and both matmul backends (WebAssembly SIMD and the TypeScript fallback).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prepareGru, prepareLstm, prepareSimpleRnn, runGru, runLstm, runSimpleRnn, type PrepareOptions, type RecurrentRunOptions } from '../../src/kernels/recurrent';
import { simdSupported } from '../../src/kernels/workspace';
import { seededRandom as rng } from '../fixtures/models';

function randomArray(n: number, rand: () => number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
}

// ---- the reference: one sample, one step at a time, textbook formulas -----------------------
function act(name: string, x: number, keras3 = false): number {
  switch (name) {
    case 'tanh':
      return Math.tanh(x);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'hard_sigmoid':
      return Math.min(1, Math.max(0, keras3 ? x / 6 + 0.5 : 0.2 * x + 0.5));
    case 'relu':
      return Math.max(0, x);
    case 'linear':
      return x;
  }
  throw new Error(name);
}
/** Σ_k v[k]·M[k, col] for a row-major (rows, cols) matrix. */
function dotColumn(v: ArrayLike<number>, m: ArrayLike<number>, cols: number, col: number): number {
  let s = 0;
  for (let k = 0; k < v.length; k++) s += v[k] * m[k * cols + col];
  return s;
}

interface Ref {
  seq: number[][][]; // [b][s][u]
  last: number[][];
  h: number[][];
  c?: number[][];
}

function referenceRun(
  cell: 'lstm' | 'gru' | 'simple_rnn',
  W: Float32Array,
  U: Float32Array,
  bias: Float32Array | null,
  units: number,
  x: ArrayLike<number>,
  batch: number,
  steps: number,
  features: number,
  o: RecurrentRunOptions & { resetAfter?: boolean },
): Ref {
  const gates = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
  const G = gates * units;
  const a = (v: number) => act(o.activation ?? 'tanh', v, o.hardSigmoidKeras3);
  const ra = (v: number) => act(o.recurrentActivation ?? 'sigmoid', v, o.hardSigmoidKeras3);
  const out: Ref = { seq: [], last: [], h: [], c: [] };
  for (let b = 0; b < batch; b++) {
    let h = Array.from({ length: units }, (_, k) => (o.initialH ? o.initialH[b * units + k] : 0));
    let c = Array.from({ length: units }, (_, k) => (o.initialC ? o.initialC[b * units + k] : 0));
    let prevOut = new Array(units).fill(0);
    const seq: number[][] = [];
    for (let s = 0; s < steps; s++) {
      const t = o.goBackwards ? steps - 1 - s : s;
      const xt = Array.from({ length: features }, (_, f) => x[(b * steps + t) * features + f]);
      if (o.mask && !o.mask[b * steps + t]) {
        const mode = o.maskedOutput ?? 'previous';
        prevOut = mode === 'zero' ? new Array(units).fill(0) : prevOut;
        seq.push(prevOut.slice());
        continue;
      }
      const xW = (col: number) => dotColumn(xt, W, G, col) + (bias ? bias[col] : 0);
      const hU = (v: number[], col: number) => dotColumn(v, U, G, col);
      const next: number[] = [];
      if (cell === 'lstm') {
        const cNext: number[] = [];
        for (let k = 0; k < units; k++) {
          const i = ra(xW(k) + hU(h, k));
          const f = ra(xW(units + k) + hU(h, units + k));
          const g = a(xW(2 * units + k) + hU(h, 2 * units + k));
          const og = ra(xW(3 * units + k) + hU(h, 3 * units + k));
          cNext[k] = f * c[k] + i * g;
          next[k] = og * a(cNext[k]);
        }
        c = cNext;
      } else if (cell === 'gru') {
        const rb = (col: number) => (o.resetAfter && bias ? bias[G + col] : 0);
        const z = h.map((_, k) => ra(xW(k) + hU(h, k) + rb(k)));
        const r = h.map((_, k) => ra(xW(units + k) + hU(h, units + k) + rb(units + k)));
        const rh = h.map((hv, k) => r[k] * hv);
        for (let k = 0; k < units; k++) {
          const cand = o.resetAfter
            ? a(xW(2 * units + k) + r[k] * (hU(h, 2 * units + k) + rb(2 * units + k)))
            : a(xW(2 * units + k) + hU(rh, 2 * units + k));
          next[k] = z[k] * h[k] + (1 - z[k]) * cand;
        }
      } else {
        for (let k = 0; k < units; k++) next[k] = a(xW(k) + hU(h, k));
      }
      h = next;
      prevOut = next.slice();
      seq.push(prevOut);
    }
    out.seq.push(seq);
    out.last.push(prevOut);
    out.h.push(h);
    out.c!.push(c);
  }
  return out;
}

function maxDiff(actual: ArrayLike<number>, expected: number[]): number {
  assert.equal(actual.length, expected.length);
  let m = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

const backends = simdSupported() ? (['simd', 'typescript'] as const) : (['typescript'] as const);

test('WebAssembly SIMD is available in this Node (so the SIMD backend is really exercised)', () => {
  assert.equal(simdSupported(), true);
});

interface Case {
  cell: 'lstm' | 'gru' | 'simple_rnn';
  units: number;
  features: number;
  batch: number;
  steps: number;
  opts: RecurrentRunOptions & { resetAfter?: boolean };
  withBias: boolean;
  float64Input: boolean;
  seed: number;
}

function cases(): Case[] {
  const out: Case[] = [];
  const rand = rng(12345);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  let seed = 1;
  for (const cell of ['lstm', 'gru', 'simple_rnn'] as const) {
    for (let n = 0; n < 14; n++) {
      const batch = pick([1, 2, 3, 4, 5, 7, 9]);
      const steps = pick([1, 2, 5, 8]);
      const units = pick([1, 2, 3, 5, 7, 8, 13, 16]);
      const features = pick([1, 3, 4, 6, 9]);
      const masked = n % 3 === 1;
      const mask = masked ? Uint8Array.from({ length: batch * steps }, () => (rand() < 0.35 ? 0 : 1)) : null;
      if (mask && n % 2 === 0) mask.fill(0, 0, steps); // one sample entirely masked
      out.push({
        cell,
        units,
        features,
        batch,
        steps,
        withBias: n % 5 !== 4,
        float64Input: n % 2 === 0,
        seed: seed++,
        opts: {
          goBackwards: n % 4 === 2 || n % 4 === 3,
          returnSequences: n % 2 === 1,
          mask,
          maskedOutput: pick(['previous', 'zero'] as const),
          activation: pick(['tanh', 'tanh', 'relu', 'linear', 'sigmoid']),
          recurrentActivation: pick(['sigmoid', 'hard_sigmoid', 'tanh', 'linear']),
          hardSigmoidKeras3: n % 6 === 5,
          resetAfter: cell === 'gru' ? n % 2 === 0 : undefined,
        },
      });
    }
  }
  return out;
}

/** One generated case run on the runners with `options`, and the reference run on the same data. */
function runCase(cs: Case, options: PrepareOptions) {
  const rand = rng(cs.seed);
  const { cell, units, features, batch, steps } = cs;
  const gates = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
  const W = randomArray(features * gates * units, rand, 0.6);
  const U = randomArray(units * gates * units, rand, 0.6);
  const biasLength = gates * units * (cell === 'gru' && cs.opts.resetAfter ? 2 : 1);
  const bias = cs.withBias ? randomArray(biasLength, rand, 0.5) : null;
  const x32 = randomArray(batch * steps * features, rand, 1.5);
  const x = cs.float64Input ? Float64Array.from(x32, (v) => v + 1e-9 * v * v) : x32;
  const opts = { ...cs.opts };
  if (rand() < 0.5) opts.initialH = randomArray(batch * units, rand, 0.8);
  if (cell === 'lstm' && rand() < 0.5) opts.initialC = Float64Array.from(randomArray(batch * units, rand, 0.8));
  const weights = { kernel: W, recurrentKernel: U, bias };
  const result =
    cell === 'lstm'
      ? runLstm(prepareLstm(weights, units, options), x, batch, steps, features, opts)
      : cell === 'gru'
        ? runGru(prepareGru(weights, units, !!opts.resetAfter, options), x, batch, steps, features, opts)
        : runSimpleRnn(prepareSimpleRnn(weights, units, options), x, batch, steps, features, opts);
  assert.ok(result, `runner declined ${JSON.stringify(cs.opts.activation)}`);
  const ref = referenceRun(cell, W, U, bias, units, x, batch, steps, features, opts);
  const label = `${cell} ${JSON.stringify({ units, features, batch, steps, ...opts, mask: !!opts.mask, initialH: !!opts.initialH })}`;
  return { result, ref, label, returnSequences: !!opts.returnSequences };
}

for (const backend of backends) {
  test(`${backend}: LSTM, GRU (reset_after false/true) and SimpleRNN match a float64 reference within 1e-12`, () => {
    let checked = 0;
    for (const cs of cases()) {
      const { result, ref, label, returnSequences } = runCase(cs, { backend });
      assert.ok(maxDiff(result.last, ref.last.flat()) <= 1e-12, `${label}: last output differs`);
      assert.ok(maxDiff(result.h, ref.h.flat()) <= 1e-12, `${label}: final h differs`);
      if (cs.cell === 'lstm') assert.ok(maxDiff(result.c!, ref.c!.flat()) <= 1e-12, `${label}: final c differs`);
      else assert.equal(result.c, null);
      if (returnSequences) assert.ok(maxDiff(result.sequence!, ref.seq.flat(2)) <= 1e-12, `${label}: sequence differs`);
      else assert.equal(result.sequence, null);
      checked++;
    }
    assert.equal(checked, 42);
  });
}

if (simdSupported()) {
  // Float32 is Keras's own precision: held to Keras's tolerance of the float64 reference, 1e-5·max(1, |value|), and
  // every returned value is a float32 number (the heap really is float32). Only the cases with saturating
  // activations (tanh, sigmoid, hard_sigmoid): the layers fast-recurrent.ts runs in float32; unbounded ones
  // (linear, relu) grow with their rounding and keep float64.
  test('simd float32: LSTM, GRU (reset_after false/true) and SimpleRNN with saturating activations within 1e-5·max(1, |value|) of the float64 reference', () => {
    const saturating = new Set(['tanh', 'sigmoid', 'hard_sigmoid']);
    let checked = 0;
    let worst = 0;
    const close = (got: ArrayLike<number>, want: number[], label: string) => {
      assert.equal(got.length, want.length, label);
      for (let i = 0; i < want.length; i++) {
        assert.equal(Math.fround(got[i]), got[i], `${label}: value ${i} is not a float32 number`);
        const e = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
        worst = Math.max(worst, e);
        assert.ok(e <= 1e-5, `${label}: value ${i} ${got[i]} vs ${want[i]}`);
      }
    };
    for (const cs of cases()) {
      if (!saturating.has(cs.opts.activation ?? 'tanh') || (cs.cell !== 'simple_rnn' && !saturating.has(cs.opts.recurrentActivation ?? 'sigmoid'))) continue;
      const { result, ref, label, returnSequences } = runCase(cs, { backend: 'simd', precision: 'float32' });
      close(result.last, ref.last.flat(), `${label}: last`);
      close(result.h, ref.h.flat(), `${label}: h`);
      if (cs.cell === 'lstm') close(result.c!, ref.c!.flat(), `${label}: c`);
      if (returnSequences) close(result.sequence!, ref.seq.flat(2), `${label}: sequence`);
      checked++;
    }
    assert.ok(checked >= 15, `only ${checked} cases`);
    assert.ok(worst > 0, 'float32 results equal the float64 reference exactly: float32 did not run');
  });
}

test('one prepared layer runs many times with different batch sizes and keeps its weights', () => {
  for (const backend of backends) {
    const rand = rng(99);
    const units = 6;
    const features = 5;
    const W = randomArray(features * 4 * units, rand, 0.5);
    const U = randomArray(units * 4 * units, rand, 0.5);
    const bias = randomArray(4 * units, rand, 0.5);
    const prepared = prepareLstm({ kernel: W, recurrentKernel: U, bias }, units, { backend });
    for (const [batch, steps] of [[1, 3], [40, 30], [2, 1], [1, 3]]) {
      const x = randomArray(batch * steps * features, rand, 1);
      const got = runLstm(prepared, x, batch, steps, features, { returnSequences: true })!;
      const ref = referenceRun('lstm', W, U, bias, units, x, batch, steps, features, {});
      assert.ok(maxDiff(got.sequence!, ref.seq.flat(2)) <= 1e-12, `${backend} batch ${batch} steps ${steps}`);
    }
  }
});

test('a larger layer (LSTM 128 over 64 features, batch 33) stays within 1e-12 of the reference', () => {
  const rand = rng(7);
  const units = 128;
  const features = 64;
  const batch = 33;
  const steps = 3;
  const W = randomArray(features * 4 * units, rand, 0.2);
  const U = randomArray(units * 4 * units, rand, 0.2);
  const bias = randomArray(4 * units, rand, 0.2);
  const x = randomArray(batch * steps * features, rand, 1);
  const ref = referenceRun('lstm', W, U, bias, units, x, batch, steps, features, { returnSequences: true });
  for (const backend of backends) {
    const got = runLstm(prepareLstm({ kernel: W, recurrentKernel: U, bias }, units, { backend }), x, batch, steps, features, {
      returnSequences: true,
    })!;
    assert.equal(prepareLstm({ kernel: W, recurrentKernel: U, bias }, units, { backend }).backend, backend);
    assert.ok(maxDiff(got.sequence!, ref.seq.flat(2)) <= 1e-12, backend);
  }
});

test('unsupported activations make the runner decline (null), so the caller uses the reference step', () => {
  const rand = rng(3);
  const p = prepareGru({ kernel: randomArray(2 * 3 * 2, rand, 1), recurrentKernel: randomArray(2 * 3 * 2, rand, 1), bias: null }, 2, false);
  assert.equal(runGru(p, new Float32Array(2), 1, 1, 2, { activation: 'softsign' }), null);
  assert.equal(runGru(p, new Float32Array(2), 1, 1, 2, { recurrentActivation: 'swish' }), null);
  assert.ok(runGru(p, new Float32Array(2), 1, 1, 2, { activation: 'tanh', recurrentActivation: 'hard_sigmoid' }));
});

test('shape mismatches are reported, not silently read out of bounds', () => {
  const p = prepareLstm({ kernel: new Float32Array(3 * 8), recurrentKernel: new Float32Array(2 * 8), bias: null }, 2);
  assert.throws(() => runLstm(p, new Float32Array(7), 1, 2, 3), /values, expected/);
  assert.throws(() => runLstm(p, new Float32Array(8), 1, 2, 4), /features/);
  assert.throws(() => prepareLstm({ kernel: new Float32Array(3 * 8), recurrentKernel: new Float32Array(5), bias: null }, 2), /recurrent kernel/);
});

test('simd float32: the whole-sequence WebAssembly loop (no mask) is bit for bit the JavaScript step loop (all-ones mask)', () => {
  if (!simdSupported()) return;
  // An all-ones mask changes nothing in Keras but sends the run through the per-step JavaScript loop; without a mask
  // the float32 runners take lstmSequence/gruSequence. Same calls in the same order: every bit must agree.
  const rand = rng(77);
  const f32: PrepareOptions = { backend: 'simd', precision: 'float32' };
  let whole = 0;
  for (const [units, features, steps, batch] of [[5, 3, 4, 1], [8, 7, 9, 3], [13, 4, 6, 5], [32, 16, 12, 4]]) {
    for (const cell of ['lstm', 'gru', 'gru_after'] as const) {
      const g = cell === 'lstm' ? 4 : 3;
      const weights = {
        kernel: randomArray(features * g * units, rand, 0.5),
        recurrentKernel: randomArray(units * g * units, rand, 0.5),
        bias: randomArray((cell === 'gru_after' ? 2 : 1) * g * units, rand, 0.3),
      };
      const p = cell === 'lstm' ? prepareLstm(weights, units, f32) : prepareGru(weights, units, cell === 'gru_after', f32);
      if (p.ws.lstmSequence) whole++;
      const x = randomArray(batch * steps * features, rand, 1.5);
      const ones = new Uint8Array(batch * steps).fill(1);
      for (const goBackwards of [false, true]) {
        for (const returnSequences of [false, true]) {
          const opts: RecurrentRunOptions = { goBackwards, returnSequences, initialH: randomArray(batch * units, rand, 0.5), initialC: cell === 'lstm' ? randomArray(batch * units, rand, 0.5) : null };
          const run = (mask: Uint8Array | null) =>
            p.cell === 'lstm' ? runLstm(p, x, batch, steps, features, { ...opts, mask }) : runGru(p as ReturnType<typeof prepareGru>, x, batch, steps, features, { ...opts, mask });
          const a = run(null)!;
          const b = run(ones)!;
          const label = `${cell} u${units} b${batch} back=${goBackwards} seq=${returnSequences}`;
          assert.deepEqual(a.last, b.last, label);
          assert.deepEqual(a.h, b.h, label);
          assert.deepEqual(a.c, b.c, label);
          assert.deepEqual(a.sequence, b.sequence, label);
        }
      }
    }
  }
  assert.ok(whole > 0, 'the float32 workspace has no whole-sequence loop');
});
