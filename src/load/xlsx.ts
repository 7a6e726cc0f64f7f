// .xlsx bytes -> Manifest: one sheet through exceljs; rows are spreadsheet rows, and cell types are evidence: numbers,
// dates, formulas, booleans, errors, merged and hidden cells in manifest fields become issues at their cell address.
import { createHash } from 'node:crypto';
import ExcelJS from 'exceljs';
import { ManifestError } from '../errors.js';
import type { Issue, Manifest, Severity, WrittenProfile, WrittenRow } from '../types.js';
import { CappedIssues } from './capped.js';
import { FORMAT_AS_TEXT, spreadsheetFingerprints } from './fingerprints.js';
import { hasRequired, isResultsHeader, normaliseHeader, type Column } from './headers.js';
import { likelyParam, profileParam } from './profiles.js';
import { resultsProperties } from './results-props.js';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_RECORD_BYTES, type LoadOptions } from './options.js';
import { buildRow, echoColumns, headerIssues, prepareHeader } from './rows.js';
import { printable } from '../text.js';
import { PackageError, XLSX_LIMITS, cellKey, colLetters, decodeEscapes, quoteSheetName, selectSheet, type CellNote } from './xlsx-package.js';

export { colLetters } from './xlsx-package.js';

export interface XlsxResult {
  manifest: Manifest;
  literalAuthKeys: boolean;
}

/** What one cell holds, as the loader judges it. `text` is what a CSV export would have written (trimmed). */
export type CellKind = 'empty' | 'text' | 'number' | 'date' | 'boolean' | 'error' | 'merged';

interface CellRead {
  kind: CellKind;
  text: string;
  /** Set for formula cells: whether a cached value was stored with the formula. */
  formula?: { cached: boolean };
  /** Merged-cell slaves: the address of the cell holding the value. */
  master?: { address: string; row: number; col: number };
}

/** How a manifest field is judged (see the table in manifests/README.md). */
type Judge = 'asn' | 'strict' | 'secret' | 'label' | 'flag' | 'none';

const V = ExcelJS.ValueType;

