/**
 * The fast path of a recurrent layer call, shaped for the layer kinds: given the ForwardArgs a kind receives and its
 * flags, run the whole sequence with the packed runners of recurrent.ts and return the same ForwardResult the kind's
 * readable step loop would (outputs, final states with return_state, stateful states, output mask).
 *
 * A kind calls it only when no trace is requested, and falls back to its own step loop when this returns null:
 * an activation the runners do not compute exactly as the kind's own function (checked by probing that function),
 * or a state/bias layout they do not know.
 *
 * Precision: float32 (f32x4 SIMD, Keras's own precision) where WebAssembly SIMD runs and every activation saturates,
 * float64 otherwise (see setFastRecurrentPrecision and SATURATING). Either way the checks, state handling and
 * outputs around the time loop are the readable step's own (recurrent-call.ts).
 *
 * Packed weights are cached per layer (keyed by the bound kernel array), so a model packs once and predicts often.
 * A large batch runs over helper threads where the runtime registered a splitter (src/kernels/batch-split.ts; the
 * Node one, src/engine/batch-split-node.ts, by the CLI worker and the extension's model worker), bit for bit as here.
 */
import type { ForwardArgs, ForwardResult, Tensor } from '../types';
import { KEEP_WORKSPACE_BYTES, preferredMatmulBackend, type Precision } from '../../kernels/workspace';
import { batchSplitter, preparePacked, runPrepared, type PreparedRecurrent } from '../../kernels/batch-split';
import type { RecurrentRunResult } from '../../kernels/recurrent';
import { callStartStates, checkedCallMask, finishCall } from './recurrent-call';
import type { RecurrentFlags, RunOverrides } from './recurrent';

/** What the fast path needs of a kind's activation: its Keras name and its per-element function. */
export interface NamedActivation {
  name: string;
  elementwise: ((x: number) => number) | null;
}

export interface FastRecurrentCell {
  cell: 'lstm' | 'gru' | 'simple_rnn';
  kernel: Tensor;
  recurrentKernel: Tensor;
  /** Canonical bias: LSTM (4u), GRU (3u) or reset_after (2, 3u), SimpleRNN (u); undefined without bias. */
  bias?: Tensor;
  /** GRU only. */
  resetAfter?: boolean;
  activation: NamedActivation;
  /** LSTM and GRU. */
  recurrentActivation?: NamedActivation;
}

// ---------------------------------------------------------------------------------------------
// Activations: accept a kind's activation only if it computes what the runner will compute.
// ---------------------------------------------------------------------------------------------

const PROBES = [-40, -7.5, -3, -2.5, -1.25, -0.3, 0, 1e-3, 0.4, 1.1, 2.5, 2.9, 3.5, 6.5, 40];

const RUNNER_FORMULAS: Record<string, (x: number, keras3: boolean) => number> = {
  linear: (x) => x,
  tanh: (x) => Math.tanh(x),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  hard_sigmoid: (x, k3) => Math.min(1, Math.max(0, k3 ? x / 6 + 0.5 : 0.2 * x + 0.5)),
  relu: (x) => Math.max(0, x),
};

function agrees(f: (x: number) => number, g: (x: number) => number): boolean {
  return PROBES.every((x) => Math.abs(f(x) - g(x)) <= 1e-12 * Math.max(1, Math.abs(g(x))));
}

type RunnerActivation = { name: string; keras3: boolean } | null;

/**
 * Probe results by function and name. The kinds resolve their activations per call, but tanh and sigmoid are the
 * same function objects every time (Math.tanh, activations.ts's sigmoid), so the 30 probes run once per process
 * instead of once per call (a few % of a batch-1 predict); a closure made per call just misses and is collected.
 */
const probed = new WeakMap<(x: number) => number, Map<string, RunnerActivation>>();

/** The runner's name for this activation and the hard_sigmoid formula it needs, or null when it cannot run it. */
export function runnerActivation(a: NamedActivation | undefined): { name: string; keras3: boolean } | null {
  if (!a || !a.elementwise) return null;
  let byName = probed.get(a.elementwise);
  const known = byName?.get(a.name);
  if (known !== undefined) return known;
  const result = probeActivation(a.name, a.elementwise);
  if (!byName) probed.set(a.elementwise, (byName = new Map()));
  byName.set(a.name, result);
  return result;
}

/**
 * The hard_sigmoid formula (Keras 3's or Keras 2's) one runner call uses for both its activations, or null when they
 * need different ones (a runner call takes one).
 */
export function hardSigmoidFormula(act: { name: string; keras3: boolean }, recAct: { name: string; keras3: boolean }): boolean | null {
  if (act.name === 'hard_sigmoid' && recAct.name === 'hard_sigmoid' && act.keras3 !== recAct.keras3) return null;
  return act.name === 'hard_sigmoid' ? act.keras3 : recAct.keras3;
}

