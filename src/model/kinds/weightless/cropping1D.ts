/**
 * Cropping1D: y = x[:, start : steps − end, :]. `cropping` n or (start, end). Always channels_last (Keras has no
 * data_format here). Keras's layer does not support masking: no output mask.
 */
import type { LayerConfig, LayerKind } from '../../types';
import { beforeAfterSetting, padOrCrop, paddedShape } from './spatial';
import { noWeights } from './unusedArrays';

function negated(layer: LayerConfig): [number, number][] {
  return beforeAfterSetting(layer, ['cropping'], 1, 1).map(([a, b]) => [-a, -b]);
}

export const cropping1DKind: LayerKind = {
  classNames: ['Cropping1D'],
  ...noWeights,
  outputShapes(layer, ctx) {
    return [paddedShape(ctx.inputShapes[0], { ...layer, config: { ...layer.config, data_format: 'channels_last' } }, negated(layer))];
  },
  forward({ layer, inputs }) {
    const x = inputs[0];
    if (x.shape.length !== 3) throw new Error(`layer '${layer.name}' expects (batch, steps, channels) input`);
    return { outputs: [padOrCrop(x, [1], negated(layer), `layer '${layer.name}'`)], masks: [null] };
  },
};
