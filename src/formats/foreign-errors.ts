/**
 * Anything a library threw (h5wasm's multi-line HDF5-DIAG stacks, emscripten aborts, non-Error values, RangeError
 * from deep recursion) made into one clean line:
 *   toKerasLensError(err, file, doing?)   wrap into a KerasLensError naming the file;
 *   describeForeignError(err)             the one-line problem text it uses.
 */
import { KerasLensError } from '../model/types';
import { oneLineText } from '../model/text';

/**
 * One line describing anything a library threw:
 *  - h5wasm with its throwing error handler: a multi-line "HDF5-DIAG: Error detected ..." stack -> the innermost
 *    frame's text ("file signature not found", "unable to read superblock" ...);
 *  - emscripten aborts (WebAssembly.RuntimeError "Aborted(...)", "memory access out of bounds", "unreachable") ->
 *    "the HDF5 reader crashed on damaged data (...)";
 *  - non-Error values (emscripten throws numbers for C++ exceptions) -> "internal error code N";
 *  - RangeError "Maximum call stack size exceeded" -> "structure nested too deeply".
 */
export function describeForeignError(err: unknown): string {
  if (err instanceof KerasLensError) return err.problem;
  let msg: string;
  if (err instanceof Error) msg = err.message;
  else if (typeof err === 'number' || typeof err === 'bigint') return `internal error code ${String(err)} in the file reader`;
  else if (typeof err === 'string') msg = err;
  else if (err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
    msg = (err as { message: string }).message;
  } else {
    try {
      msg = String(err);
    } catch {
      msg = 'unknown error';
    }
  }
  if (/HDF5-DIAG/.test(msg)) {
    // frames look like "  #006: /path/H5Fsuper.c line 388 in H5F__super_read(): file signature not found"
    const frames = [...msg.matchAll(/#\d+:[^\n]*? in [A-Za-z0-9_]+\(\): ([^\n]*)/g)].map((m) => m[1].trim());
    const innermost = frames[frames.length - 1];
    const minors = [...msg.matchAll(/minor: ([^\n]*)/g)].map((m) => m[1].trim());
    const minor = minors[minors.length - 1];
    const text = [innermost, minor && minor !== innermost ? minor : null].filter(Boolean).join(': ');
    return `HDF5 error: ${text || 'unreadable HDF5 data'}`;
  }
  if (err instanceof RangeError && /call stack/i.test(msg)) return 'structure nested too deeply (call stack exhausted)';
  if ((typeof WebAssembly !== 'undefined' && err instanceof WebAssembly.RuntimeError) || /^Aborted\(/.test(msg)) {
    return `the HDF5 reader crashed on damaged data (${oneLineText(msg).slice(0, 120)})`;
  }
  if (err instanceof RangeError && /Array buffer allocation failed|Invalid typed array length|Invalid array length/i.test(msg)) {
    return `data too large to hold in memory (${oneLineText(msg)})`;
  }
  return oneLineText(msg) || 'unknown error';
}

/**
 * Anything -> KerasLensError naming the file. A KerasLensError passes through unchanged; `doing` prefixes the
 * problem ("reading dataset /model_weights/lstm_1/kernel:0").
 */
export function toKerasLensError(err: unknown, file: string | null, doing?: string): KerasLensError {
  if (err instanceof KerasLensError) return err;
  const problem = describeForeignError(err);
  return new KerasLensError(file, doing ? `${doing}: ${problem}` : problem);
}
