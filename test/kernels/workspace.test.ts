/**
 * The two building blocks of the fast recurrent kernels (src/kernels/workspace.ts), SIMD and TypeScript:
 * the packed matrix product against a naive float64 product, and the gate activations against Math.exp/Math.tanh,
 * including odd lengths (the SIMD tail), strided rows, and that nothing outside the asked range is touched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import wabtFactory from 'wabt';
import { wasmBase64 } from '../../src/kernels/recurrent-simd.generated';
import { seededRandom } from '../fixtures/models';
import { ActivationCode, createMatmulWorkspace, packWeightPanels, paddedColumns, simdSupported, PANEL } from '../../src/kernels/workspace';

const backends = simdSupported() ? (['simd', 'typescript'] as const) : (['typescript'] as const);

for (const backend of backends) {
  test(`${backend}: packed product C = INIT + A·B equals a naive float64 product for odd shapes`, () => {
    const rand = seededRandom(5);
    for (const [m, k, n] of [[1, 1, 1], [1, 7, 5], [3, 5, 9], [4, 3, 4], [5, 17, 13], [9, 2, 33], [13, 64, 21], [2, 0, 6]]) {
      const W = Float32Array.from({ length: k * n }, () => rand() * 2 - 1);
      const A = Float64Array.from({ length: m * k }, () => rand() * 2 - 1);
      const width = paddedColumns(n);
      const ldi = width + 3; // INIT rows with their own stride
      const ws = createMatmulWorkspace(k * width + m * k + m * ldi + m * width + 8, backend);
      assert.equal(ws.backend, backend);
      const columns = Array.from({ length: n }, (_, j) => n - 1 - j); // reversed: packing follows the column list
      packWeightPanels(ws.heap, 0, W, k, n, columns);
      const a = k * width;
      ws.heap.set(A, a);
      const init = a + m * k;
      for (let i = 0; i < m * ldi; i++) ws.heap[init + i] = rand();
      const c = init + m * ldi;
      ws.heap.fill(NaN, c, c + m * width + 8);
      ws.matmul(a, k, m, k, 0, width / PANEL, c, width, init, ldi);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = ws.heap[init + i * ldi + j];
          for (let q = 0; q < k; q++) s += A[i * k + q] * W[q * n + columns[j]];
          assert.ok(Math.abs(s - ws.heap[c + i * width + j]) <= 1e-13, `${m}x${k}x${n} at ${i},${j}`);
        }
      }
      assert.ok(Number.isNaN(ws.heap[c + m * width]), 'wrote past the output');
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
      const width = paddedColumns(n);
      const ldi = width + 3;
      const ws = createMatmulWorkspace(k * width + m * k + m * ldi + m * width + 8, 'simd', 'float32');
      assert.equal(ws.precision, 'float32');
      assert.ok(ws.heap instanceof Float32Array);
      const columns = Array.from({ length: n }, (_, j) => (j * 7) % n === j ? j : n - 1 - j);
      packWeightPanels(ws.heap, 0, W, k, n, columns);
      const a = k * width;
      ws.heap.set(A, a);
      const init = a + m * k;
      for (let i = 0; i < m * ldi; i++) ws.heap[init + i] = rand();
      const c = init + m * ldi;
      ws.heap.fill(NaN, c, c + m * width + 8);
      ws.matmul(a, k, m, k, 0, width / PANEL, c, width, init, ldi);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s: number = ws.heap[init + i * ldi + j];
          for (let q = 0; q < k; q++) s = Math.fround(s + Math.fround(A[i * k + q] * W[q * n + columns[j]]));
          assert.equal(ws.heap[c + i * width + j], s, `${m}x${k}x${n} at ${i},${j}`);
        }
      }
      assert.ok(Number.isNaN(ws.heap[c + m * width]), 'wrote past the output');
    }
  });

  // Source of truth: the float64 activations, themselves checked against the Keras formulas above (1e-15).
  test('simd float32: activations are the float32 rounding of the float64 activations, tails and gaps untouched', () => {
    const f64 = createMatmulWorkspace(8, 'simd', 'float64');
    const float64Activation = (act: ActivationCode) => (x: number) => {
      f64.heap[0] = x;
      f64.activate(act, 0, 1, 1, 1);
      return f64.heap[0];
    };
    const formulas: [ActivationCode, (x: number) => number][] = [
      ActivationCode.Tanh,
      ActivationCode.Sigmoid,
      ActivationCode.HardSigmoid,
      ActivationCode.HardSigmoidKeras3,
      ActivationCode.Relu,
    ].map((a) => [a, float64Activation(a)]);
    const xs: number[] = [0, -0, 1e-30, -1e-12, 1e-8, 0.5, -0.5, 2.5, -2.5, 3, -3, 19, -19, 40, -40, 88, -87, 100, -104, 1e6, -1e6];
    for (let i = 0; i < 4002; i++) xs.push(Math.fround(-25 + i * 0.0125));
    const rows = 3;
    for (const n of [xs.length, xs.length - 1, xs.length - 2, xs.length - 3]) {
      const stride = n + 5;
      for (const [act, f] of formulas) {
        const ws = createMatmulWorkspace(rows * stride + 8, 'simd', 'float32');
        ws.heap.fill(12345);
        for (let r = 0; r < rows; r++) ws.heap.set(xs.slice(0, n), 1 + r * stride);
        ws.activate(act, 1, n, rows, stride);
        for (let r = 0; r < rows; r++) {
          for (let i = 0; i < n; i++) assert.equal(ws.heap[1 + r * stride + i], Math.fround(f(Math.fround(xs[i]))), `activation ${act} at ${xs[i]}`);
          for (let g = n; g < stride; g++) assert.equal(ws.heap[1 + r * stride + g], 12345, 'touched a value between rows');
        }
        assert.equal(ws.heap[0], 12345, 'touched the value before the range');
      }
    }
  });
}

test('a TypeScript workspace asked for float32 is float64 (float32 needs SIMD)', () => {
  const ws = createMatmulWorkspace(16, 'typescript', 'float32');
  assert.equal(ws.precision, 'float64');
  assert.ok(ws.heap instanceof Float64Array);
});

test('the generated module is the compiled recurrent-simd.wat (rebuilt, not stale)', async () => {
  const wabt = await wabtFactory();
  const source = readFileSync(join(__dirname, '../../src/kernels/recurrent-simd.wat'), 'utf8');
  const parsed = wabt.parseWat('recurrent-simd.wat', source, { simd: true, multi_value: true });
  parsed.resolveNames();
  parsed.validate();
  const bytes = parsed.toBinary({ log: false, write_debug_names: false }).buffer;
  parsed.destroy();
  assert.equal(wasmBase64, Buffer.from(bytes).toString('base64'), 'run `node scripts/build-wasm.mjs` (npm run build does it)');
});
