/**
 * 2D and 3D pooling over the spatial axes, as TensorFlow computes it (per axis, like pooling1D.ts):
 *   valid: out = floor((L − pool) / stride) + 1, windows start at o·stride
 *   same : out = ceil(L / stride), padding max((out − 1)·stride + pool − L, 0) with the smaller half before;
 *          padded cells are ignored (max skips them; average divides by the number of real cells in the window).
 * pool_size (int or one per axis, default 2), strides (default = pool_size), padding, data_format (Keras 1:
 * border_mode, dim_ordering). Shared by Max/AveragePooling2D and 3D. Keras pooling layers do not support masking:
 * no output mask.
 */
import type { LayerConfig, LayerKind, Tensor } from '../../types';
import { channelsFirst, intListSetting, stringSetting } from './layerSettings';
import { transpose, type Shape } from './tensorLayout';
import { noWeights } from './unusedArrays';

interface PoolGeometry {
  pool: number[];
  stride: number[];
  same: boolean;
}

function perAxis(layer: LayerConfig, names: string[], dims: number, fallback: number[] | null): number[] | null {
  const v = intListSetting(layer, names);
  if (!v) return fallback;
  if (v.length === 1) return new Array(dims).fill(v[0]);
  if (v.length === dims) return v;
  throw new Error(`layer '${layer.name}': setting ${names[0]} is ${JSON.stringify(v)}, not one or ${dims} integers`);
}

function geometry(layer: LayerConfig, dims: number): PoolGeometry {
  const pool = perAxis(layer, ['pool_size'], dims, new Array(dims).fill(2))!;
  const stride = perAxis(layer, ['strides'], dims, null) ?? pool;
  const padding = stringSetting(layer, ['padding', 'border_mode'], 'valid').toLowerCase();
  if (padding !== 'valid' && padding !== 'same') throw new Error(`layer '${layer.name}': padding '${padding}' is not supported`);
  if (![...pool, ...stride].every((n) => n >= 1)) throw new Error(`layer '${layer.name}': pool_size and strides must be positive`);
  return { pool, stride, same: padding === 'same' };
}

function outLength(length: number, pool: number, stride: number, same: boolean): number {
  return same ? Math.ceil(length / stride) : Math.floor((length - pool) / stride) + 1;
}

function padBefore(length: number, out: number, pool: number, stride: number, same: boolean): number {
  return same ? Math.floor(Math.max((out - 1) * stride + pool - length, 0) / 2) : 0;
}

/** x is (B, S1, ..., Sd, C) channels_last. */
function pool(x: Tensor, g: PoolGeometry, average: boolean, what: string): Tensor {
  const B = x.shape[0];
  const C = x.shape[x.shape.length - 1];
  const size = x.shape.slice(1, -1);
  const d = size.length;
  const out = size.map((L, a) => outLength(L, g.pool[a], g.stride[a], g.same));
  if (out.some((o) => o < 1)) throw new Error(`${what}: pooling window (${g.pool.join(', ')}) is larger than the (${size.join(', ')}) input`);
  const pad = size.map((L, a) => padBefore(L, out[a], g.pool[a], g.stride[a], g.same));
  const inStride = new Array<number>(d);
  let acc = C;
  for (let a = d - 1; a >= 0; a--) {
    inStride[a] = acc;
    acc *= size[a];
  }
  const inPerSample = acc;
  const outCells = out.reduce((p, n) => p * n, 1);
  const y = new Float64Array(B * outCells * C);
  const o = new Array<number>(d).fill(0);
  const lo = new Array<number>(d);
  const hi = new Array<number>(d);
  const at = new Array<number>(d);
  const acc2 = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    o.fill(0);
    for (let cell = 0; cell < outCells; cell++) {
      let cells = 1;
      for (let a = 0; a < d; a++) {
        lo[a] = Math.max(o[a] * g.stride[a] - pad[a], 0);
        hi[a] = Math.min(o[a] * g.stride[a] - pad[a] + g.pool[a], size[a]);
        cells *= hi[a] - lo[a];
        at[a] = lo[a];
      }
      acc2.fill(average ? 0 : -Infinity);
      for (let k = 0; k < cells; k++) {
        let src = b * inPerSample;
        for (let a = 0; a < d; a++) src += at[a] * inStride[a];
        for (let c = 0; c < C; c++) {
          const v = x.data[src + c];
          acc2[c] = average ? acc2[c] + v : v > acc2[c] || Number.isNaN(v) ? v : acc2[c];
        }
        for (let a = d - 1; a >= 0; a--) {
          if (++at[a] < hi[a]) break;
          at[a] = lo[a];
        }
      }
      const dst = (b * outCells + cell) * C;
      for (let c = 0; c < C; c++) y[dst + c] = average ? acc2[c] / cells : acc2[c];
      for (let a = d - 1; a >= 0; a--) {
        if (++o[a] < out[a]) break;
        o[a] = 0;
      }
    }
  }
  return { shape: [B, ...out, C], data: y };
}

/** (B, C, S...) ↔ (B, S..., C) */
function lastToFirst(rank: number): number[] {
  return [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
}
function firstToLast(rank: number): number[] {
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
}

export function poolingKind(classNames: string[], dims: 2 | 3, average: boolean): LayerKind {
  return {
    classNames,
    ...noWeights,
    outputShapes(layer, ctx) {
      const s = ctx.inputShapes[0];
      const g = geometry(layer, dims);
      const first = channelsFirst(layer);
      const out: Shape = [...s];
      for (let a = 0; a < dims; a++) {
        const axis = first ? a + 2 : a + 1;
        out[axis] = s[axis] === null ? null : outLength(s[axis] as number, g.pool[a], g.stride[a], g.same);
      }
      return [out];
    },
    forward({ layer, inputs }) {
      let x = inputs[0];
      const rank = dims + 2;
      if (x.shape.length !== rank) throw new Error(`layer '${layer.name}' expects a ${rank}D (batch, ${dims === 2 ? 'rows, cols' : 'dim1, dim2, dim3'}, channels) input`);
      const first = channelsFirst(layer);
      if (first) x = transpose(x, firstToLast(rank));
      let y = pool(x, geometry(layer, dims), average, `layer '${layer.name}'`);
      if (first) y = transpose(y, lastToFirst(rank));
      return { outputs: [y], masks: [null] };
    },
  };
}
