/**
 * A prediction as plain JSON, the shape `keras-lens predict --json` prints and the extension's results panel reads:
 * `{"outputs": [...], "outputNames": [...], "trace"?: [...]}` (outputs keep the batch axis, nested row-major).
 */
import type { RecurrentTrace, Tensor } from '../model/types';
import type { PredictResult } from './predict';

/** A tensor as nested arrays (row-major), e.g. shape (2, 3) -> [[a, b, c], [d, e, f]]. */
export function nestedArray(t: Tensor): unknown {
  const build = (axis: number, offset: number): unknown => {
    if (axis === t.shape.length) return t.data[offset];
    const stride = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: t.shape[axis] }, (_, i) => build(axis + 1, offset + i * stride));
  };
  return build(0, 0);
}

/** Per-step tensors (each batch × ...) as one nested array indexed [step][batch]... */
function stepsArray(steps: Tensor[]): unknown[] {
  return steps.map((t) => nestedArray(t));
}

/** The trace as JSON: per recurrent layer and direction, per-timestep gates, cell and hidden state. */
export function traceJson(trace: RecurrentTrace[]): unknown[] {
  return trace.map((r) => {
    const o: Record<string, unknown> = { layer: r.layer };
    if (r.direction) o.direction = r.direction;
    o.gates = r.gates;
    o.steps = r.hidden.length;
    o.gateValues = Object.fromEntries(r.gates.map((g) => [g, stepsArray(r.gateValues[g] ?? [])]));
    if (r.cell) o.cell = stepsArray(r.cell);
    o.hidden = stepsArray(r.hidden);
    if (r.skipped) o.skipped = r.skipped.map((s) => Array.from(s));
    return o;
  });
}

export function predictJson(result: PredictResult): Record<string, unknown> {
  const o: Record<string, unknown> = {
    outputs: result.outputs.map(nestedArray),
    outputNames: result.outputNames,
  };
  if (result.trace) o.trace = traceJson(result.trace);
  return o;
}
