/**
 * Bidirectional: runs the wrapped RNN forward and a copy of it with go_backwards negated (or the explicit
 * backward_layer). With return_sequences the backward output is reversed back to input time. merge_mode:
 * concat (forward first, last axis) | sum | mul | ave | None (two outputs). With return_state the outputs are
 * [merged..., forward states..., backward states...]. Weights: forward layer's, then backward layer's; bound weights
 * are keyed 'forward/<role>' and 'backward/<role>'.
 * In tf.keras and Keras 3 the wrapper sets zero_output_for_mask = return_sequences on both directions.
 */
import type { ForwardArgs, ForwardResult, KindContext, LayerConfig, LayerKind, Mask, Tensor, WeightRef, WeightRole } from '../types';
import { KerasLensError } from '../types';
import { isRecurrentKind, type RecurrentKind } from './recurrent';
import { kindOfWrapped, wrappedLayer } from './wrapped-layer';

type Direction = 'forward' | 'backward';

/** The two direction layers as Keras builds them. */
export function directionLayers(layer: LayerConfig): { forward: LayerConfig; backward: LayerConfig } {
  const forward = wrappedLayer(layer);
  let backward = layer.backward;
  if (!backward) {
    const spec = layer.config.backward_layer as { class_name?: string; config?: Record<string, unknown> } | undefined;
    if (spec && typeof spec.class_name === 'string') {
      backward = { name: String(spec.config?.name ?? `backward_${forward.name}`), className: spec.class_name, config: spec.config ?? {}, inbound: [] };
    }
  }
  if (!backward) {
    backward = {
      ...forward,
      name: `backward_${forward.name}`,
      config: { ...forward.config, go_backwards: !(forward.config.go_backwards === true) },
    };
  }
  return { forward, backward };
}

function mergeMode(layer: LayerConfig): string | null {
  const m = layer.config.merge_mode;
  if (m === null) return null;
  return typeof m === 'string' ? m : 'concat';
}

/** tf.keras and Keras 3 force zero_output_for_mask = return_sequences; Keras 1 and standalone Keras ≤ 2.3 do not. */
export function forcesZeroOutputForMask(kerasVersion: string | null): boolean {
  if (!kerasVersion) return true;
  if (kerasVersion.startsWith('1.')) return false;
  if (/^2\.[0-3]\./.test(kerasVersion) && !kerasVersion.includes('tf')) return false;
  return true;
}

/** Which direction each stored array belongs to: by a `forward…`/`backward…` path segment, else first half/second half. */
export function splitByDirection<T extends { name: string }>(layer: LayerConfig, refs: T[]): { forward: T[]; backward: T[] } {
  const dir = (r: T): Direction | null => {
    const segs = r.name.split('/');
    for (const seg of segs) {
      if (seg === layer.name) continue;
      if (seg.startsWith('forward')) return 'forward';
      if (seg.startsWith('backward')) return 'backward';
    }
    return null;
  };
  const dirs = refs.map(dir);
  if (dirs.every((d) => d !== null)) {
    return { forward: refs.filter((_, i) => dirs[i] === 'forward'), backward: refs.filter((_, i) => dirs[i] === 'backward') };
  }
  if (refs.length % 2 !== 0) {
    throw new KerasLensError(null, `layer '${layer.name}' (Bidirectional) has an odd number of stored weights (${refs.length}): cannot tell forward from backward`);
  }
  const h = refs.length / 2;
  return { forward: refs.slice(0, h), backward: refs.slice(h) };
}

function reverseTime(t: Tensor): Tensor {
  const [B, T] = t.shape;
  const inner = t.data.length / (B * T);
  const out = new Float64Array(t.data.length);
  for (let b = 0; b < B; b++) for (let s = 0; s < T; s++) out.set(t.data.subarray((b * T + s) * inner, (b * T + s + 1) * inner), (b * T + (T - 1 - s)) * inner);
  return { shape: [...t.shape], data: out };
}

function merge(mode: string, a: Tensor, b: Tensor, layer: LayerConfig): Tensor {
  if (mode === 'concat') {
    const fa = a.shape[a.shape.length - 1];
    const fb = b.shape[b.shape.length - 1];
    const rows = a.data.length / fa;
    const out = new Float64Array(rows * (fa + fb));
    for (let r = 0; r < rows; r++) {
      out.set(a.data.subarray(r * fa, (r + 1) * fa), r * (fa + fb));
      out.set(b.data.subarray(r * fb, (r + 1) * fb), r * (fa + fb) + fa);
    }
    return { shape: [...a.shape.slice(0, -1), fa + fb], data: out };
  }
  const out = new Float64Array(a.data.length);
  for (let k = 0; k < out.length; k++) {
    const x = a.data[k];
    const y = b.data[k];
    out[k] = mode === 'sum' ? x + y : mode === 'mul' ? x * y : mode === 'ave' ? (x + y) / 2 : NaN;
  }
  if (!['sum', 'mul', 'ave'].includes(mode)) throw new KerasLensError(null, `layer '${layer.name}': unknown merge_mode '${mode}'`);
  return { shape: [...a.shape], data: out };
}