/** Pure xlsx reader (no fs, no process.env). Throws ManifestError naming the file for anything unreadable. */
export async function readXlsx(bytes: Buffer, file: string, opts: LoadOptions): Promise<XlsxResult> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxCell = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const maxRows = opts.maxRows ?? XLSX_LIMITS.maxRows;
  if (bytes.length > maxBytes) throw new ManifestError(file, undefined, `the file is ${bytes.length} bytes, over the ${maxBytes}-byte limit`);
  if (!(bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04)) throw new ManifestError(file, undefined, notAWorkbook(bytes));
  const hash = createHash('sha256').update(bytes).digest('hex');

  let selected: ReturnType<typeof selectSheet>;
  try {
    selected = selectSheet(bytes, opts.sheet);
  } catch (e) {
    if (e instanceof PackageError) throw new ManifestError(file, undefined, `cannot read the workbook: ${e.message}`);
    throw e;
  }
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(selected.pkg as unknown as ArrayBuffer);
  } catch {
    // exceljs messages quote XML (cell values, possibly an AuthKey): only say where.
    throw new ManifestError(file, undefined, `cannot read sheet "${printable(selected.sheet.name)}" of the workbook (damaged file?); open it in Excel or LibreOffice and save it again`);
  }
  const ws = wb.worksheets[0];
  const sheetName = printable(selected.sheet.name);
  if (!ws) throw new ManifestError(file, undefined, `cannot read sheet "${sheetName}" of the workbook`);
  const sheetRef = quoteSheet(selected.sheet.name);
  const notes = selected.notes;
  const date1904 = selected.date1904;
  const readCell = (cell: ExcelJS.Cell): CellRead => readCellNoted(cell, notes, date1904);
  const at = (col: number, row: number) => `${sheetRef}!${colLetters(col)}${row}`;

  // Header: among the first rows with values, the first that names region and ip (a title row above it is common in
  // workbooks); if none does, the first row, so the error lists what it holds.
  const candidates: Array<{ line: number; cells: string[] }> = [];
  ws.eachRow((row) => {
    if (candidates.length < HEADER_SEARCH && rowHasValue(row, readCell)) candidates.push({ line: row.number, cells: rowTexts(row, readCell) });
  });
  if (candidates.length === 0) throw new ManifestError(file, undefined, `sheet "${sheetName}" is empty`);
  const header = candidates.find((c) => hasRequired(c.cells)) ?? candidates[0]!;
  const headerLine = header.line;
  const columns = prepareHeader(header.cells, file, headerLine, (i) => `cell ${at(i + 1, headerLine)}`);
  const colOf = columnLookup(columns);

  const fileIssues: Issue[] = headerIssues(columns, file, headerLine);
  if (header !== candidates[0]) {
    const above = candidates[0]!.line;
    fileIssues.push({
      severity: 'info',
      code: 'Cgw.RowsAboveHeader',
      field: 'rows',
      message: `the header is row ${headerLine}; row${above === headerLine - 1 ? ` ${above} above it is` : `s ${above}-${headerLine - 1} above it are`} not read`,
      file,
      line: above,
      cell: at(1, above),
    });
  }
  const sink = new CappedIssues();
  const rows: WrittenRow[] = [];
  let literal = false;
  let hiddenFrom: number | undefined;
  let hiddenTo = 0;
  const flushHidden = () => {
    if (hiddenFrom === undefined) return;
    const span = hiddenFrom === hiddenTo ? `row ${hiddenFrom} is` : `rows ${hiddenFrom}-${hiddenTo} are`;
    fileIssues.push({
      severity: 'warning',
      code: 'Cgw.HiddenRow',
      field: 'rows',
      message: `${span} hidden (filtered out?) but read like every other row; delete ${hiddenFrom === hiddenTo ? 'it' : 'them'} if ${hiddenFrom === hiddenTo ? 'it is' : 'they are'} not meant for this run`,
      file,
      line: hiddenFrom,
      cell: at(1, hiddenFrom),
    });
    hiddenFrom = undefined;
  };

  let dataRows = 0;
  ws.eachRow((row, rowNumber) => {
    if (rowNumber <= headerLine || !rowHasValue(row, readCell)) return;
    if (++dataRows > maxRows) {
      throw new ManifestError(file, rowNumber, `sheet "${sheetName}" has more than ${maxRows} rows; split it into several workbooks or export CSV UTF-8`);
    }
    const record: string[] = [];
    const cellIssues: Issue[] = [];
    let rowChars = 0;
    row.eachCell((cell, col) => {
      const c = readCell(cell);
      if (c.text.length > maxCell) throw new ManifestError(file, rowNumber, `cell ${at(col, rowNumber)} holds ${c.text.length} characters, over the ${maxCell} limit`);
      rowChars += c.text.length;
      record[col - 1] = c.text;
      const column = columns[col - 1];
      if (column === undefined) {
        if (c.text !== '') throw new ManifestError(file, rowNumber, `cell ${at(col, rowNumber)} has a value but its column has no header name; name the column or clear the cell`);
        return;
      }
      judgeCell(c, column, col, at(col, rowNumber), file, rowNumber, (i) => sink.add(cellIssues, i));
    });
    if (rowChars > maxCell) throw new ManifestError(file, rowNumber, `row ${rowNumber} holds ${rowChars} characters, over the ${maxCell} limit for one row`);
    const built = buildRow(record, columns, file, rowNumber, rowNumber, opts, (i) => `cell ${at(i + 1, rowNumber)}`);
    if (built.literal) literal = true;
    // Loader issues of this row (tags cell, AuthKey env) get the cell of their column.
    for (const i of built.row.issues) {
      const col = colOf(i.field);
      if (col !== undefined) i.cell = at(col, rowNumber);
    }
    built.row.issues.unshift(...cellIssues);
    rows.push(built.row);
    if (row.hidden) {
      if (hiddenFrom !== undefined && hiddenTo === rowNumber - 1) hiddenTo = rowNumber;
      else {
        flushHidden();
        hiddenFrom = hiddenTo = rowNumber;
      }
    }
  });
  flushHidden();
  if (rows.length === 0) throw new ManifestError(file, headerLine, 'manifest has a header but no rows');

  for (const c of columns) {
    const n = c.index + 1;
    if (c.kind === 'blank' || !selected.hiddenColumns.some(([min, max]) => n >= min && n <= max)) continue;
    fileIssues.push({
      severity: 'warning',
      code: 'Cgw.HiddenColumn',
      field: fieldName(c),
      message: `column ${colLetters(c.index + 1)} (${printable(c.header)}) is hidden but read; unhide it to check its values`,
      file,
      line: headerLine,
      cell: at(c.index + 1, headerLine),
    });
  }
  if (selected.sheet.state !== 'visible') {
    fileIssues.push({ severity: 'info', code: 'Cgw.HiddenSheet', field: 'sheet', message: `sheet "${sheetName}" is hidden in the workbook`, file, line: 0 });
  }

  spreadsheetFingerprints(rows, sink, (row, field) => {
    const col = colOf(field);
    return col === undefined ? undefined : at(col, row.line);
  });
  fileIssues.push(...sink.summaries());
  // A results workbook names its journal in its custom properties; its result columns alone make it a results file.
  const named = selected.properties ? resultsProperties(selected.properties) : undefined;
  const origin = named || isResultsHeader(columns) ? { resultsFile: true as const, ...named } : undefined;
  const manifest: Manifest = { file, format: 'xlsx', hash, columns: echoColumns(columns), rows, issues: fileIssues, ...(origin ? { origin } : {}) };
  // Only a workbook with site columns says where its columns are (issues about site fields then name their cell).
  if (columns.some((c) => c.kind === 'site')) manifest.cells = { sheet: sheetRef, columns: columnLetters(columns) };
  const profilesSheet = selected.sheets.find((s) => s.name !== selected.sheet.name && s.name.trim().toLowerCase() === PROFILES_SHEET);
  if (profilesSheet) {
    const profiles = await readProfilesSheet(bytes, file, profilesSheet.name, maxCell, fileIssues);
    if (profiles.length > 0) manifest.profiles = profiles;
  }
  return { manifest, literalAuthKeys: literal };
}

