/**
 * What LSTM, GRU, SimpleRNN and ConvLSTM share: their config flags, activations and output shapes, and the time loop
 * (Keras's backend `rnn()`): go_backwards, masks, stateful states, initial states, return_sequences, return_state and
 * the gate trace. Gate tables and gated roles are in gated-roles.ts, Keras 1 split arrays in keras1-split.ts.
 */
import type {
  ForwardResult,
  LayerKind,
  ForwardArgs,
  KindContext,
  LayerConfig,
  Mask,
  RecurrentTrace,
  Tensor,
} from '../types';
import { KerasLensError } from '../types';
import { activationFromConfig, defaultRecurrentActivation, type Activation } from '../activations';
// Re-exported for the kinds that still import them from here; new code imports gated-roles / keras1-split.
export { GRU_GATES, LSTM_GATES, cudnnBiasRole, gateBlocks, gatedKernelRoles, type Gate } from './gated-roles';
export { fuseKeras1Split, recurrentStoredRoles } from './keras1-split';
import { callStartStates, checkedCallMask, finishCall } from './recurrent-call';

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

// ---------------------------------------------------------------------------------------------
// The time loop
// ---------------------------------------------------------------------------------------------

/** One recurrent cell ready to run over a given input (its input projections may be precomputed). */
export interface RecurrentCell {
  /** Number of states (LSTM 2: h, c; GRU/SimpleRNN 1: h). State 0 is the output. */
  stateCount: number;
  /** Size of one state for one batch element (units, or rows·cols·filters for ConvLSTM2D). */
  stateSize: number;
  /** Shape of one state without the batch axis, e.g. [units] or [rows, cols, filters]. */
  stateShape: number[];
  /** Gate labels recorded in the trace, in order. */
  gates: string[];
  /**
   * One step at input time t: returns the new states (each batch × stateSize). When `record` is given, stores each
   * gate's activation (batch × stateSize) under its label.
   */
  step(t: number, states: Float64Array[], record?: Record<string, Float64Array>): Float64Array[];
}

export interface RecurrentRun extends ForwardResult {
  /** Final states (after the last processed step). */
  finalStates: Float64Array[];
}

export interface RunOptions {
  batch: number;
  steps: number;
  goBackwards: boolean;
  returnSequences: boolean;
  returnState: boolean;
  zeroOutputForMask: boolean;
  stateful: boolean;
  /** Key in ctx.states for stateful layers. */
  stateKey: string;
  initialStates?: Tensor[];
  mask: Mask | null;
  traceLayer: string;
  direction?: 'forward' | 'backward';
}

/**
 * Keras's rnn(): process steps in order (reversed with go_backwards); at a masked step the states are carried over
 * and the output equals the previous step's output (zeros before the first step), or zeros when
 * zero_output_for_mask. With return_sequences the output sequence is in processing order.
 */
export function runRecurrent(args: ForwardArgs, cell: RecurrentCell, o: RunOptions): RecurrentRun {
  const { batch: B, steps: T } = o;
  const S = cell.stateSize;
  const start = callStartStates({ ...args, initialStates: o.initialStates }, o, cell.stateCount, B, S);
  let states: Float64Array[] = start.map((src) => (src ? Float64Array.from(src) : new Float64Array(B * S)));
  const mask = checkedCallMask(args, o.mask, B, T);
  const trace: RecurrentTrace | null = args.ctx.trace
    ? {
        layer: o.traceLayer,
        direction: o.direction,
        gates: cell.gates,
        gateValues: Object.fromEntries(cell.gates.map((g) => [g, [] as Tensor[]])),
        cell: cell.stateCount > 1 ? [] : undefined,
        hidden: [],
        skipped: mask ? [] : undefined,
      }
    : null;
  const stateTensorShape = [B, ...cell.stateShape];
  const sequence = o.returnSequences ? new Float64Array(B * T * S) : null;
  let prevOutput: Float64Array = new Float64Array(B * S);
  for (let s = 0; s < T; s++) {
    const t = o.goBackwards ? T - 1 - s : s;
    const record = trace ? ({} as Record<string, Float64Array>) : undefined;
    const next = cell.step(t, states, record);
    let output: Float64Array = next[0];
    let skipped: Uint8Array | null = null;
    if (mask) {
      skipped = new Uint8Array(B);
      output = new Float64Array(next[0]);
      for (let b = 0; b < B; b++) {
        if (mask.data[b * T + t]) continue;
        skipped[b] = 1;
        for (let k = 0; k < next.length; k++) next[k].set(states[k].subarray(b * S, (b + 1) * S), b * S);
        if (o.zeroOutputForMask) output.fill(0, b * S, (b + 1) * S);
        else output.set(prevOutput.subarray(b * S, (b + 1) * S), b * S);
      }
    }
    if (sequence) for (let b = 0; b < B; b++) sequence.set(output.subarray(b * S, (b + 1) * S), (b * T + s) * S);
    if (trace) {
      for (const g of cell.gates) trace.gateValues[g].push({ shape: stateTensorShape, data: record![g] ?? new Float64Array(B * S) });
      trace.hidden.push({ shape: stateTensorShape, data: new Float64Array(next[0]) });
      if (trace.cell) trace.cell.push({ shape: stateTensorShape, data: new Float64Array(next[1]) });
      if (trace.skipped) trace.skipped.push(skipped!);
    }
    prevOutput = output;
    states = next;
  }
  if (trace) args.ctx.trace!.push(trace);
  const main: Tensor = sequence ? { shape: [B, T, ...cell.stateShape], data: sequence } : { shape: stateTensorShape, data: prevOutput };
  const finalStates = states.map((s): Tensor => ({ shape: stateTensorShape, data: s }));
  return { ...finishCall(args, o, mask, main, finalStates), finalStates: states };
}

/** The input tensor of a recurrent call as (batch, steps, features...) with its sizes. */
export function sequenceInput(args: ForwardArgs): { x: Tensor; batch: number; steps: number; featureSize: number } {
  const x = args.inputs[0];
  if (!x || x.shape.length < 3) {
    throw new KerasLensError(
      null,
      `layer '${args.layer.name}' (${args.layer.className}) needs a (batch, timesteps, features) input, got shape (${x?.shape.join(',')})`,
    );
  }
  const [batch, steps] = x.shape;
  return { x, batch, steps, featureSize: x.shape.slice(2).reduce((a, b) => a * b, 1) };
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

/** Run a ready cell with the layer's flags and a wrapper's overrides; outputs + output masks. */
export function runLayerCell(
  args: ForwardArgs,
  flags: RecurrentFlags,
  cell: RecurrentCell,
  batch: number,
  steps: number,
  ov: RunOverrides,
): ForwardResult {
  const run = runRecurrent(args, cell, {
    batch,
    steps,
    goBackwards: ov.goBackwards ?? flags.goBackwards,
    returnSequences: flags.returnSequences,
    returnState: flags.returnState,
    zeroOutputForMask: ov.zeroOutputForMask ?? flags.zeroOutputForMask,
    stateful: flags.stateful,
    stateKey: ov.stateKey ?? args.layer.name,
    initialStates: args.initialStates,
    mask: args.masks[0] ?? null,
    traceLayer: ov.traceLayer ?? args.layer.name,
    direction: ov.direction,
  });
  return { outputs: run.outputs, masks: run.masks };
}
