/**
 * Row-major layout arithmetic shared by the weightless kinds: element counts, strides, axis normalisation,
 * transposition and numpy-style broadcasting. All results are Float64Array (engine intermediates).
 */
import type { Mask, Tensor } from '../../types';

export type Shape = (number | null)[];

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** A Keras axis (may be negative) as an index into a shape of the given rank. */
export function normaliseAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`${what}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export function asFloat64(t: Tensor): Float64Array {
  return t.data instanceof Float64Array ? t.data : Float64Array.from(t.data);
}

/** out[..., perm applied] : output axis i is input axis perm[i]. */
export function transpose(t: Tensor, perm: number[]): Tensor {
  const shape = perm.map((p) => t.shape[p]);
  const inStrides = stridesOf(t.shape);
  const n = elementCount(shape);
  const out = new Float64Array(n);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  const permStrides = perm.map((p) => inStrides[p]);
  let src = 0;
  for (let i = 0; i < n; i++) {
    out[i] = t.data[src];
    // increment the multi-index (last axis fastest) and keep `src` in step
    for (let a = rank - 1; a >= 0; a--) {
      idx[a]++;
      src += permStrides[a];
      if (idx[a] < shape[a]) break;
      src -= permStrides[a] * shape[a];
      idx[a] = 0;
    }
  }
  return { shape, data: out };
}

/** Numpy broadcasting of equal-rank shapes; throws when two dims differ and neither is 1. */
export function broadcastShape(shapes: number[][], what: string): number[] {
  const rank = shapes[0].length;
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    if (s.length !== rank) throw new Error(`${what}: inputs of different ranks`);
    for (let i = 0; i < rank; i++) {
      if (s[i] === out[i] || s[i] === 1) continue;
      if (out[i] === 1) out[i] = s[i];
      else throw new Error(`${what}: shapes ${shapes.map((x) => `(${x.join(', ')})`).join(' and ')} do not broadcast`);
    }
  }
  return out;
}

/** The data of `t` read at every index of `shape` (which `t.shape` broadcasts to). */
export function broadcastTo(t: Tensor, shape: number[]): Float64Array {
  const same = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  if (same) return asFloat64(t);
  const inStrides = stridesOf(t.shape).map((s, i) => (t.shape[i] === 1 ? 0 : s));
  const n = elementCount(shape);
  const out = new Float64Array(n);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let i = 0; i < n; i++) {
    out[i] = t.data[src];
    for (let a = rank - 1; a >= 0; a--) {
      idx[a]++;
      src += inStrides[a];
      if (idx[a] < shape[a]) break;
      src -= inStrides[a] * shape[a];
      idx[a] = 0;
    }
  }
  return out;
}

/** Joins tensors along `axis` (every other axis equal): per outer index, each tensor's block in turn. */
export function concatenateAlong(tensors: Tensor[], axis: number): Tensor {
  const shape = [...tensors[0].shape];
  shape[axis] = tensors.reduce((s, t) => s + t.shape[axis], 0);
  const outer = elementCount(shape.slice(0, axis));
  const inner = elementCount(shape.slice(axis + 1));
  const out = new Float64Array(elementCount(shape));
  let offset = 0;
  for (let o = 0; o < outer; o++) {
    for (const t of tensors) {
      const chunk = t.shape[axis] * inner;
      for (let k = 0; k < chunk; k++) out[offset + k] = t.data[o * chunk + k];
      offset += chunk;
    }
  }
  return { shape, data: out };
}

/** Applies f to every element (Float64 result). */
export function mapElements(t: Tensor, f: (x: number) => number): Tensor {
  const out = new Float64Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f(t.data[i]);
  return { shape: [...t.shape], data: out };
}

/** Keras's "pass the mask through" for layers with supports_masking and the default compute_mask. */
export function sameMasks(masks: (Mask | null)[]): (Mask | null)[] {
  return [masks[0] ?? null];
}

export function knownDim(d: number | null | undefined): d is number {
  return typeof d === 'number' && d >= 0;
}
