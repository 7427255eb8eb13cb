/**
 * Reductions over axes (numpy / Keras 3 semantics; tf.math.reduce_* alike):
 *   sum Σ, mean Σ/n, max, min, prod Π, any (some element ≠ 0), all (every element ≠ 0)
 *   axis: null = every axis (the batch axis too), an int or a list (negative counts from the end);
 *   keepdims: reduced axes stay as size 1, else they are removed. max/min take Keras's optional `initial`.
 *   var = mean((x − mean)²) (population, as tf.math.reduce_variance), std = √var, logsumexp = max + log Σ e^(x−max);
 *   argmax / argmin: the index along ONE axis (null: of the flattened tensor) of the first largest / smallest.
 * cumsum(x, axis): running sums along axis (null: of the flattened tensor).
 * normalize(x, axis, order 2, epsilon = 1e-7): x · min(1/√Σx², 1/epsilon) (Keras 3 nn.py _normalize).
 * softmax(x, axis) = exp(x − max) / Σ exp(x − max) over the axes (default −1); log_softmax = x − max − log Σ exp(x − max).
 */
import type { Tensor } from '../types';
import { elementCount, normaliseAxis, stridesOf } from '../kinds/weightless/tensorLayout';
import type { OpImpl, Params, Shape } from './op';

export function reducedAxes(axis: unknown, rank: number, what: string): number[] {
  if (axis === null || axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = Array.isArray(axis) ? axis : [axis];
  const out = list.map((a) => {
    if (typeof a !== 'number') throw new Error(`${what}: axis ${JSON.stringify(axis)} is not an integer or a list of integers`);
    return normaliseAxis(a, rank, what);
  });
  return [...new Set(out)].sort((a, b) => a - b);
}

function reducedShape<T extends number | null>(shape: T[], axes: number[], keepdims: boolean): T[] {
  const out: T[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(1 as T);
  });
  return out;
}

interface Reducer {
  init: number;
  step(acc: number, x: number): number;
  finish?(acc: number, n: number): number;
}

const REDUCERS: Record<string, Reducer> = {
  sum: { init: 0, step: (a, x) => a + x },
  mean: { init: 0, step: (a, x) => a + x, finish: (a, n) => a / n },
  max: { init: -Infinity, step: (a, x) => (x > a || Number.isNaN(x) ? x : a) },
  min: { init: Infinity, step: (a, x) => (x < a || Number.isNaN(x) ? x : a) },
  prod: { init: 1, step: (a, x) => a * x },
  any: { init: 0, step: (a, x) => (a !== 0 || x !== 0 ? 1 : 0) },
  all: { init: 1, step: (a, x) => (a !== 0 && x !== 0 ? 1 : 0) },
};

/** For every element of a tensor of `shape` (row-major), its index in the keepdims-reduced tensor. */
function reducedIndex(shape: number[], axes: number[]): { keep: number[]; at: Int32Array } {
  const keep = reducedShape(shape, axes, true);
  const strides = stridesOf(keep).map((s, i) => (axes.includes(i) ? 0 : s));
  const at = new Int32Array(elementCount(shape));
  const idx = new Array<number>(shape.length).fill(0);
  let dst = 0;
  for (let i = 0; i < at.length; i++) {
    at[i] = dst;
    for (let a = shape.length - 1; a >= 0; a--) {
      idx[a]++;
      dst += strides[a];
      if (idx[a] < shape[a]) break;
      dst -= strides[a] * shape[a];
      idx[a] = 0;
    }
  }
  return { keep, at };
}

/** out[j] = reduce over the input elements that map to output index j (keepdims layout). */
function reduceWith(x: Tensor, axes: number[], r: Reducer, initial: number | null): { keep: number[]; at: Int32Array; data: Float64Array } {
  const { keep, at } = reducedIndex(x.shape, axes);
  const n = elementCount(keep);
  const acc = new Float64Array(n).fill(r.init);
  if (initial !== null) acc.fill(r.step(r.init, initial));
  for (let i = 0; i < x.data.length; i++) acc[at[i]] = r.step(acc[at[i]], x.data[i]);
  if (r.finish) {
    const count = x.data.length / Math.max(1, n);
    for (let j = 0; j < n; j++) acc[j] = r.finish(acc[j], count);
  }
  return { keep, at, data: acc };
}

function reduction(name: string): OpImpl {
  const r = REDUCERS[name];
  return {
    shape(shapes: Shape[], p: Params) {
      const s = shapes[0];
      return reducedShape(s, reducedAxes(p.axis, s.length, name), p.keepdims === true);
    },
    run(xs: Tensor[], p: Params) {
      const x = xs[0];
      const axes = reducedAxes(p.axis, x.shape.length, name);
      const initial = typeof p.initial === 'number' ? p.initial : null;
      const { data } = reduceWith(x, axes, r, initial);
      return { shape: reducedShape(x.shape, axes, p.keepdims === true), data };
    },
  };
}

