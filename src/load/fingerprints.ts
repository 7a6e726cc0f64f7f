// Values that carry a spreadsheet's fingerprints (scientific notation, made-up dates, `?` for lost letters, UTF-8 read
// as Windows-1252, 15-digit rounding, asdot ASNs missing a trailing zero): Cgw.SpreadsheetChanged warnings with the likely original and the fix.
import { printable } from '../text.js';
import type { Issue, WrittenRow } from '../types.js';
import type { CappedIssues } from './capped.js';

export const SPREADSHEET_CHANGED = 'Cgw.SpreadsheetChanged';

/** How to keep a workbook cell as typed, in both programs (also in manifests/README.md). */
export const FORMAT_AS_TEXT = 'format the column as Text (Excel: Format Cells > Number > Text; LibreOffice: Format > Cells > Numbers > Text) and retype the value';

/** How to keep a spreadsheet from changing values on the way to or from CSV, in both programs. */
export const KEEP_AS_TEXT =
  'format the column as Text before typing (Excel: Format Cells > Text; LibreOffice: Format > Cells > Text) and retype the value, ' +
  'or open the CSV with the column type set to Text (Excel: Data > From Text/CSV; LibreOffice: Text Import > Column type Text)';

const ENCODING_FIX =
  'export as UTF-8 (Excel: Save As "CSV UTF-8"; LibreOffice: Save As Text CSV with Character set "Unicode (UTF-8)") or give cgw-batch the .xlsx itself';

/** Cell address of a field in a row (xlsx), for the issue's `cell`. */
export type Locate = (row: WrittenRow, field: string) => string | undefined;

interface Finding {
  message: string;
}

// Excel writes `1.23457E+11` (General) or `1.00E+05` (Scientific): upper-case E and an explicit sign.
const SCIENTIFIC = /^-?(\d)(?:\.(\d+))?E([+-])(\d{1,3})$/;
const SLASH_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{2}|\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?$/;
const DOT_DATE = /^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})$/;
const MONTH_DATE = /^(\d{1,2})-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)(?:-(\d{2}|\d{4}))?$|^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-(\d{2}|\d{4})$/;
const QUESTION_RUN = /\?{2,}|[A-Za-z]\?[A-Za-z]/;
const LONG_ROUNDED = /^(\d{15})(0+)$/;
const ASDOT = /^(\d{1,5})\.(\d{1,5})$/;

/** `1.23457E+11` -> what the number was, as far as the notation still tells. */
export function scientific(value: string): Finding | undefined {
  const m = SCIENTIFIC.exec(value);
  if (!m) return undefined;
  const [, lead, frac = '', sign, e] = m;
  const exp = Number(e);
  const text = `text such as ${lead}E${sign === '-' ? '-' : ''}${exp}`;
  let likely: string;
  if (sign === '-' || exp < frac.length) likely = text;
  else {
    const shown = lead! + frac;
    const digits = exp + 1;
    likely =
      shown.length < digits
        ? `a ${digits}-digit number starting ${shown} (its last ${digits - shown.length} digits are lost), or ${text}`
        : `${BigInt(shown) * 10n ** BigInt(exp - frac.length)}, or ${text}`;
  }
  return { message: `"${value}" is scientific notation a spreadsheet made from a number; the original was probably ${likely}` };
}

/** `12/31/26`, `31.12.2026`, `31-Dec`: a date a spreadsheet made from typed text. */
export function localeDate(value: string, field: string): Finding | undefined {
  let likely: string | undefined;
  let m = SLASH_DATE.exec(value);
  if (m) likely = `${m[1]}/${m[2]} (the spreadsheet read it as a date and added the year)`;
  else if ((m = DOT_DATE.exec(value))) {
    const short = `${Number(m[1])}.${Number(m[2])}`;
    likely = field === 'asn' ? `the asdot ASN ${short} (a spreadsheet in a dd.mm locale read it as a date)` : `${short} (read as a date and given a year)`;
  } else if ((m = MONTH_DATE.exec(value))) likely = `text such as ${value.split('-').slice(0, 2).join('-')} or a number pair like 1-12 (read as a date)`;
  if (likely === undefined) return undefined;
  return { message: `"${value}" looks like a date a spreadsheet made from text; the original was probably ${likely}` };
}

export function questionRun(value: string): Finding | undefined {
  if (!QUESTION_RUN.test(value)) return undefined;
  return {
    message: `"${value}" has '?' where letters should be: a non-UTF-8 export replaces characters it cannot encode (Chinese, Japanese, accented letters) with '?'; the original had non-ASCII letters there. ${cap(ENCODING_FIX)}`,
  };
}

// Windows-1252's letters for bytes 0x80-0x9F, to turn mis-decoded text back into its bytes.
const CP1252: Record<string, number> = {
  '€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87, 'ˆ': 0x88, '‰': 0x89, 'Š': 0x8a, '‹': 0x8b, 'Œ': 0x8c,
  'Ž': 0x8e, '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95, '–': 0x96, '—': 0x97, '˜': 0x98, '™': 0x99, 'š': 0x9a, '›': 0x9b,
  'œ': 0x9c, 'ž': 0x9e, 'Ÿ': 0x9f,
};
// A UTF-8 lead byte read as Latin-1/Windows-1252, followed by a continuation byte read the same way.
const MOJIBAKE = /[\u00C2-\u00F4][\u0080-\u00BF\u0152\u0153\u0160\u0161\u0178\u017D\u017E\u0192\u02C6\u02DC\u2013-\u203A\u20AC\u2122]/;

