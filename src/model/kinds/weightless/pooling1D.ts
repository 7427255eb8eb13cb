/**
 * 1D pooling over the steps axis, as TensorFlow computes it:
 *   valid: out = floor((L - pool) / stride) + 1, windows start at t*stride
 *   same : out = ceil(L / stride), padding split with the smaller half before; padded cells are ignored
 *          (max skips them, average divides by the number of real cells in the window).
 * Shared by MaxPooling1D and AveragePooling1D. Keras pooling layers do not support masking: no output mask.
 */
import type { LayerConfig, LayerKind, Tensor } from '../../types';
import { channelsFirst, intSetting, stringSetting } from './layerSettings';
import { transpose, type Shape } from './tensorLayout';
import { noWeights } from './unusedArrays';

interface PoolGeometry {
  pool: number;
  stride: number;
  same: boolean;
}

function geometry(layer: LayerConfig): PoolGeometry {
  const pool = intSetting(layer, ['pool_size', 'pool_length'], 2);
  const stride = intSetting(layer, ['strides', 'stride'], null) ?? pool;
  const same = stringSetting(layer, ['padding', 'border_mode'], 'valid') === 'same';
  if (pool < 1 || stride < 1) throw new Error(`layer '${layer.name}': pool_size and strides must be positive`);
  return { pool, stride, same };
}

function outputLength(length: number, g: PoolGeometry): number {
  return g.same ? Math.ceil(length / g.stride) : Math.floor((length - g.pool) / g.stride) + 1;
}

function pool(x: Tensor, g: PoolGeometry, average: boolean): Tensor {
  const [batch, length, channels] = x.shape;
  const outLen = outputLength(length, g);
  if (outLen < 1) throw new Error(`pooling window ${g.pool} is longer than the ${length} steps`);
  const padBefore = g.same ? Math.floor(Math.max((outLen - 1) * g.stride + g.pool - length, 0) / 2) : 0;
  const out = new Float64Array(batch * outLen * channels);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < outLen; t++) {
      const from = Math.max(t * g.stride - padBefore, 0);
      const to = Math.min(t * g.stride - padBefore + g.pool, length);
      for (let c = 0; c < channels; c++) {
        let acc = average ? 0 : -Infinity;
        for (let s = from; s < to; s++) {
          const v = x.data[(b * length + s) * channels + c];
          acc = average ? acc + v : v > acc || Number.isNaN(v) ? v : acc;
        }
        out[(b * outLen + t) * channels + c] = average ? acc / (to - from) : acc;
      }
    }
  }
  return { shape: [batch, outLen, channels], data: out };
}

export function pooling1DKind(classNames: string[], average: boolean): LayerKind {
  return {
    classNames,
    ...noWeights,
    outputShapes(layer, ctx) {
      const [batch, a, b] = ctx.inputShapes[0];
      const g = geometry(layer);
      const first = channelsFirst(layer);
      const steps = first ? b : a;
      const outSteps = steps === null ? null : outputLength(steps, g);
      return [first ? [batch, a, outSteps] : [batch, outSteps, b]] as Shape[];
    },
    forward({ layer, inputs }) {
      const g = geometry(layer);
      if (inputs[0].shape.length !== 3) throw new Error(`layer '${layer.name}' expects (batch, steps, channels) input`);
      if (channelsFirst(layer)) {
        const y = pool(transpose(inputs[0], [0, 2, 1]), g, average);
        return { outputs: [transpose(y, [0, 2, 1])], masks: [null] };
      }
      return { outputs: [pool(inputs[0], g, average)], masks: [null] };
    },
  };
}
