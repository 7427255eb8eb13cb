/**
 * Reading a stored call's arguments. The normaliser (model/config.ts) keeps each call of an operation node as
 * `LayerConfig.callArgs[node] = {args, kwargs}`, the values as the file wrote them except that every tensor of the
 * graph became `{$tensor: k}` (k = its place in the call's inbound list). Constants keep the file's spelling:
 * numbers, booleans, nested lists, Keras 3's {class_name: '__tensor__' | '__numpy__', config: {value}},
 * '__slice__', '__ellipsis__'; tf.keras's {start, stop, step} slices and {class_name: '__ellipsis__'}.
 */
import type { Tensor } from '../types';
import { scalar, type Operand } from './op';
import type { KeyItem } from './get-item';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function tensorIndex(v: unknown): number | null {
  return isObj(v) && typeof v.$tensor === 'number' ? v.$tensor : null;
}

/** The stored dtype of a tensor argument (Keras 3 writes it), or null. */
export function tensorDtype(v: unknown): string | null {
  return isObj(v) && typeof v.dtype === 'string' ? v.dtype : null;
}

/** A nested list of numbers/booleans -> constant tensor; null when v is not one. */
function constantOf(v: unknown): Tensor | null {
  if (typeof v === 'number') return scalar(v);
  if (typeof v === 'boolean') return scalar(v ? 1 : 0);
  if (isObj(v) && (v.class_name === '__tensor__' || v.class_name === '__numpy__') && isObj(v.config)) return constantOf(v.config.value);
  if (!Array.isArray(v)) return null;
  const shape: number[] = [];
  let p: unknown = v;
  while (Array.isArray(p)) {
    shape.push(p.length);
    p = p[0];
  }
  const data: number[] = [];
  let ok = true;
  const walk = (x: unknown, depth: number) => {
    if (depth === shape.length) {
      if (typeof x === 'number') data.push(x);
      else if (typeof x === 'boolean') data.push(x ? 1 : 0);
      else ok = false;
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth]) {
      ok = false;
      return;
    }
    for (const y of x) walk(y, depth + 1);
  };
  walk(v, 0);
  return ok ? { shape, data: Float64Array.from(data) } : null;
}

/** One operand: a graph tensor or a constant; throws when the argument is neither. */
export function operandOf(v: unknown, what: string): Operand {
  const k = tensorIndex(v);
  if (k !== null) return { tensor: k };
  const c = constantOf(v);
  if (c) return { constant: c };
  throw new Error(`${what} is ${v === undefined ? 'missing' : `${JSON.stringify(v).slice(0, 60)}, not a tensor or a number`}`);
}

/** A list of operands (concatenate / stack). */
export function operandList(v: unknown, what: string): Operand[] {
  if (!Array.isArray(v) || v.length === 0) throw new Error(`${what} is not a list of tensors`);
  return v.map((x, i) => operandOf(x, `${what}[${i}]`));
}

/** Positional argument i, or keyword `name`. */
export function arg(call: { args: unknown[]; kwargs: Obj }, i: number, name: string): unknown {
  return i < call.args.length ? call.args[i] : call.kwargs[name];
}

/** A plain setting (axis, keepdims, ...): tensors are refused (Keras Lens needs it known from the file). */
export function setting(v: unknown, what: string): unknown {
  if (tensorIndex(v) !== null || (isObj(v) && (v.class_name === '__tensor__' || v.class_name === '__numpy__'))) {
    const c = tensorIndex(v) === null ? constantOf(v) : null;
    if (c && c.shape.length === 0) return c.data[0];
    if (c) return Array.from(c.data);
    throw new Error(`${what} is a tensor computed by the model; Keras Lens needs it written in the file`);
  }
  return v;
}

function sliceBound(v: unknown, what: string): number | null {
  if (v === null || v === undefined) return null;
  const s = setting(v, what);
  if (typeof s !== 'number' || !Number.isInteger(s)) throw new Error(`${what} ${JSON.stringify(v)} is not an integer`);
  return s;
}

/** One item of an index key, in either Keras 3's or tf.keras's spelling. */
function keyItem(v: unknown): KeyItem {
  if (v === null) return 'newaxis';
  if (typeof v === 'number' && Number.isInteger(v)) return { index: v };
  if (isObj(v)) {
    if (v.class_name === '__ellipsis__') return 'ellipsis';
    const s = v.class_name === '__slice__' && isObj(v.config) ? v.config : 'start' in v || 'stop' in v || 'step' in v ? v : null;
    if (s) return { slice: [sliceBound(s.start, 'slice start'), sliceBound(s.stop, 'slice stop'), sliceBound(s.step, 'slice step')] };
    if (tensorIndex(v) !== null) throw new Error('indexing with a tensor (gather) is not supported');
  }
  throw new Error(`index ${JSON.stringify(v).slice(0, 60)} is not an integer, slice, ... or None`);
}

/** x[key]: a tuple key is a list of items; anything else is one item. */
export function indexKey(v: unknown): KeyItem[] {
  if (Array.isArray(v)) return v.map(keyItem);
  if (isObj(v) && v.class_name === '__tuple__' && isObj(v.config) && Array.isArray(v.config.value)) return v.config.value.map(keyItem);
  return [keyItem(v)];
}