function prefixed(dir: Direction, m: Map<string, Tensor>, into: Map<string, Tensor>): void {
  for (const [k, v] of m) into.set(`${dir}/${k}`, v);
}

function withoutPrefix(dir: Direction, m: Map<string, Tensor>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, v] of m) if (k.startsWith(dir + '/')) out.set(k.slice(dir.length + 1), v);
  return out;
}

export const bidirectionalKind: LayerKind = {
  classNames: ['Bidirectional'],

  weightRoles(layer, ctx) {
    const { forward, backward } = directionLayers(layer);
    const f = kindOfWrapped(layer, forward).weightRoles(forward, ctx);
    const b = kindOfWrapped(layer, backward).weightRoles(backward, ctx);
    return [
      ...f.map((r) => ({ ...r, meaning: `forward ${r.meaning}`, direction: 'forward' as const })),
      ...b.map((r) => ({ ...r, meaning: `backward ${r.meaning}`, direction: 'backward' as const })),
    ];
  },

  storedRoles(layer: LayerConfig, refs: WeightRef[], ctx: KindContext): WeightRole[] {
    const { forward, backward } = directionLayers(layer);
    const split = splitByDirection(layer, refs);
    const f = kindOfWrapped(layer, forward).storedRoles(forward, split.forward, ctx);
    const b = kindOfWrapped(layer, backward).storedRoles(backward, split.backward, ctx);
    const roleOf = new Map<WeightRef, WeightRole>();
    split.forward.forEach((r, i) => roleOf.set(r, { ...f[i], meaning: `forward ${f[i].meaning}`, direction: 'forward' }));
    split.backward.forEach((r, i) => roleOf.set(r, { ...b[i], meaning: `backward ${b[i].meaning}`, direction: 'backward' }));
    return refs.map((r) => roleOf.get(r)!);
  },

  bindWeights(layer, stored, ctx) {
    const { forward, backward } = directionLayers(layer);
    const split = splitByDirection(
      layer,
      stored.map((s) => ({ name: s.ref.name, s })),
    );
    const out = new Map<string, Tensor>();
    prefixed('forward', kindOfWrapped(layer, forward).bindWeights(forward, split.forward.map((x) => x.s), ctx), out);
    prefixed('backward', kindOfWrapped(layer, backward).bindWeights(backward, split.backward.map((x) => x.s), ctx), out);
    return out;
  },

  outputShapes(layer, ctx) {
    const { forward, backward } = directionLayers(layer);
    const f = kindOfWrapped(layer, forward).outputShapes(forward, ctx);
    const b = kindOfWrapped(layer, backward).outputShapes(backward, ctx);
    const mode = mergeMode(layer);
    const states = [...f.slice(1), ...b.slice(1)];
    if (mode === null) return [f[0], b[0], ...states];
    let out = f[0];
    if (mode === 'concat') {
      const a = f[0][f[0].length - 1];
      const c = b[0][b[0].length - 1];
      out = [...f[0].slice(0, -1), a !== null && c !== null ? a + c : null];
    }
    return [out, ...states];
  },

  forward(args: ForwardArgs): ForwardResult {
    const layer = args.layer;
    const { forward, backward } = directionLayers(layer);
    const kinds = [kindOfWrapped(layer, forward), kindOfWrapped(layer, backward)];
    if (!isRecurrentKind(kinds[0]) || !isRecurrentKind(kinds[1])) {
      throw new KerasLensError(null, `layer '${layer.name}' (Bidirectional) wraps a ${forward.className}, which is not a recurrent layer`);
    }
    const returnSequences = forward.config.return_sequences === true;
    const zero = forcesZeroOutputForMask(args.ctx.kerasVersion) ? returnSequences : undefined;
    const init = args.initialStates && args.initialStates.length > 0 ? args.initialStates : undefined;
    const half = init ? init.length / 2 : 0;
    const run = (dir: Direction, l: LayerConfig, kind: RecurrentKind) =>
      kind.runWith(
        {
          ...args,
          layer: l,
          weights: withoutPrefix(dir, args.weights),
          initialStates: init ? (dir === 'forward' ? init.slice(0, half) : init.slice(half)) : undefined,
        },
        { zeroOutputForMask: zero, stateKey: `${layer.name}/${dir}`, traceLayer: layer.name, direction: dir },
      );
    const f = run('forward', forward, kinds[0] as RecurrentKind);
    const b = run('backward', backward, kinds[1] as RecurrentKind);
    let yb = b.outputs[0];
    // the backward copy's sequence is in its processing order: reverse it to line up with input time
    if (returnSequences) yb = reverseTime(yb);
    const mode = mergeMode(layer);
    const states = [...f.outputs.slice(1), ...b.outputs.slice(1)];
    const mask: Mask | null = returnSequences ? args.masks[0] ?? null : null;
    const merged = mode === null ? [f.outputs[0], yb] : [merge(mode, f.outputs[0], yb, layer)];
    return { outputs: [...merged, ...states], masks: [...merged.map(() => mask), ...states.map(() => null)] };
  },
};

