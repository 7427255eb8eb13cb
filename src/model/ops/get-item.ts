/**
 * get_item: x[key] with Python / numpy basic indexing (Keras 3 `GetItem`, tf.keras `__operators__.getitem`):
 *   an integer picks one position and drops the axis (negative counts from the end; out of range is an error);
 *   a slice start:stop:step keeps the axis — Python's rules: step 1 by default, negative start/stop count from
 *   the end, both clamped to the axis, length ⌈(stop − start) / step⌉ (0 when negative), step < 0 walks backwards
 *   from the end; `...` stands for as many full slices as the key leaves out; None / newaxis inserts a size-1 axis;
 *   axes the key does not reach are kept whole.
 */
import type { Tensor } from '../types';
import { stridesOf } from '../kinds/weightless/tensorLayout';
import type { OpImpl, Params, Shape } from './op';

export type KeyItem = { index: number } | { slice: [number | null, number | null, number | null] } | 'ellipsis' | 'newaxis';

/** Per output/input axis plan: which input positions an axis reads (null = the axis is dropped after picking). */
type Plan = ({ input: number; pick: number } | { input: number; start: number; step: number; length: number } | { newaxis: true })[];

/** Python's slice.indices(n) and the resulting length. */
export function sliceIndices(start: number | null, stop: number | null, step: number | null, n: number): { start: number; step: number; length: number } {
  const st = step ?? 1;
  if (st === 0) throw new Error('get_item: slice step cannot be zero');
  let lo: number;
  let hi: number;
  if (st > 0) {
    lo = start === null ? 0 : start < 0 ? Math.max(0, start + n) : Math.min(start, n);
    hi = stop === null ? n : stop < 0 ? Math.max(0, stop + n) : Math.min(stop, n);
  } else {
    lo = start === null ? n - 1 : start < 0 ? Math.max(-1, start + n) : Math.min(start, n - 1);
    hi = stop === null ? -1 : stop < 0 ? Math.max(-1, stop + n) : Math.min(stop, n - 1);
  }
  const length = Math.max(0, Math.ceil((hi - lo) / st));
  return { start: lo, step: st, length };
}

/** Expands `...` and the axes the key leaves out; returns one entry per input axis or new axis, in output order. */
function expandKey(key: KeyItem[], rank: number): KeyItem[] {
  const used = key.filter((k) => k !== 'ellipsis' && k !== 'newaxis').length;
  const ellipses = key.filter((k) => k === 'ellipsis').length;
  if (ellipses > 1) throw new Error('get_item: an index can only have a single ellipsis (...)');
  if (used > rank) throw new Error(`get_item: too many indices (${used}) for a tensor of rank ${rank}`);
  const full: KeyItem = { slice: [null, null, null] };
  const fill = Array.from({ length: rank - used }, () => full);
  const i = key.indexOf('ellipsis');
  return i >= 0 ? [...key.slice(0, i), ...fill, ...key.slice(i + 1)] : [...key, ...fill];
}

function plan(key: KeyItem[], shape: Shape): { plan: Plan; out: Shape } {
  const items = expandKey(key, shape.length);
  const p: Plan = [];
  const out: Shape = [];
  let axis = 0;
  for (const k of items) {
    if (k === 'newaxis') {
      p.push({ newaxis: true });
      out.push(1);
      continue;
    }
    if (k === 'ellipsis') continue;
    const n = shape[axis];
    if ('index' in k) {
      let i = k.index;
      if (n !== null) {
        if (i < -n || i >= n) throw new Error(`get_item: index ${k.index} is out of bounds for axis ${axis} with size ${n}`);
        if (i < 0) i += n;
      } else if (i < 0) {
        throw new Error(`get_item: negative index ${k.index} on axis ${axis} of unknown size`);
      }
      p.push({ input: axis, pick: i });
    } else {
      const [start, stop, step] = k.slice;
      if (n === null) {
        // unknown size: only the whole axis is known (the batch axis, usually)
        const whole = start === null && stop === null && (step === null || step === 1);
        if (!whole) throw new Error(`get_item: a partial slice on axis ${axis} of unknown size`);
        p.push({ input: axis, start: 0, step: 1, length: -1 });
        out.push(null);
      } else {
        const s = sliceIndices(start, stop, step, n);
        p.push({ input: axis, ...s });
        out.push(s.length);
      }
    }
    axis++;
  }
  return { plan: p, out };
}

export const getItemOps: Record<string, OpImpl> = {
  get_item: {
    shape(shapes: Shape[], p: Params) {
      return plan(p.key as KeyItem[], shapes[0]).out;
    },
    run(xs: Tensor[], p: Params) {
      const x = xs[0];
      const { plan: steps } = plan(p.key as KeyItem[], x.shape);
      const strides = stridesOf(x.shape);
      let base = 0;
      // the axes that stay (slices), with their input stride, start and length; picks fold into `base`
      const kept: { stride: number; length: number }[] = [];
      const outShape: number[] = [];
      for (const s of steps) {
        if ('newaxis' in s) {
          outShape.push(1);
          kept.push({ stride: 0, length: 1 });
        } else if ('pick' in s) {
          base += s.pick * strides[s.input];
        } else {
          const length = s.length < 0 ? x.shape[s.input] : s.length;
          base += s.start * strides[s.input];
          outShape.push(length);
          kept.push({ stride: s.step * strides[s.input], length });
        }
      }
      const n = outShape.reduce((a, b) => a * b, 1);
      const out = new Float64Array(n);
      const idx = new Array<number>(kept.length).fill(0);
      let src = base;
      for (let i = 0; i < n; i++) {
        out[i] = x.data[src];
        for (let a = kept.length - 1; a >= 0; a--) {
          idx[a]++;
          src += kept[a].stride;
          if (idx[a] < kept[a].length) break;
          src -= kept[a].stride * kept[a].length;
          idx[a] = 0;
        }
      }
      return { shape: outShape, data: out };
    },
  },
};
