/**
 * PReLU: y = x if x ≥ 0 else α·x, with a learned α per position (shared along `shared_axes`).
 * Weights: alpha, shaped like the input without the batch axis, with 1 on each shared axis. Keras 1: `<name>_alphas`.
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, LayerKind, WeightRef, WeightRole } from '../types';
import { bindByMatch, storedRolesByMatch } from './bind-by-name';
import { firstInputShape, requireWeight } from './recurrent';

function sharedAxes(layer: LayerConfig): number[] {
  const s = layer.config.shared_axes;
  if (Array.isArray(s)) return s.map(Number);
  if (typeof s === 'number') return [s];
  return [];
}

function alphaShape(layer: LayerConfig, ctx: KindContext): number[] | null {
  const s = firstInputShape(layer, ctx);
  if (!s) return null;
  const shared = sharedAxes(layer);
  const dims = s.slice(1).map((d, i) => (shared.includes(i + 1) ? 1 : d));
  return dims.every((d) => typeof d === 'number') ? (dims as number[]) : null;
}

function preluWeightRoles(layer: LayerConfig, ctx: KindContext): WeightRole[] {
  return [{ role: 'alpha', meaning: 'slope α for negative inputs', shape: alphaShape(layer, ctx), blocks: [] }];
}

export const preluKind: LayerKind = {
  classNames: ['PReLU'],
  weightRoles: preluWeightRoles,
  storedRoles(layer: LayerConfig, refs: WeightRef[], ctx: KindContext) {
    return storedRolesByMatch(layer, refs, preluWeightRoles(layer, ctx));
  },
  bindWeights(layer, stored) {
    return bindByMatch(layer, stored, [{ role: 'alpha', meaning: '', shape: null, blocks: [] }]);
  },
  outputShapes(layer, ctx) {
    return [firstInputShape(layer, ctx) ?? [null]];
  },
  forward(args: ForwardArgs): ForwardResult {
    const x = args.inputs[0];
    const alpha = requireWeight(args, 'alpha');
    // alpha broadcasts over the batch axis and over shared axes (size 1)
    const dims = x.shape.slice(1);
    const aDims = alpha.shape.length === dims.length ? alpha.shape : dims.map(() => 1);
    const per = dims.reduce((a, b) => a * b, 1);
    const y = new Float64Array(x.data.length);
    for (let k = 0; k < x.data.length; k++) {
      let rem = k % per;
      let aIdx = 0;
      let stride = per;
      for (let i = 0; i < dims.length; i++) {
        stride /= dims[i];
        const c = Math.floor(rem / stride);
        rem -= c * stride;
        aIdx = aIdx * aDims[i] + (aDims[i] === 1 ? 0 : c);
      }
      const v = x.data[k];
      y[k] = v >= 0 ? v : alpha.data[aIdx] * v; // y = max(0,x) + α·min(0,x)
    }
    return { outputs: [{ shape: [...x.shape], data: y }], masks: [args.masks[0] ?? null] };
  },
};
