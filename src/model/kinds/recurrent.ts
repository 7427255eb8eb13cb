/**
 * What LSTM, GRU, SimpleRNN and ConvLSTM2D share: their config flags, their gate blocks, their output shapes and
 * the time loop (Keras's backend `rnn()`): go_backwards, masks, stateful states, initial states, return_sequences,
 * return_state and the gate trace.
 */
import type {
  ForwardResult,
  LayerKind,
  ForwardArgs,
  GateBlock,
  KindContext,
  LayerConfig,
  Mask,
  RecurrentTrace,
  Tensor,
  WeightRef,
  WeightRole,
} from '../types';
import { KerasLensError } from '../types';
import { activationFromConfig, defaultRecurrentActivation, type Activation } from '../activations';
import { keras1SplitName, matchStoredToRoles, storedWeightName } from './bind-by-name';

export interface Gate {
  label: string;
  meaning: string;
}

export const LSTM_GATES: Gate[] = [
  { label: 'i', meaning: 'input gate' },
  { label: 'f', meaning: 'forget gate' },
  { label: 'c', meaning: 'cell candidate (c̃)' },
  { label: 'o', meaning: 'output gate' },
];

export const GRU_GATES: Gate[] = [
  { label: 'z', meaning: 'update gate (z)' },
  { label: 'r', meaning: 'reset gate (r)' },
  { label: 'h', meaning: 'candidate (h̃)' },
];

/** Gate blocks along the last axis: gate g holds columns [offset + g·width, offset + (g+1)·width). */
export function gateBlocks(gates: Gate[], width: number, offset = 0, suffix = ''): GateBlock[] {
  return gates.map((g, k) => ({
    label: g.label,
    meaning: g.meaning + suffix,
    axis: -1,
    start: offset + k * width,
    end: offset + (k + 1) * width,
  }));
}

/** The kernel (in, g·u) and recurrent kernel (u, g·u) of a gated cell: one column block per gate, in Keras order. */
export function gatedKernelRoles(gates: Gate[], u: number, inDim: number | null): WeightRole[] {
  const g = gates.length;
  return [
    {
      role: 'kernel',
      meaning: 'input kernel: multiplies the input x(t), one column block per gate',
      shape: inDim === null ? null : [inDim, g * u],
      blocks: gateBlocks(gates, u),
    },
    {
      role: 'recurrent_kernel',
      meaning: 'recurrent kernel: multiplies the previous hidden state h(t-1), one column block per gate',
      shape: [u, g * u],
      blocks: gateBlocks(gates, u),
    },
  ];
}

/** A CuDNN bias (2·g·u): the input bias for every gate, then the recurrent bias for every gate. */
export function cudnnBiasRole(gates: Gate[], u: number, use: string): WeightRole {
  const g = gates.length;
  const labels = gates.map((x) => x.label).join(',');
  return {
    role: 'bias',
    meaning: `bias (CuDNN): input bias ${labels} then recurrent bias ${labels}; ${use}`,
    shape: [2 * g * u],
    blocks: [...gateBlocks(gates, u, 0, ', input bias'), ...gateBlocks(gates, u, g * u, ', recurrent bias')],
  };
}

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

