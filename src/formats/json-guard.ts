/**
 * JSON from a user's file is data, never code: parsed with JSON.parse (which never sets prototypes: a
 * `"__proto__"` key becomes an ordinary own property), then checked for nesting depth. Code that copies user keys
 * into objects skips `__proto__`/`constructor`/`prototype` or uses Maps / Object.create(null).
 *
 *   safeJsonParse(text, source, opts?)   any JSON a user handed us (architecture, weights dump, model input): size cap,
 *                                         nesting depth scanned BEFORE JSON.parse (no recursion, so 100k `[` cannot
 *                                         blow the stack), `__proto__`/`constructor`/`prototype` keys refused (or
 *                                         stripped), Python's NaN/Infinity tokens optional.
 */
import { KerasLensError } from '../model/types';
import { DEFAULT_LIMITS, formatBytes } from './limits';
import { describeForeignError } from './foreign-errors';

/** Deeper than any Keras config or weight dump (a 5-D weight nested as lists is ~7 levels under its layer). */
export const MAX_JSON_DEPTH = DEFAULT_LIMITS.maxJsonDepth;

/**
 * Parse JSON from a user's file: size cap, nesting depth scanned before parsing (no stack overflow),
 * `__proto__`/`constructor`/`prototype` keys dropped, Python's NaN/Infinity read as null (-> NaN in weights).
 */
export function parseJsonText(text: string, source: string, what: string): unknown {
  return safeJsonParse(text, source, { what, forbiddenKeys: 'strip', pythonNonFinite: true });
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own property lookup that never reaches Object.prototype. */
export function own(o: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

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
