/**
 * The two building blocks of the fast recurrent kernels (src/kernels/workspace.ts), SIMD and TypeScript, float64
 * and float32: the packed matrix product against a naive product (float64, or float32 arithmetic emulated with
 * Math.fround, bit for bit), and the gate activations against the Keras formulas (Math.exp/Math.tanh), including
 * odd lengths (the SIMD tail), strided rows, and that nothing outside the asked range is touched; relaxed SIMD in a
 * flagged child (relaxed-simd-check.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { seededRandom } from '../fixtures/models';
import {
  ActivationCode,
  createMatmulWorkspace,
  packWeightPanels,
  paddedColumns,
  relaxedSimdSupported,
  simdSupported,
  PANEL,
  type MatmulWorkspace,
} from '../../src/kernels/workspace';

const backends = simdSupported() ? (['simd', 'typescript'] as const) : (['typescript'] as const);

/** Heap elements packedProduct needs. */
function workspaceSize(m: number, k: number, n: number): number {
  const width = paddedColumns(n);
  return k * width + m * k + m * (width + 3) + m * width + 8;
}

/**
 * Packs W (k × n; packed column j = source column columns[j]) into `ws`, puts A (m × k) and random INIT rows (their
 * own stride) after it, runs C = INIT + A·B once and checks nothing past C was written. Returns readers of INIT and C.
 */
function packedProduct(ws: MatmulWorkspace, A: ArrayLike<number>, W: ArrayLike<number>, m: number, k: number, n: number, columns: number[], rand: () => number) {
  const width = paddedColumns(n);
  const ldi = width + 3;
  packWeightPanels(ws.heap, 0, W, k, n, columns);
  const a = k * width;
  ws.heap.set(A, a);
  const init = a + m * k;
  for (let i = 0; i < m * ldi; i++) ws.heap[init + i] = rand();
  const c = init + m * ldi;
  ws.heap.fill(NaN, c, c + m * width + 8);
  ws.matmul(a, k, m, k, 0, width / PANEL, c, width, init, ldi);
  assert.ok(Number.isNaN(ws.heap[c + m * width]), 'wrote past the output');
  return { init: (i: number, j: number): number => ws.heap[init + i * ldi + j], c: (i: number, j: number): number => ws.heap[c + i * width + j] };
}

for (const backend of backends) {
  test(`${backend}: packed product C = INIT + A·B equals a naive float64 product for odd shapes`, () => {
    const rand = seededRandom(5);
    for (const [m, k, n] of [[1, 1, 1], [1, 7, 5], [3, 5, 9], [4, 3, 4], [5, 17, 13], [9, 2, 33], [13, 64, 21], [2, 0, 6]]) {
      const W = Float32Array.from({ length: k * n }, () => rand() * 2 - 1);
      const A = Float64Array.from({ length: m * k }, () => rand() * 2 - 1);
      const ws = createMatmulWorkspace(workspaceSize(m, k, n), backend);
      assert.equal(ws.backend, backend);
      const columns = Array.from({ length: n }, (_, j) => n - 1 - j); // reversed: packing follows the column list
      const out = packedProduct(ws, A, W, m, k, n, columns, rand);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = out.init(i, j);
          for (let q = 0; q < k; q++) s += A[i * k + q] * W[q * n + columns[j]];
          assert.ok(Math.abs(s - out.c(i, j)) <= 1e-13, `${m}x${k}x${n} at ${i},${j}`);
        }
      }
    }
  });

  test(`${backend}: gate activations match the Keras formulas (float64) and stay inside their range`, () => {
    const formulas: [ActivationCode, (x: number) => number][] = [
      [ActivationCode.Linear, (x) => x],
      [ActivationCode.Tanh, Math.tanh],
      [ActivationCode.Sigmoid, (x) => 1 / (1 + Math.exp(-x))],
      [ActivationCode.HardSigmoid, (x) => Math.min(1, Math.max(0, 0.2 * x + 0.5))],
      [ActivationCode.HardSigmoidKeras3, (x) => Math.min(1, Math.max(0, x / 6 + 0.5))],
      [ActivationCode.Relu, (x) => Math.max(0, x)],
    ];
    const xs: number[] = [0, -0, 1e-300, -1e-12, 1e-8, 0.5, -0.5, 2.5, -2.5, 3, -3, 19, -19, 40, -40, 700, -700, 720, -750, 1e6, -1e6];
    for (let i = 0; i < 4001; i++) xs.push(-25 + i * 0.0125);
    const rows = 3;
    const n = xs.length; // odd: exercises the one-value tail of each SIMD row
    const stride = n + 5;
    for (const [act, f] of formulas) {
      const ws = createMatmulWorkspace(rows * stride + 8, backend);
      ws.heap.fill(12345);
      for (let r = 0; r < rows; r++) ws.heap.set(xs, 1 + r * stride);
      ws.activate(act, 1, n, rows, stride);
      let worst = 0;
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(ws.heap[1 + r * stride + i] - f(xs[i])));
        for (let g = n; g < stride; g++) assert.equal(ws.heap[1 + r * stride + g], 12345, 'touched a value between rows');
      }
      assert.equal(ws.heap[0], 12345, 'touched the value before the range');
      assert.ok(worst <= 1e-15, `activation ${act}: worst abs difference ${worst}`);
    }
  });
}

