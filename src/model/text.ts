/**
 * Text quoted from a user's file in one-line messages: made safe for a terminal, cut to a readable length.
 * Pure string functions (the bottom of every message the CLI, the extension and the readers print).
 */

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
