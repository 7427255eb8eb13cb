/**
 * src/kernels/conv-recurrent.ts on its own:
 *   - convGather's table against input positions worked out by hand from i = q·stride + j·dilation − padBefore
 *     (zeros outside), and its runs against the table they compress;
 *   - a batch run in chunks of samples equals the same batch in one piece, bit for bit (samples are independent;
 *     masks and initial states split with them), in both precisions;
 *   - a 1×1 kernel ConvLSTM equals the dense LSTM runner of recurrent.ts (the same formulas with conv = matmul per
 *     position) to 1e-12 in float64.
 * The whole layer against the readable step and Keras: test/kinds/fast-conv-lstm.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convGather, prepareConvLstm, runConvLstm, type ConvAxisGeometry } from '../../src/kernels/conv-recurrent';
import { prepareLstm, runLstm } from '../../src/kernels/recurrent';
import { simdSupported, type Precision } from '../../src/kernels/workspace';
import { seededSigned } from '../fixtures/models';

const axis = (size: number, kernel: number, stride: number, dilation: number, out: number, padBefore: number): ConvAxisGeometry => ({ size, kernel, stride, dilation, out, padBefore });

test('convGather, 1D: valid stride 2; same with padding (pad 1 before); dilation 2', () => {
  // size 7, k 3, stride 2, valid: out 3, q reads 2q + j
  assert.deepEqual(Array.from(convGather([axis(7, 3, 2, 1, 3, 0)]).source), [0, 1, 2, 2, 3, 4, 4, 5, 6]);
  // size 4, k 3, same: pad 1 before, q reads q + j − 1
  assert.deepEqual(Array.from(convGather([axis(4, 3, 1, 1, 4, 1)]).source), [-1, 0, 1, 0, 1, 2, 1, 2, 3, 2, 3, -1]);
  // size 5, k 2, dilation 2, valid: out 3, q reads q + 2j
  assert.deepEqual(Array.from(convGather([axis(5, 2, 1, 2, 3, 0)]).source), [0, 2, 1, 3, 2, 4]);
});

test('convGather, 2D: row-major positions and taps (3×3 same on 2×3)', () => {
  const g = convGather([axis(2, 3, 1, 1, 2, 1), axis(3, 3, 1, 1, 3, 1)]);
  assert.equal(g.positions, 6);
  assert.equal(g.taps, 9);
  assert.equal(g.inputPositions, 6);
  // output (0, 0): taps (ky, kx) read (ky − 1, kx − 1); only (1,1), (1,2), (2,1), (2,2) fall inside
  assert.deepEqual(Array.from(g.source.subarray(0, 9)), [-1, -1, -1, -1, 0, 1, -1, 3, 4]);
  // output (1, 2): reads (ky, kx + 1): rows 0..2 → 0, 1 inside; cols 1..3 → 1, 2 inside
  assert.deepEqual(Array.from(g.source.subarray(5 * 9, 6 * 9)), [1, 2, -1, 4, 5, -1, -1, -1, -1]);
});

test('convGather runs expand back to the table (3D, strides, dilation, same)', () => {
  const g = convGather([axis(4, 2, 2, 1, 2, 0), axis(5, 3, 1, 2, 5, 2), axis(3, 2, 1, 1, 3, 0)]);
  for (let q = 0; q < g.positions; q++) {
    const fromRuns = new Array<number>(g.taps).fill(-1);
    for (let r = g.runStart[q]; r < g.runStart[q + 1]; r++) {
      const [j, src, len] = [g.runs[3 * r], g.runs[3 * r + 1], g.runs[3 * r + 2]];
      for (let k = 0; k < len; k++) fromRuns[j + k] = src + k;
    }
    assert.deepEqual(fromRuns, Array.from(g.source.subarray(q * g.taps, (q + 1) * g.taps)), `position ${q}`);
  }
});

const PRECISIONS: Precision[] = simdSupported() ? ['float64', 'float32'] : ['float64'];

for (const precision of PRECISIONS) {
  test(`${precision}: a batch run in chunks of one sample equals the batch in one piece, bit for bit`, () => {
    const r = seededSigned(5);
    const f = (n: number, s: number) => Float32Array.from({ length: n }, () => r() * s);
    const [B, T, F, C] = [4, 5, 3, 2];
    const axes = [axis(6, 3, 1, 1, 6, 1), axis(5, 2, 1, 1, 5, 0)];
    const g = convGather(axes);
    const taps = 6;
    const p = prepareConvLstm({ kernel: f(taps * C * 4 * F, 0.6), recurrentKernel: f(taps * F * 4 * F, 0.6), bias: f(4 * F, 0.3) }, taps, F, { precision });
    const mask = Uint8Array.from({ length: B * T }, (_, k) => (k % 7 === 3 ? 0 : 1));
    const opts = { returnSequences: true, goBackwards: true, mask, initialH: f(B * g.positions * F, 0.8), initialC: f(B * g.positions * F, 0.8) };
    const x = f(B * T * g.inputPositions * C, 1.5);
    const whole = runConvLstm(p, x, B, T, g, g, opts)!;
    const chunked = runConvLstm(p, x, B, T, g, g, opts, 1)!;
    for (const k of ['sequence', 'last', 'h', 'c'] as const) assert.deepEqual(chunked[k], whole[k], k);
  });
}

test('float64: a 1×1 ConvLSTM equals the dense LSTM runner at every position (1e-12)', () => {
  const r = seededSigned(9);
  const f = (n: number, s: number) => Float32Array.from({ length: n }, () => r() * s);
  const [B, T, P, C, F] = [2, 6, 5, 3, 4];
  const weights = { kernel: f(C * 4 * F, 0.7), recurrentKernel: f(F * 4 * F, 0.7), bias: f(4 * F, 0.3) };
  const g = convGather([axis(P, 1, 1, 1, P, 0)]);
  const x = f(B * T * P * C, 1.5);
  const conv = runConvLstm(prepareConvLstm(weights, 1, F, { precision: 'float64' }), x, B, T, g, g, { returnSequences: true })!;
  // the same as an LSTM over B·P independent sequences: reorder x to (b, q, t, c)
  const dense = new Float32Array(x.length);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let q = 0; q < P; q++) for (let c = 0; c < C; c++) dense[((b * P + q) * T + t) * C + c] = x[((b * T + t) * P + q) * C + c];
  const lstm = runLstm(prepareLstm(weights, F, { precision: 'float64' }), dense, B * P, T, C, { returnSequences: true })!;
  let worst = 0;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let q = 0; q < P; q++) {
        for (let k = 0; k < F; k++) worst = Math.max(worst, Math.abs(conv.sequence![((b * T + t) * P + q) * F + k] - lstm.sequence![((b * P + q) * T + t) * F + k]));
      }
    }
  }
  assert.ok(worst <= 1e-12, `differs by ${worst}`);
  for (let k = 0; k < B * P * F; k++) assert.ok(Math.abs(conv.c![k] - lstm.c![k]) <= 1e-12, `c ${k}`);
});
