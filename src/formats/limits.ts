/**
 * Limits and guards for bytes that come from strangers: model files and JSON downloaded from the internet.
 *
 * Everything here is pure (no node-only imports), so the engine, the explanations and the extension can use it too.
 * Every refusal is a `KerasLensError(file, problem)`: one line naming the file and the problem.
 *
 * What to call, and where:
 *   safeJsonParse(text, source, opts?)      any JSON a user handed us (architecture, weights dump, model input):
 *                                            size cap, nesting depth scanned BEFORE JSON.parse (no recursion, so
 *                                            100k `[` cannot blow the stack), `__proto__`/`constructor`/`prototype`
 *                                            keys refused (or stripped), Python's NaN/Infinity tokens optional.
 *   checkFinite(data, shape, file, what)    NaN / ±Infinity in weights or inputs: throws, naming the first bad
 *   findNonFinite(data) / nonFiniteProblem   element (nonFiniteProblem returns the sentence for a warning instead).
 *   checkTensorSize(file, what, shape)      a declared shape before allocating for it (corrupt headers can claim
 *                                            2^60 elements).
 *   checkInflateSize(file, entry, c, n)     a zip entry's declared sizes before inflating (absolute cap + ratio cap,
 *                                            so a few hundred KB claiming hundreds of MB is refused at once).
 *   checkStoredSize(file, what, shape,       an HDF5 dataset's claimed bytes against the bytes of the file holding it,
 *                   itemBytes, fileBytes)    before reading it (an "HDF5 bomb": chunked datasets resized but never
 *                                            written claim GBs in a few KB; reading them allocates the claim).
 *   damagedGlobalHeap(size, readAt)         HDF5 global heap collections (vlen strings: model_config, keras_version)
 *                                            walked as HDF5 walks them; an object that would not advance the walk
 *                                            makes the HDF5 C library loop forever (found by test/fuzz), so the
 *                                            file is refused before h5wasm sees it.
 *   toKerasLensError(err, file, doing?)     wrap anything a library threw (h5wasm's multi-line HDF5-DIAG stacks,
 *                                            emscripten aborts, non-Error values, RangeError from deep recursion)
 *                                            into one clean line.
 *   describeForeignError(err)               the one-line problem text used by toKerasLensError.
 *   terminalSafe(text)                      text from a file made safe for a terminal (escape sequences, bidi).
 *   shortText(text, max?)                   a name/value from a file cut to quote in a one-line message.
 */
import { KerasLensError } from '../model/types';

export interface Limits {
  /** Largest JSON text we parse (UTF-16 code units ~ bytes for ASCII JSON). */
  maxJsonBytes: number;
  /** Deepest nesting of `[`/`{` we accept. Keras configs nest ~20 levels; a 5-D weight as lists ~7 under its layer. */
  maxJsonDepth: number;
  /** Total bytes we inflate from one `.keras` zip. */
  maxInflateBytes: number;
  /** Largest inflated/compressed ratio accepted for entries bigger than `inflateRatioFloorBytes`. */
  maxInflateRatio: number;
  /** Entries that inflate to less than this are never refused for their ratio (small configs compress well). */
  inflateRatioFloorBytes: number;
  /** Largest number of elements in one tensor (weight or input) we allocate. */
  maxTensorElements: number;
  /** Largest claimed-data / file-size ratio for a stored array bigger than `storedRatioFloorBytes`. */
  maxStoredRatio: number;
  storedRatioFloorBytes: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxJsonBytes: 512 * MiB,
  maxJsonDepth: 256,
  maxInflateBytes: 2048 * MiB,
  // Float weights (even trained ones) deflate to ~90% of their size; all-zero tensors of an untrained model reach
  // ~1000:1 but are never hundreds of MB in a model one would inspect. Deflate's maximum is ~1032:1.
  maxInflateRatio: 100,
  inflateRatioFloorBytes: 64 * MiB,
  maxTensorElements: 2 ** 28,
  // Keras writes every weight in full (h5py contiguous datasets, no compression): a dataset's data is in the file.
  maxStoredRatio: 20,
  storedRatioFloorBytes: 16 * MiB,
});

