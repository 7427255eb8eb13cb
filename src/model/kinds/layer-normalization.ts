/**
 * LayerNormalization: per sample, over `axis` (int or list, default -1):
 *   y = (x − mean) / √(variance + ε) · γ + β        (rms_scaling: y = x / √(mean(x²) + ε) · γ)
 * Weights (get_weights order): gamma (if scale), beta (if center), each shaped like the normalised axes.
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, LayerKind, WeightRef, WeightRole } from '../types';
import { bindByMatch, storedRolesByMatch } from './bind-by-name';
import { configAxes, resolveAxis } from './batch-normalization';
import { firstInputShape } from './recurrent';

function paramShape(layer: LayerConfig, ctx: KindContext): number[] | null {
  const s = firstInputShape(layer, ctx);
  if (!s) return null;
  const dims = configAxes(layer).map((a) => s[a < 0 ? a + s.length : a]);
  return dims.every((d) => typeof d === 'number') ? (dims as number[]) : null;
}

function layerNormWeightRoles(layer: LayerConfig, ctx: KindContext): WeightRole[] {
  const shape = paramShape(layer, ctx);
  const roles: WeightRole[] = [];
  if (layer.config.scale !== false) roles.push({ role: 'gamma', meaning: 'scale γ per normalised feature', shape, blocks: [] });
  if (layer.config.center !== false && layer.config.rms_scaling !== true) {
    roles.push({ role: 'beta', meaning: 'offset β per normalised feature', shape, blocks: [] });
  }
  return roles;
}

export const layerNormalizationKind: LayerKind = {
  classNames: ['LayerNormalization'],
  weightRoles: layerNormWeightRoles,
  storedRoles(layer: LayerConfig, refs: WeightRef[], ctx: KindContext) {
    return storedRolesByMatch(layer, refs, layerNormWeightRoles(layer, ctx));
  },
  bindWeights(layer, stored, ctx) {
    return bindByMatch(layer, stored, layerNormWeightRoles(layer, { ...ctx, inputShapes: [] }));
  },
  outputShapes(layer, ctx) {
    return [firstInputShape(layer, ctx) ?? [null]];
  },
  forward(args: ForwardArgs): ForwardResult {
    const x = args.inputs[0];
    const layer = args.layer;
    const rank = x.shape.length;
    const axes = [...new Set(configAxes(layer).map((a) => resolveAxis(a, rank, layer)))].sort((a, b) => a - b);
    const eps = typeof layer.config.epsilon === 'number' ? layer.config.epsilon : 1e-3;
    const rms = layer.config.rms_scaling === true;
    const gamma = layer.config.scale !== false ? args.weights.get('gamma') : undefined;
    const beta = layer.config.center !== false && !rms ? args.weights.get('beta') : undefined;
    // strides of the tensor; split each flat index into (outer = other axes, inner = normalised axes)
    const strides = new Array<number>(rank);
    let acc = 1;
    for (let i = rank - 1; i >= 0; i--) {
      strides[i] = acc;
      acc *= x.shape[i];
    }
    const isNorm = x.shape.map((_, i) => axes.includes(i));
    const innerSize = axes.reduce((p, a) => p * x.shape[a], 1);
    const outerSize = x.data.length / innerSize;
    const groups: number[][] = Array.from({ length: outerSize }, () => []);
    const paramIndex = new Int32Array(x.data.length);
    for (let k = 0; k < x.data.length; k++) {
      let outer = 0;
      let inner = 0;
      for (let i = 0; i < rank; i++) {
        const c = Math.floor(k / strides[i]) % x.shape[i];
        if (isNorm[i]) inner = inner * x.shape[i] + c;
        else outer = outer * x.shape[i] + c;
      }
      groups[outer].push(k);
      paramIndex[k] = inner;
    }
    const y = new Float64Array(x.data.length);
    for (const g of groups) {
      let mean = 0;
      for (const k of g) mean += x.data[k];
      mean /= g.length;
      let variance = 0;
      for (const k of g) variance += rms ? x.data[k] * x.data[k] : (x.data[k] - mean) * (x.data[k] - mean);
      variance /= g.length;
      const inv = 1 / Math.sqrt(variance + eps);
      for (const k of g) {
        // y = (x − mean)/√(var + ε)·γ + β
        let v = (rms ? x.data[k] : x.data[k] - mean) * inv;
        if (gamma) v *= gamma.data[paramIndex[k]];
        if (beta) v += beta.data[paramIndex[k]];
        y[k] = v;
      }
    }
    return { outputs: [{ shape: [...x.shape], data: y }], masks: [args.masks[0] ?? null] };
  },
};
