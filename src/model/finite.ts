/**
 * NaN / ±Infinity in weights or inputs. Pure; the model binds weights through it, formats and engine reuse it.
 *   checkFinite(data, shape, file, what)     throws, naming the first bad element;
 *   findNonFinite(data) / nonFiniteProblem   the first bad element / the sentence for a warning instead.
 */
import { KerasLensError } from './types';

export interface NonFinite {
  /** Flat (row-major) index of the first non-finite element. */
  index: number;
  value: number;
  count: number;
}

/** The first NaN / ±Infinity and how many there are, or null when every element is finite. */
export function findNonFinite(data: ArrayLike<number>): NonFinite | null {
  let first = -1;
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // v - v is 0 for finite numbers, NaN for NaN and ±Infinity
    if (v - v !== 0) {
      if (first < 0) first = i;
      count++;
    }
  }
  return first < 0 ? null : { index: first, value: data[first], count };
}

/** Flat index -> [i, j, k] for a row-major shape. */
export function unravelIndex(index: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(0);
  let rest = index;
  for (let a = shape.length - 1; a >= 0; a--) {
    const d = shape[a] || 1;
    out[a] = rest % d;
    rest = Math.floor(rest / d);
  }
  return out;
}

/** "weight lstm_1/kernel:0 holds 3 non-finite values (first: NaN at [0, 5])", or null when all are finite. */
export function nonFiniteProblem(data: ArrayLike<number>, shape: readonly number[], what: string): string | null {
  const bad = findNonFinite(data);
  if (!bad) return null;
  const at = shape.length ? `[${unravelIndex(bad.index, shape).join(', ')}]` : `index ${bad.index}`;
  const plural = bad.count === 1 ? 'value' : 'values';
  return `${what} holds ${bad.count} non-finite ${plural} (first: ${String(bad.value)} at ${at})`;
}

/** Throws KerasLensError(file, ...) when data holds NaN / ±Infinity. */
export function checkFinite(data: ArrayLike<number>, shape: readonly number[], file: string | null, what: string): void {
  const problem = nonFiniteProblem(data, shape, what);
  if (problem) throw new KerasLensError(file, problem);
}
