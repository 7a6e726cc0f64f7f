// CSV cells for spreadsheets: formula-injection escaping (OWASP), every string quoted, numbers bare, CRLF, BOM.

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

export function escapeFormula(value: string): string {
  return needsFormulaEscape(value) ? FORMULA_PREFIX + value : value;
}

/**
 * Undoes escapeFormula for a value read back from a report. Ambiguous only for an original value that itself
 * began with `'` followed by a dangerous character; reports are for people, the journal is the machine record.
 */
export function unescapeFormula(value: string): string {
  return value.startsWith(FORMULA_PREFIX) && needsFormulaEscape(value.slice(1)) ? value.slice(1) : value;
}

export type Cell = string | number | null | undefined;

/** Numbers are written bare (a numeric -5 stays -5); strings are escaped, then always quoted with `"` doubled. */
export function csvCell(v: Cell): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (v === null || v === undefined) return '""';
  return '"' + escapeFormula(v).replace(/"/g, '""') + '"';
}

export const BOM = '\uFEFF';
export const CRLF = '\r\n';

/** Whole document: UTF-8 BOM (Excel reads UTF-8 reliably only with it) and CRLF record ends. */
export function csvDocument(header: string[], rows: Cell[][]): string {
  return BOM + [header, ...rows].map((r) => r.map(csvCell).join(',') + CRLF).join('');
}