// -------------------------------------------------------------------------------------------------
// Sizes
// -------------------------------------------------------------------------------------------------

/** "1.5 MB", "300 MB", "12 KB" — for messages. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < MiB) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  if (n < 1024 * MiB) return `${(n / MiB).toFixed(n < 10 * MiB ? 1 : 0)} MB`;
  return `${(n / (1024 * MiB)).toFixed(1)} GB`;
}

/** A declared shape is sane: non-negative safe integers, product within the element cap. Returns the product. */
export function checkTensorSize(
  file: string | null,
  what: string,
  shape: readonly number[],
  maxElements: number = DEFAULT_LIMITS.maxTensorElements,
): number {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new KerasLensError(file, `${what} has an invalid shape (${shape.map(String).join(', ')})`);
    }
    n *= d;
  }
  if (n > maxElements) {
    throw new KerasLensError(
      file,
      `${what} has shape (${shape.join(', ')}) = ${n} elements, more than the limit of ${maxElements} (damaged file?)`,
    );
  }
  return n;
}

/**
 * A zip entry's declared sizes, checked before inflating it: absolute cap, and a ratio cap for big entries (a zip
 * bomb is a few hundred KB of deflate claiming hundreds of MB). `budget` is what is left of the archive's total cap.
 */
export function checkInflateSize(
  file: string | null,
  entryName: string,
  compressedSize: number,
  declaredSize: number,
  budget: number = DEFAULT_LIMITS.maxInflateBytes,
  limits: Pick<Limits, 'maxInflateRatio' | 'inflateRatioFloorBytes'> = DEFAULT_LIMITS,
): void {
  if (declaredSize > budget) {
    throw new KerasLensError(
      file,
      `zip entry '${entryName}' would inflate to ${formatBytes(declaredSize)}, over the ${formatBytes(budget)} limit (zip bomb?); refused`,
    );
  }
  if (declaredSize > limits.inflateRatioFloorBytes && declaredSize > compressedSize * limits.maxInflateRatio) {
    const ratio = compressedSize > 0 ? Math.round(declaredSize / compressedSize) : Infinity;
    throw new KerasLensError(
      file,
      `zip entry '${entryName}' would inflate ${formatBytes(compressedSize)} to ${formatBytes(declaredSize)} ` +
        `(${ratio}:1, over the ${limits.maxInflateRatio}:1 limit for model data; zip bomb?); refused`,
    );
  }
}

/**
 * A stored array's claimed data must be (roughly) in the file that holds it. HDF5 lets a dataset claim any shape
 * while storing nothing (unwritten chunks read as the fill value), so a few KB can make a reader allocate GBs.
 * `fileBytes` is the size of the HDF5 file (or of the in-memory image from a .keras). Returns the element count.
 */
export function checkStoredSize(
  file: string | null,
  what: string,
  shape: readonly number[],
  itemBytes: number,
  fileBytes: number,
  limits: Pick<Limits, 'maxTensorElements' | 'maxStoredRatio' | 'storedRatioFloorBytes'> = DEFAULT_LIMITS,
): number {
  const n = checkTensorSize(file, what, shape, limits.maxTensorElements);
  const claimed = n * Math.max(1, itemBytes);
  if (claimed > limits.storedRatioFloorBytes && claimed > fileBytes * limits.maxStoredRatio) {
    throw new KerasLensError(
      file,
      `${what} claims ${formatBytes(claimed)} of data (shape (${shape.join(', ')})) but the file is only ${formatBytes(fileBytes)}; ` +
        `damaged or crafted file, refused before reading it`,
    );
  }
  return n;
}

// -------------------------------------------------------------------------------------------------
// HDF5 global heaps
// -------------------------------------------------------------------------------------------------

const GCOL = [0x47, 0x43, 0x4f, 0x4c]; // "GCOL"

