/**
 * Activation layers (Activation, ReLU, LeakyReLU, ELU, Softmax, ThresholdedReLU): the same function as the
 * `activation` setting of other layers (model/activations.ts), applied to the whole input. Keras marks them
 * supports_masking, so the input mask passes through.
 */
import { activationLayerFunction } from '../../activations';
import type { LayerKind } from '../../types';
import { noWeights } from './unusedArrays';

export function activationLayerKind(className: string): LayerKind {
  return {
    classNames: [className],
    ...noWeights,
    outputShapes: (_layer, ctx) => [ctx.inputShapes[0]],
    forward({ layer, inputs, masks, ctx }) {
      const activation = activationLayerFunction(layer.className, layer.config, ctx.kerasVersion);
      if (!activation) throw new Error(`layer '${layer.name}': no activation for class ${layer.className}`);
      const x = inputs[0];
      const data = Float64Array.from(x.data);
      activation.apply(data, x.shape);
      return { outputs: [{ shape: [...x.shape], data }], masks: [masks[0] ?? null] };
    },
  };
}
