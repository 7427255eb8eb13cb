/**
 * Keras's compute_mask for merge layers: a step is real only where it is real in every input that has a mask
 * (inputs without a mask count as all real). No input mask at all -> no output mask.
 */
import type { Mask } from '../../types';

export function andMasks(masks: (Mask | null)[]): Mask | null {
  const present = masks.filter((m): m is Mask => !!m);
  if (present.length === 0) return null;
  const first = present[0];
  const data = Uint8Array.from(first.data);
  for (const m of present.slice(1)) {
    if (m.batch !== first.batch || m.steps !== first.steps) {
      throw new Error(`cannot combine masks of shapes (${first.batch}, ${first.steps}) and (${m.batch}, ${m.steps})`);
    }
    for (let i = 0; i < data.length; i++) data[i] = data[i] && m.data[i] ? 1 : 0;
  }
  return { batch: first.batch, steps: first.steps, data };
}
