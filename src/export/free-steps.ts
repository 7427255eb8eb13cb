/**
 * Free steps axis: a model whose input is (batch, None, features) takes sequences of any length. The plan is made
 * of fixed sizes, so the code is built twice, from the plans for two sentinel step counts S1 and S2 (large numbers no
 * real size reaches), and every integer literal n >= S/2 in it is read as n = b * S + a, i.e. the expression
 * `b * steps + a`. Both texts must then be the same: that proves every size is an affine function of the steps
 * (strided pooling or convolution, floor((S - k) / s) + 1, is not, and is refused with one line). The code then takes
 * `steps` from its input at call time.
 *
 * S1 is odd and S2 even, so that a halving (floor) gives different remainders and cannot pass as affine.
 */
import { KerasLensError } from '../model/types';
import type { Plan } from './plan';
import { shapeText } from './describe';

export const SENTINEL_STEPS: [number, number] = [1_000_000_007, 1_000_000_010];

/** `b * steps + a` as code. */
export function stepsExpr(b: number, a: number, name = 'steps'): string {
  const t = b === 1 ? name : `${b} * ${name}`;
  if (a === 0) return b === 1 ? name : `(${t})`;
  return `(${t} ${a < 0 ? '-' : '+'} ${Math.abs(a)})`;
}

/**
 * Rewrites the integer literals of `text` (built for `sentinel` steps) that carry the steps as expressions in
 * `name`; null when a literal is not `b * sentinel + a` with small a (not affine).
 */
export function symbolicSteps(text: string, sentinel: number, name = 'steps'): string | null {
  let ok = true;
  const out = text.replace(/(?<![\w.]|[eE][+-])\d{9,}(?![\w.])/g, (lit) => {
    const n = Number(lit);
    const b = Math.round(n / sentinel);
    const a = n - b * sentinel;
    if (b < 1 || Math.abs(a) > sentinel / 100) {
      ok = false;
      return lit;
    }
    return stepsExpr(b, a, name);
  });
  return ok ? out : null;
}

/** The one code text for any steps, from the texts built at the two sentinels; refuses when they disagree. */
export function stepsGeneric(source: string, texts: [string, string], name = 'steps', what = 'the code'): string {
  const a = symbolicSteps(texts[0], SENTINEL_STEPS[0], name);
  const b = symbolicSteps(texts[1], SENTINEL_STEPS[1], name);
  if (a === null || b === null || a !== b) {
    throw new KerasLensError(source, `cannot export ${what} for a free steps axis: some size is not a linear function of the number of steps (strided Conv1D or pooling after the free axis?); fix the steps in the model's input shape`);
  }
  return a;
}

/** A per-sample shape as module-level text, where no `steps` exists: the free axis (a sentinel) says `none`. */
export function moduleShapeText(plan: Plan, shape: number[], none = 'None'): string {
  return plan.freeSteps === null ? shapeText(shape) : shapeText(shape.map((d) => (d >= SENTINEL_STEPS[0] / 2 ? none : d)) as unknown as number[]);
}

/** A per-sample shape with -1 on the free axis (C's and Java's shape tables). */
export function shapeMinusOne(plan: Plan, shape: number[]): number[] {
  return plan.freeSteps === null ? shape : shape.map((d) => (d >= SENTINEL_STEPS[0] / 2 ? -1 : d));
}

/** The index of the input whose steps axis gives `steps` at call time (the first free one), or -1. */
export function stepsInput(plan: Plan): number {
  return plan.freeSteps === null ? -1 : plan.inputs.findIndex((i) => i.tensor.shape[0] === plan.freeSteps);
}
