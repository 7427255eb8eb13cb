/**
 * JSON from a user's file is data, never code: parsed with JSON.parse (which never sets prototypes: a
 * `"__proto__"` key becomes an ordinary own property), then checked for nesting depth. Code that copies user keys
 * into objects skips `__proto__`/`constructor`/`prototype` or uses Maps / Object.create(null).
 */
import { DEFAULT_LIMITS, safeJsonParse } from './limits';

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
