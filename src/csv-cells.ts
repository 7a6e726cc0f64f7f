// CSV cells for spreadsheets: formula-injection escaping (OWASP) for every CSV cgw-batch writes, quoting, CRLF, BOM.

/**
 * A cell is dangerous when it starts with `=` `+` `-` `@`, TAB, CR, LF or NUL, a full-width `＝＋－＠`, or with
 * whitespace followed by one of those (Excel trims leading spaces before evaluating). csv-stringify's
 * `escape_formulas` misses leading LF, NUL and whitespace-then-`=`, so we do the whole check here.
 */
// eslint-disable-next-line no-control-regex
const DANGEROUS = /^(?:[=+\-@\t\r\n\u0000\uFF1D\uFF0B\uFF0D\uFF20]|\s+[=+\-@\u0000\uFF1D\uFF0B\uFF0D\uFF20])/;

/** The documented prefix: readers other than Excel see it literally. */
export const FORMULA_PREFIX = "'";

export function needsFormulaEscape(value: string): boolean {
  return DANGEROUS.test(value);
}

/** The value without its leading `'`s: what decides whether a `'` in front is ours. */
function afterQuotes(value: string): string {
  let i = 0;
  while (value.charCodeAt(i) === 39) i++;
  return i === 0 ? value : value.slice(i);
}

/**
 * A dangerous value gets a leading `'`. So does a value that already starts with `'`s followed by a dangerous start
 * (`'=x` -> `''=x`): then the escape is always undone exactly, and a `'=x` typed into a gateway's name in the console
 * survives the round trip through a CSV.
 */
export function escapeFormula(value: string): string {
  return needsFormulaEscape(afterQuotes(value)) ? FORMULA_PREFIX + value : value;
}

/**
 * Undoes escapeFormula for a value read back from a CSV cgw-batch wrote (an export, a results file) or from a
 * workbook saved from one. Takes one `'` off a value whose first character after its `'`s would start a formula;
 * a manifest typed by hand with `'=x` therefore means `=x`, as Excel reads `'=x` typed into a cell.
 */
export function unescapeFormula(value: string): string {
  return value.charCodeAt(0) === 39 && needsFormulaEscape(afterQuotes(value)) ? value.slice(1) : value;
}

export type Cell = string | number | null | undefined;

/** Numbers are written bare (a numeric -5 stays -5); strings are escaped, then always quoted with `"` doubled. */
export function csvCell(v: Cell): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (v === null || v === undefined) return '""';
  return '"' + escapeFormula(v).replace(/"/g, '""') + '"';
}

/**
 * A manifest cell (export, init template): escaped like csvCell, but quoted only when the cell needs it, so the file
 * stays readable as text. An escaped cell is quoted as well.
 */
export function csvField(v: string): string {
  const e = escapeFormula(v);
  return e !== v || /[",;\r\n\t]/.test(e) || e !== e.trim() ? `"${e.replace(/"/g, '""')}"` : e;
}

export const BOM = '\uFEFF';
export const CRLF = '\r\n';

/** Whole document: UTF-8 BOM (Excel reads UTF-8 reliably only with it) and CRLF record ends. */
export function csvDocument(header: string[], rows: Cell[][]): string {
  return BOM + [header, ...rows].map((r) => r.map(csvCell).join(',') + CRLF).join('');
}

/** A manifest-shaped document (export): BOM, CRLF, cells through csvField. */
export function csvManifest(rows: readonly (readonly string[])[]): string {
  return BOM + rows.map((r) => r.map(csvField).join(',') + CRLF).join('');
}
