/**
 * Ops that move elements without changing them (row-major, batch axis first; numpy / Keras 3 semantics):
 *   expand_dims(x, axis)      a size-1 axis inserted at each axis (negative: counted in the OUTPUT rank)
 *   squeeze(x, axis)          size-1 axes removed (axis null: every axis known to be 1)
 *   reshape(x, newshape)      the full shape, batch axis included; one −1 is inferred
 *   transpose(x, axes)        output axis i = input axis axes[i] (null: reversed)
 *   concatenate(xs, axis)     joined along axis; stack(xs, axis): a new axis, then joined
 *   swapaxes(x, a1, a2), moveaxis(x, source, destination)   transposes by another name
 *   flip(x, axis)             reversed along the axes (null: every axis)
 *   repeat(x, repeats, axis)  each element repeated along axis (null: of the flattened tensor); tile(x, repeats)
 *   zeros_like / ones_like    same shape, 0 / 1;  identity (stop_gradient): x
 */
import type { Tensor } from '../types';
import { asFloat64, concatenateAlong, elementCount, normaliseAxis, transpose } from '../kinds/weightless/tensorLayout';
import type { OpImpl, Params, Shape } from './op';

function intList(v: unknown, what: string): number[] {
  const list = Array.isArray(v) ? v : [v];
  if (!list.every((a) => Number.isInteger(a))) throw new Error(`${what}: ${JSON.stringify(v)} is not an integer or a list of integers`);
  return list as number[];
}

function expandedShape<T extends number | null>(s: T[], axis: unknown): T[] {
  const axes = intList(axis, 'expand_dims');
  const rank = s.length + axes.length;
  const at = new Set(axes.map((a) => normaliseAxis(a, rank, 'expand_dims')));
  const out: T[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(at.has(i) ? (1 as T) : s[k++]);
  return out;
}

function squeezedShape<T extends number | null>(s: T[], axis: unknown): T[] {
  if (axis === null || axis === undefined) return s.filter((d) => d !== 1);
  const at = new Set(intList(axis, 'squeeze').map((a) => normaliseAxis(a, s.length, 'squeeze')));
  for (const a of at) if (s[a] !== 1 && s[a] !== null) throw new Error(`squeeze: axis ${a} has size ${s[a]}, not 1`);
  return s.filter((_, i) => !at.has(i));
}

function reshapedShape(s: Shape, newshape: unknown): Shape {
  const want = intList(newshape, 'reshape');
  const free = want.filter((d) => d === -1).length;
  if (free > 1 || want.some((d) => d < -1)) throw new Error(`reshape: new shape ${JSON.stringify(newshape)} is not valid`);
  const known = s.every((d) => d !== null);
  const total = known ? elementCount(s as number[]) : null;
  const fixed = want.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  if (free === 0) {
    if (total !== null && total !== fixed) throw new Error(`reshape: cannot reshape ${s.length}-d input of ${total} values to (${want.join(', ')})`);
    return want;
  }
  if (total === null) return want.map((d) => (d === -1 ? null : d));
  if (fixed === 0 || total % fixed !== 0) throw new Error(`reshape: cannot reshape ${total} values to (${want.join(', ')})`);
  return want.map((d) => (d === -1 ? total / fixed : d));
}

function permutation(rank: number, axes: unknown): number[] {
  if (axes === null || axes === undefined) return Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const perm = intList(axes, 'transpose').map((a) => normaliseAxis(a, rank, 'transpose'));
  if (perm.length !== rank || new Set(perm).size !== rank) throw new Error(`transpose: axes ${JSON.stringify(axes)} is not a permutation of ${rank} axes`);
  return perm;
}

function concatShape(shapes: Shape[], axis: number): Shape {
  const rank = shapes[0].length;
  const a = normaliseAxis(axis, rank, 'concatenate');
  const out = [...shapes[0]];
  for (const s of shapes.slice(1)) {
    if (s.length !== rank) throw new Error('concatenate: inputs of different ranks');
    for (let i = 0; i < rank; i++) {
      if (i === a) out[i] = out[i] === null || s[i] === null ? null : (out[i] as number) + (s[i] as number);
      else if (out[i] === null) out[i] = s[i];
      else if (s[i] !== null && s[i] !== out[i]) throw new Error(`concatenate: shapes differ on axis ${i} (${out[i]} vs ${s[i]})`);
    }
  }
  return out;
}

function concatRun(xs: Tensor[], axis: number): Tensor {
  const shape = concatShape(xs.map((t) => t.shape), axis) as number[];
  return concatenateAlong(xs, normaliseAxis(axis, shape.length, 'concatenate'));
}

function axisOf(p: Params, fallback: number): number {
  const a = p.axis ?? fallback;
  if (!Number.isInteger(a)) throw new Error(`axis ${JSON.stringify(p.axis)} is not an integer`);
  return a as number;
}

function swapPerm(rank: number, p: Params): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  const a = normaliseAxis(p.axis1 as number, rank, 'swapaxes');
  const b = normaliseAxis(p.axis2 as number, rank, 'swapaxes');
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return perm;
}

function movePerm(rank: number, p: Params): number[] {
  const src = intList(p.source, 'moveaxis').map((a) => normaliseAxis(a, rank, 'moveaxis'));
  const dst = intList(p.destination, 'moveaxis').map((a) => normaliseAxis(a, rank, 'moveaxis'));
  if (src.length !== dst.length) throw new Error('moveaxis: source and destination differ in length');
  const rest = Array.from({ length: rank }, (_, i) => i).filter((i) => !src.includes(i));
  const perm = new Array<number>(rank).fill(-1);
  dst.forEach((d, k) => (perm[d] = src[k]));
  for (let i = 0; i < rank; i++) if (perm[i] < 0) perm[i] = rest.shift()!;
  return perm;
}

