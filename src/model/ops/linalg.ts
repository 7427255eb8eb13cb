/**
 * matmul(x1, x2) — numpy semantics: (..., n, k) @ (..., k, m) -> (..., n, m), the leading (batch) axes broadcast;
 *   a 1-D x1 is a row (1, k) and a 1-D x2 a column (k, 1), that axis dropped afterwards. tf.linalg.matmul's
 *   transpose_a / transpose_b swap the last two axes of that operand first.
 * einsum(subscripts, *operands) — out[free letters] = Σ over the other letters of Π operands[their letters];
 *   implicit output (no '->') = the letters seen once, in order of first appearance (Keras on TensorFlow; numpy
 *   sorts them); '...' stands for the same leading axes in every operand (broadcast) and leads the output.
 */
import type { Tensor } from '../types';
import { broadcastShape, elementCount, stridesOf, transpose } from '../kinds/weightless/tensorLayout';
import { broadcastShapes, type OpImpl, type Params, type Shape } from './op';

function swapLast(t: Tensor): Tensor {
  const r = t.shape.length;
  const perm = Array.from({ length: r }, (_, i) => i);
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return transpose(t, perm);
}

function swapLastShape(s: Shape): Shape {
  return [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]];
}

function matmulShape(a0: Shape, b0: Shape, p: Params): Shape {
  const a = a0.length === 1 ? [1, ...a0] : p.transpose_a === true ? swapLastShape(a0) : a0;
  const b = b0.length === 1 ? [...b0, 1] : p.transpose_b === true ? swapLastShape(b0) : b0;
  if (a.length < 2 || b.length < 2) throw new Error('matmul: scalars cannot be multiplied as matrices');
  const k1 = a[a.length - 1];
  const k2 = b[b.length - 2];
  if (k1 !== null && k2 !== null && k1 !== k2) throw new Error(`matmul: inner sizes differ (${k1} and ${k2})`);
  const batch = broadcastShapes([a.slice(0, -2), b.slice(0, -2)], 'matmul');
  const out: Shape = [...batch, a[a.length - 2], b[b.length - 1]];
  if (a0.length === 1) out.splice(out.length - 2, 1);
  if (b0.length === 1) out.splice(out.length - 1, 1);
  return out;
}

function matmulRun(x1: Tensor, x2: Tensor, p: Params): Tensor {
  let a = x1.shape.length === 1 ? { shape: [1, ...x1.shape], data: x1.data } : p.transpose_a === true ? swapLast(x1) : x1;
  let b = x2.shape.length === 1 ? { shape: [...x2.shape, 1], data: x2.data } : p.transpose_b === true ? swapLast(x2) : x2;
  const rank = Math.max(a.shape.length, b.shape.length);
  const pad = (t: Tensor) => ({ shape: [...new Array<number>(rank - t.shape.length).fill(1), ...t.shape], data: t.data });
  a = pad(a);
  b = pad(b);
  const [n, k] = a.shape.slice(-2);
  const [k2, m] = b.shape.slice(-2);
  if (k !== k2) throw new Error(`matmul: inner sizes differ (${k} and ${k2})`);
  const batch = broadcastShape([a.shape.slice(0, -2), b.shape.slice(0, -2)], 'matmul');
  const count = elementCount(batch);
  const out = new Float64Array(count * n * m);
  const aStr = stridesOf(a.shape.slice(0, -2)).map((s, i) => (a.shape[i] === 1 ? 0 : s * n * k));
  const bStr = stridesOf(b.shape.slice(0, -2)).map((s, i) => (b.shape[i] === 1 ? 0 : s * k * m));
  const bIdx = stridesOf(batch);
  for (let q = 0; q < count; q++) {
    let ao = 0;
    let bo = 0;
    let rest = q;
    for (let i = 0; i < batch.length; i++) {
      const c = Math.floor(rest / bIdx[i]);
      rest -= c * bIdx[i];
      ao += c * aStr[i];
      bo += c * bStr[i];
    }
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < m; c++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += a.data[ao + r * k + j] * b.data[bo + j * m + c];
        out[q * n * m + r * m + c] = s;
      }
    }
  }
  const shape = [...batch, n, m];
  if (x1.shape.length === 1) shape.splice(shape.length - 2, 1);
  if (x2.shape.length === 1) shape.splice(shape.length - 1, 1);
  return { shape, data: out };
}

// ---------------------------------------------------------------------------------------------
// einsum
// ---------------------------------------------------------------------------------------------

/** About a few seconds of the loop below. */
const MAX_EINSUM_STEPS = 1e9;

interface Equation {
  inputs: string[];
  output: string;
}

