/**
 * The reference kernels: plain, exact TypeScript loops with float64 accumulation. Every layer kind uses these
 * unless a faster kernel (same results within float64 rounding) is put in their place.
 */

/**
 * out[r, c] = (accumulate ? out[r, c] : 0) + Σ_k a[r, k] · b[k, c]      (float64 accumulation, k ascending)
 *
 * a is rows × inner starting at aOffset, b is inner × cols (row-major), out is rows × cols starting at outOffset.
 */
export function matmulInto(
  out: Float64Array,
  outOffset: number,
  a: Float64Array,
  aOffset: number,
  rows: number,
  inner: number,
  b: Float64Array,
  cols: number,
  accumulate = false,
): void {
  for (let r = 0; r < rows; r++) {
    const o = outOffset + r * cols;
    if (!accumulate) out.fill(0, o, o + cols);
    const ar = aOffset + r * inner;
    for (let k = 0; k < inner; k++) {
      const av = a[ar + k];
      if (av === 0) continue;
      const bk = k * cols;
      for (let c = 0; c < cols; c++) out[o + c] += av * b[bk + c];
    }
  }
}

/** The same numbers as a Float64Array (no copy when they already are): keeps the hot loops monomorphic. */
export function asFloat64(a: Float32Array | Float64Array): Float64Array {
  return a instanceof Float64Array ? a : Float64Array.from(a);
}

/** a (rows × inner) · b (inner × cols) → a new Float64Array (rows × cols). */
export function matmul(a: Float32Array | Float64Array, rows: number, inner: number, b: Float32Array | Float64Array, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  matmulInto(out, 0, asFloat64(a), 0, rows, inner, asFloat64(b), cols, true);
  return out;
}

/** out[r, c] += bias[c] for every row. */
export function addBiasRows(out: Float64Array, rows: number, bias: ArrayLike<number>, cols: number, biasOffset = 0): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) out[o + c] += bias[biasOffset + c];
  }
}