/**
 * Walks every HDF5 global heap collection ("GCOL", version 1) the way the HDF5 library does when it loads one:
 * objects of 16-byte header (index u16, refcount u16, reserved u32, size u64) + data padded to 8; index 0 is the
 * free space, whose size is taken as is. When an object would not move the walk forward or would run past the
 * collection, HDF5 2.0 (as built in h5wasm) loops forever: the file is damaged. Returns a description of the first
 * such collection ("global heap at byte 2048 is damaged (object 0 at byte 3504 has size 0)"), or null.
 *
 * `readAt(position, length)` reads the file (it may return fewer bytes at the end). The whole file is scanned in
 * 4 MiB windows for the signature; only candidate collections are decoded.
 */
export function damagedGlobalHeap(fileSize: number, readAt: (position: number, length: number) => Uint8Array): string | null {
  const WINDOW = 4 * MiB;
  for (let start = 0; start < fileSize; start += WINDOW) {
    const chunk = readAt(start, Math.min(WINDOW + 3, fileSize - start));
    for (let i = chunk.indexOf(GCOL[0]); i >= 0 && i + 4 <= chunk.length; i = chunk.indexOf(GCOL[0], i + 1)) {
      if (chunk[i + 1] !== GCOL[1] || chunk[i + 2] !== GCOL[2] || chunk[i + 3] !== GCOL[3]) continue;
      const at = start + i;
      if (i >= WINDOW) continue; // seen again in the next window
      const problem = globalHeapCollectionProblem(at, fileSize, readAt);
      if (problem) return problem;
    }
  }
  return null;
}

function globalHeapCollectionProblem(at: number, fileSize: number, readAt: (position: number, length: number) => Uint8Array): string | null {
  const head = readAt(at, 16);
  if (head.length < 16 || head[4] !== 1) return null; // not a version-1 collection header
  const hv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const size = Number(hv.getBigUint64(8, true));
  if (size < 16 || at + size > fileSize) return null; // HDF5 refuses these itself (or it is not a collection)
  const body = readAt(at, size);
  if (body.length < size) return null;
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let p = 16;
  for (let n = 0; p + 16 <= size; n++) {
    const index = v.getUint16(p, true);
    const objectSize = v.getBigUint64(p + 8, true);
    const need = index === 0 ? objectSize : 16n + ((objectSize + 7n) / 8n) * 8n;
    if (need === 0n || BigInt(p) + need > BigInt(size)) {
      return `HDF5 global heap at byte ${at} is damaged (object ${index} at byte ${at + p} has size ${objectSize})`;
    }
    p += Number(need);
    if (n > size) break;
  }
  return null;
}

// -------------------------------------------------------------------------------------------------
// JSON
// -------------------------------------------------------------------------------------------------

/** Keys that reach Object.prototype when user data is copied with `obj[key] = value` or merged. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isForbiddenKey(key: string): boolean {
  return FORBIDDEN_KEYS.has(key);
}

export interface JsonParseOptions {
  /** What the text is, for messages: 'the input file', 'config.json', ... (default 'the JSON'). */
  what?: string;
  maxBytes?: number;
  maxDepth?: number;
  /** `__proto__` / `constructor` / `prototype` keys: refuse the file (default) or drop the key. */
  forbiddenKeys?: 'reject' | 'strip';
  /** Accept Python json.dumps' bare NaN / Infinity / -Infinity tokens, read as null (default false). */
  pythonNonFinite?: boolean;
}

/**
 * Deepest `[`/`{` nesting of a JSON text, scanned without recursion; stops early once past `stopAbove`.
 * Brackets inside strings are skipped (escape aware).
 */
export function jsonNestingDepth(text: string, stopAbove = Infinity): number {
  let depth = 0;
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // skip the string
      for (i++; i < n; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c /* \ */) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) {
        max = depth;
        if (max > stopAbove) return max;
      }
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return max;
}

/**
 * JSON.parse for text from a user's file, guarded. Throws KerasLensError(source, ...) with one line on: too big,
 * nested deeper than the limit, invalid JSON (with the position), forbidden keys (unless stripping).
 */