/** The sheet of a workbook manifest that defines IPsec profiles (case-insensitive). */
export const PROFILES_SHEET = 'profiles';

function columnLetters(columns: readonly Column[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of columns) {
    const f = c.kind === 'field' || c.kind === 'site' ? c.field : c.kind === 'auth_key_env' ? 'auth_key' : undefined;
    if (f !== undefined && out[f] === undefined) out[f] = colLetters(c.index + 1);
  }
  return out;
}

/**
 * The Profiles sheet: a `name` column and one column per parameter (headers as in manifests/README.md), one profile
 * a row. A header a typo away from a parameter stops the file, like a misspelt manifest column.
 */
async function readProfilesSheet(bytes: Buffer, file: string, name: string, maxCell: number, fileIssues: Issue[]): Promise<WrittenProfile[]> {
  let selected: ReturnType<typeof selectSheet>;
  try {
    selected = selectSheet(bytes, name);
  } catch (e) {
    if (e instanceof PackageError) throw new ManifestError(file, undefined, `cannot read the Profiles sheet: ${e.message}`);
    throw e;
  }
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(selected.pkg as unknown as ArrayBuffer);
  } catch {
    throw new ManifestError(file, undefined, `cannot read sheet "${printable(name)}" of the workbook (damaged file?); open it in Excel or LibreOffice and save it again`);
  }
  const ws = wb.worksheets[0];
  if (!ws) return [];
  const ref = quoteSheet(name);
  const at = (col: number, row: number) => `${ref}!${colLetters(col)}${row}`;
  const readCell = (cell: ExcelJS.Cell): CellRead => readCellNoted(cell, selected.notes, selected.date1904);
  let header: { line: number; params: Array<string | undefined>; nameCol: number } | undefined;
  const out: WrittenProfile[] = [];
  const seen = new Map<string, string>();
  ws.eachRow((row, line) => {
    if (!rowHasValue(row, readCell)) return;
    const cells = rowTexts(row, readCell);
    if (header === undefined) {
      const params: Array<string | undefined> = [];
      let nameCol = -1;
      const unknown: string[] = [];
      cells.forEach((h, i) => {
        if (h === '') return;
        if (NAME_HEADERS.has(normaliseHeader(h))) {
          if (nameCol < 0) nameCol = i;
          return;
        }
        const p = profileParam(h);
        if (p !== undefined) {
          params[i] = p;
          return;
        }
        const guess = likelyParam(h);
        if (guess !== undefined) throw new ManifestError(file, line, `cell ${at(i + 1, line)} "${printable(h.slice(0, 60))}" is not a profile parameter: did you mean ${guess}? Rename the header`);
        unknown.push(printable(h.slice(0, 60)));
      });
      if (nameCol < 0) throw new ManifestError(file, line, `the Profiles sheet's header (row ${line}) needs a name column beside the parameters (ike_version, ike_enc_alg, ...)`);
      if (unknown.length > 0) {
        fileIssues.push({ severity: 'warning', code: 'Cgw.UnknownColumn', field: 'profiles', message: `Profiles sheet column${unknown.length > 1 ? 's' : ''} not used by cgw-batch: ${unknown.join(', ')}`, file, line, cell: at(1, line) });
      }
      header = { line, params, nameCol };
      return;
    }
    const h = header;
    const profileName = cells[h.nameCol] ?? '';
    if (profileName === '') throw new ManifestError(file, line, `cell ${at(h.nameCol + 1, line)}: a profile row needs a name`);
    const first = seen.get(profileName);
    if (first !== undefined) throw new ManifestError(file, line, `profile "${printable(profileName)}" is defined twice (${first} and ${at(h.nameCol + 1, line)}); keep one row`);
    seen.set(profileName, at(h.nameCol + 1, line));
    const p: WrittenProfile = { name: profileName, file, line, params: {}, cells: { name: at(h.nameCol + 1, line) } };
    cells.forEach((v, i) => {
      const param = h.params[i];
      if (param === undefined || v === '') return;
      if (v.length > maxCell) throw new ManifestError(file, line, `cell ${at(i + 1, line)} holds ${v.length} characters, over the ${maxCell} limit`);
      p.params[param] = v;
      p.cells![param] = at(i + 1, line);
    });
    out.push(p);
  });
  return out;
}

