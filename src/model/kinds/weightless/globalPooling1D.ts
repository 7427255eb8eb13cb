/**
 * Global pooling over the steps axis.
 *   GlobalAveragePooling1D: y[b,c] = sum_t x[b,t,c]·m[b,t] / sum_t m[b,t]  (with a mask, as Keras >= 2.2.3 / tf.keras
 *                           / Keras 3 do; without one, the plain mean)
 *   GlobalMaxPooling1D:     y[b,c] = max_t x[b,t,c]  (Keras ignores the mask here)
 * keepdims (tf.keras >= 2.6, Keras 3) keeps a steps axis of length 1. Neither passes a mask on.
 */
import type { LayerConfig, LayerKind, Mask, Tensor } from '../../types';
import { boolSetting, channelsFirst } from './layerSettings';
import { transpose } from './tensorLayout';
import { noWeights } from './unusedArrays';

function reduceSteps(x: Tensor, mask: Mask | null, average: boolean): Tensor {
  const [batch, steps, channels] = x.shape;
  const out = new Float64Array(batch * channels);
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      let acc = average ? 0 : -Infinity;
      let weight = 0;
      for (let t = 0; t < steps; t++) {
        const v = x.data[(b * steps + t) * channels + c];
        if (average) {
          const m = mask ? mask.data[b * steps + t] : 1;
          acc += v * m;
          weight += m;
        } else if (v > acc || Number.isNaN(v)) acc = v;
      }
      out[b * channels + c] = average ? acc / weight : acc;
    }
  }
  return { shape: [batch, channels], data: out };
}

export function globalPooling1DKind(classNames: string[], average: boolean): LayerKind {
  const keepdims = (layer: LayerConfig) => boolSetting(layer, ['keepdims'], false);
  return {
    classNames,
    ...noWeights,
    outputShapes(layer, ctx) {
      const [batch, a, b] = ctx.inputShapes[0];
      const channels = channelsFirst(layer) ? a : b;
      if (!keepdims(layer)) return [[batch, channels]];
      return [channelsFirst(layer) ? [batch, channels, 1] : [batch, 1, channels]];
    },
    forward({ layer, inputs, masks }) {
      let x = inputs[0];
      if (x.shape.length !== 3) throw new Error(`layer '${layer.name}' expects (batch, steps, channels) input`);
      if (channelsFirst(layer)) x = transpose(x, [0, 2, 1]);
      const y = reduceSteps(x, average ? (masks[0] ?? null) : null, average);
      if (!keepdims(layer)) return { outputs: [y], masks: [null] };
      const [batch, channels] = y.shape;
      return { outputs: [{ shape: channelsFirst(layer) ? [batch, channels, 1] : [batch, 1, channels], data: y.data }], masks: [null] };
    },
  };
}
