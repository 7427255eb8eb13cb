/**
 * JSON from a user's file is data, never code: parsed with JSON.parse (which never sets prototypes: a
 * `"__proto__"` key becomes an ordinary own property), then checked for nesting depth. Code that copies user keys
 * into objects skips `__proto__`/`constructor`/`prototype` or uses Maps / Object.create(null).
 */
import { KerasLensError } from '../model/types';

/** Deeper than any Keras config or weight dump (a 5-D weight nested as lists is ~7 levels under its layer). */
export const MAX_JSON_DEPTH = 256;

export function parseJsonText(text: string, source: string, what: string): unknown {
  let v: unknown;
  try {
    // Python's json.dumps writes NaN/Infinity for non-finite floats; JSON.parse rejects them. Quote-aware swap.
    v = JSON.parse(text);
  } catch (e) {
    let fixed: unknown = undefined;
    if (/\b(NaN|-?Infinity)\b/.test(text)) {
      try {
        fixed = JSON.parse(replaceNonFinite(text));
      } catch {
        fixed = undefined;
      }
    }
    if (fixed === undefined) {
      const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
      throw new KerasLensError(source, `${what} is not valid JSON (${msg})`);
    }
    v = fixed;
  }
  checkDepth(v, source, what);
  return v;
}

/** NaN / Infinity outside strings -> null (weights become NaN again when converted to Float32Array). */
function replaceNonFinite(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      out += ch;
      if (ch === '\\') {
        out += text[i + 1] ?? '';
        i++;
      } else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      out += ch;
      continue;
    }
    const rest = text.slice(i, i + 9);
    if (rest.startsWith('NaN')) {
      out += 'null';
      i += 2;
    } else if (rest.startsWith('-Infinity')) {
      out += 'null';
      i += 8;
    } else if (rest.startsWith('Infinity')) {
      out += 'null';
      i += 7;
    } else out += ch;
  }
  return out;
}

function checkDepth(root: unknown, source: string, what: string): void {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d > MAX_JSON_DEPTH) throw new KerasLensError(source, `${what} is nested deeper than ${MAX_JSON_DEPTH} levels`);
    if (Array.isArray(v)) {
      // Flat numeric arrays are the common case for weights: skip scanning their numbers.
      for (const x of v) if (typeof x === 'object' && x !== null) stack.push([x, d + 1]);
    } else {
      for (const x of Object.values(v)) if (typeof x === 'object' && x !== null) stack.push([x, d + 1]);
    }
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own property lookup that never reaches Object.prototype. */
export function own(o: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}
