/** Reshape(target_shape): same elements, row-major, new shape after the batch axis; one -1 is inferred. No mask. */
import type { LayerConfig, LayerKind } from '../../types';
import { elementCount } from './tensorLayout';
import { noWeights } from './unusedArrays';

function targetShape(layer: LayerConfig): number[] {
  const t = layer.config.target_shape ?? layer.config.dims;
  // TF.js writes the free axis as null where Keras writes -1
  if (!Array.isArray(t) || !t.every((d) => typeof d === 'number' || d === null)) {
    throw new Error(`layer '${layer.name}': target_shape is ${JSON.stringify(t)}`);
  }
  return t.map((d) => (d === null ? -1 : d)) as number[];
}

/** Resolves the one -1 of the target for `count` elements per sample; null when the count is unknown. */
function resolve(layer: LayerConfig, target: number[], count: number | null): (number | null)[] {
  const free = target.filter((d) => d === -1).length;
  if (free > 1) throw new Error(`layer '${layer.name}': target_shape has more than one -1`);
  if (free === 0) {
    if (count !== null && count !== elementCount(target)) {
      throw new Error(`layer '${layer.name}': cannot reshape ${count} values per sample to (${target.join(', ')})`);
    }
    return target;
  }
  if (count === null) return target.map((d) => (d === -1 ? null : d));
  const known = elementCount(target.filter((d) => d !== -1));
  if (known === 0 || count % known !== 0) {
    throw new Error(`layer '${layer.name}': cannot reshape ${count} values per sample to (${target.join(', ')})`);
  }
  return target.map((d) => (d === -1 ? count / known : d));
}

export const reshapeKind: LayerKind = {
  classNames: ['Reshape'],
  ...noWeights,
  outputShapes(layer, ctx) {
    const [batch, ...rest] = ctx.inputShapes[0];
    const count = rest.every((d) => d !== null) ? elementCount(rest as number[]) : null;
    return [[batch, ...resolve(layer, targetShape(layer), count)]];
  },
  forward({ layer, inputs }) {
    const [batch, ...rest] = inputs[0].shape;
    const shape = resolve(layer, targetShape(layer), elementCount(rest)) as number[];
    return { outputs: [{ shape: [batch, ...shape], data: inputs[0].data }], masks: [null] };
  },
};
