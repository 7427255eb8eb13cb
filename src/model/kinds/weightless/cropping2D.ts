/**
 * Cropping2D: y = x[:, top : rows − bottom, left : cols − right, :] (channels_last; channels_first crops axes 2, 3).
 * `cropping` n, (h, w) symmetric, or ((top, bottom), (left, right)). Keras's layer does not support masking.
 */
import type { LayerConfig, LayerKind } from '../../types';
import { channelsFirst } from './layerSettings';
import { beforeAfterSetting, padOrCrop, paddedShape, spatialAxes } from './spatial';
import { noWeights } from './unusedArrays';

function negated(layer: LayerConfig): [number, number][] {
  return beforeAfterSetting(layer, ['cropping'], 2, 0).map(([a, b]) => [-a, -b]);
}

export const cropping2DKind: LayerKind = {
  classNames: ['Cropping2D'],
  ...noWeights,
  outputShapes(layer, ctx) {
    return [paddedShape(ctx.inputShapes[0], layer, negated(layer))];
  },
  forward({ layer, inputs }) {
    const x = inputs[0];
    if (x.shape.length !== 4) throw new Error(`layer '${layer.name}' expects a 4D (batch, rows, cols, channels) input`);
    return { outputs: [padOrCrop(x, spatialAxes(4, channelsFirst(layer)), negated(layer), `layer '${layer.name}'`)], masks: [null] };
  },
};
