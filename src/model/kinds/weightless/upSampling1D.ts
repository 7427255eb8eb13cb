/**
 * UpSampling1D: every step repeated `size` times in a row: y[:, t, :] = x[:, floor(t / size), :]
 * (Keras: ops.repeat(x, size, axis=1); Keras 1 calls the setting `length`). No mask support in Keras: no output mask.
 */
import type { LayerKind } from '../../types';
import { intSetting } from './layerSettings';
import { noWeights } from './unusedArrays';

export const upSampling1DKind: LayerKind = {
  classNames: ['UpSampling1D'],
  ...noWeights,
  outputShapes(layer, ctx) {
    const [b, steps, c] = ctx.inputShapes[0];
    const size = intSetting(layer, ['size', 'length'], 2);
    return [[b, steps === null ? null : steps * size, c]];
  },
  forward({ layer, inputs }) {
    const x = inputs[0];
    if (x.shape.length !== 3) throw new Error(`layer '${layer.name}' expects (batch, steps, channels) input`);
    const size = intSetting(layer, ['size', 'length'], 2);
    if (!Number.isInteger(size) || size < 1) throw new Error(`layer '${layer.name}': size ${size} is not a positive integer`);
    const [batch, steps, channels] = x.shape;
    const out = new Float64Array(batch * steps * size * channels);
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < steps * size; t++) {
        const src = (b * steps + Math.floor(t / size)) * channels;
        const dst = (b * steps * size + t) * channels;
        for (let c = 0; c < channels; c++) out[dst + c] = x.data[src + c];
      }
    }
    return { outputs: [{ shape: [batch, steps * size, channels], data: out }], masks: [null] };
  },
};
