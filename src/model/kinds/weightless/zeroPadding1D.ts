/**
 * ZeroPadding1D: zeros before and after the steps axis. `padding` n or (before, after) (Keras 1: an int or a pair);
 * data_format (Keras 3) picks the steps axis. Keras's layer does not support masking: no output mask.
 */
import type { LayerKind } from '../../types';
import { channelsFirst } from './layerSettings';
import { beforeAfterSetting, padOrCrop, paddedShape, spatialAxes } from './spatial';
import { noWeights } from './unusedArrays';

export const zeroPadding1DKind: LayerKind = {
  classNames: ['ZeroPadding1D'],
  ...noWeights,
  outputShapes(layer, ctx) {
    return [paddedShape(ctx.inputShapes[0], layer, beforeAfterSetting(layer, ['padding'], 1, 1))];
  },
  forward({ layer, inputs }) {
    const x = inputs[0];
    if (x.shape.length !== 3) throw new Error(`layer '${layer.name}' expects (batch, steps, channels) input`);
    const amounts = beforeAfterSetting(layer, ['padding'], 1, 1);
    return { outputs: [padOrCrop(x, spatialAxes(3, channelsFirst(layer)), amounts, `layer '${layer.name}'`)], masks: [null] };
  },
};
