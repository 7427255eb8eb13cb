/**
 * The time loop of a recurrent layer, Keras's backend `rnn()` run over a kind's readable steps: go_backwards, masks
 * (carry the states, repeat or zero the output), initial and stateful states, return_sequences/return_state, and the
 * per-step gate trace.
 */
import type { ForwardArgs, ForwardResult, Mask, RecurrentTrace, Tensor } from '../types';
import { KerasLensError } from '../types';
import { callStartStates, checkedCallMask, finishCall } from './recurrent-call';
import type { RecurrentFlags, RunOverrides } from './recurrent';

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