const HIGH_LATIN = /[\u00C2-\u00F4]/;

/** `åŒ—äº¬`: UTF-8 bytes decoded as Windows-1252 (a CSV opened with the wrong character set, then saved). */
export function mojibake(value: string): Finding | undefined {
  if (!MOJIBAKE.test(value)) return undefined;
  const bytes: number[] = [];
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    const b = cp < 0x100 ? cp : CP1252[ch];
    if (b === undefined) return undefined;
    bytes.push(b);
  }
  let original: string;
  try {
    original = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return undefined; // not UTF-8 underneath: real Latin text
  }
  return { message: `"${value}" is UTF-8 text read with the wrong character set (Windows-1252 or Latin-1) and saved that way; the original was probably "${original}"` };
}

/** `1234567890123450000`: 15 significant digits, then only zeros. */
export function rounded15(value: string): Finding | undefined {
  const m = LONG_ROUNDED.exec(value);
  if (!m) return undefined;
  return {
    message: `"${value}" has ${value.length} digits and only zeros after the 15th: a spreadsheet keeps 15 significant digits, so the original's last ${m[2]!.length} digits (after ${m[1]}) are lost`,
  };
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * Adds Cgw.SpreadsheetChanged warnings to the rows (through `sink`, so one cause in a large sheet is listed a few
 * times, then counted). Checks name, description, tag values and asn; the AuthKey only for notation, never quoted.
 */
export function spreadsheetFingerprints(rows: readonly WrittenRow[], sink: CappedIssues, locate?: Locate): void {
  const warn = (row: WrittenRow, field: string, kind: string, f: Finding, fix = KEEP_AS_TEXT) => {
    const issue: Issue = { severity: 'warning', code: SPREADSHEET_CHANGED, field, message: printable(`${f.message}; ${fix}`), file: row.file, line: row.line };
    const cell = locate?.(row, field);
    if (cell !== undefined) issue.cell = cell;
    sink.add(row.issues, issue, `${SPREADSHEET_CHANGED}|${field}|${kind}`);
  };
  const text = (row: WrittenRow, field: string, value: string) => {
    // Cheap gates first (this runs for every text value of large CSVs): the whole-value forms start with a digit,
    // '-' or a capital (month names); the encoding forms need '?' or a Latin-1 letter.
    const c = value.charCodeAt(0);
    if ((c >= 0x30 && c <= 0x39) || c === 0x2d || (c >= 0x41 && c <= 0x5a)) {
      const sci = scientific(value);
      if (sci) return warn(row, field, 'sci', sci);
      const date = localeDate(value, field);
      if (date) return warn(row, field, 'date', date);
      const r = rounded15(value);
      if (r) return warn(row, field, 'rounded', r);
    }
    const q = value.includes('?') ? questionRun(value) : HIGH_LATIN.test(value) ? mojibake(value) : undefined;
    if (q) warn(row, field, 'encoding', q, ENCODING_FIX);
  };

  // Evidence that the asn column holds asdot typed as text: a low part ending in 0 (a number cell shows 1.10 as 1.1).
  const textAsdot = rows.find((r) => {
    const m = ASDOT.exec(r.fields.asn?.trim() ?? '');
    return m !== null && m[2]!.endsWith('0');
  });

  for (const row of rows) {
    for (const field of ['name', 'description'] as const) {
      const v = row.fields[field]?.trim();
      if (v) text(row, field, v);
    }
    for (const t of row.tags) {
      const v = t.value.trim();
      if (v) text(row, `tag:${t.key.trim()}`, v);
    }
    const asn = row.fields.asn?.trim();
    if (asn) {
      // Scientific notation in an ASN is already an error of the validator (IllegalParam.Asn).
      const date = localeDate(asn, 'asn');
      if (date) warn(row, 'asn', 'date', date);
      const m = ASDOT.exec(asn);
      if (m && textAsdot && textAsdot !== row && !m[2]!.endsWith('0') && Number(m[2]) * 10 <= 65535) {
        const hi = Number(m[1]);
        const lo = Number(m[2]);
        const other = textAsdot.fields.asn!.trim();
        warn(row, 'asn', 'asdot', {
          message:
            `ASN ${asn} (= ${hi * 65536 + lo}) may have lost a trailing zero: line ${textAsdot.line} has ${other}, so this column holds asdot ASNs typed as text, ` +
            `and a cell left as a number shows ${m[1]}.${m[2]}0 (= ${hi * 65536 + lo * 10}) as ${asn}; check the value`,
        });
      }
    }
    const key = row.fields.auth_key;
    if (key) {
      // The key itself is never quoted: only what happened to it.
      const how = SCIENTIFIC.test(key) ? 'is in scientific notation' : LONG_ROUNDED.test(key) ? 'has only zeros after its 15th digit' : undefined;
      if (how) warn(row, 'auth_key', 'authkey', { message: `the AuthKey ${how}, as a spreadsheet writes a number it rounded; the original key is lost` });
    }
  }
}
