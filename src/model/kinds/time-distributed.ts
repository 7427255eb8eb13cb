/**
 * TimeDistributed: applies the wrapped layer to every timestep: (batch, time, ...) → run on (batch·time, ...) →
 * (batch, time, ...). Its weights are the wrapped layer's, with the same roles.
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, LayerKind, WeightRef } from '../types';
import { KerasLensError } from '../types';
import { firstInputShape } from './recurrent';
import { kindOfWrapped, wrappedLayer } from './wrapped-layer';

function innerContext(layer: LayerConfig, ctx: KindContext): KindContext {
  const s = firstInputShape(layer, ctx);
  return { ...ctx, inputShapes: s ? [[s[0], ...s.slice(2)]] : [] };
}

export const timeDistributedKind: LayerKind = {
  classNames: ['TimeDistributed'],
  weightRoles(layer, ctx) {
    const inner = wrappedLayer(layer);
    return kindOfWrapped(layer, inner).weightRoles(inner, innerContext(layer, ctx));
  },
  storedRoles(layer: LayerConfig, refs: WeightRef[], ctx: KindContext) {
    const inner = wrappedLayer(layer);
    return kindOfWrapped(layer, inner).storedRoles(inner, refs, innerContext(layer, ctx));
  },
  bindWeights(layer, stored, ctx) {
    const inner = wrappedLayer(layer);
    return kindOfWrapped(layer, inner).bindWeights(inner, stored, innerContext(layer, ctx));
  },
  outputShapes(layer, ctx) {
    const inner = wrappedLayer(layer);
    const s = firstInputShape(layer, ctx);
    const steps = s && s.length > 1 ? s[1] : null;
    return kindOfWrapped(layer, inner)
      .outputShapes(inner, innerContext(layer, ctx))
      .map((o) => [o[0], steps, ...o.slice(1)]);
  },
  forward(args: ForwardArgs): ForwardResult {
    const inner = wrappedLayer(args.layer);
    const kind = kindOfWrapped(args.layer, inner);
    const x = args.inputs[0];
    if (x.shape.length < 3) {
      throw new KerasLensError(null, `layer '${args.layer.name}' (TimeDistributed) needs an input with a time axis, got (${x.shape.join(',')})`);
    }
    const [B, T] = x.shape;
    // every timestep of every sample as one batch row: (B·T, ...)
    const r = kind.forward({
      ...args,
      layer: inner,
      inputs: [{ shape: [B * T, ...x.shape.slice(2)], data: x.data }],
      masks: [null],
      initialStates: undefined,
    });
    const outputs = r.outputs.map((o) => ({ shape: [B, T, ...o.shape.slice(1)], data: o.data }));
    return { outputs, masks: outputs.map(() => args.masks[0] ?? null) };
  },
};
