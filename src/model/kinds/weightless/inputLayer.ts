/** InputLayer: the model's entry point; its one output is the tensor given to predict. */
import type { LayerConfig, LayerKind } from '../../types';
import { noWeights } from './unusedArrays';

/** The declared input shape with the batch axis first (null when free), or null when the config gives none. */
export function declaredInputShape(layer: LayerConfig): (number | null)[] | null {
  const c = layer.config;
  const batchShape = c.batch_input_shape ?? c.batch_shape;
  if (Array.isArray(batchShape)) return batchShape.map((d) => (typeof d === 'number' ? d : null));
  const shape = c.input_shape ?? c.shape;
  if (Array.isArray(shape)) {
    const batch = typeof c.batch_size === 'number' ? c.batch_size : null;
    return [batch, ...shape.map((d) => (typeof d === 'number' ? d : null))];
  }
  return null;
}

export const inputLayerKind: LayerKind = {
  classNames: ['InputLayer'],
  ...noWeights,
  outputShapes(layer) {
    const shape = declaredInputShape(layer);
    if (!shape) throw new Error(`input layer '${layer.name}' declares no shape`);
    return [shape];
  },
  forward: ({ inputs }) => ({ outputs: [inputs[0]], masks: [null] }),
};
