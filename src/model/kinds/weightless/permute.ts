/** Permute(dims): reorders the non-batch axes; dims are 1-based (dims=(2,1) swaps steps and features). No mask. */
import type { LayerConfig, LayerKind } from '../../types';
import { transpose } from './tensorLayout';
import { noWeights } from './unusedArrays';

function permutation(layer: LayerConfig, rank: number): number[] {
  const dims = layer.config.dims;
  if (!Array.isArray(dims) || dims.length !== rank - 1) {
    throw new Error(`layer '${layer.name}': dims ${JSON.stringify(dims)} does not fit an input of rank ${rank}`);
  }
  const perm = [0, ...(dims as number[])];
  if ([...perm].sort((a, b) => a - b).some((d, i) => d !== i)) throw new Error(`layer '${layer.name}': dims ${JSON.stringify(dims)} is not a permutation`);
  return perm;
}

export const permuteKind: LayerKind = {
  classNames: ['Permute'],
  ...noWeights,
  outputShapes(layer, ctx) {
    const s = ctx.inputShapes[0];
    return [permutation(layer, s.length).map((p) => s[p])];
  },
  forward({ layer, inputs }) {
    return { outputs: [transpose(inputs[0], permutation(layer, inputs[0].shape.length))], masks: [null] };
  },
};
