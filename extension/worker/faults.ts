/**
 * TEST-ONLY fault injection for the model worker: proves that a hang or a memory blow-up inside model work is
 * contained (the worker is ended and replaced, the window keeps working). Inert in production: the spec comes from
 * the environment variable KERAS_LENS_TEST_FAULTS of the extension host, which nobody sets outside the tests; with
 * it unset or empty, `parseFaults` returns nothing and `injectFault` does nothing.
 *
 * Spec: comma-separated `kind:op:name`, e.g. `hang:open:hang_me.h5,oom:weight:oom_me.h5`
 *   kind  hang (a synchronous endless loop, like a WebAssembly library stuck in a damaged file)
 *         oom  (allocates JS memory until the worker's heap cap ends it)
 *   op    open | weight (a getWeight read) | predict
 *   name  the fault fires when the model file's name contains this text
 */
export const FAULTS_ENV = 'KERAS_LENS_TEST_FAULTS';

export type FaultOp = 'open' | 'weight' | 'predict';

export interface Fault {
  kind: 'hang' | 'oom';
  op: FaultOp;
  name: string;
}

export function parseFaults(spec: string | undefined): Fault[] {
  if (!spec) return [];
  const out: Fault[] = [];
  for (const part of spec.split(',')) {
    const [kind, op, ...name] = part.trim().split(':');
    if ((kind === 'hang' || kind === 'oom') && (op === 'open' || op === 'weight' || op === 'predict') && name.join(':')) {
      out.push({ kind, op, name: name.join(':') });
    }
  }
  return out;
}

/** Run the first fault that matches this operation on this file (never returns for a match). */
export function injectFault(faults: Fault[], op: FaultOp, path: string): void {
  const base = path.split(/[\\/]/).pop() ?? path;
  const f = faults.find((x) => x.op === op && base.includes(x.name));
  if (!f) return;
  if (f.kind === 'hang') {
    for (;;) {
      // endless and synchronous: nothing on this thread can interrupt it
    }
  }
  const hog: number[][] = [];
  for (;;) hog.push(new Array<number>(1 << 20).fill(hog.length + 0.5));
}
