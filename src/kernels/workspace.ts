/**
 * The workspace of the fast recurrent kernels: a "heap" holding a layer's packed weights and its per-run buffers
 * side by side, and the two operations the time loop needs on it — the matrix product and the gate activations.
 * Two interchangeable backends:
 *   - 'simd': WebAssembly SIMD compiled from recurrent-simd.wat at build time (scripts/build-wasm.mjs),
 *   - 'typescript': the same register-tiled loops in plain TypeScript, where WebAssembly SIMD is missing.
 * and two precisions:
 *   - 'float64' (both backends): C = INIT + A·B with float64 products and sums (f64x2), so the backends agree with a
 *     float64 reference to rounding;
 *   - 'float32' (SIMD only; a TypeScript workspace asked for it is float64): a Float32Array heap, f32x4 products
 *     and sums each rounded to float32 in a fixed order — what Keras computes in, at twice the lanes. Where the
 *     runtime has relaxed SIMD (Electron's V8; Node 20 only behind --experimental-wasm-relaxed-simd) the float32
 *     product uses fused multiply-adds instead (one rounding per step, ~2× the throughput; `fusedMultiplyAdd`).
 *
 * Layout conventions (all offsets and strides are in elements of `heap`, whatever its precision):
 *   A: m rows of k values, row stride lda.
 *   B: packed by packWeightPanels(): np panels of 4 columns; panel p = k rows × 4 values, contiguous.
 *   C: m rows, row stride ldc, 4·np values written per row.
 *   INIT: rows added to the product, row i at init + i·ldi (ldi = 0 repeats one row, e.g. a bias).
 */
import { wasmBase64, wasmRelaxedBase64 } from './recurrent-simd.generated';

export type MatmulBackend = 'simd' | 'typescript';
export type Precision = 'float64' | 'float32';

/** Columns are packed in panels of this width (the SIMD tile width). */
export const PANEL = 4;

/** Round a column count up to whole panels. */
export function paddedColumns(cols: number): number {
  return Math.ceil(cols / PANEL) * PANEL;
}

/** Gate activations the kernels compute (the numbers are the WebAssembly kernel's codes). */
export const enum ActivationCode {
  Linear = 0,
  Tanh = 1,
  Sigmoid = 2,
  /** clip(0.2·x + 0.5, 0, 1): Keras 1/2, tf.keras */
  HardSigmoid = 3,
  /** clip(x/6 + 0.5, 0, 1): Keras 3 */
  HardSigmoidKeras3 = 4,
  Relu = 5,
}

export interface MatmulWorkspace {
  /** Which implementation computes the products and activations. */
  readonly backend: MatmulBackend;
  readonly precision: Precision;
  /** float32 on relaxed SIMD: c + a·b as fused multiply-adds (one rounding instead of two). */
  readonly fusedMultiplyAdd: boolean;
  /** The current view of the whole heap (Float32Array for 'float32'). Replaced by reserve(); re-read it after reserving. */
  heap: Float64Array | Float32Array;
  /** Make the heap at least `elements` long (keeps the contents). */
  reserve(elements: number): void;
  matmul(a: number, lda: number, m: number, k: number, b: number, np: number, c: number, ldc: number, init: number, ldi: number): void;
  /** Apply `act` in place to `rows` runs of `n` values starting at `start`, `stride` apart. */
  activate(act: ActivationCode, start: number, n: number, rows: number, stride: number): void;
  /**
   * float32 SIMD only: the elementwise part of an LSTM step in one pass, from the pre-activations z = [i|f|o|c̃]
   * (rows zStride apart): c' = ra(f)·c + ra(i)·act(c̃), h' = ra(o)·act(c'); c, h and prev (rows u apart) updated.
   */
  lstmCell?(z: number, zStride: number, c: number, h: number, prev: number, rows: number, u: number, ra: ActivationCode, act: ActivationCode): void;
  /**
   * float32 SIMD only: a GRU step's update from the activated update gate z (rows zStride apart) and the
   * candidate's pre-activation (rows candStride apart): h' = z·h + (1 − z)·act(ĥ); h and prev updated.
   */
  gruUpdate?(z: number, zStride: number, cand: number, candStride: number, h: number, prev: number, rows: number, u: number, act: ActivationCode): void;
  /**
   * float32 SIMD only: a GRU (reset_after=False) step's gates before the candidate's product: z and r (the first 2u
   * values of each row, zStride apart) activated in place, and r ⊙ h written to rh (rows u apart).
   */
  gruReset?(z: number, zStride: number, h: number, rh: number, rows: number, u: number, ra: ActivationCode): void;
  /**
   * float32 SIMD only: a GRU (reset_after=True) step's gates from z = h·U + recurrent bias (rows zStride apart) and
   * the step's x·W + b (rows xStride apart): z, r = ra(x + z) in place, candidate pre-activation x_h + r·z_h in place.
   */
  gruAfter?(z: number, zStride: number, x: number, xStride: number, rows: number, u: number, ra: ActivationCode): void;
  /**
   * float32 SIMD only: runLstm's whole time loop without a mask in one call — per step matmul(h, U) from the step's
   * x·W + b row, then lstmCell — the same calls in the same order (bit-identical). `seq` (0 = none) receives every
   * step's h, sample b's step s at seq + (b·steps + s)·u. Offsets and strides in elements as everywhere here.
   */
  lstmSequence?(s: LstmSequence): void;
  /** float32 SIMD only: runGru's whole time loop without a mask in one call (both reset_after forms), as lstmSequence. */
  gruSequence?(s: GruSequence): void;
}