/** The input shape of the first input of this call (batch axis included), from ctx or the config. */
export function firstInputShape(layer: LayerConfig, ctx: KindContext): (number | null)[] | null {
  const s = ctx.inputShapes?.[0];
  if (s && s.length > 0) return s;
  const c = layer.config;
  const bis = c.batch_input_shape;
  if (Array.isArray(bis)) return bis as (number | null)[];
  if (Array.isArray(c.input_shape)) return [null, ...(c.input_shape as (number | null)[])];
  if (typeof c.input_dim === 'number') return [null, typeof c.input_length === 'number' ? c.input_length : null, c.input_dim];
  return null;
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
// Keras 1 split arrays (W_i, U_i, b_i, ...) and stored-role matching for recurrent kinds
// ---------------------------------------------------------------------------------------------

/**
 * Stored roles of a recurrent layer: each Keras 1 split array (`lstm_1_W_f`) gets its role and the one gate block it
 * holds; fused arrays get weightRoles() matched by name, then by position.
 */
export function recurrentStoredRoles(
  layer: LayerConfig,
  refs: WeightRef[],
  roles: WeightRole[],
  gates: Gate[],
): WeightRole[] {
  const split = refs.map((r) => keras1SplitName(storedWeightName(r)));
  if (refs.length > 0 && split.every((s) => s !== null)) {
    return refs.map((ref, i) => {
      const s = split[i]!;
      const gate = gates.find((g) => g.label === s.gate);
      if (!gate) {
        throw new KerasLensError(null, `layer '${layer.name}': weight '${ref.name}' names gate '${s.gate}', which ${layer.className} does not have`);
      }
      const width = ref.shape[ref.shape.length - 1];
      const base = roles.find((r) => r.role === s.role);
      return {
        role: s.role,
        meaning: `${base ? base.meaning : s.role}: ${gate.meaning} only (Keras 1 split array)`,
        shape: [...ref.shape],
        blocks: [{ label: gate.label, meaning: gate.meaning, axis: -1, start: 0, end: width }],
      };
    });
  }
  const idx = matchStoredToRoles(
    layer,
    refs,
    roles.map((r) => r.role),
  );
  return refs.map((ref, i) => ({ ...roles[idx[i]], shape: [...ref.shape] }));
}

/**
 * Keras 1 split arrays fused BY NAME into the Keras 2 layout: kernel = [W_i | W_f | W_c | W_o] (LSTM, gates in the
 * order given), never by stored position (Keras 1.2 lists LSTM arrays i, c, f, o). Returns null if the arrays are not
 * Keras 1 split arrays.
 */
export function fuseKeras1Split(
  layer: LayerConfig,
  stored: { ref: WeightRef; data: Float32Array }[],
  gates: Gate[],
): Map<string, Tensor> | null {
  const split = stored.map((s) => keras1SplitName(storedWeightName(s.ref)));
  if (stored.length === 0 || !split.every((s) => s !== null)) return null;
  const byRole = new Map<string, Map<string, { ref: WeightRef; data: Float32Array }>>();
  stored.forEach((s, i) => {
    const { role, gate } = split[i]!;
    if (!byRole.has(role)) byRole.set(role, new Map());
    const m = byRole.get(role)!;
    if (m.has(gate)) throw new KerasLensError(null, `layer '${layer.name}': two stored arrays for ${role} gate '${gate}'`);
    m.set(gate, s);
  });
  const out = new Map<string, Tensor>();
  for (const [role, parts] of byRole) {
    for (const g of gates) {
      if (!parts.has(g.label)) {
        throw new KerasLensError(null, `layer '${layer.name}': the Keras 1 ${role} array for the ${g.meaning} ('${g.label}') is missing`);
      }
    }
    const first = parts.get(gates[0].label)!;
    const rows = first.ref.shape.length === 2 ? first.ref.shape[0] : 1;
    const width = first.ref.shape[first.ref.shape.length - 1];
    const G = gates.length;
    const fused = new Float32Array(rows * G * width);
    gates.forEach((g, k) => {
      const part = parts.get(g.label)!;
      if (part.data.length !== rows * width) {
        throw new KerasLensError(null, `layer '${layer.name}': '${part.ref.name}' has shape (${part.ref.shape.join(',')}), expected (${first.ref.shape.join(',')})`);
      }
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < width; c++) fused[r * G * width + k * width + c] = part.data[r * width + c];
      }
    });
    out.set(role, { shape: first.ref.shape.length === 2 ? [rows, G * width] : [G * width], data: fused });
  }
  return out;
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

export interface RecurrentRun {
  /** The layer's outputs: [out] or [out, ...final states]. */
  outputs: Tensor[];
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
  let states: Float64Array[] = [];
  const saved = o.stateful ? args.ctx.states.get(o.stateKey) : undefined;
  const given = o.initialStates && o.initialStates.length > 0 ? o.initialStates : saved;
  for (let k = 0; k < cell.stateCount; k++) {
    const s = new Float64Array(B * S);
    const src = given?.[k];
    if (src) {
      if (src.data.length !== B * S) {
        throw new KerasLensError(
          null,
          `layer '${args.layer.name}': initial state ${k} has ${src.data.length} values, expected ${B}×${S}`,
        );
      }
      s.set(src.data);
    }
    states.push(s);
  }
  const mask = o.mask;
  if (mask && (mask.batch !== B || mask.steps !== T)) {
    throw new KerasLensError(null, `layer '${args.layer.name}': mask is ${mask.batch}×${mask.steps}, input is ${B}×${T}`);
  }
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
  if (o.stateful) {
    args.ctx.states.set(
      o.stateKey,
      states.map((s) => ({ shape: stateTensorShape, data: new Float64Array(s) })),
    );
  }
  const outputs: Tensor[] = [
    sequence ? { shape: [B, T, ...cell.stateShape], data: sequence } : { shape: stateTensorShape, data: prevOutput },
  ];
  if (o.returnState) for (const s of states) outputs.push({ shape: stateTensorShape, data: s });
  return { outputs, finalStates: states };
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

/** The output mask of a recurrent call: the input mask when returning sequences, none otherwise. */
export function recurrentOutputMasks(flags: RecurrentFlags, mask: Mask | null, outputCount: number): (Mask | null)[] {
  const masks: (Mask | null)[] = [flags.returnSequences ? mask : null];
  for (let k = 1; k < outputCount; k++) masks.push(null);
  return masks;
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
  const mask = args.masks[0] ?? null;
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
    mask,
    traceLayer: ov.traceLayer ?? args.layer.name,
    direction: ov.direction,
  });
  return { outputs: run.outputs, masks: recurrentOutputMasks(flags, mask, run.outputs.length) };
}
