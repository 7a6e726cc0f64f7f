// Text that came from a file or a server, made safe to print: control characters and invisible reordering marks are
// shown escaped (`\x1b`, `\n`, `\u202e`), so a value cannot clear the screen, move the cursor, recolour the terminal,
// start a new line that looks like our own output, or reorder what is shown. Leaf module: no imports.

// C0 controls (tab and line breaks included: a message is one line), DEL, C1 controls, line/paragraph separators,
// bidirectional marks, embeddings, overrides and isolates, and the invisible zero-width space, word joiner and BOM
// (they make "ip" and "ip\u200b" look the same). ZWNJ/ZWJ (U+200C/D) are kept: scripts and emoji sequences need them.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g;
const ANY = new RegExp(UNPRINTABLE.source);

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escape(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `s` with every control character and invisible mark written as an escape (`\x1b[2J` for ESC [2J). Everything else,
 * including non-Latin letters, is kept as is. Backslashes are not doubled: the result is for people, not a parser.
 */
export function printable(s: string): string {
  return ANY.test(s) ? s.replace(UNPRINTABLE, escape) : s;
}

/** True when `printable(s)` would change `s`. */
export function hasUnprintable(s: string): boolean {
  return ANY.test(s);
}
