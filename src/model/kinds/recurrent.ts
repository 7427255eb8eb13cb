/**
 * What LSTM, GRU, SimpleRNN and ConvLSTM share as layers: their config flags, activations, input/output shapes and
 * the RecurrentKind contract (run with a wrapper's overrides). The time loop is time-loop.ts, gate tables and gated
 * roles gated-roles.ts, Keras 1 split arrays keras1-split.ts.
 */
import type {
  ForwardResult,
  LayerKind,
  ForwardArgs,
  KindContext,
  LayerConfig,
  Tensor,
} from '../types';
import { KerasLensError } from '../types';
import { activationFromConfig, defaultRecurrentActivation, type Activation } from '../activations';

export interface RecurrentFlags {
  units: number;
  returnSequences: boolean;
  returnState: boolean;
  goBackwards: boolean;
  stateful: boolean;
  useBias: boolean;
  zeroOutputForMask: boolean;
}

export function recurrentFlags(layer: LayerConfig): RecurrentFlags {
  const c = layer.config;
  const units = c.units ?? c.filters ?? c.output_dim;
  if (typeof units !== 'number') {
    throw new KerasLensError(null, `layer '${layer.name}' (${layer.className}) has no 'units' in its config`);
  }
  return {
    units,
    returnSequences: c.return_sequences === true,
    returnState: c.return_state === true,
    goBackwards: c.go_backwards === true,
    stateful: c.stateful === true,
    useBias: c.use_bias !== false && c.bias !== false,
    zeroOutputForMask: c.zero_output_for_mask === true,
  };
}

export function activationOf(layer: LayerConfig, kerasVersion: string | null): Activation {
  return activationFromConfig(layer.config.activation, kerasVersion, 'tanh');
}

export function recurrentActivationOf(layer: LayerConfig, kerasVersion: string | null): Activation {
  const spec = layer.config.recurrent_activation ?? layer.config.inner_activation;
  const a = activationFromConfig(spec, kerasVersion, defaultRecurrentActivation(kerasVersion));
  return a;
}

/** The input shape of the first input of this call (batch axis included), from the graph's shape inference (ctx). */
export function firstInputShape(_layer: LayerConfig, ctx: KindContext): (number | null)[] | null {
  // Only the graph's shape inference (model/graph inferShapes) says what a layer sees. A layer's own
  // batch_input_shape / input_shape / input_dim is NOT read here: Keras uses it only on the first layer of a
  // Sequential (the normaliser turns that into the InputLayer) and ignores it on later layers, where tf.keras 2.x
  // files still carry it stale when users passed input_shape to every layer (LSTM(8, input_shape=(5, 3)) twice).
  const s = ctx.inputShapes?.[0];
  return s && s.length > 0 ? s : null;
}

/** Size of the feature (last) axis of the input, or null when unknown. */
export function inputFeatureSize(layer: LayerConfig, ctx: KindContext): number | null {
  const s = firstInputShape(layer, ctx);
  const last = s?.[s.length - 1];
  return typeof last === 'number' ? last : null;
}

/** Output shapes of a recurrent layer: [out] or [out, ...states] with return_state. */
export function recurrentOutputShapes(
  flags: RecurrentFlags,
  inputShape: (number | null)[] | null,
  stepShape: (number | null)[],
  stateCount: number,
): (number | null)[][] {
  const steps = inputShape && inputShape.length > 1 ? inputShape[1] : null;
  const batch = inputShape ? inputShape[0] ?? null : null;
  const out = flags.returnSequences ? [batch, steps, ...stepShape] : [batch, ...stepShape];
  const shapes = [out];
  if (flags.returnState) for (let k = 0; k < stateCount; k++) shapes.push([batch, ...stepShape]);
  return shapes;
}

export function requireWeight(args: ForwardArgs, role: string): Tensor {
  const w = args.weights.get(role);
  if (!w) throw new KerasLensError(null, `layer '${args.layer.name}' (${args.layer.className}) has no '${role}' weight bound`);
  return w;
}

/** What a wrapper (Bidirectional) changes when it runs a recurrent layer as one of its directions. */
export interface RunOverrides {
  goBackwards?: boolean;
  zeroOutputForMask?: boolean;
  stateKey?: string;
  traceLayer?: string;
  direction?: 'forward' | 'backward';
}

/** A recurrent kind: a LayerKind that can also run with a wrapper's overrides. */
export interface RecurrentKind extends LayerKind {
  runWith(args: ForwardArgs, overrides: RunOverrides): ForwardResult;
}

export function isRecurrentKind(kind: LayerKind | undefined): kind is RecurrentKind {
  return !!kind && typeof (kind as RecurrentKind).runWith === 'function';
}
