/**
 * Splitting a large batch of one recurrent layer call over helper threads — the pure part, which the web bundles get
 * too: the hook a runtime with threads registers (setBatchSplitter; the Node one is src/engine/batch-split-node.ts, registered
 * by the CLI's worker and the extension's model worker at start), and the sample-range runner both sides use.
 *
 * Why it is exact: the samples of a batch are independent in every recurrent runner — each row of a product is
 * accumulated in the same fixed order whatever tile computes it (workspace.ts, matmul), the activations and state
 * updates are per element, masks and initial states are per sample. So running samples [from, to) alone gives bit
 * for bit the rows [from, to) of the whole batch's run (test/kernels/batch-split.test.ts checks it through threads).
 */
import {
  prepareGru,
  prepareLstm,
  prepareSimpleRnn,
  runGru,
  runLstm,
  runSimpleRnn,
  type PrepareOptions,
  type PreparedGru,
  type PreparedLstm,
  type PreparedSimpleRnn,
  type RecurrentArray,
  type RecurrentRunOptions,
  type RecurrentRunResult,
  type RecurrentWeights,
} from './recurrent';

export type PreparedRecurrent = PreparedLstm | PreparedGru | PreparedSimpleRnn;

/** One recurrent layer call, as runRecurrentFast would run it on this thread. */
export interface SplitJob {
  /** This thread's packed layer (it runs its share of the samples with it). */
  prepared: PreparedRecurrent;
  /** The layer's weights as bound, for a helper to pack its own copy once (prepareLstm/Gru/SimpleRnn). */
  weights: RecurrentWeights;
  x: RecurrentArray;
  batch: number;
  steps: number;
  features: number;
  opts: RecurrentRunOptions;
}

/** A runtime's way of running one call over several threads. */
export interface BatchSplitter {
  /**
   * The whole call's result (what runPrepared would return, bit for bit), or undefined when this call is not
   * split (too small, no helper threads) — the caller then runs it alone. Synchronous, like the kinds' forward().
   */
  run(job: SplitJob): RecurrentRunResult | null | undefined;
}

let registered: BatchSplitter | null = null;

/** Install (or with null remove) the splitter that recurrent calls use from now on; returns the previous one. */
export function setBatchSplitter(splitter: BatchSplitter | null): BatchSplitter | null {
  const previous = registered;
  registered = splitter;
  return previous;
}

/** The registered splitter, or null (the web, or a runtime that registered none: every call runs on one thread). */
export function batchSplitter(): BatchSplitter | null {
  return registered;
}

/** prepareLstm / prepareGru / prepareSimpleRnn by cell (`resetAfter` is GRU's; the others ignore it). */
export function preparePacked(
  cell: PreparedRecurrent['cell'],
  weights: RecurrentWeights,
  units: number,
  resetAfter: boolean,
  options: PrepareOptions,
): PreparedRecurrent {
  if (cell === 'lstm') return prepareLstm(weights, units, options);
  if (cell === 'gru') return prepareGru(weights, units, resetAfter, options);
  return prepareSimpleRnn(weights, units, options);
}

/** runLstm / runGru / runSimpleRnn by the packed layer's cell. */
export function runPrepared(p: PreparedRecurrent, x: RecurrentArray, batch: number, steps: number, features: number, opts: RecurrentRunOptions): RecurrentRunResult | null {
  if (p.cell === 'lstm') return runLstm(p, x, batch, steps, features, opts);
  if (p.cell === 'gru') return runGru(p, x, batch, steps, features, opts);
  return runSimpleRnn(p, x, batch, steps, features, opts);
}

/** Samples [from, to) of a call: the same options with the input, mask and initial states cut to those rows. */
export function runSampleRange(
  p: PreparedRecurrent,
  x: RecurrentArray,
  steps: number,
  features: number,
  opts: RecurrentRunOptions,
  from: number,
  to: number,
): RecurrentRunResult | null {
  const u = p.units;
  const part: RecurrentRunOptions = {
    ...opts,
    initialH: opts.initialH ? opts.initialH.subarray(from * u, to * u) : opts.initialH,
    initialC: opts.initialC ? opts.initialC.subarray(from * u, to * u) : opts.initialC,
    mask: opts.mask ? opts.mask.subarray(from * steps, to * steps) : opts.mask,
  };
  return runPrepared(p, x.subarray(from * steps * features, to * steps * features), to - from, steps, features, part);
}

/** Where a sample range's result goes in the whole batch's arrays (sequence: (batch, steps, units); others (batch, units)). */
export interface SplitOutputs {
  last: Float64Array;
  h: Float64Array;
  c: Float64Array | null;
  sequence: Float64Array | null;
}

/** Copies the result of samples [from, to) into the whole batch's arrays. */
export function placeSampleRange(r: RecurrentRunResult, out: SplitOutputs, units: number, steps: number, from: number): void {
  out.last.set(r.last, from * units);
  out.h.set(r.h, from * units);
  if (out.c && r.c) out.c.set(r.c, from * units);
  if (out.sequence && r.sequence) out.sequence.set(r.sequence, from * steps * units);
}