function probeActivation(name: string, f: (x: number) => number): RunnerActivation {
  const formula = RUNNER_FORMULAS[name];
  if (!formula) return null;
  for (const keras3 of [false, true]) {
    if (agrees(f, (x) => formula(x, keras3))) return { name, keras3 };
  }
  return null; // e.g. relu with max_value / negative_slope / threshold
}

// ---------------------------------------------------------------------------------------------
// Per-layer cache of packed weights
// ---------------------------------------------------------------------------------------------

interface CacheEntry {
  recurrentKernel: Tensor['data'];
  /** The bias array the packing was made from (the same bound array: the same values, without comparing them). */
  biasArray: Tensor['data'] | null;
  /** A copy of its values, for a bias recomputed per call (CuDNN's summed halves). */
  bias: Tensor['data'] | null;
  resetAfter: boolean;
  prepared: PreparedRecurrent;
}
const cache = new WeakMap<Tensor['data'], CacheEntry[]>();

/**
 * Tensors that hold exactly the values of a float32 array (predict()'s model inputs, whose float64 copy is made only
 * when something reads `data`). The runners take that array itself: the same values (float32 → float64 is exact,
 * and either heap precision converts them identically), no float64 copy.
 */
const float32Inputs = new WeakMap<Tensor, Float32Array>();

/** Tell the fast path that tensor `t` holds exactly the values of `source` (until forgetFloat32Input). */
export function rememberFloat32Input(t: Tensor, source: Float32Array): void {
  float32Inputs.set(t, source);
}

export function forgetFloat32Input(t: Tensor): void {
  float32Inputs.delete(t);
}

/**
 * The packing the fast path holds for a layer's bound kernel array in this precision (on the backend layers get
 * now), or null. For the benchmark's bare-kernel contender, which must run on the very packing predict() uses: a
 * second copy of the weights would compete with it for the cache (two LSTM(128) packings are more than a 1 MB L2)
 * and charge that to one side.
 */
export function packingFor(kernel: Tensor['data'], p: Precision): PreparedRecurrent | null {
  const backend = preferredMatmulBackend();
  return cache.get(kernel)?.find((e) => e.prepared.precision === p && e.prepared.backend === backend)?.prepared ?? null;
}

let fastRuns = 0;
/** How many layer calls have run on the fast path in this process (lets benchmarks and tests see it was taken). */
export function fastRecurrentRunCount(): number {
  return fastRuns;
}

let enabled = true;
/**
 * Turn the fast path off (every call then runs the kinds' readable step) or back on. For the benchmark's
 * fast-vs-readable comparison; a requested trace turns it off per call without this.
 */
export function setFastRecurrentPath(on: boolean): void {
  enabled = on;
}

let precision: Precision = 'float32';
/**
 * The precision of the fast path from now on. 'float32' (default where WebAssembly SIMD runs): Keras's own
 * precision, f32x4 products; the conformance and oracle tests hold it to 1e-5 of Keras's outputs. 'float64': float64
 * throughout, equal to the readable step to ~1e-15 (test/kinds/fast-vs-readable.test.ts checks both). The
 * TypeScript backend always computes in float64, and so does a layer whose activations are not all saturating
 * (see SATURATING).
 */
export function setFastRecurrentPrecision(p: Precision): void {
  precision = p;
}

/**
 * float32 only where every activation is bounded: then the states stay O(1) and float32 rounding stays ~1e-7
 * relative per step, as in Keras. With linear or relu the values can grow step by step and the rounding with them
 * (a GRU with linear gates reaches 1e4 in 8 steps, where two float32 orders already differ by 2e-5 relative), so
 * such layers keep float64 — as close to Keras's exact result as we can be.
 */
export const SATURATING = new Set(['tanh', 'sigmoid', 'hard_sigmoid']);

/** Same values (a bias recomputed per call, e.g. CuDNN's summed halves, is the same bias). */
function sameValues(a: Tensor['data'] | null, b: Tensor['data'] | null): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

/** At most this many packings are kept per kernel array (one per kernel type / variant in practice). */
const MAX_ENTRIES_PER_KERNEL = 4;

function forget(spec: FastRecurrentCell, p: PreparedRecurrent): void {
  const entries = cache.get(spec.kernel.data);
  if (!entries) return;
  const kept = entries.filter((e) => e.prepared !== p);
  if (kept.length) cache.set(spec.kernel.data, kept);
  else cache.delete(spec.kernel.data);
}