if (simdSupported()) {
  test('simd float32: the product is the float32 arithmetic it promises, bit for bit (init, then fround(c + fround(a·b)) in k order)', () => {
    const rand = seededRandom(6);
    // odd shapes, 4-row blocks with 2 panels and a leftover panel, single rows with 8 panels and leftovers
    for (const [m, k, n] of [[1, 1, 1], [1, 7, 5], [3, 5, 9], [4, 3, 4], [4, 9, 12], [5, 17, 13], [9, 2, 33], [13, 64, 21], [1, 40, 70], [2, 0, 6], [8, 31, 36]]) {
      const W = Float32Array.from({ length: k * n }, () => rand() * 2 - 1);
      const A = Float32Array.from({ length: m * k }, () => rand() * 2 - 1);
      const ws = createMatmulWorkspace(workspaceSize(m, k, n), 'simd', 'float32');
      assert.equal(ws.precision, 'float32');
      assert.ok(ws.heap instanceof Float32Array);
      const columns = Array.from({ length: n }, (_, j) => ((j * 7) % n === j ? j : n - 1 - j));
      const out = packedProduct(ws, A, W, m, k, n, columns, rand);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = out.init(i, j);
          for (let q = 0; q < k; q++) s = Math.fround(s + Math.fround(A[i * k + q] * W[q * n + columns[j]]));
          assert.equal(out.c(i, j), s, `${m}x${k}x${n} at ${i},${j}`);
        }
      }
    }
  });

  // Source of truth: the Keras formulas in float64. tanh and sigmoid within 3 float32 ulp (relative; below 1e-30
  // within 1e-37); the hard sigmoids, computed like Keras as 0.2·x + 0.5 in float32, within one ulp of 1 (the
  // rounding of the sum near 0.5); relu exact.
  test('simd float32: activations within a few float32 ulp of the Keras formulas, tails and gaps untouched', () => {
    const formulas: [ActivationCode, (x: number) => number, 'ulp' | 'abs'][] = [
      [ActivationCode.Tanh, Math.tanh, 'ulp'],
      [ActivationCode.Sigmoid, (x) => 1 / (1 + Math.exp(-x)), 'ulp'],
      [ActivationCode.HardSigmoid, (x) => Math.min(1, Math.max(0, 0.2 * x + 0.5)), 'abs'],
      [ActivationCode.HardSigmoidKeras3, (x) => Math.min(1, Math.max(0, x / 6 + 0.5)), 'abs'],
      [ActivationCode.Relu, (x) => Math.max(0, x), 'abs'],
    ];
    const ulp = (v: number) => 2 ** (Math.floor(Math.log2(Math.abs(v))) - 23);
    const xs: number[] = [0, -0, 1e-30, -1e-12, 1e-8, 0.5, -0.5, 0.4, -0.4, 0.39999, 2.5, -2.5, 3, -3, 19, -19, 40, -40, 88, -87, 100, -104, 1e6, -1e6];
    for (let e = -40; e < 2; e++) xs.push(10 ** (e / 2), -(10 ** (e / 2)));
    for (let i = 0; i < 20002; i++) xs.push(-30 + i * 0.003);
    const rows = 3;
    for (const n of [xs.length, xs.length - 1, xs.length - 2, xs.length - 3]) {
      const stride = n + 5;
      for (const [act, f, rule] of formulas) {
        const ws = createMatmulWorkspace(rows * stride + 8, 'simd', 'float32');
        ws.heap.fill(12345);
        for (let r = 0; r < rows; r++) ws.heap.set(xs.slice(0, n), 1 + r * stride);
        ws.activate(act, 1, n, rows, stride);
        for (let r = 0; r < rows; r++) {
          for (let i = 0; i < n; i++) {
            const want = f(Math.fround(xs[i]));
            const err = Math.abs(ws.heap[1 + r * stride + i] - want);
            const ok = act === ActivationCode.Relu ? err === 0 : rule === 'abs' ? err <= 2 ** -23 : Math.abs(want) < 1e-30 ? err <= 1e-37 : err <= 3 * ulp(want);
            assert.ok(ok, `activation ${act} at ${xs[i]}: ${ws.heap[1 + r * stride + i]} vs ${want}`);
          }
          for (let g = n; g < stride; g++) assert.equal(ws.heap[1 + r * stride + g], 12345, 'touched a value between rows');
        }
        assert.equal(ws.heap[0], 12345, 'touched the value before the range');
      }
    }
    const nan = createMatmulWorkspace(8, 'simd', 'float32');
    for (const act of [ActivationCode.Tanh, ActivationCode.Sigmoid]) {
      nan.heap.fill(NaN);
      nan.activate(act, 0, 5, 1, 5);
      assert.ok(Array.from(nan.heap.subarray(0, 5)).every(Number.isNaN), `activation ${act} keeps NaN`);
    }
  });
}

test('a TypeScript workspace asked for float32 is float64 (float32 needs SIMD)', () => {
  const ws = createMatmulWorkspace(16, 'typescript', 'float32');
  assert.equal(ws.precision, 'float64');
  assert.ok(ws.heap instanceof Float64Array);
});

test('the generated modules are the compiled recurrent-simd.wat (rebuilt, not stale)', () => {
  const r = spawnSync(process.execPath, [join(__dirname, '../../scripts/build-wasm.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('relaxed SIMD: feature-detected; without it float32 uses the plain product, with it fused multiply-adds (child with --experimental-wasm-relaxed-simd)', () => {
  // this process: Node 20 has no relaxed SIMD unless flagged, so the plain path is the one the other tests check
  assert.equal(createMatmulWorkspace(16, 'simd', 'float32').fusedMultiplyAdd, relaxedSimdSupported());
  if (!simdSupported()) return;
  const child = join(__dirname, 'relaxed-simd-check.ts');
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', child], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /^ok (fused|unfused|either)/);
});