function softmaxLike(log: boolean): OpImpl {
  const what = log ? 'log_softmax' : 'softmax';
  return {
    shape: (shapes) => [...shapes[0]],
    run(xs: Tensor[], p: Params) {
      const x = xs[0];
      const axes = reducedAxes(p.axis ?? -1, x.shape.length, what);
      const max = reduceWith(x, axes, REDUCERS.max, null);
      const at = max.at;
      const e = new Float64Array(x.data.length);
      const sum = new Float64Array(max.data.length);
      for (let i = 0; i < e.length; i++) {
        e[i] = Math.exp(x.data[i] - max.data[at[i]]);
        sum[at[i]] += e[i];
      }
      for (let i = 0; i < e.length; i++) e[i] = log ? x.data[i] - max.data[at[i]] - Math.log(sum[at[i]]) : e[i] / sum[at[i]];
      return { shape: [...x.shape], data: e };
    },
  };
}

/** Per keepdims index: the elements of x reduced there, gathered (small tensors: fine). */
function groups(x: Tensor, axes: number[]): { keep: number[]; values: number[][] } {
  const { keep, at } = reducedIndex(x.shape, axes);
  const values: number[][] = Array.from({ length: elementCount(keep) }, () => []);
  for (let i = 0; i < x.data.length; i++) values[at[i]].push(x.data[i]);
  return { keep, values };
}

/** A reduction computed from each group's values (var, std, logsumexp). */
function groupReduction(name: string, f: (v: number[]) => number): OpImpl {
  return {
    shape: (shapes, p) => reducedShape(shapes[0], reducedAxes(p.axis, shapes[0].length, name), p.keepdims === true),
    run(xs, p) {
      const x = xs[0];
      const axes = reducedAxes(p.axis, x.shape.length, name);
      const { values } = groups(x, axes);
      return { shape: reducedShape(x.shape, axes, p.keepdims === true), data: Float64Array.from(values, f) };
    },
  };
}

const variance = (v: number[]) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return v.reduce((a, b) => a + (b - m) * (b - m), 0) / v.length;
};

function logSumExp(v: number[]): number {
  const m = v.reduce((a, b) => (b > a ? b : a), -Infinity);
  if (!Number.isFinite(m)) return m;
  return m + Math.log(v.reduce((a, b) => a + Math.exp(b - m), 0));
}

/** argmax / argmin along one axis, or over the flattened tensor (axis null). */
function argReduction(name: string, better: (a: number, b: number) => boolean): OpImpl {
  const one = (axis: unknown, rank: number): number[] => {
    if (axis !== null && axis !== undefined && typeof axis !== 'number') throw new Error(`${name}: axis must be one integer`);
    return reducedAxes(axis, rank, name);
  };
  return {
    shape(shapes, p) {
      const s = shapes[0];
      if (p.axis === null || p.axis === undefined) return p.keepdims === true ? s.map(() => 1) : [];
      return reducedShape(s, one(p.axis, s.length), p.keepdims === true);
    },
    run(xs, p) {
      const x = xs[0];
      const flat = p.axis === null || p.axis === undefined;
      const axes = one(p.axis, x.shape.length);
      const { values } = groups(x, axes);
      const data = Float64Array.from(values, (v) => v.reduce((best, y, i) => (better(y, v[best]) ? i : best), 0));
      const shape = flat ? (p.keepdims === true ? x.shape.map(() => 1) : []) : reducedShape(x.shape, axes, p.keepdims === true);
      return { shape, data };
    },
  };
}

const cumsumImpl: OpImpl = {
  shape(shapes, p) {
    const s = shapes[0];
    if (p.axis === null || p.axis === undefined) return [s.every((d) => d !== null) ? elementCount(s as number[]) : null];
    return [...s];
  },
  run(xs, p) {
    const x = xs[0];
    const flat = p.axis === null || p.axis === undefined;
    const shape = flat ? [x.data.length] : [...x.shape];
    const a = flat ? 0 : reducedAxes(p.axis, shape.length, 'cumsum')[0];
    const inner = elementCount(shape.slice(a + 1));
    const out = Float64Array.from(x.data);
    for (let i = 0; i < out.length; i++) {
      if (Math.floor(i / inner) % shape[a] !== 0) out[i] += out[i - inner];
    }
    return { shape, data: out };
  },
};

const normalizeImpl: OpImpl = {
  shape: (shapes) => [...shapes[0]],
  run(xs, p) {
    if (p.order !== undefined && p.order !== null && p.order !== 2) throw new Error(`normalize: order ${JSON.stringify(p.order)} is not supported (only 2)`);
    const x = xs[0];
    const axes = reducedAxes(p.axis ?? -1, x.shape.length, 'normalize');
    const sq = reduceWith({ shape: x.shape, data: Float64Array.from(x.data, (v) => v * v) }, axes, REDUCERS.sum, null);
    const eps = typeof p.epsilon === 'number' ? p.epsilon : 1e-7;
    const out = Float64Array.from(x.data, (v, i) => v * Math.min(1 / Math.sqrt(sq.data[sq.at[i]]), 1 / eps));
    return { shape: [...x.shape], data: out };
  },
};

export const reduceOps: Record<string, OpImpl> = {
  ...Object.fromEntries(Object.keys(REDUCERS).map((k) => [k, reduction(k)])),
  var: groupReduction('var', variance),
  std: groupReduction('std', (v) => Math.sqrt(variance(v))),
  logsumexp: groupReduction('logsumexp', logSumExp),
  argmax: argReduction('argmax', (a, b) => a > b),
  argmin: argReduction('argmin', (a, b) => a < b),
  cumsum: cumsumImpl,
  normalize: normalizeImpl,
  softmax: softmaxLike(false),
  log_softmax: softmaxLike(true),
};