/** The buffers and sizes of one unmasked LSTM sequence (see MatmulWorkspace.lstmSequence). */
export interface LstmSequence {
  h: number;
  c: number;
  prev: number;
  z: number;
  zStride: number;
  /** x·W + b: first row, one step's stride, one sample's stride */
  xw: number;
  xStep: number;
  xSample: number;
  /** packed U and its panel count */
  u: number;
  panels: number;
  units: number;
  batch: number;
  steps: number;
  goBackwards: boolean;
  seq: number;
  ra: ActivationCode;
  act: ActivationCode;
}

/** The buffers and sizes of one unmasked GRU sequence (see MatmulWorkspace.gruSequence). */
export interface GruSequence {
  h: number;
  prev: number;
  z: number;
  zStride: number;
  /** reset_after=False: the candidate's product (rows z2Stride apart) and r ⊙ h (rows units apart) */
  z2: number;
  z2Stride: number;
  rh: number;
  xw: number;
  xStep: number;
  xSample: number;
  /** packed U (z|r, or z|r|h with resetAfter) and its panels; packed U_h and its panels (reset_after=False) */
  uZr: number;
  zrPanels: number;
  uH: number;
  hPanels: number;
  /** reset_after=True: the recurrent bias row */
  recurrentBias: number;
  units: number;
  batch: number;
  steps: number;
  goBackwards: boolean;
  resetAfter: boolean;
  seq: number;
  ra: ActivationCode;
  act: ActivationCode;
}

