/**
 * Global pooling over rows and columns:
 *   GlobalAveragePooling2D: y[b, c] = mean_{i,j} x[b, i, j, c]     GlobalMaxPooling2D: y[b, c] = max_{i,j} x[b, i, j, c]
 * keepdims (tf.keras ≥ 2.6, Keras 3) keeps both spatial axes with length 1; data_format channels_last/first.
 * Keras's 2D global pooling does not support masking (only GlobalAveragePooling1D does): no output mask.
 */
import type { LayerConfig, LayerKind, Tensor } from '../../types';
import { boolSetting, channelsFirst } from './layerSettings';
import { transpose } from './tensorLayout';
import { noWeights } from './unusedArrays';

function reduceSpatial(x: Tensor, average: boolean): Tensor {
  const [B, H, W, C] = x.shape;
  const out = new Float64Array(B * C);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++) {
      let acc = average ? 0 : -Infinity;
      for (let s = 0; s < H * W; s++) {
        const v = x.data[(b * H * W + s) * C + c];
        acc = average ? acc + v : v > acc || Number.isNaN(v) ? v : acc;
      }
      out[b * C + c] = average ? acc / (H * W) : acc;
    }
  return { shape: [B, C], data: out };
}

export function globalPooling2DKind(classNames: string[], average: boolean): LayerKind {
  const keepdims = (layer: LayerConfig) => boolSetting(layer, ['keepdims'], false);
  return {
    classNames,
    ...noWeights,
    outputShapes(layer, ctx) {
      const s = ctx.inputShapes[0];
      const first = channelsFirst(layer);
      const channels = first ? s[1] : s[3];
      if (!keepdims(layer)) return [[s[0], channels]];
      return [first ? [s[0], channels, 1, 1] : [s[0], 1, 1, channels]];
    },
    forward({ layer, inputs }) {
      let x = inputs[0];
      if (x.shape.length !== 4) throw new Error(`layer '${layer.name}' expects a 4D (batch, rows, cols, channels) input`);
      const first = channelsFirst(layer);
      if (first) x = transpose(x, [0, 2, 3, 1]);
      const y = reduceSpatial(x, average);
      if (!keepdims(layer)) return { outputs: [y], masks: [null] };
      const [B, C] = y.shape;
      return { outputs: [{ shape: first ? [B, C, 1, 1] : [B, 1, 1, C], data: y.data }], masks: [null] };
    },
  };
}
