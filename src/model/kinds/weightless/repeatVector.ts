/** RepeatVector(n): (batch, features) -> (batch, n, features), the vector repeated n times. No mask. */
import type { LayerKind } from '../../types';
import { intSetting } from './layerSettings';
import { noWeights } from './unusedArrays';

export const repeatVectorKind: LayerKind = {
  classNames: ['RepeatVector'],
  ...noWeights,
  outputShapes(layer, ctx) {
    const [batch, features] = ctx.inputShapes[0];
    return [[batch, intSetting(layer, ['n'], 1), features]];
  },
  forward({ layer, inputs }) {
    const n = intSetting(layer, ['n'], 1);
    const [batch, features] = inputs[0].shape;
    const out = new Float64Array(batch * n * features);
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < n; t++) {
        for (let k = 0; k < features; k++) out[(b * n + t) * features + k] = inputs[0].data[b * features + k];
      }
    }
    return { outputs: [{ shape: [batch, n, features], data: out }], masks: [null] };
  },
};
