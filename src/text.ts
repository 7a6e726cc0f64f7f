// Text for terminals: values from files and servers made printable, one line per message, visible width in cells.

// C0 controls (tab and line breaks included: a message is one line), DEL, C1 controls, line/paragraph separators,
// bidirectional marks, embeddings, overrides and isolates, and the invisible zero-width space, word joiner and BOM
// (they make "ip" and "ip\u200b" look the same). ZWNJ/ZWJ (U+200C/D) are kept: scripts and emoji sequences need them.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g;
const ANY = new RegExp(UNPRINTABLE.source);

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeChar(c: string): string {
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
  return ANY.test(s) ? s.replace(UNPRINTABLE, escapeChar) : s;
}

/** True when `printable(s)` would change `s`. */
export function hasUnprintable(s: string): boolean {
  return ANY.test(s);
}

/** `printable` line by line: the text's own line breaks stay, everything else unprintable is escaped. */
export function printableLines(s: string): string {
  return s
    .split('\n')
    .map((line) => printable(line))
    .join('\n');
}

// What JSON.stringify leaves as it is (it escapes only C0 controls, `"` and `\`) that a terminal or an editor would
// act on or hide: DEL, C1 controls, line/paragraph separators, bidi marks and the invisible characters of UNPRINTABLE.
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g;

/** JSON.stringify with those characters written as \uXXXX: the same value for a parser, nothing hidden for a person. */
export function safeJson(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Collapses line breaks and drops stack-trace frames: every progress and summary line is one line. */
export function oneLine(s: string, max = 300): string {
  const flat = s
    .split(/\r\n|\r|\n/)
    .filter((ln) => !/^\s+at\s/.test(ln))
    .join(' ')
    // Other control characters could move the cursor or hide text in a terminal.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
    .replace(/\s{2,}/g, ' ')
    .trim();
  // Bidi overrides, zero-width and separator characters are no whitespace: written as escapes, like printable() does.
  const shown = printable(flat);
  return shown.length > max ? shown.slice(0, max - 1) + '…' : shown;
}

// Terminal cells per character: combining marks take none; East Asian wide and fullwidth characters and emoji take two.
const ZERO = /[\p{Mn}\p{Me}\u200b-\u200f\ufe00-\ufe0f]/u;
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;

function cells(ch: string): number {
  return ZERO.test(ch) ? 0 : WIDE.test(ch) ? 2 : 1;
}

/** Visible width of plain text (no ANSI) in terminal cells. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += cells(ch);
  return w;
}

/** Cuts plain text to at most `width` cells, ending in `…` when cut. */
export function fit(s: string, width: number): string {
  if (displayWidth(s) <= width) return s;
  if (width <= 0) return '';
  let out = '';
  let w = 0;
  for (const ch of s) {
    const c = cells(ch);
    if (w + c > width - 1) break;
    out += ch;
    w += c;
  }
  return out + '…';
}