/** Parses the subscripts for operands of the given ranks; '...' becomes private upper-case letters. */
function parseEquation(subscripts: unknown, ranks: number[]): Equation {
  if (typeof subscripts !== 'string') throw new Error('einsum: subscripts are not a string');
  const spec = subscripts.replace(/\s+/g, '');
  const [lhs, rhs] = spec.includes('->') ? spec.split('->') : [spec, null];
  const terms = lhs.split(',');
  if (terms.length !== ranks.length) throw new Error(`einsum: '${spec}' names ${terms.length} operands, ${ranks.length} given`);
  const dotted = Math.max(0, ...terms.map((t, i) => (t.includes('...') ? ranks[i] - t.replace('...', '').length : 0)));
  const ell = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.slice(0, dotted);
  const inputs = terms.map((t, i) => {
    if (!t.includes('...')) return t;
    const n = ranks[i] - t.replace('...', '').length;
    return t.replace('...', ell.slice(dotted - n));
  });
  for (const [i, t] of inputs.entries()) {
    if (!/^[a-zA-Z]*$/.test(t) || t.length !== ranks[i]) throw new Error(`einsum: term '${terms[i]}' does not fit an operand of rank ${ranks[i]}`);
  }
  let output: string;
  if (rhs !== null) output = rhs.replace('...', ell);
  else {
    const counts = new Map<string, number>();
    for (const ch of inputs.join('')) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    // Keras's TensorFlow backend renames the letters a, b, c, ... in order of first appearance before tf.einsum
    // sorts the implicit output (keras/src/backend/tensorflow/numpy.py _normalize_einsum_subscripts), so the free
    // letters come out in order of first appearance: 'btf,bsf' gives (t, s) where numpy gives (s, t). Measured.
    output = ell + [...counts.keys()].filter((c) => counts.get(c) === 1 && !ell.includes(c)).join('');
  }
  return { inputs, output };
}

function letterSizes(eq: Equation, shapes: Shape[]): Map<string, number | null> {
  const sizes = new Map<string, number | null>();
  eq.inputs.forEach((t, i) => {
    [...t].forEach((ch, a) => {
      const d = shapes[i][a];
      const prev = sizes.get(ch);
      if (prev === undefined || prev === 1 || prev === null) sizes.set(ch, prev === null && d === 1 ? null : d);
      else if (d !== null && d !== 1 && d !== prev) throw new Error(`einsum: letter '${ch}' has sizes ${prev} and ${d}`);
    });
  });
  return sizes;
}

function einsumShape(shapes: Shape[], p: Params): Shape {
  const eq = parseEquation(p.subscripts, shapes.map((s) => s.length));
  const sizes = letterSizes(eq, shapes);
  return [...eq.output].map((ch) => {
    if (!sizes.has(ch)) throw new Error(`einsum: output letter '${ch}' is in no operand`);
    return sizes.get(ch)!;
  });
}

function einsumRun(xs: Tensor[], p: Params): Tensor {
  const eq = parseEquation(p.subscripts, xs.map((t) => t.shape.length));
  const sizes = letterSizes(eq, xs.map((t) => t.shape)) as Map<string, number>;
  const letters = [...new Set([...eq.output, ...eq.inputs.join('')])];
  const dims = letters.map((ch) => sizes.get(ch)!);
  const outShape = [...eq.output].map((ch) => sizes.get(ch)!);
  const outStr = stridesOf(outShape);
  // per operand: stride of each letter (0 where a size-1 axis broadcasts or the letter is absent)
  const strides = xs.map((t, i) => {
    const st = stridesOf(t.shape);
    return letters.map((ch) => {
      let s = 0;
      [...eq.inputs[i]].forEach((c, a) => {
        if (c === ch && t.shape[a] !== 1) s += st[a];
      });
      return s;
    });
  });
  const outOf = letters.map((ch) => {
    const a = eq.output.indexOf(ch);
    return a >= 0 ? outStr[a] : 0;
  });
  const out = new Float64Array(elementCount(outShape));
  const total = elementCount(dims);
  // one multiply-add per combination of letters: refuse what would run for minutes rather than hang
  if (total * xs.length > MAX_EINSUM_STEPS) {
    throw new Error(`einsum '${String(p.subscripts)}' on these shapes takes ${total.toExponential(1)} steps, more than Keras Lens runs (${MAX_EINSUM_STEPS.toExponential(0)})`);
  }
  const idx = new Array<number>(letters.length).fill(0);
  const off = new Array<number>(xs.length).fill(0);
  let o = 0;
  for (let it = 0; it < total; it++) {
    let prod = 1;
    for (let i = 0; i < xs.length; i++) prod *= xs[i].data[off[i]];
    out[o] += prod;
    for (let a = letters.length - 1; a >= 0; a--) {
      idx[a]++;
      o += outOf[a];
      for (let i = 0; i < xs.length; i++) off[i] += strides[i][a];
      if (idx[a] < dims[a]) break;
      o -= outOf[a] * dims[a];
      for (let i = 0; i < xs.length; i++) off[i] -= strides[i][a] * dims[a];
      idx[a] = 0;
    }
  }
  return { shape: outShape, data: out };
}

export const linalgOps: Record<string, OpImpl> = {
  matmul: {
    shape: (shapes, p) => matmulShape(shapes[0], shapes[1], p),
    run: (xs, p) => matmulRun(xs[0], xs[1], p),
  },
  einsum: { shape: einsumShape, run: einsumRun },
};
