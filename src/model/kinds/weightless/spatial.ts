/**
 * Spatial-axis arithmetic shared by the padding, cropping, upsampling and 2D pooling kinds:
 *   - which axes are spatial (channels_last: 1..rank-2; channels_first: 2..rank-1);
 *   - Keras's before/after amounts per spatial axis, read from every spelling Keras writes
 *     (int; [a, b] for one axis; [h, w] symmetric or [[top, bottom], [left, right]] for two; Keras 1's
 *     4-tuple (top, bottom, left, right));
 *   - out[i] = x[i − before] on each spatial axis, zero outside x: ZeroPadding with before/after ≥ 0, Cropping with
 *     both negative (Keras: x[:, crop_start : len − crop_end, ...]).
 */
import type { LayerConfig, LayerKind, Tensor } from '../../types';
import { channelsFirst } from './layerSettings';
import { elementCount, stridesOf, type Shape } from './tensorLayout';
import { noWeights } from './unusedArrays';

/** The indices of the spatial axes of a (batch, ..., channels) or (batch, channels, ...) tensor. */
export function spatialAxes(rank: number, first: boolean): number[] {
  return Array.from({ length: rank - 2 }, (_, i) => (first ? i + 2 : i + 1));
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/**
 * [before, after] for each of `dims` spatial axes from a Keras padding/cropping setting.
 *   dims = 1: n → (n, n); [a, b] → (a, b)
 *   dims = 2: n → ((n, n), (n, n)); [h, w] → ((h, h), (w, w)); [[t, b], [l, r]]; [t, b, l, r] (Keras 1)
 *   dims = 3: n; [a, b, c] symmetric; [[a0, a1], [b0, b1], [c0, c1]]
 */
export function beforeAfterSetting(layer: LayerConfig, names: string[], dims: number, fallback: number): [number, number][] {
  let v: unknown = undefined;
  for (const n of names) if (layer.config[n] !== undefined && layer.config[n] !== null) v = v ?? layer.config[n];
  const bad = () => new Error(`layer '${layer.name}': setting ${names[0]} is ${JSON.stringify(v)}, not ${dims === 1 ? 'an int or a pair' : 'an int, a pair or a pair of pairs'} of non-negative integers`);
  if (v === undefined) return Array.from({ length: dims }, () => [fallback, fallback]);
  if (isInt(v)) return Array.from({ length: dims }, () => [v, v]);
  if (!Array.isArray(v)) throw bad();
  if (dims === 1) {
    if (v.length === 1 && isInt(v[0])) return [[v[0], v[0]]];
    if (v.length === 2 && isInt(v[0]) && isInt(v[1])) return [[v[0], v[1]]];
    throw bad();
  }
  if (v.length === dims && v.every(isInt)) return v.map((n: number) => [n, n]);
  if (v.length === dims && v.every((p) => Array.isArray(p) && p.length === 2 && isInt(p[0]) && isInt(p[1]))) {
    return v.map((p: number[]) => [p[0], p[1]]);
  }
  if (dims === 2 && v.length === 4 && v.every(isInt)) return [[v[0], v[1]], [v[2], v[3]]];
  throw bad();
}

/** The input shape with each spatial axis grown by before + after (negative = cropped). */
export function paddedShape(shape: Shape, layer: LayerConfig, amounts: [number, number][]): Shape {
  const out = [...shape];
  const axes = spatialAxes(shape.length, channelsFirst(layer));
  axes.forEach((a, i) => {
    const d = out[a];
    if (typeof d === 'number') {
      const n = d + amounts[i][0] + amounts[i][1];
      if (n <= 0) throw new Error(`layer '${layer.name}': cropping (${-amounts[i][0]}, ${-amounts[i][1]}) leaves nothing of the ${d} entries of axis ${a}`);
      out[a] = n;
    }
  });
  return out;
}

/** out[..., i, ...] = x[..., i − before, ...] on each listed axis, 0 where that falls outside x. */
export function padOrCrop(x: Tensor, axes: number[], amounts: [number, number][], what: string): Tensor {
  const before = new Array<number>(x.shape.length).fill(0);
  const shape = [...x.shape];
  axes.forEach((a, i) => {
    before[a] = amounts[i][0];
    shape[a] = x.shape[a] + amounts[i][0] + amounts[i][1];
    if (shape[a] <= 0) throw new Error(`${what}: cropping (${-amounts[i][0]}, ${-amounts[i][1]}) leaves nothing of the ${x.shape[a]} entries of axis ${a}`);
  });
  const n = elementCount(shape);
  const out = new Float64Array(n);
  const inStrides = stridesOf(x.shape);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < n; o++) {
    let src = 0;
    let inside = true;
    for (let a = 0; a < rank; a++) {
      const i = idx[a] - before[a];
      if (i < 0 || i >= x.shape[a]) {
        inside = false;
        break;
      }
      src += i * inStrides[a];
    }
    if (inside) out[o] = x.data[src];
    for (let a = rank - 1; a >= 0; a--) {
      if (++idx[a] < shape[a]) break;
      idx[a] = 0;
    }
  }
  return { shape, data: out };
}

/**
 * A ZeroPadding (sign +1) or Cropping (sign −1) kind over `dims` spatial axes, reading before/after amounts from
 * `setting` (default `fallback` on each side). `fixedChannelsLast`: Keras's Cropping1D has no data_format.
 * Keras's padding and cropping layers do not support masking: no output mask.
 */
export function padCropKind(className: string, setting: string, dims: 1 | 2 | 3, fallback: number, sign: 1 | -1, fixedChannelsLast = false): LayerKind {
  const amounts = (layer: LayerConfig) => beforeAfterSetting(layer, [setting], dims, fallback).map(([a, b]) => [sign * a, sign * b] as [number, number]);
  const first = (layer: LayerConfig) => !fixedChannelsLast && channelsFirst(layer);
  const layout = (layer: LayerConfig): LayerConfig => (fixedChannelsLast ? { ...layer, config: { ...layer.config, data_format: 'channels_last' } } : layer);
  return {
    classNames: [className],
    ...noWeights,
    outputShapes(layer, ctx) {
      return [paddedShape(ctx.inputShapes[0], layout(layer), amounts(layer))];
    },
    forward({ layer, inputs }) {
      const x = inputs[0];
      if (x.shape.length !== dims + 2) {
        throw new Error(`layer '${layer.name}' expects a ${dims + 2}D (batch, ${['steps', 'rows, cols', 'dim1, dim2, dim3'][dims - 1]}, channels) input`);
      }
      return { outputs: [padOrCrop(x, spatialAxes(dims + 2, first(layer)), amounts(layer), `layer '${layer.name}'`)], masks: [null] };
    },
  };
}