/** Headers of the Profiles sheet's name column. */
const NAME_HEADERS: ReadonlySet<string> = new Set(['name', 'profile', 'profilename', 'ikeprofile']);

function notAWorkbook(b: Buffer): string {
  if (b.length >= 8 && b.readUInt32BE(0) === 0xd0cf11e0 && b.readUInt32BE(4) === 0xa1b11ae1) {
    return 'this is an encrypted workbook or an old .xls file (OLE format), not .xlsx: remove the password and save it as "Excel Workbook (.xlsx)", or export CSV UTF-8';
  }
  return 'this is not an .xlsx workbook (not a ZIP package); save it as "Excel Workbook (.xlsx)" or export CSV UTF-8';
}

/** How many rows with values may come before the header (titles, notes). */
const HEADER_SEARCH = 10;

function rowTexts(row: ExcelJS.Row, readCell: (c: ExcelJS.Cell) => CellRead): string[] {
  const cells: string[] = [];
  row.eachCell((cell, col) => {
    cells[col - 1] = readCell(cell).text;
  });
  for (let i = 0; i < cells.length; i++) cells[i] ??= '';
  return cells;
}

function rowHasValue(row: ExcelJS.Row, readCell: (c: ExcelJS.Cell) => CellRead): boolean {
  let found = false;
  row.eachCell((cell) => {
    if (!found && cell.type !== V.Merge && readCell(cell).text !== '') found = true;
  });
  return found;
}

/** Column number (1-based) of a field or tag as issues name it: `asn`, `tags`, `tag:Env`, `auth_key`. */
function columnLookup(columns: readonly Column[]): (field: string) => number | undefined {
  const map = new Map<string, number>();
  let tagsCol: number | undefined;
  for (const c of columns) {
    const n = c.index + 1;
    if (c.kind === 'field' || c.kind === 'site') map.set(c.field, n);
    else if (c.kind === 'auth_key_env') map.set('auth_key', map.get('auth_key') ?? n);
    else if (c.kind === 'tags') (tagsCol = n), map.set('tags', n);
    else if (c.kind === 'tag') map.set(`tag:${c.key}`, n);
  }
  return (field) => map.get(field) ?? (field.startsWith('tag:') ? tagsCol : undefined);
}

function fieldName(c: Column): string {
  switch (c.kind) {
    case 'field':
    case 'site':
      return c.field;
    case 'tag':
      return `tag:${c.key}`;
    case 'tags':
      return 'tags';
    case 'auth_key_env':
      return 'auth_key';
    default:
      return c.header;
  }
}

