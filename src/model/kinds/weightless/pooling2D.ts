/**
 * 2D pooling over rows and columns, as TensorFlow computes it (per axis, like pooling1D.ts):
 *   valid: out = floor((L − pool) / stride) + 1, windows start at o·stride
 *   same : out = ceil(L / stride), padding max((out − 1)·stride + pool − L, 0) with the smaller half before;
 *          padded cells are ignored (max skips them; average divides by the number of real cells in the window).
 * pool_size (int or pair, default (2, 2)), strides (default = pool_size), padding, data_format (Keras 1:
 * border_mode, dim_ordering). Shared by MaxPooling2D and AveragePooling2D. Keras pooling layers do not support
 * masking: no output mask.
 */
import type { LayerConfig, LayerKind, Tensor } from '../../types';
import { channelsFirst, intListSetting, stringSetting } from './layerSettings';
import { transpose, type Shape } from './tensorLayout';
import { noWeights } from './unusedArrays';

interface Pool2DGeometry {
  pool: [number, number];
  stride: [number, number];
  same: boolean;
}

function pair(layer: LayerConfig, names: string[], fallback: [number, number] | null): [number, number] | null {
  const v = intListSetting(layer, names);
  if (!v) return fallback;
  if (v.length === 1) return [v[0], v[0]];
  if (v.length === 2) return [v[0], v[1]];
  throw new Error(`layer '${layer.name}': setting ${names[0]} is ${JSON.stringify(v)}, not one or two integers`);
}

function geometry(layer: LayerConfig): Pool2DGeometry {
  const pool = pair(layer, ['pool_size'], [2, 2])!;
  const stride = pair(layer, ['strides'], null) ?? pool;
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

/** x is (B, H, W, C). */
function pool2d(x: Tensor, g: Pool2DGeometry, average: boolean, what: string): Tensor {
  const [B, H, W, C] = x.shape;
  const OH = outLength(H, g.pool[0], g.stride[0], g.same);
  const OW = outLength(W, g.pool[1], g.stride[1], g.same);
  if (OH < 1 || OW < 1) throw new Error(`${what}: pooling window (${g.pool.join(', ')}) is larger than the (${H}, ${W}) input`);
  const py = padBefore(H, OH, g.pool[0], g.stride[0], g.same);
  const px = padBefore(W, OW, g.pool[1], g.stride[1], g.same);
  const out = new Float64Array(B * OH * OW * C);
  for (let b = 0; b < B; b++)
    for (let oy = 0; oy < OH; oy++) {
      const y0 = Math.max(oy * g.stride[0] - py, 0);
      const y1 = Math.min(oy * g.stride[0] - py + g.pool[0], H);
      for (let ox = 0; ox < OW; ox++) {
        const x0 = Math.max(ox * g.stride[1] - px, 0);
        const x1 = Math.min(ox * g.stride[1] - px + g.pool[1], W);
        const cells = (y1 - y0) * (x1 - x0);
        for (let c = 0; c < C; c++) {
          let acc = average ? 0 : -Infinity;
          for (let iy = y0; iy < y1; iy++)
            for (let ix = x0; ix < x1; ix++) {
              const v = x.data[((b * H + iy) * W + ix) * C + c];
              acc = average ? acc + v : v > acc || Number.isNaN(v) ? v : acc;
            }
          out[((b * OH + oy) * OW + ox) * C + c] = average ? acc / cells : acc;
        }
      }
    }
  return { shape: [B, OH, OW, C], data: out };
}

export function pooling2DKind(classNames: string[], average: boolean): LayerKind {
  return {
    classNames,
    ...noWeights,
    outputShapes(layer, ctx) {
      const s = ctx.inputShapes[0];
      const g = geometry(layer);
      const first = channelsFirst(layer);
      const [ah, aw] = first ? [2, 3] : [1, 2];
      const out: Shape = [...s];
      out[ah] = s[ah] === null ? null : outLength(s[ah] as number, g.pool[0], g.stride[0], g.same);
      out[aw] = s[aw] === null ? null : outLength(s[aw] as number, g.pool[1], g.stride[1], g.same);
      return [out];
    },
    forward({ layer, inputs }) {
      let x = inputs[0];
      if (x.shape.length !== 4) throw new Error(`layer '${layer.name}' expects a 4D (batch, rows, cols, channels) input`);
      const first = channelsFirst(layer);
      if (first) x = transpose(x, [0, 2, 3, 1]);
      let y = pool2d(x, geometry(layer), average, `layer '${layer.name}'`);
      if (first) y = transpose(y, [0, 3, 1, 2]);
      return { outputs: [y], masks: [null] };
    },
  };
}