/** The TypeScript activations: a[start..end) = act(a[start..end)). */
function activateTypeScript(act: ActivationCode, a: Float64Array, start: number, end: number): void {
  switch (act) {
    case ActivationCode.Linear:
      return;
    case ActivationCode.Tanh:
      for (let i = start; i < end; i++) a[i] = Math.tanh(a[i]);
      return;
    case ActivationCode.Sigmoid:
      for (let i = start; i < end; i++) a[i] = 1 / (1 + Math.exp(-a[i]));
      return;
    case ActivationCode.HardSigmoid:
      for (let i = start; i < end; i++) {
        const v = 0.2 * a[i] + 0.5;
        a[i] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
      return;
    case ActivationCode.HardSigmoidKeras3:
      for (let i = start; i < end; i++) {
        const v = a[i] / 6 + 0.5;
        a[i] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
      return;
    case ActivationCode.Relu:
      for (let i = start; i < end; i++) if (a[i] < 0) a[i] = 0;
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Packing
// ---------------------------------------------------------------------------------------------

/**
 * Pack the columns `columns` (indices into a row-major rows × srcCols weight) into panels at heap[offset...]:
 * packed column j is source column columns[j]; columns past columns.length are zero. Returns the element count.
 */
export function packWeightPanels(
  heap: Float64Array | Float32Array,
  offset: number,
  src: ArrayLike<number>,
  rows: number,
  srcCols: number,
  columns: number[],
): number {
  const width = paddedColumns(columns.length);
  const np = width / PANEL;
  for (let p = 0; p < np; p++) {
    const base = offset + p * rows * PANEL;
    for (let j = 0; j < PANEL; j++) {
      const col = p * PANEL + j < columns.length ? columns[p * PANEL + j] : -1;
      for (let r = 0; r < rows; r++) heap[base + r * PANEL + j] = col < 0 ? 0 : src[r * srcCols + col];
    }
  }
  return rows * width;
}

// ---------------------------------------------------------------------------------------------
// WebAssembly SIMD
// ---------------------------------------------------------------------------------------------

let simdModule: WebAssembly.Module | null | undefined;
let relaxedModule: WebAssembly.Module | null | undefined;
let relaxedAllowed = true;

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const bin = atob(text);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The compiled SIMD module, or null where this runtime has no WebAssembly SIMD (validated, never assumed). */
function simdKernelModule(): WebAssembly.Module | null {
  if (simdModule !== undefined) return simdModule;
  simdModule = null;
  try {
    if (typeof WebAssembly === 'object') {
      const bytes = decodeBase64(wasmBase64);
      if (WebAssembly.validate(bytes)) simdModule = new WebAssembly.Module(bytes);
    }
  } catch {
    simdModule = null;
  }
  return simdModule;
}

/** The relaxed-SIMD build (fused multiply-adds), or null where the runtime does not validate it (Node 20). */
function relaxedKernelModule(): WebAssembly.Module | null {
  if (relaxedModule !== undefined) return relaxedModule;
  relaxedModule = null;
  try {
    const bytes = decodeBase64(wasmRelaxedBase64);
    if (simdKernelModule() && WebAssembly.validate(bytes)) relaxedModule = new WebAssembly.Module(bytes);
  } catch {
    relaxedModule = null;
  }
  return relaxedModule;
}

/** True where relaxed SIMD validates, so float32 SIMD workspaces use fused multiply-adds (unless turned off). */
export function relaxedSimdSupported(): boolean {
  return relaxedKernelModule() !== null;
}

/** Let float32 workspaces made from now on use relaxed SIMD where it exists (default), or not (tests compare both). */
export function setRelaxedSimd(on: boolean): void {
  relaxedAllowed = on;
}

/** True where WebAssembly SIMD is available, so 'simd' workspaces can be made. */
export function simdSupported(): boolean {
  return simdKernelModule() !== null;
}

type MatmulExport = (a: number, lda: number, m: number, k: number, b: number, np: number, c: number, ldc: number, init: number, ldi: number) => void;
type ActivateExport = (code: number, p: number, n: number, rows: number, stride: number) => void;
interface SimdExports {
  memory: WebAssembly.Memory;
  matmul: MatmulExport;
  activate: ActivateExport;
  matmul_f32: MatmulExport;
  activate_f32: ActivateExport;
  lstm_cell_f32(z: number, zs: number, c: number, h: number, prev: number, rows: number, u: number, ra: number, act: number): void;
  gru_update_f32(z: number, zs: number, cand: number, cs: number, h: number, prev: number, rows: number, u: number, act: number): void;
  gru_reset_f32(z: number, zs: number, h: number, rh: number, rows: number, u: number, ra: number): void;
  gru_after_f32(z: number, zs: number, x: number, xs: number, rows: number, u: number, ra: number): void;
  lstm_seq_f32(...args: number[]): void;
  gru_seq_f32(...args: number[]): void;
}

function simdWorkspace(module: WebAssembly.Module, elements: number, precision: Precision): MatmulWorkspace {
  const f32 = precision === 'float32';
  const relaxed = f32 && relaxedAllowed ? relaxedKernelModule() : null;
  const exports = new WebAssembly.Instance(relaxed ?? module, {}).exports as unknown as SimdExports;
  const memory = exports.memory;
  const run = f32 ? exports.matmul_f32 : exports.matmul;
  const activate = f32 ? exports.activate_f32 : exports.activate;
  const view = () => (f32 ? new Float32Array(memory.buffer) : new Float64Array(memory.buffer));
  /** bytes per element */
  const e = f32 ? 4 : 8;
  const ws: MatmulWorkspace = {
    backend: 'simd',
    precision,
    fusedMultiplyAdd: relaxed !== null,
    heap: view(),
    reserve(n: number) {
      const bytes = n * e;
      if (bytes <= memory.buffer.byteLength) return;
      try {
        memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
      } catch {
        throw new Error(`the recurrent kernels need ${Math.ceil(bytes / 2 ** 20)} MB of WebAssembly memory, more than this runtime grants (try a smaller batch)`);
      }
      ws.heap = view();
    },
    matmul(a, lda, m, k, b, np, c, ldc, init, ldi) {
      run(a * e, lda * e, m, k, b * e, np, c * e, ldc * e, init * e, ldi * e);
    },
    activate(act, start, n, rows, stride) {
      activate(act, start * e, n, rows, stride * e);
    },
  };
  if (f32) {
    const lstm = exports.lstm_cell_f32;
    const gru = exports.gru_update_f32;
    const reset = exports.gru_reset_f32;
    const after = exports.gru_after_f32;
    ws.lstmCell = (z, zStride, c, h, prev, rows, u, ra, act) => lstm(z * 4, zStride * 4, c * 4, h * 4, prev * 4, rows, u, ra, act);
    ws.gruUpdate = (z, zStride, cand, candStride, h, prev, rows, u, act) => gru(z * 4, zStride * 4, cand * 4, candStride * 4, h * 4, prev * 4, rows, u, act);
    ws.gruReset = (z, zStride, h, rh, rows, u, ra) => reset(z * 4, zStride * 4, h * 4, rh * 4, rows, u, ra);
    ws.gruAfter = (z, zStride, x, xStride, rows, u, ra) => after(z * 4, zStride * 4, x * 4, xStride * 4, rows, u, ra);
    const lstmSeq = exports.lstm_seq_f32;
    const gruSeq = exports.gru_seq_f32;
    ws.lstmSequence = (q) =>
      lstmSeq(q.h * 4, q.c * 4, q.prev * 4, q.z * 4, q.zStride * 4, q.xw * 4, q.xStep * 4, q.xSample * 4, q.u * 4, q.panels, q.units, q.batch, q.steps, +q.goBackwards, q.seq * 4, q.ra, q.act);
    ws.gruSequence = (q) =>
      gruSeq(
        q.h * 4, q.prev * 4, q.z * 4, q.zStride * 4, q.z2 * 4, q.z2Stride * 4, q.rh * 4, q.xw * 4, q.xStep * 4, q.xSample * 4,
        q.uZr * 4, q.zrPanels, q.uH * 4, q.hPanels, q.recurrentBias * 4, q.units, q.batch, q.steps, +q.goBackwards, +q.resetAfter, q.seq * 4, q.ra, q.act,
      );
  }
  ws.reserve(elements);
  return ws;
}

// ---------------------------------------------------------------------------------------------
// TypeScript fallback: the same tiles, 4 rows × 4 columns (16 accumulators in locals), then single rows.
// ---------------------------------------------------------------------------------------------

function matmulTypeScript(
  h: Float64Array,
  a: number,
  lda: number,
  m: number,
  k: number,
  b: number,
  np: number,
  c: number,
  ldc: number,
  init: number,
  ldi: number,
): void {
  const ps = k * PANEL;
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const a0 = a + i * lda;
    const a1 = a0 + lda;
    const a2 = a1 + lda;
    const a3 = a2 + lda;
    for (let p = 0; p < np; p++) {
      const i0 = init + i * ldi + p * PANEL;
      const i1 = i0 + ldi;
      const i2 = i1 + ldi;
      const i3 = i2 + ldi;
      let c00 = h[i0], c01 = h[i0 + 1], c02 = h[i0 + 2], c03 = h[i0 + 3];
      let c10 = h[i1], c11 = h[i1 + 1], c12 = h[i1 + 2], c13 = h[i1 + 3];
      let c20 = h[i2], c21 = h[i2 + 1], c22 = h[i2 + 2], c23 = h[i2 + 3];
      let c30 = h[i3], c31 = h[i3 + 1], c32 = h[i3 + 2], c33 = h[i3 + 3];
      let bp = b + p * ps;
      for (let kk = 0; kk < k; kk++, bp += PANEL) {
        const b0 = h[bp], b1 = h[bp + 1], b2 = h[bp + 2], b3 = h[bp + 3];
        let s = h[a0 + kk];
        c00 += s * b0; c01 += s * b1; c02 += s * b2; c03 += s * b3;
        s = h[a1 + kk];
        c10 += s * b0; c11 += s * b1; c12 += s * b2; c13 += s * b3;
        s = h[a2 + kk];
        c20 += s * b0; c21 += s * b1; c22 += s * b2; c23 += s * b3;
        s = h[a3 + kk];
        c30 += s * b0; c31 += s * b1; c32 += s * b2; c33 += s * b3;
      }
      const o0 = c + i * ldc + p * PANEL;
      const o1 = o0 + ldc;
      const o2 = o1 + ldc;
      const o3 = o2 + ldc;
      h[o0] = c00; h[o0 + 1] = c01; h[o0 + 2] = c02; h[o0 + 3] = c03;
      h[o1] = c10; h[o1 + 1] = c11; h[o1 + 2] = c12; h[o1 + 3] = c13;
      h[o2] = c20; h[o2 + 1] = c21; h[o2 + 2] = c22; h[o2 + 3] = c23;
      h[o3] = c30; h[o3 + 1] = c31; h[o3 + 2] = c32; h[o3 + 3] = c33;
    }
  }
  for (; i < m; i++) {
    const a0 = a + i * lda;
    let p = 0;
    for (; p + 2 <= np; p += 2) {
      const i0 = init + i * ldi + p * PANEL;
      let c0 = h[i0], c1 = h[i0 + 1], c2 = h[i0 + 2], c3 = h[i0 + 3];
      let c4 = h[i0 + 4], c5 = h[i0 + 5], c6 = h[i0 + 6], c7 = h[i0 + 7];
      let bp = b + p * ps;
      let bq = bp + ps;
      for (let kk = 0; kk < k; kk++, bp += PANEL, bq += PANEL) {
        const s = h[a0 + kk];
        c0 += s * h[bp]; c1 += s * h[bp + 1]; c2 += s * h[bp + 2]; c3 += s * h[bp + 3];
        c4 += s * h[bq]; c5 += s * h[bq + 1]; c6 += s * h[bq + 2]; c7 += s * h[bq + 3];
      }
      const o = c + i * ldc + p * PANEL;
      h[o] = c0; h[o + 1] = c1; h[o + 2] = c2; h[o + 3] = c3;
      h[o + 4] = c4; h[o + 5] = c5; h[o + 6] = c6; h[o + 7] = c7;
    }
    for (; p < np; p++) {
      const i0 = init + i * ldi + p * PANEL;
      let c0 = h[i0], c1 = h[i0 + 1], c2 = h[i0 + 2], c3 = h[i0 + 3];
      let bp = b + p * ps;
      for (let kk = 0; kk < k; kk++, bp += PANEL) {
        const s = h[a0 + kk];
        c0 += s * h[bp]; c1 += s * h[bp + 1]; c2 += s * h[bp + 2]; c3 += s * h[bp + 3];
      }
      const o = c + i * ldc + p * PANEL;
      h[o] = c0; h[o + 1] = c1; h[o + 2] = c2; h[o + 3] = c3;
    }
  }
}

function typeScriptWorkspace(elements: number): MatmulWorkspace {
  let heap = new Float64Array(Math.max(elements, 16));
  const ws: MatmulWorkspace = {
    backend: 'typescript',
    precision: 'float64',
    fusedMultiplyAdd: false,
    heap,
    reserve(n: number) {
      if (n <= heap.length) return;
      const bigger = new Float64Array(Math.max(n, Math.ceil(heap.length * 1.5)));
      bigger.set(heap);
      ws.heap = heap = bigger;
    },
    matmul(a, lda, m, k, b, np, c, ldc, init, ldi) {
      matmulTypeScript(heap, a, lda, m, k, b, np, c, ldc, init, ldi);
    },
    activate(act, start, n, rows, stride) {
      for (let r = 0; r < rows; r++) activateTypeScript(act, heap, start + r * stride, start + r * stride + n);
    },
  };
  return ws;
}

let preference: MatmulBackend | 'auto' = 'auto';

/**
 * Choose the backend that layers prepared from now on use ('auto' = SIMD where available). For benchmarks and tests
 * of the TypeScript fallback; the default needs no call.
 */
export function setPreferredMatmulBackend(backend: MatmulBackend | 'auto'): void {
  preference = backend;
}

/** The backend a layer prepared now would run on. */
export function preferredMatmulBackend(): MatmulBackend {
  return preference !== 'typescript' && simdSupported() ? 'simd' : 'typescript';
}

/**
 * A new workspace of at least `elements` values. `backend` 'auto' (default) takes SIMD where the runtime validates
 * it and TypeScript otherwise; asking for 'simd' where it is missing also falls back to TypeScript. 'float32'
 * needs SIMD: a TypeScript workspace is always float64 (read `precision` on the result).
 */
export function createMatmulWorkspace(elements: number, backend: MatmulBackend | 'auto' = 'auto', precision: Precision = 'float64'): MatmulWorkspace {
  const module = backend === 'typescript' ? null : simdKernelModule();
  return module ? simdWorkspace(module, elements, precision) : typeScriptWorkspace(elements);
}

/**
 * A packed layer whose workspace grew past this (a very long or wide input) is dropped after its run, so the memory
 * goes back to the garbage collector instead of staying with the model (WebAssembly memory cannot shrink). One
 * bound for every holder of packings: the fast recurrent and ConvLSTM paths and the batch-split helper threads.
 */
export const KEEP_WORKSPACE_BYTES = 64 * 2 ** 20;
