/**
 * Names and text from a model file, made safe to put into generated source code in every target language.
 *
 * A layer name is attacker-controlled (any Unicode, quotes, newlines, `*​/`, `??/` trigraphs, Java `\u000a`
 * escapes). So generated code never contains a name verbatim except through these three doors:
 *   identifier(...)  [A-Za-z0-9_] only, with a fixed prefix: never a keyword, never starts with a digit.
 *   commentText(...) printable ASCII without `\`, `*`, `?`, quotes, `#`, `<`, `>`: cannot end a comment, start a
 *                    trigraph or a Java unicode escape, in C, Java, JS, Python or Markdown.
 *   stringLiteral(...) an ASCII string literal where everything outside [A-Za-z0-9 _.,:-] is an escape that means
 *                    the same in C, Java, JS and Python (JSON-style \uXXXX inside a JSON text, see jsonLiteral).
 */

/** A safe identifier part: letters, digits, underscore; cut to `max` characters; never empty. */
export function identifierPart(name: string, max = 32): string {
  const s = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/_+/g, '_').replace(/^_+|_+$/g, '');
  return (s || 'x').slice(0, max);
}

/** Text for a comment (one line): unsafe characters become '~', cut to `max`. */
export function commentText(text: string, max = 80): string {
  const s = String(text).replace(/[^A-Za-z0-9 _.,:;=+\-()[\]{}/|&%!^~@$]/g, '~').replace(/\/\//g, '/~');
  return s.length > max ? `${s.slice(0, max - 3)}~~~` : s;
}

/** A JSON string whose text is pure safe ASCII: every UTF-16 unit outside [A-Za-z0-9 _.,:-] written as \uXXXX. */
export function asciiJsonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    out += /[A-Za-z0-9 _.,:-]/.test(c) ? c : `\\u${text.charCodeAt(i).toString(16).padStart(4, '0')}`;
  }
  return out + '"';
}

/** A JSON list of strings in safe ASCII (see asciiJsonString). */
export function asciiJsonList(texts: string[]): string {
  return `[${texts.map(asciiJsonString).join(', ')}]`;
}

/**
 * A double-quoted string literal holding `text` (safe ASCII as made by asciiJson or names), valid with the same
 * meaning in C, Java, JavaScript and Python: only `"` and `\` need escaping, and both escape the same way.
 * (In Java `\\u` is not a unicode escape: the backslash before `u` is itself escaped.)
 */
export function quoted(text: string): string {
  if (/[^\x20-\x7e]/.test(text) || /\?\?/.test(text)) throw new Error('quoted() takes safe ASCII only');
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Hands out unique identifiers: the same base name twice gets _2, _3, ... */
export class IdentifierPool {
  private used = new Set<string>();
  take(prefix: string, name: string, max = 32): string {
    const base = `${prefix}${identifierPart(name, max)}`;
    let id = base;
    for (let k = 2; this.used.has(id.toLowerCase()); k++) id = `${base}_${k}`;
    this.used.add(id.toLowerCase());
    return id;
  }
}
