/**
 * ZeroPadding2D: zeros around rows and columns. `padding` n, (h, w) symmetric, or ((top, bottom), (left, right));
 * Keras 1 also (top, bottom, left, right). data_format channels_last (default) / channels_first (Keras 1 'th').
 * Keras's layer does not support masking: no output mask.
 */
import type { LayerKind } from '../../types';
import { channelsFirst } from './layerSettings';
import { beforeAfterSetting, padOrCrop, paddedShape, spatialAxes } from './spatial';
import { noWeights } from './unusedArrays';

export const zeroPadding2DKind: LayerKind = {
  classNames: ['ZeroPadding2D'],
  ...noWeights,
  outputShapes(layer, ctx) {
    return [paddedShape(ctx.inputShapes[0], layer, beforeAfterSetting(layer, ['padding'], 2, 1))];
  },
  forward({ layer, inputs }) {
    const x = inputs[0];
    if (x.shape.length !== 4) throw new Error(`layer '${layer.name}' expects a 4D (batch, rows, cols, channels) input`);
    const amounts = beforeAfterSetting(layer, ['padding'], 2, 1);
    return { outputs: [padOrCrop(x, spatialAxes(4, channelsFirst(layer)), amounts, `layer '${layer.name}'`)], masks: [null] };
  },
};