function judgeOf(c: Column): Judge {
  if (c.kind === 'field') {
    if (c.field === 'asn') return 'asn';
    if (c.field === 'auth_key') return 'secret';
    if (c.field === 'name' || c.field === 'description') return 'label';
    return 'strict'; // region, ip, resource_group_id
  }
  if (c.kind === 'site') {
    // A key typed into the psk cell is refused by the loader; here it is never quoted either.
    if (c.field === 'psk') return 'secret';
    if (c.field === 'connection_name') return 'label';
    // A logical cell is what a spreadsheet user types for a yes/no column.
    if (c.field === 'effect_immediately') return 'flag';
    return 'strict';
  }
  if (c.kind === 'auth_key_env') return 'strict';
  if (c.kind === 'tag' || c.kind === 'tags') return 'label';
  return 'none';
}

/**
 * The cell-type rules (manifests/README.md, "Cell types"): the severity follows what the spreadsheet may have changed.
 * An AuthKey is never quoted.
 */
function judgeCell(c: CellRead, column: Column, col: number, cell: string, file: string, line: number, add: (i: Issue) => void): void {
  const judge = judgeOf(column);
  if (judge === 'none') return;
  const field = fieldName(column);
  // What came from the file is shown with its control characters escaped.
  const name = printable(field);
  const text = printable(c.text);
  const what = judge === 'secret' ? (field === 'psk' ? 'the psk cell' : 'the AuthKey cell') : `the ${name} cell`;
  const issue = (severity: Severity, code: string, message: string) => add({ severity, code, field, message, file, line, cell });

  if (c.formula) {
    if (!c.formula.cached) {
      issue('error', 'Cgw.FormulaCell', `${what} holds a formula with no saved result (the file was written by a program that does not calculate); open and save it in Excel or LibreOffice, or type the value`);
      return;
    }
    issue('warning', 'Cgw.FormulaCell', `${what} holds a formula; its saved result${judge === 'secret' ? '' : ` "${text}"`} is used. Replace the formula by its value (Paste Special > Values) so the manifest says what is sent`);
  }
  switch (c.kind) {
    case 'number': {
      const integer = /^-?\d+$/.test(c.text);
      if (judge === 'asn') {
        if (integer) issue('warning', 'Cgw.NumberCell', `the ASN cell is the number ${text}, read as ${text}; a number cell shows asdot ${text}.0 as ${text} too: if you meant asdot, ${FORMAT_AS_TEXT}`);
        else issue('error', 'Cgw.NumberCell', `the ASN cell is the number ${text}; a number cell drops trailing zeros, so asdot ${text}0 would also show as ${text}. If you meant asdot ${text}, ${FORMAT_AS_TEXT}`);
      } else if (judge === 'secret') {
        issue('error', 'Cgw.NumberCell', `${what} is a number: a number cell drops leading zeros and rounds long digit strings, so the key may have changed; ${FORMAT_AS_TEXT}`);
      } else if (judge === 'strict') {
        issue('error', 'Cgw.NumberCell', `the ${name} cell is the number ${text}; a ${name} is text. ${cap(FORMAT_AS_TEXT)}`);
      } else {
        const lost = integer ? 'leading zeros (0123 shows as 123)' : 'trailing zeros (1.10 shows as 1.1)';
        issue('warning', 'Cgw.NumberCell', `the ${name} cell is the number ${text}, read as "${text}"; a number cell drops ${lost}: if you typed something else, ${FORMAT_AS_TEXT}`);
      }
      return;
    }
    case 'date':
      issue('error', 'Cgw.DateCell', `${what} is a date${judge === 'secret' ? '' : ` (${text})`}: the spreadsheet turned what was typed (e.g. 12/31 or 1-2) into a date and the original text is lost; ${FORMAT_AS_TEXT}`);
      return;
    case 'boolean':
      if (judge === 'flag') return;
      if (judge === 'label') issue('warning', 'Cgw.BooleanCell', `the ${name} cell is the logical value ${text}; read as "${text}" (the sheet may have shown true, yes or 1); ${FORMAT_AS_TEXT}`);
      else issue('error', 'Cgw.BooleanCell', `${what} is the logical value${judge === 'secret' ? '' : ` ${text}`}, not text; ${FORMAT_AS_TEXT}`);
      return;
    case 'error':
      issue('error', 'Cgw.ErrorCell', `${what} shows the error ${judge === 'secret' ? 'value' : text}; fix the formula or type the value`);
      return;
    case 'merged': {
      const m = c.master!;
      // Merged down a column (a value "for all these rows"): the rows below the first have no value of their own.
      if (m.col === col) {
        issue('error', 'Cgw.MergedCell', `${what} is merged into ${m.address} above it, so this row's ${name} is empty; unmerge the cells (Home > Merge > Unmerge) and fill the value into every row`);
      } else {
        issue('warning', 'Cgw.MergedCell', `${what} is merged into ${m.address} and read as empty; unmerge the cells if this row needs a ${name}`);
      }
      return;
    }
    default:
      return;
  }
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * A cell as text plus what kind of value it holds; formulas are judged by their saved result. `notes` corrects what
 * the parser reads wrong: dates (ISO date cells, serial numbers under a date format), `_xHHHH_` escapes in inline and
 * `t="str"` text, and a formula whose saved result is the empty string.
 */
function readCellNoted(cell: ExcelJS.Cell, notes: ReadonlyMap<number, CellNote>, date1904: boolean): CellRead {
  const note = notes.size === 0 ? undefined : notes.get(cellKey(Number(cell.row), Number(cell.col)));
  switch (cell.type) {
    case V.Null:
      return { kind: 'empty', text: '' };
    case V.Merge: {
      const m = cell.master;
      return { kind: 'merged', text: '', master: { address: m.address, row: Number(m.row), col: Number(m.col) } };
    }
    case V.Formula: {
      // `cell.result`, not `cell.value.result`: the value's copy drops a saved 0, FALSE or "".
      const result: unknown = cell.result;
      if (result === undefined || result === null) {
        if (note?.emptyResult) return { kind: 'empty', text: '', formula: { cached: true } };
        return { kind: 'empty', text: '', formula: { cached: false } };
      }
      return { ...noted(plain(result), result, note, date1904), formula: { cached: true } };
    }
    default:
      return noted(plain(cell.value), cell.value, note, date1904);
  }
}

function noted(read: CellRead, raw: unknown, note: CellNote | undefined, date1904: boolean): CellRead {
  if (note === undefined) return read;
  if (note.date?.iso !== undefined) return { kind: 'date', text: isoText(note.date.iso) };
  if (note.date && typeof raw === 'number') return { kind: 'date', text: dateText(serialDate(raw, date1904)) };
  if (note.escaped && typeof raw === 'string') return plain(decodeEscapes(raw));
  return read;
}

/** A date serial number as a Date (1900 system: day 25569 is 1970-01-01; 1904 system: 1462 days later). */
function serialDate(serial: number, date1904: boolean): Date {
  return new Date(Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 86_400_000));
}

