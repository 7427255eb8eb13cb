/**
 * Layers that are the identity at inference: Dropout and its relatives (noise and dropout act only in training),
 * ActivityRegularization. They support masking in Keras and pass the mask through.
 */
import type { LayerKind } from '../../types';
import { noWeights } from './unusedArrays';

export const identityKind: LayerKind = {
  classNames: [
    'Dropout',
    'SpatialDropout1D',
    'SpatialDropout2D',
    'SpatialDropout3D',
    'GaussianNoise',
    'GaussianDropout',
    'AlphaDropout',
    'ActivityRegularization',
  ],
  ...noWeights,
  outputShapes: (_layer, ctx) => [ctx.inputShapes[0]],
  forward: ({ inputs, masks }) => ({ outputs: [inputs[0]], masks: [masks[0] ?? null] }),
};
