/**
 * Global pooling over every spatial axis (2D: rows and columns; 3D: three axes):
 *   GlobalAveragePooling2D: y[b, c] = mean_{i,j} x[b, i, j, c]     GlobalMaxPooling2D: y[b, c] = max_{i,j} x[b, i, j, c]
 * keepdims (tf.keras ≥ 2.6, Keras 3) keeps the spatial axes with length 1; data_format channels_last/first.
 * Keras's 2D/3D global pooling does not support masking (only GlobalAveragePooling1D does): no output mask.
 */
import type { LayerConfig, LayerKind, Tensor } from '../../types';
import { boolSetting, channelsFirst } from './layerSettings';
import { transpose } from './tensorLayout';
import { noWeights } from './unusedArrays';

/** x is (B, S..., C) channels_last. */
function reduceSpatial(x: Tensor, average: boolean): Tensor {
  const B = x.shape[0];
  const C = x.shape[x.shape.length - 1];
  const cells = x.data.length / (B * C);
  const out = new Float64Array(B * C);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++) {
      let acc = average ? 0 : -Infinity;
      for (let s = 0; s < cells; s++) {
        const v = x.data[(b * cells + s) * C + c];
        acc = average ? acc + v : v > acc || Number.isNaN(v) ? v : acc;
      }
      out[b * C + c] = average ? acc / cells : acc;
    }
  return { shape: [B, C], data: out };
}

export function globalPooling2DKind(classNames: string[], average: boolean, dims: 2 | 3 = 2): LayerKind {
  const rank = dims + 2;
  const ones = new Array<number>(dims).fill(1);
  const keepdims = (layer: LayerConfig) => boolSetting(layer, ['keepdims'], false);
  return {
    classNames,
    ...noWeights,
    outputShapes(layer, ctx) {
      const s = ctx.inputShapes[0];
      const first = channelsFirst(layer);
      const channels = first ? s[1] : s[rank - 1];
      if (!keepdims(layer)) return [[s[0], channels]];
      return [first ? [s[0], channels, ...ones] : [s[0], ...ones, channels]];
    },
    forward({ layer, inputs }) {
      let x = inputs[0];
      if (x.shape.length !== rank) throw new Error(`layer '${layer.name}' expects a ${rank}D (batch, ${dims === 2 ? 'rows, cols' : 'dim1, dim2, dim3'}, channels) input`);
      const first = channelsFirst(layer);
      if (first) x = transpose(x, [0, ...Array.from({ length: dims }, (_, i) => i + 2), 1]);
      const y = reduceSpatial(x, average);
      if (!keepdims(layer)) return { outputs: [y], masks: [null] };
      const [B, C] = y.shape;
      return { outputs: [{ shape: first ? [B, C, ...ones] : [B, ...ones, C], data: y.data }], masks: [null] };
    },
  };
}