/** An index remap: output element i reads input element from(i). */
function remap(x: Tensor, shape: number[], from: (idx: number[]) => number[]): Tensor {
  const inStr = x.shape.map((_, i) => elementCount(x.shape.slice(i + 1)));
  const n = elementCount(shape);
  const out = new Float64Array(n);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    const src = from(idx);
    let o = 0;
    for (let a = 0; a < src.length; a++) o += src[a] * inStr[a];
    out[i] = x.data[o];
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++idx[a] < shape[a]) break;
      idx[a] = 0;
    }
  }
  return { shape, data: out };
}

function repeatsOf(v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 0) throw new Error(`repeat: repeats ${JSON.stringify(v)} is not one non-negative integer`);
  return v as number;
}

function repeatedShape(s: Shape, p: Params): Shape {
  const r = repeatsOf(p.repeats);
  if (p.axis === null || p.axis === undefined) return [s.every((d) => d !== null) ? elementCount(s as number[]) * r : null];
  const a = normaliseAxis(p.axis as number, s.length, 'repeat');
  return s.map((d, i) => (i === a && d !== null ? d * r : d));
}

function tiledShape(s: Shape, repeats: unknown): Shape {
  const reps = intList(repeats, 'tile');
  const rank = Math.max(s.length, reps.length);
  const ss = [...new Array<number>(rank - s.length).fill(1), ...s];
  const rr = [...new Array<number>(rank - reps.length).fill(1), ...reps];
  return ss.map((d, i) => (d === null ? null : d * rr[i]));
}

const same = (v: number): OpImpl => ({
  shape: (shapes) => [...shapes[0]],
  run: (xs) => ({ shape: [...xs[0].shape], data: new Float64Array(xs[0].data.length).fill(v) }),
});

export const layoutOps: Record<string, OpImpl> = {
  identity: { shape: (shapes) => [...shapes[0]], run: (xs) => ({ shape: [...xs[0].shape], data: asFloat64(xs[0]) }) },
  zeros_like: same(0),
  ones_like: same(1),
  swapaxes: {
    shape: (shapes, p) => swapPerm(shapes[0].length, p).map((i) => shapes[0][i]),
    run: (xs, p) => transpose(xs[0], swapPerm(xs[0].shape.length, p)),
  },
  moveaxis: {
    shape: (shapes, p) => movePerm(shapes[0].length, p).map((i) => shapes[0][i]),
    run: (xs, p) => transpose(xs[0], movePerm(xs[0].shape.length, p)),
  },
  flip: {
    shape: (shapes) => [...shapes[0]],
    run: (xs, p) => {
      const x = xs[0];
      const axes = p.axis === null || p.axis === undefined ? x.shape.map((_, i) => i) : intList(p.axis, 'flip').map((a) => normaliseAxis(a, x.shape.length, 'flip'));
      return remap(x, x.shape, (idx) => idx.map((v, a) => (axes.includes(a) ? x.shape[a] - 1 - v : v)));
    },
  },
  repeat: {
    shape: (shapes, p) => repeatedShape(shapes[0], p),
    run: (xs, p) => {
      const r = repeatsOf(p.repeats);
      const flat = p.axis === null || p.axis === undefined;
      const x = flat ? { shape: [xs[0].data.length], data: xs[0].data } : xs[0];
      const a = flat ? 0 : normaliseAxis(p.axis as number, x.shape.length, 'repeat');
      const shape = x.shape.map((d, i) => (i === a ? d * r : d));
      return remap(x, shape, (idx) => idx.map((v, i) => (i === a ? Math.floor(v / r) : v)));
    },
  },
  tile: {
    shape: (shapes, p) => tiledShape(shapes[0], p.repeats),
    run: (xs, p) => {
      const shape = tiledShape(xs[0].shape, p.repeats) as number[];
      const pad = shape.length - xs[0].shape.length;
      const x = { shape: [...new Array<number>(pad).fill(1), ...xs[0].shape], data: xs[0].data };
      return remap(x, shape, (idx) => idx.map((v, i) => v % x.shape[i]));
    },
  },
  expand_dims: {
    shape: (shapes, p) => expandedShape(shapes[0], p.axis),
    run: (xs, p) => ({ shape: expandedShape(xs[0].shape, p.axis), data: asFloat64(xs[0]) }),
  },
  squeeze: {
    shape: (shapes, p) => squeezedShape(shapes[0], p.axis),
    run: (xs, p) => ({ shape: squeezedShape(xs[0].shape, p.axis), data: asFloat64(xs[0]) }),
  },
  reshape: {
    shape: (shapes, p) => reshapedShape(shapes[0], p.newshape),
    run: (xs, p) => ({ shape: reshapedShape(xs[0].shape, p.newshape) as number[], data: asFloat64(xs[0]) }),
  },
  transpose: {
    shape: (shapes, p) => permutation(shapes[0].length, p.axes).map((i) => shapes[0][i]),
    run: (xs, p) => transpose(xs[0], permutation(xs[0].shape.length, p.axes)),
  },
  concatenate: {
    shape: (shapes, p) => concatShape(shapes, axisOf(p, 0)),
    run: (xs, p) => concatRun(xs, axisOf(p, 0)),
  },
  stack: {
    shape: (shapes, p) => {
      const rank = shapes[0].length + 1;
      const a = normaliseAxis(axisOf(p, 0), rank, 'stack');
      return concatShape(shapes.map((s) => expandedShape(s, a)), a);
    },
    run: (xs, p) => {
      const rank = xs[0].shape.length + 1;
      const a = normaliseAxis(axisOf(p, 0), rank, 'stack');
      return concatRun(xs.map((t) => ({ shape: expandedShape(t.shape, a), data: t.data })), a);
    },
  },
};