function prepared(spec: FastRecurrentCell, units: number, saturating: boolean): PreparedRecurrent {
  const backend = preferredMatmulBackend();
  const wanted: Precision = backend === 'simd' && saturating ? precision : 'float64';
  const bias = spec.bias?.data ?? null;
  const resetAfter = !!spec.resetAfter;
  const entries = cache.get(spec.kernel.data) ?? [];
  const hit = entries.find(
    (e) =>
      e.recurrentKernel === spec.recurrentKernel.data &&
      e.resetAfter === resetAfter &&
      e.prepared.units === units &&
      e.prepared.cell === spec.cell &&
      e.prepared.backend === backend &&
      e.prepared.precision === wanted &&
      (e.biasArray === bias || sameValues(e.bias, bias)),
  );
  if (hit) return hit.prepared;
  const weights = { kernel: spec.kernel.data, recurrentKernel: spec.recurrentKernel.data, bias };
  const p = preparePacked(spec.cell, weights, units, resetAfter, { backend, precision: wanted });
  entries.unshift({ recurrentKernel: spec.recurrentKernel.data, biasArray: bias, bias: bias && bias.slice(), resetAfter, prepared: p });
  entries.length = Math.min(entries.length, MAX_ENTRIES_PER_KERNEL);
  cache.set(spec.kernel.data, entries);
  return p;
}

// ---------------------------------------------------------------------------------------------
// The call
// ---------------------------------------------------------------------------------------------

/**
 * Run one recurrent layer call on the fast path. Returns null when it cannot (the kind then runs its own steps).
 * Semantics as Keras backend.rnn: states carried over at masked steps, masked outputs = previous output (zeros
 * before the first step) or zeros with zero_output_for_mask; sequence in processing order.
 */
export function runRecurrentFast(
  args: ForwardArgs,
  flags: RecurrentFlags,
  overrides: RunOverrides,
  spec: FastRecurrentCell,
): ForwardResult | null {
  if (args.ctx.trace || !enabled) return null;
  const act = runnerActivation(spec.activation);
  const recAct = spec.cell === 'simple_rnn' ? { name: 'linear', keras3: false } : runnerActivation(spec.recurrentActivation);
  if (!act || !recAct) return null;
  const keras3 = hardSigmoidFormula(act, recAct);
  if (keras3 === null) return null;

  const x = args.inputs[0];
  if (!x || x.shape.length < 3) return null;
  const [batch, steps] = x.shape;
  const features = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const u = flags.units;
  const gates = spec.cell === 'lstm' ? 4 : spec.cell === 'gru' ? 3 : 1;
  if (spec.kernel.data.length !== features * gates * u) return null; // let the kind report the mismatch
  if (spec.recurrentKernel.data.length !== u * gates * u) return null;
  const biasLength = gates * u * (spec.cell === 'gru' && spec.resetAfter ? 2 : 1);
  if (spec.bias && spec.bias.data.length !== biasLength) return null;

  const mask = checkedCallMask(args, args.masks[0] ?? null, batch, steps);
  const call = { ...flags, stateKey: overrides.stateKey ?? args.layer.name };
  const start = callStartStates(args, call, spec.cell === 'lstm' ? 2 : 1, batch, u);

  const p = prepared(spec, u, SATURATING.has(act.name) && (spec.cell === 'simple_rnn' || SATURATING.has(recAct.name)));
  const opts = {
    goBackwards: overrides.goBackwards ?? flags.goBackwards,
    returnSequences: flags.returnSequences,
    initialH: start[0],
    initialC: start[1] ?? null,
    mask: mask?.data ?? null,
    maskedOutput: (overrides.zeroOutputForMask ?? flags.zeroOutputForMask) ? ('zero' as const) : ('previous' as const),
    activation: act.name,
    recurrentActivation: recAct.name,
    hardSigmoidKeras3: keras3,
  };
  // a large batch over helper threads where the runtime registered a splitter (Node: src/engine/batch-split-node.ts), with the
  // same result bit for bit; otherwise, or when it declines, on this thread
  const xData = float32Inputs.get(x) ?? x.data;
  const splitter = batchSplitter();
  const weights = { kernel: spec.kernel.data, recurrentKernel: spec.recurrentKernel.data, bias: spec.bias?.data ?? null };
  let run: RecurrentRunResult | null | undefined = splitter ? splitter.run({ prepared: p, weights, x: xData, batch, steps, features, opts }) : undefined;
  if (run === undefined) run = runPrepared(p, xData, batch, steps, features, opts);
  if (p.ws.heap.byteLength > KEEP_WORKSPACE_BYTES) forget(spec, p);
  if (!run) return null;
  fastRuns++;

  const stateShape = [batch, u];
  const states: Tensor[] = [{ shape: stateShape, data: run.h }];
  if (run.c) states.push({ shape: stateShape, data: run.c });
  const main: Tensor = run.sequence ? { shape: [batch, steps, u], data: run.sequence } : { shape: stateShape, data: run.last };
  return finishCall(args, call, mask, main, states);
}
