/**
 * LayerNormalization and RMSNormalization: per sample, over `axis` (int or list, default -1).
 *   LayerNormalization:               y = (x − mean) / √(variance + ε) · γ + β
 *   LayerNormalization(rms_scaling):  y = x / √(variance + ε) · γ
 *     — Keras 3 (ops.nn._layer_normalization) divides by the CENTRED variance there, not by mean(x²); its own warning
 *     calls this wrong and deprecated, but that is what a saved model computes. γ exists even with scale=False
 *     (build: `if self.scale or self.rms_scaling`), β never.
 *   RMSNormalization (Keras ≥ 3.9):   y = x / √(mean(x²) + ε) · scale        (ε default 1e-6)
 * Weights (get_weights order): gamma (if scale or rms_scaling), beta (if center and not rms_scaling), each shaped like
 * the normalised axes; RMSNormalization: scale.
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
  if (layer.className === 'RMSNormalization') return [{ role: 'scale', meaning: 'scale per normalised feature (x / RMS(x) · scale)', shape, blocks: [] }];
  const roles: WeightRole[] = [];
  if (layer.config.scale !== false || layer.config.rms_scaling === true) roles.push({ role: 'gamma', meaning: 'scale γ per normalised feature', shape, blocks: [] });
  if (layer.config.center !== false && layer.config.rms_scaling !== true) {
    roles.push({ role: 'beta', meaning: 'offset β per normalised feature', shape, blocks: [] });
  }
  return roles;
}

export const layerNormalizationKind: LayerKind = {
  classNames: ['LayerNormalization', 'RMSNormalization'],
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
    const rmsLayer = layer.className === 'RMSNormalization';
    const eps = typeof layer.config.epsilon === 'number' ? layer.config.epsilon : rmsLayer ? 1e-6 : 1e-3;
    // rms_scaling: x over the centred variance (see the header); RMSNormalization: x over mean(x²)
    const rms = layer.config.rms_scaling === true;
    const gamma = rmsLayer ? args.weights.get('scale') : layer.config.scale !== false || rms ? args.weights.get('gamma') : undefined;
    const beta = !rmsLayer && layer.config.center !== false && !rms ? args.weights.get('beta') : undefined;
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
      for (const k of g) variance += rmsLayer ? x.data[k] * x.data[k] : (x.data[k] - mean) * (x.data[k] - mean);
      variance /= g.length;
      const inv = 1 / Math.sqrt(variance + eps);
      for (const k of g) {
        // y = (x − mean)/√(var + ε)·γ + β; rms_scaling and RMSNormalization: x·inv·γ
        let v = (rms || rmsLayer ? x.data[k] : x.data[k] - mean) * inv;
        if (gamma) v *= gamma.data[paramIndex[k]];
        if (beta) v += beta.data[paramIndex[k]];
        y[k] = v;
      }
    }
    // LayerNormalization passes the mask on; RMSNormalization does not support masking, so Keras drops the mask there
    return { outputs: [{ shape: [...x.shape], data: y }], masks: [rmsLayer ? null : (args.masks[0] ?? null)] };
  },
};
