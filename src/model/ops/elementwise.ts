/**
 * Elementwise ops, numpy broadcasting (shapes aligned on the right, size-1 axes stretched):
 *   arithmetic  add x1+x2, subtract x1−x2, multiply x1·x2, divide x1/x2 (true division), power x1^x2,
 *               floor_divide ⌊x1/x2⌋, mod x1 − x2·⌊x1/x2⌋ (Python's sign rule), maximum, minimum
 *   comparison  equal, not_equal, greater, greater_equal, less, less_equal  -> booleans as 0/1
 *   logical     logical_and, logical_or, logical_not (non-zero = true)
 *   unary       exp, log, sqrt, abs, square, negative, sign, floor, ceil, reciprocal 1/x, log1p, expm1, sin, cos,
 *               rsqrt 1/√x, sigmoid 1/(1+e^−x), tanh, relu max(x, 0)
 *   where(c, x1, x2) = c ? x1 : x2;  clip(x, lo, hi) = min(max(x, lo), hi)
 *   activation(name, settings): the Keras 3 activation of that name (model/activations.ts: gelu, silu, elu,
 *               leaky_relu, selu, softplus, softsign, hard_sigmoid x/6 + 1/2, hard_silu, log_sigmoid, relu6, ...)
 *   cast / convert_to_tensor(dtype): bool -> x≠0; int* / uint* -> truncation toward zero (tf.cast, numpy astype);
 *               float* -> unchanged (we compute in float64; Keras in float32, within the 1e-5 contract).
 */
import type { Tensor } from '../types';
import { activationByName, erf, sigmoid } from '../activations';
import { broadcastShape, broadcastTo, elementCount } from '../kinds/weightless/tensorLayout';
import { broadcastShapes, type OpImpl, type Params, type Shape } from './op';

type Fn1 = (x: number) => number;
type FnN = (...xs: number[]) => number;

const bool = (b: boolean) => (b ? 1 : 0);

const UNARY: Record<string, Fn1> = {
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  square: (x) => x * x,
  negative: (x) => -x,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  floor: Math.floor,
  ceil: Math.ceil,
  reciprocal: (x) => 1 / x,
  log1p: Math.log1p,
  expm1: Math.expm1,
  sin: Math.sin,
  cos: Math.cos,
  rsqrt: (x) => 1 / Math.sqrt(x),
  sigmoid,
  tanh: Math.tanh,
  relu: (x) => (x > 0 ? x : 0),
  erf,
  logical_not: (x) => bool(x === 0),
};

const BINARY: Record<string, FnN> = {
  add: (a, b) => a + b,
  subtract: (a, b) => a - b,
  multiply: (a, b) => a * b,
  divide: (a, b) => a / b,
  power: (a, b) => Math.pow(a, b),
  floor_divide: (a, b) => Math.floor(a / b),
  mod: (a, b) => a - b * Math.floor(a / b),
  maximum: (a, b) => Math.max(a, b),
  minimum: (a, b) => Math.min(a, b),
  equal: (a, b) => bool(a === b),
  not_equal: (a, b) => bool(a !== b),
  greater: (a, b) => bool(a > b),
  greater_equal: (a, b) => bool(a >= b),
  less: (a, b) => bool(a < b),
  less_equal: (a, b) => bool(a <= b),
  logical_and: (a, b) => bool(a !== 0 && b !== 0),
  logical_or: (a, b) => bool(a !== 0 || b !== 0),
};

const TERNARY: Record<string, FnN> = {
  where: (c, a, b) => (c !== 0 ? a : b),
  clip: (x, lo, hi) => Math.min(Math.max(x, lo), hi),
};

/** Operands broadcast to one shape (ranks aligned on the right), then f applied at every index. */
function broadcastMap(xs: Tensor[], f: FnN, what: string): Tensor {
  const rank = Math.max(...xs.map((t) => t.shape.length));
  const padded = xs.map((t) => ({ shape: [...new Array<number>(rank - t.shape.length).fill(1), ...t.shape], data: t.data }));
  const shape = broadcastShape(padded.map((t) => t.shape), what);
  const cols = padded.map((t) => broadcastTo(t, shape));
  const n = elementCount(shape);
  const out = new Float64Array(n);
  const args = new Array<number>(cols.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < cols.length; k++) args[k] = cols[k][i];
    out[i] = f(...args);
  }
  return { shape, data: out };
}

function castFn(dtype: unknown): Fn1 | null {
  if (dtype === null || dtype === undefined) return null;
  const d = String(dtype);
  if (d === 'bool') return (x) => bool(x !== 0);
  if (/^u?int\d*$/.test(d)) return Math.trunc;
  if (/^(b?float\d*|bfloat16)$/.test(d)) return null;
  throw new Error(`cast to dtype '${d}' is not supported`);
}

function elementwise(name: string, arity: number, f: FnN): OpImpl {
  return {
    shape(shapes: Shape[]) {
      if (shapes.length !== arity) throw new Error(`${name} takes ${arity} operand(s), got ${shapes.length}`);
      return broadcastShapes(shapes, name);
    },
    run(xs: Tensor[]) {
      return broadcastMap(xs, f, name);
    },
  };
}

const castImpl: OpImpl = {
  shape: (shapes) => [...shapes[0]],
  run(xs, p: Params) {
    const f = castFn(p.dtype);
    const x = xs[0];
    const out = new Float64Array(x.data.length);
    for (let i = 0; i < out.length; i++) out[i] = f ? f(x.data[i]) : x.data[i];
    return { shape: [...x.shape], data: out };
  },
};

/** An activation function as a unary op: params.name and its settings (approximate, alpha, negative_slope, ...). */
const activationImpl: OpImpl = {
  shape: (shapes) => [...shapes[0]],
  run(xs, p: Params) {
    const { name, ...settings } = p;
    const f = activationByName(String(name), '3', settings).elementwise;
    if (!f) throw new Error(`activation '${String(name)}' is not elementwise`);
    return broadcastMap(xs, f as FnN, String(name));
  },
};

export const elementwiseOps: Record<string, OpImpl> = {
  ...Object.fromEntries(Object.entries(UNARY).map(([k, f]) => [k, elementwise(k, 1, f as FnN)])),
  ...Object.fromEntries(Object.entries(BINARY).map(([k, f]) => [k, elementwise(k, 2, f)])),
  ...Object.fromEntries(Object.entries(TERNARY).map(([k, f]) => [k, elementwise(k, 3, f)])),
  cast: castImpl,
  activation: activationImpl,
};

/** Checked when a call is bound, so an unsupported dtype is refused before anything runs. */
export function checkCastDtype(dtype: unknown): void {
  castFn(dtype);
}
