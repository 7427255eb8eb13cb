/**
 * A PredictResult turned into what the results panel draws: flat output values (with a softmax-like flag for bars)
 * and per-layer traces flattened per step. Big traces keep the first samples only. Pure (no vscode).
 */
import type { PredictResult } from '../src/engine/predict';
import type { RecurrentTrace, Tensor } from '../src/model/types';
import type { OutputSummary, PredictResultsSummary, TraceSummary } from './protocol';

/** Values kept per trace (steps x samples x units x series) before dropping samples. */
const MAX_TRACE_VALUES = 4_000_000;

/** True when every row along the last axis lies in [0,1] and sums to 1 (within float error): draw bars. */
export function looksLikeProbabilities(t: { shape: number[]; data: ArrayLike<number> }): boolean {
  const n = t.shape.length ? t.shape[t.shape.length - 1] : 0;
  if (n < 2 || t.data.length === 0) return false;
  for (let r = 0; r < t.data.length / n; r++) {
    let sum = 0;
    for (let c = 0; c < n; c++) {
      const v = t.data[r * n + c];
      if (!(v >= -1e-6 && v <= 1 + 1e-6)) return false;
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-3) return false;
  }
  return true;
}

export function outputSummary(name: string, t: Tensor): OutputSummary {
  return { name, shape: [...t.shape], values: Array.from(t.data), looksLikeProbabilities: looksLikeProbabilities(t) };
}

/** One trace record flattened: values[t][b*units+u], keeping only the first `samples` of the batch. */
export function traceSummary(r: RecurrentTrace, maxValues = MAX_TRACE_VALUES): TraceSummary {
  const first = r.hidden[0];
  const batch = first ? first.shape[0] : 0;
  const units = first ? first.data.length / Math.max(1, batch) : 0;
  const steps = r.hidden.length;
  const series = r.gates.length + (r.cell ? 1 : 0) + 1;
  const perSample = Math.max(1, steps * units * series);
  const samples = Math.max(1, Math.min(batch, Math.floor(maxValues / perSample)));
  const take = (ts: Tensor[]) => ts.map((t) => Array.from(t.data.subarray(0, samples * units)));
  const out: TraceSummary = {
    layer: r.layer,
    gates: [...r.gates],
    steps,
    batch: Math.min(batch, samples),
    units,
    gateValues: Object.fromEntries(r.gates.map((g) => [g, take(r.gateValues[g] ?? [])])),
    hidden: take(r.hidden),
  };
  if (r.direction) out.direction = r.direction;
  if (r.cell) out.cell = take(r.cell);
  return out;
}

export function resultsSummary(result: PredictResult, modelName: string, inputName: string, elapsedMs: number): PredictResultsSummary {
  return {
    modelName,
    inputName,
    elapsedMs,
    outputs: result.outputs.map((t, k) => outputSummary(result.outputNames[k] ?? `output_${k}`, t)),
    traces: (result.trace ?? []).map((r) => traceSummary(r)),
  };
}

/** The largest batch (first axis) among the inputs. */
export function batchSize(inputs: Record<string, Tensor>): number {
  return Math.max(0, ...Object.values(inputs).map((t) => t.shape[0] ?? 0));
}
