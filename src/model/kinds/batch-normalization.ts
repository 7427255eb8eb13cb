/**
 * BatchNormalization at inference: y = (x − moving_mean) / √(moving_variance + ε) · γ + β, per channel on `axis`.
 * Weights (get_weights order): gamma (if scale), beta (if center), moving_mean, moving_variance.
 * Keras 1: `<name>_gamma`, `_beta`, `_running_mean`, `_running_std` (which holds the variance).
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, LayerKind, Tensor, WeightRef, WeightRole } from '../types';
import { KerasLensError } from '../types';
import { bindByMatch, storedRolesByMatch } from './bind-by-name';
import { firstInputShape, requireWeight } from './recurrent';

/** The normalised axes from the config (int or list), as negative-or-positive numbers as written. */
export function configAxes(layer: LayerConfig, fallback = -1): number[] {
  const a = layer.config.axis;
  if (Array.isArray(a)) return a.map((v) => Number(v));
  return [typeof a === 'number' ? a : fallback];
}

export function resolveAxis(axis: number, rank: number, layer: LayerConfig): number {
  const ax = axis < 0 ? axis + rank : axis;
  if (ax < 0 || ax >= rank) throw new KerasLensError(null, `layer '${layer.name}': axis ${axis} does not exist for rank ${rank}`);
  return ax;
}

function channelCount(layer: LayerConfig, ctx: KindContext): number | null {
  const s = firstInputShape(layer, ctx);
  const axes = configAxes(layer);
  if (!s || axes.length !== 1) return null;
  const ax = axes[0] < 0 ? axes[0] + s.length : axes[0];
  const n = s[ax];
  return typeof n === 'number' ? n : null;
}

function batchNormWeightRoles(layer: LayerConfig, ctx: KindContext): WeightRole[] {
  const n = channelCount(layer, ctx);
  const shape = n === null ? null : [n];
  const roles: WeightRole[] = [];
  if (layer.config.scale !== false) roles.push({ role: 'gamma', meaning: 'scale γ, one per channel', shape, blocks: [] });
  if (layer.config.center !== false) roles.push({ role: 'beta', meaning: 'offset β, one per channel', shape, blocks: [] });
  roles.push({ role: 'moving_mean', meaning: 'moving mean, subtracted per channel', shape, blocks: [] });
  roles.push({ role: 'moving_variance', meaning: 'moving variance: the input is divided by √(variance + ε)', shape, blocks: [] });
  return roles;
}

/** Per-element channel index along one axis of a tensor shape. */
function channelStride(shape: number[], ax: number): { inner: number; n: number } {
  let inner = 1;
  for (let i = ax + 1; i < shape.length; i++) inner *= shape[i];
  return { inner, n: shape[ax] };
}

export const batchNormalizationKind: LayerKind = {
  classNames: ['BatchNormalization'],
  weightRoles: batchNormWeightRoles,
  storedRoles(layer: LayerConfig, refs: WeightRef[], ctx: KindContext) {
    return storedRolesByMatch(layer, refs, batchNormWeightRoles(layer, ctx));
  },
  bindWeights(layer, stored, ctx) {
    return bindByMatch(layer, stored, batchNormWeightRoles(layer, { ...ctx, inputShapes: [] }));
  },
  outputShapes(layer, ctx) {
    return [firstInputShape(layer, ctx) ?? [null]];
  },
  forward(args: ForwardArgs): ForwardResult {
    const x = args.inputs[0];
    const layer = args.layer;
    if (typeof layer.config.mode === 'number' && layer.config.mode !== 0) {
      throw new KerasLensError(null, `layer '${layer.name}': Keras 1 BatchNormalization mode=${layer.config.mode} normalises with batch statistics at inference, which Keras Lens does not run`);
    }
    const axes = configAxes(layer);
    if (axes.length !== 1) throw new KerasLensError(null, `layer '${layer.name}': BatchNormalization over several axes is not supported`);
    const ax = resolveAxis(axes[0], x.shape.length, layer);
    const { inner, n } = channelStride(x.shape, ax);
    const eps = typeof layer.config.epsilon === 'number' ? layer.config.epsilon : 1e-3;
    const mean = requireWeight(args, 'moving_mean').data;
    const variance = requireWeight(args, 'moving_variance').data;
    const gamma: Tensor | undefined = layer.config.scale !== false ? args.weights.get('gamma') : undefined;
    const beta: Tensor | undefined = layer.config.center !== false ? args.weights.get('beta') : undefined;
    if (mean.length !== n) throw new KerasLensError(null, `layer '${layer.name}': ${mean.length} channel statistics for ${n} channels`);
    const y = new Float64Array(x.data.length);
    for (let k = 0; k < x.data.length; k++) {
      const c = Math.floor(k / inner) % n;
      // y = (x − mean) / √(var + ε) · γ + β
      let v = (x.data[k] - mean[c]) / Math.sqrt(variance[c] + eps);
      if (gamma) v *= gamma.data[c];
      if (beta) v += beta.data[c];
      y[k] = v;
    }
    return { outputs: [{ shape: [...x.shape], data: y }], masks: [args.masks[0] ?? null] };
  },
};
