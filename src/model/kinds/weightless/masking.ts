/**
 * Masking(mask_value): a step is real when any feature differs from mask_value.
 *   mask[b,t] = any_k(x[b,t,k] != mask_value);  y = x * mask   (Keras zeroes the masked steps)
 */
import type { LayerKind, Mask } from '../../types';
import { elementCount } from './tensorLayout';
import { numberSetting } from './layerSettings';
import { noWeights } from './unusedArrays';

export const maskingKind: LayerKind = {
  classNames: ['Masking'],
  ...noWeights,
  outputShapes: (_layer, ctx) => [ctx.inputShapes[0]],
  forward({ layer, inputs }) {
    const x = inputs[0];
    const maskValue = numberSetting(layer, ['mask_value'], 0);
    const features = x.shape[x.shape.length - 1];
    const rows = elementCount(x.shape) / features;
    const out = new Float64Array(x.data.length);
    const keep = new Uint8Array(rows);
    for (let r = 0; r < rows; r++) {
      let any = false;
      for (let k = 0; k < features; k++) if (x.data[r * features + k] !== maskValue) any = true;
      keep[r] = any ? 1 : 0;
      if (any) for (let k = 0; k < features; k++) out[r * features + k] = x.data[r * features + k];
    }
    // Our masks are per timestep, (batch, steps): exactly Keras's mask for a (batch, steps, features) input.
    const mask: Mask | null = x.shape.length === 3 ? { batch: x.shape[0], steps: x.shape[1], data: keep } : null;
    return { outputs: [{ shape: [...x.shape], data: out }], masks: [mask] };
  },
};