/** An ISO date cell's text for messages: the date alone when the time is midnight. */
function isoText(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(iso);
  if (!m) return iso.slice(0, 40);
  const time = m[2];
  return time === undefined || /^00:00(:00)?$/.test(time) ? m[1]! : `${m[1]} ${time.length === 5 ? `${time}:00` : time}`;
}

function plain(v: unknown): CellRead {
  if (v === null || v === undefined) return { kind: 'empty', text: '' };
  if (typeof v === 'string') return { kind: v.trim() === '' ? 'empty' : 'text', text: v.trim() };
  if (typeof v === 'number') return { kind: 'number', text: numberText(v) };
  if (typeof v === 'boolean') return { kind: 'boolean', text: v ? 'TRUE' : 'FALSE' };
  if (v instanceof Date) return { kind: 'date', text: dateText(v) };
  if (typeof v === 'object') {
    const o = v as { richText?: Array<{ text?: unknown }>; text?: unknown; error?: unknown };
    if (Array.isArray(o.richText)) return plain(o.richText.map((r) => (typeof r.text === 'string' ? r.text : '')).join(''));
    if (typeof o.error === 'string') return { kind: 'error', text: o.error };
    if (o.text !== undefined) return plain(o.text); // hyperlink: its text
  }
  return { kind: 'text', text: String(v).trim() };
}

/** A number as a spreadsheet's CSV export writes it in General format: at most 15 significant digits. */
export function numberText(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  const r = Number(n.toPrecision(15));
  return Math.abs(r) >= 1e21 || (r !== 0 && Math.abs(r) < 1e-6) ? r.toExponential().replace('e', 'E') : String(r);
}

function dateText(d: Date): string {
  if (Number.isNaN(d.getTime())) return '';
  const iso = d.toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.slice(0, 19).replace('T', ' ');
}

/** A sheet name as Excel writes it in a reference: quoted when it is not a plain word; control characters escaped. */
export function quoteSheet(name: string): string {
  return quoteSheetName(name);
}