export function safeJsonParse(text: string, source: string | null, opts: JsonParseOptions = {}): unknown {
  const what = opts.what ?? 'the JSON';
  const maxBytes = opts.maxBytes ?? DEFAULT_LIMITS.maxJsonBytes;
  const maxDepth = opts.maxDepth ?? DEFAULT_LIMITS.maxJsonDepth;
  if (text.length > maxBytes) {
    throw new KerasLensError(source, `${what} is ${formatBytes(text.length)}, over the ${formatBytes(maxBytes)} limit for JSON`);
  }
  if (jsonNestingDepth(text, maxDepth) > maxDepth) {
    throw new KerasLensError(source, `${what} is nested deeper than ${maxDepth} levels; refused`);
  }
  const keys = opts.forbiddenKeys ?? 'reject';
  // The reviver costs a call per value: only use it when a forbidden key can be present (literally, or spelled with
  // \u escapes, which JSON.parse decodes).
  const suspicious = text.includes('\\u') || [...FORBIDDEN_KEYS].some((k) => text.includes(k));
  const reviver = suspicious
    ? function (this: Record<string, unknown>, key: string, value: unknown): unknown {
        if (isForbiddenKey(key) && this !== null && typeof this === 'object' && !Array.isArray(this)) {
          if (keys === 'reject') {
            throw new KerasLensError(source, `${what} contains the key '${key}', which is not allowed in Keras data; refused`);
          }
          return undefined; // dropped
        }
        return value;
      }
    : undefined;
  const parse = (t: string) => (reviver ? JSON.parse(t, reviver) : JSON.parse(t));
  try {
    return parse(text);
  } catch (e) {
    if (e instanceof KerasLensError) throw e;
    if (opts.pythonNonFinite && /\b(NaN|-?Infinity)\b/.test(text)) {
      try {
        return parse(pythonNonFiniteToNull(text));
      } catch (e2) {
        if (e2 instanceof KerasLensError) throw e2;
      }
    }
    throw new KerasLensError(source, `${what} is not valid JSON (${describeForeignError(e)})`);
  }
}

/** Python's bare NaN / Infinity / -Infinity outside strings -> null. */
function pythonNonFiniteToNull(text: string): string {
  const parts: string[] = [];
  let last = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < n; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c) i++;
        else if (s === 0x22) break;
      }
      continue;
    }
    let len = 0;
    if (c === 0x4e /* N */ && text.startsWith('NaN', i)) len = 3;
    else if (c === 0x49 /* I */ && text.startsWith('Infinity', i)) len = 8;
    else if (c === 0x2d /* - */ && text.startsWith('-Infinity', i)) len = 9;
    if (len) {
      parts.push(text.slice(last, i), 'null');
      last = i + len;
      i += len - 1;
    }
  }
  parts.push(text.slice(last));
  return parts.join('');
}

// -------------------------------------------------------------------------------------------------
// Non-finite numbers
// -------------------------------------------------------------------------------------------------

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

// -------------------------------------------------------------------------------------------------
// Errors from libraries
// -------------------------------------------------------------------------------------------------

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
 * Text quoted from a user's file, made safe to print on a terminal: control characters (C0, DEL, C1) would act as
 * escape sequences (clear the screen, retitle the window, fake output) and bidirectional overrides can make a line
 * read differently from what it says; both are shown as \xNN / \u{NNNN}. Apply per line (a newline is escaped too).
 */
export function terminalSafe(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/**
 * A name or value from a file, short enough to quote in a one-line message: a 1 MB "layer name" is cut to
 * `max` characters with its length said ("xxxx… (1048576 characters)"); newlines become spaces.
 */
export function shortText(text: string, max = 80): string {
  const t = String(text).replace(/[\r\n]+/g, ' ');
  return t.length <= max ? t : `${t.slice(0, max - 1)}… (${t.length} characters)`;
}

/** Collapse whitespace/newlines; cap the length so a message stays one readable line. */
export function oneLineText(text: string, max = 300): string {
  const t = text.replace(/\s*[\r\n]+\s*/g, ' ').replace(/\s+/g, ' ').trim();
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
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
