/**
 * Run by test/kernels/workspace.test.ts in a child `node --experimental-wasm-relaxed-simd` (Node 20 has relaxed SIMD
 * only behind that flag; Electron's V8 has it on). Checks the relaxed-SIMD float32 product:
 *   - the runtime validates the relaxed build and float32 workspaces use it (fusedMultiplyAdd);
 *   - every product equals, bit for bit, one of the two orders relaxed_madd may compute in: fused,
 *     c = fround(c + a·b) (a·b of two float32 values is exact in float64), or unfused, fround(c + fround(a·b)) —
 *     the same one for every value (V8 picks per CPU);
 *   - the runners on it stay within 1e-5·max(1, |value|) of the float64 runners (themselves checked against a
 *     float64 reference in recurrent.test.ts);
 *   - setRelaxedSimd(false) gives the plain float32 product back (bit for bit unfused).
 * Prints one line `ok <fused|unfused>` and exits 0, or the first problem and exits 1.
 */
import { createMatmulWorkspace, packWeightPanels, paddedColumns, PANEL, relaxedSimdSupported, setRelaxedSimd } from '../../src/kernels/workspace';
import { prepareGru, prepareLstm, runGru, runLstm } from '../../src/kernels/recurrent';
import { seededRandom } from '../fixtures/models';

function fail(problem: string): never {
  console.log(problem);
  process.exit(1);
}

const rand = seededRandom(17);
const f32 = (n: number) => Float32Array.from({ length: n }, () => rand() * 2 - 1);

/** Which order the product used over all shapes: 'fused' | 'unfused' | 'either' (no value tells), or a mismatch message. */
function productOrder(): string {
  let order: string | null = null;
  for (const [m, k, n] of [[1, 7, 5], [4, 9, 12], [5, 17, 13], [9, 2, 33], [13, 64, 21], [1, 40, 70]]) {
    const W = f32(k * n);
    const A = f32(m * k);
    const width = paddedColumns(n);
    const ws = createMatmulWorkspace(k * width + m * k + 2 * m * width + 8, 'simd', 'float32');
    packWeightPanels(ws.heap, 0, W, k, n, Array.from({ length: n }, (_, j) => j));
    const a = k * width;
    ws.heap.set(A, a);
    const init = a + m * k;
    for (let i = 0; i < m * width; i++) ws.heap[init + i] = rand();
    const c = init + m * width;
    ws.matmul(a, k, m, k, 0, width / PANEL, c, width, init, width);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let fused: number = ws.heap[init + i * width + j];
        let unfused = fused;
        for (let q = 0; q < k; q++) {
          fused = Math.fround(fused + A[i * k + q] * W[q * n + j]);
          unfused = Math.fround(unfused + Math.fround(A[i * k + q] * W[q * n + j]));
        }
        const got = ws.heap[c + i * width + j];
        const here = got === fused ? (got === unfused ? null : 'fused') : got === unfused ? 'unfused' : 'neither';
        if (here === 'neither') return `${m}x${k}x${n} at ${i},${j}: ${got} is neither the fused ${fused} nor the unfused ${unfused} product`;
        if (here && order && here !== order) return `${m}x${k}x${n} at ${i},${j}: ${here} after ${order} values`;
        order = here ?? order;
      }
    }
  }
  return order ?? 'either';
}

if (!relaxedSimdSupported()) fail('relaxed SIMD does not validate even with --experimental-wasm-relaxed-simd');
if (!createMatmulWorkspace(16, 'simd', 'float32').fusedMultiplyAdd) fail('a float32 SIMD workspace does not use relaxed SIMD');
if (createMatmulWorkspace(16, 'simd', 'float64').fusedMultiplyAdd) fail('a float64 workspace claims fused multiply-adds');
const order = productOrder();
if (!['fused', 'unfused', 'either'].includes(order)) fail(order);

const units = 24;
const features = 7;
for (const cell of ['lstm', 'gru'] as const) {
  const g = cell === 'lstm' ? 4 : 3;
  const weights = { kernel: f32(features * g * units), recurrentKernel: f32(units * g * units), bias: f32(g * units) };
  const x = f32(5 * 30 * features);
  const run = (precision: 'float32' | 'float64') =>
    cell === 'lstm'
      ? runLstm(prepareLstm(weights, units, { precision }), x, 5, 30, features, { returnSequences: true })!
      : runGru(prepareGru(weights, units, false, { precision }), x, 5, 30, features, { returnSequences: true })!;
  const a = run('float32').sequence!;
  const b = run('float64').sequence!;
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= 1e-5 * Math.max(1, Math.abs(b[i])))) fail(`${cell}: relaxed float32 ${a[i]} vs float64 ${b[i]} at ${i}`);
  }
}

setRelaxedSimd(false);
if (createMatmulWorkspace(16, 'simd', 'float32').fusedMultiplyAdd) fail('setRelaxedSimd(false) ignored');
if (productOrder() === 'fused') fail('with relaxed SIMD off the product is still fused');
console.log(`ok ${order}`);
