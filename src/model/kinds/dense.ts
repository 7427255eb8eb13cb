/**
 * Dense: y = act(x·W + b), applied on the last axis of an input of any rank.
 * Weights (get_weights order): kernel (in, units), bias (units). Keras 1: `<name>_W`, `<name>_b`.
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, LayerKind, WeightRef, WeightRole } from '../types';
import { KerasLensError } from '../types';
import { activationFromConfig } from '../activations';
import { addBiasRows, matmul } from '../../kernels/reference';
import { bindByMatch, storedRolesByMatch } from './bind-by-name';
import { firstInputShape, inputFeatureSize, requireWeight } from './recurrent';

function units(layer: LayerConfig): number {
  const u = layer.config.units ?? layer.config.output_dim;
  if (typeof u !== 'number') throw new KerasLensError(null, `layer '${layer.name}' (Dense) has no 'units' in its config`);
  return u;
}

function denseWeightRoles(layer: LayerConfig, ctx: KindContext): WeightRole[] {
  const u = units(layer);
  const inDim = inputFeatureSize(layer, ctx);
  const roles: WeightRole[] = [
    { role: 'kernel', meaning: 'kernel: row k multiplies input feature k, column j feeds output unit j', shape: inDim === null ? null : [inDim, u], blocks: [] },
  ];
  if (layer.config.use_bias !== false && layer.config.bias !== false) roles.push({ role: 'bias', meaning: 'bias, one per output unit', shape: [u], blocks: [] });
  return roles;
}

export const denseKind: LayerKind = {
  classNames: ['Dense', 'TimeDistributedDense'], // Keras 1 TimeDistributedDense = Dense on the last axis
  weightRoles: denseWeightRoles,
  storedRoles(layer: LayerConfig, refs: WeightRef[], ctx: KindContext) {
    return storedRolesByMatch(layer, refs, denseWeightRoles(layer, ctx));
  },
  bindWeights(layer, stored, ctx) {
    return bindByMatch(layer, stored, denseWeightRoles(layer, { ...ctx, inputShapes: [] }));
  },
  outputShapes(layer, ctx) {
    const s = firstInputShape(layer, ctx) ?? [null, null];
    return [[...s.slice(0, -1), units(layer)]];
  },
  forward(args: ForwardArgs): ForwardResult {
    const x = args.inputs[0];
    const kernel = requireWeight(args, 'kernel');
    const inDim = x.shape[x.shape.length - 1];
    const u = kernel.shape[kernel.shape.length - 1];
    if (kernel.data.length !== inDim * u) {
      throw new KerasLensError(null, `layer '${args.layer.name}': kernel (${kernel.shape.join(',')}) does not fit an input with ${inDim} features`);
    }
    const rows = x.data.length / inDim;
    // y = x·W + b
    const y = matmul(x.data, rows, inDim, kernel.data, u);
    const bias = args.weights.get('bias');
    if (bias) addBiasRows(y, rows, bias.data, u);
    const shape = [...x.shape.slice(0, -1), u];
    activationFromConfig(args.layer.config.activation, args.ctx.kerasVersion, 'linear').apply(y, shape);
    return { outputs: [{ shape, data: y }], masks: [args.masks[0] ?? null] };
  },
};
