// .xlsx package -> the one sheet to read, as a minimal canonical package for the workbook parser. Only the parts the
// loader needs are inflated (each under a cap) and every part is read by one linear scan. The parser gets cells,
// rows and merged areas and nothing it could expand: no styles (dates are told here from the number formats), no
// column definitions, data validations, defined names or hyperlinks, and only the shared strings the sheet uses,
// each flattened to plain text. Cells, rows and columns are checked against the sheet's limits first.
import { posix } from 'node:path';
import { printable } from '../text.js';
import { TagScanner, XmlScanError, decodeXml } from './xml-scan.js';
import { parseCustomProperties } from './results-props.js';
import { ZipError, listZip, readEntry, storeZip, type ZipEntry } from './zip.js';

export const XLSX_LIMITS = {
  /** One part (the sheet, shared strings, styles) uncompressed. */
  maxPartBytes: 64 * 1024 * 1024,
  maxEntries: 10_000,
  /** Cells holding something, after empty formatted cells are dropped: bounds the parser's memory (~1 KB a cell). */
  maxCells: 600_000,
  /** Data rows (after the header); the loader checks it on the parsed sheet. */
  maxRows: 50_000,
  /** The last column and row a sheet can have (Excel and LibreOffice): XFD and 1,048,576. */
  maxColumns: 16_384,
  maxSheetRows: 1_048_576,
} as const;

export interface SheetInfo {
  name: string;
  state: 'visible' | 'hidden' | 'veryHidden';
}

/** What the scan learnt about a cell that the parser would read wrong. */
export interface CellNote {
  /** A date: `iso` for an ISO date cell (`t="d"`), else a serial number under a date format (its value is the serial). */
  date?: { iso?: string };
  /** Inline string or `t="str"` text holding `_xHHHH_` escapes (the parser decodes them only in shared strings). */
  escaped?: true;
  /** A formula whose saved result is the empty string (the parser drops an empty `<v>`). */
  emptyResult?: true;
}

export interface SelectedSheet {
  sheets: SheetInfo[];
  sheet: SheetInfo;
  /** Hidden column ranges (1-based, inclusive), read here because the package handed on has no column definitions. */
  hiddenColumns: Array<[number, number]>;
  /** Notes by cellKey(row, col), only for cells that need one. */
  notes: Map<number, CellNote>;
  /** The workbook counts dates from 1904 (old Mac Excel), not 1900. */
  date1904: boolean;
  /** A package holding only the selected sheet and the shared strings it uses, ready for exceljs. */
  pkg: Buffer;
  /** The workbook's custom document properties (docProps/custom.xml), when it has any. */
  properties?: Map<string, string>;
}

/** A problem with the package, phrased for the person holding the file; the caller adds the file name. */
export class PackageError extends Error {
  override name = 'PackageError';
}

const MAIN_NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG_REL_NS = 'http://schemas.openxmlformats.org/package/2006/relationships';

/** One number per cell position, for note maps. */
export function cellKey(row: number, col: number): number {
  return (row - 1) * XLSX_LIMITS.maxColumns + (col - 1);
}

export function selectSheet(bytes: Buffer, wanted: string | undefined): SelectedSheet {
  let entries: ZipEntry[];
  try {
    entries = listZip(bytes, XLSX_LIMITS.maxEntries);
  } catch (e) {
    throw asPackageError(e);
  }
  const byName = new Map(entries.map((e) => [e.name.toLowerCase(), e]));
  const part = (name: string, required: boolean): string | undefined => {
    const e = byName.get(name.toLowerCase());
    if (!e) {
      if (required) throw new PackageError(`it has no ${printable(name)} part: not an Excel workbook (an .ods or .numbers file renamed?)`);
      return undefined;
    }
    try {
      return readEntry(bytes, e, XLSX_LIMITS.maxPartBytes).toString('utf8');
    } catch (err) {
      throw asPackageError(err);
    }
  };
  const scan = <T>(what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof XmlScanError) throw new PackageError(`the ${what} part is damaged (${e.message}); open the file in Excel or LibreOffice and save it again`);
      throw e;
    }
  };

  // Package rels -> workbook part -> its rels -> sheets, shared strings and styles.
  const rootRels = scan('package relationships', () => relTargets(part('_rels/.rels', true)!, ''));
  const customPath = rootRels.find((r) => r.type.endsWith('/custom-properties'))?.target;
  const customText = customPath === undefined ? undefined : part(customPath, false);
  const properties = customText === undefined ? undefined : parseCustomProperties(customText);
  const bookPath = rootRels.find((r) => r.type.endsWith('/officeDocument'))?.target ?? 'xl/workbook.xml';
  const book = scan('workbook', () => readBook(part(bookPath, true)!));
  const bookDir = posix.dirname(bookPath);
  const bookRels = scan('workbook relationships', () => relTargets(part(posix.join(bookDir, '_rels', `${posix.basename(bookPath)}.rels`), true)!, bookDir));
  const relById = new Map(bookRels.map((r) => [r.id, r]));

  const sheets: Array<SheetInfo & { target?: string }> = book.sheets.map((a) => {
    const state = a.state === 'hidden' || a.state === 'veryHidden' ? a.state : 'visible';
    const target = a.id === undefined ? undefined : relById.get(a.id)?.target;
    const info: SheetInfo & { target?: string } = { name: a.name ?? '', state };
    if (target !== undefined) info.target = target;
    return info;
  });
  if (sheets.length === 0) throw new PackageError('the workbook lists no sheets');
  const list = sheets.map((s) => `"${printable(s.name)}"`).join(', ');

  let chosen: (typeof sheets)[number] | undefined;
  if (wanted !== undefined) {
    chosen = sheets.find((s) => s.name === wanted) ?? single(sheets.filter((s) => s.name.toLowerCase() === wanted.trim().toLowerCase()));
    if (!chosen) throw new PackageError(`it has no sheet named "${printable(wanted)}"; its sheets are ${list}`);
  } else {
    // A Profiles sheet (IPsec profiles a manifest's rows reference) is never the rows' sheet by default.
    const rowsSheet = (s: SheetInfo) => s.state === 'visible' && s.name.trim().toLowerCase() !== 'profiles';
    chosen = sheets.find(rowsSheet) ?? sheets.find((s) => s.state === 'visible') ?? sheets[0]!;
  }
  if (chosen.target === undefined || !byName.has(chosen.target.toLowerCase())) {
    throw new PackageError(`sheet "${printable(chosen.name)}" has no worksheet part (a chart sheet?); choose another with --sheet (sheets: ${list})`);
  }

  const sharedPath = bookRels.find((r) => r.type.endsWith('/sharedStrings'))?.target;
  const stylesPath = bookRels.find((r) => r.type.endsWith('/styles'))?.target;
  // Styles first (the sheet scan needs to know which cell formats are dates), then the sheet, then its strings.
  const stylesText = stylesPath === undefined ? undefined : part(stylesPath, false);
  const dates = stylesText === undefined ? new Uint8Array(0) : scan('styles', () => dateStyles(stylesText));
  const sheetRef = quoteSheetName(chosen.name);
  const sheet = scan('sheet', () => rewriteSheet(part(chosen.target!, true)!, sheetRef, dates));
  let shared: Buffer | undefined;
  if (sheet.shared.length > 0) {
    const sst = sharedPath === undefined ? undefined : part(sharedPath, false);
    shared = scan('shared strings', () => rewriteSharedStrings(sst ?? '', sheet.shared, sheet.sharedAt));
  }

  const parts: Array<{ name: string; data: Buffer }> = [
    { name: '_rels/.rels', data: Buffer.from(xml(`<Relationships xmlns="${PKG_REL_NS}"><Relationship Id="rId1" Type="${REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>`)) },
    {
      name: 'xl/workbook.xml',
      data: Buffer.from(xml(`<workbook xmlns="${MAIN_NS}" xmlns:r="${REL_NS}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`)),
    },
    {
      name: 'xl/_rels/workbook.xml.rels',
      data: Buffer.from(
        xml(
          `<Relationships xmlns="${PKG_REL_NS}"><Relationship Id="rId1" Type="${REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>` +
            (shared !== undefined ? `<Relationship Id="rId2" Type="${REL_NS}/sharedStrings" Target="sharedStrings.xml"/>` : '') +
            '</Relationships>',
        ),
      ),
    },
    { name: 'xl/worksheets/sheet1.xml', data: sheet.xml },
  ];
  if (shared !== undefined) parts.push({ name: 'xl/sharedStrings.xml', data: shared });
  return {
    sheets: sheets.map(({ name, state }) => ({ name, state })),
    sheet: { name: chosen.name, state: chosen.state },
    hiddenColumns: sheet.hiddenColumns,
    notes: sheet.notes,
    date1904: book.date1904,
    pkg: storeZip(parts),
    ...(properties && properties.size > 0 ? { properties } : {}),
  };
}

function single<T>(xs: T[]): T | undefined {
  return xs.length === 1 ? xs[0] : undefined;
}

function xml(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n${body}`;
}

/** A sheet name as Excel writes it in a reference (quoted unless a plain word), printable. */
export function quoteSheetName(name: string): string {
  return printable(/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) ? name : `'${name.replace(/'/g, "''")}'`);
}

function readBook(text: string): { sheets: Array<Record<string, string>>; date1904: boolean } {
  const t = new TagScanner(text);
  const sheets: Array<Record<string, string>> = [];
  let date1904 = false;
  while (t.next()) {
    if (t.closing) continue;
    if (t.is('sheet')) sheets.push(t.attrs());
    else if (t.is('workbookPr')) {
      const v = t.attrs().date1904;
      date1904 = v === '1' || v === 'true';
    }
  }
  return { sheets, date1904 };
}

interface RelTarget {
  id: string;
  type: string;
  /** Package path of the target, without a leading slash. */
  target: string;
}

function relTargets(text: string, baseDir: string): RelTarget[] {
  const out: RelTarget[] = [];
  const t = new TagScanner(text);
  while (t.next()) {
    if (t.closing || !t.is('Relationship')) continue;
    const a = t.attrs();
    if (a.Id === undefined || a.Target === undefined || a.TargetMode === 'External') continue;
    const target = a.Target.startsWith('/') ? a.Target.slice(1) : posix.normalize(posix.join(baseDir, a.Target));
    out.push({ id: a.Id, type: a.Type ?? '', target });
  }
  return out;
}

// --- Styles: which cell formats show dates -------------------------------------------------------------------------

/**
 * Built-in number formats that show a date or a time: 14-22 (all locales), 27-36 and 50-58 (the East-Asian date and
 * era formats Chinese, Japanese and Korean Excel write), 45-47 (minutes and seconds).
 */
function builtInDate(id: number): boolean {
  return (id >= 14 && id <= 22) || (id >= 27 && id <= 36) || (id >= 45 && id <= 47) || (id >= 50 && id <= 58);
}

/**
 * A format code that shows a date or time: after removing quoted text, escaped characters, colours and locale tags
 * (`[Red]`, `[$-411]`), it still holds a date or time letter (y m d h s, the era letters e g of East-Asian formats,
 * b for Buddhist years) or an elapsed-time bracket such as `[h]`. Only the first section (positive numbers) counts.
 */
export function isDateFormat(code: string): boolean {
  let s = '';
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    if (c === '"') {
      const end = code.indexOf('"', i + 1);
      i = end < 0 ? code.length : end;
    } else if (c === '\\' || c === '_' || c === '*') i++;
    else if (c === '[') {
      const end = code.indexOf(']', i + 1);
      const inner = code.slice(i + 1, end < 0 ? code.length : end);
      if (/^(h+|m+|s+)$/i.test(inner)) return true;
      i = end < 0 ? code.length : end;
    } else if (c === ';') break;
    else s += c;
  }
  s = s.replace(/general/gi, '').replace(/e[+-]/gi, '');
  return /[ymdhsegb]/i.test(s);
}

/** styles.xml -> one flag per cell format (cellXfs index): 1 when it shows dates. Nothing else is kept. */
function dateStyles(text: string): Uint8Array {
  const t = new TagScanner(text);
  const custom = new Map<number, boolean>();
  const xfFormats: number[] = [];
  let inCellXfs = false;
  while (t.next()) {
    if (t.is('cellXfs')) {
      inCellXfs = !t.closing && !t.selfClosing;
      continue;
    }
    if (t.closing) continue;
    if (t.is('numFmt')) {
      const a = t.attrs();
      const id = Number(a.numFmtId);
      if (Number.isInteger(id) && a.formatCode !== undefined) custom.set(id, isDateFormat(a.formatCode));
    } else if (t.is('xf') && inCellXfs) {
      xfFormats.push(Number(t.attr('numFmtId') ?? 0));
      if (!t.selfClosing) t.skipElement();
    }
  }
  const out = new Uint8Array(xfFormats.length);
  for (let i = 0; i < xfFormats.length; i++) {
    const id = xfFormats[i]!;
    if (custom.get(id) ?? builtInDate(id)) out[i] = 1;
  }
  return out;
}

// --- The sheet ------------------------------------------------------------------------------------------------------

interface RewrittenSheet {
  /** The rewritten part, UTF-8. */
  xml: Buffer;
  hiddenColumns: Array<[number, number]>;
  notes: Map<number, CellNote>;
  /** Shared-string indices the sheet uses, in the order of their new index. */
  shared: number[];
  /** For each of those, the first cell using it (for the error when the strings part lacks it). */
  sharedAt: string[];
}

const ESCAPE = /_x[0-9A-Fa-f]{4}_/;
const ROW_ATTRS = ['r', 'hidden'] as const;
const CELL_ATTRS = ['r', 't', 's'] as const;
/** A strings part of 64 MB holds at most 13 million strings (5 bytes each at least). */
const MAX_SHARED_INDEX = Math.floor(XLSX_LIMITS.maxPartBytes / 5);

/**
 * The sheet rewritten to what the loader reads: rows (with `hidden`) and cells with canonical references and no
 * style, formulas as written, values with shared-string indices renumbered to the strings this sheet uses, inline
 * strings flattened to one text (no rich runs, no phonetic guides), ISO date cells as text (noted as dates), empty
 * cells dropped; merged areas checked and kept. Rows, columns, cells and merged areas are checked against the limits.
 */
export function rewriteSheet(source: string, sheetRef: string, dates: Uint8Array): RewrittenSheet {
  return new SheetRewriter(source, sheetRef, dates).run();
}

const NOT_CLOSED = 'an element is not closed before the end of the part';

// One pass over the sheet; a method per element keeps each small (the cell path runs for every cell).
class SheetRewriter {
  private readonly t: TagScanner;
  private readonly out: ByteWriter;
  private readonly hiddenColumns: Array<[number, number]> = [];
  private readonly notes = new Map<number, CellNote>();
  // Old shared-string index -> new one; an array (holey where the sheet skips strings) is much cheaper than a Map.
  private readonly sharedIndex: number[] = [];
  private readonly shared: number[] = [];
  private readonly sharedAt: string[] = [];
  private readonly merges: string[] = [];
  private cells = 0;
  private mergedArea = 0;
  private readonly rowSpans = new Int32Array(4);
  private readonly cellSpans = new Int32Array(6);
  private readonly ref = { col: 0, row: 0 };
  private readonly content: CellContent = { value: undefined, inline: undefined, formula: undefined };

  constructor(
    private readonly source: string,
    private readonly sheetRef: string,
    private readonly dates: Uint8Array,
  ) {
    this.t = new TagScanner(source);
    this.out = new ByteWriter(Math.min(source.length + 1024, XLSX_LIMITS.maxPartBytes));
  }

  run(): RewrittenSheet {
    const t = this.t;
    let root = false;
    while (t.next()) {
      if (t.closing) continue;
      root = t.is('worksheet');
      break;
    }
    if (!root) throw new PackageError('the sheet part is not a worksheet');
    this.out.write(xml(`<worksheet xmlns="${MAIN_NS}"><sheetData>`));
    let sawData = false;
    while (t.next()) {
      if (t.closing) continue;
      if (t.is('cols')) this.cols();
      else if (t.is('sheetData')) {
        sawData = true;
        this.sheetData();
      } else if (t.is('mergeCells')) this.mergeCells();
      else if (!t.selfClosing) t.skipElement();
    }
    if (!sawData) throw new PackageError('the sheet has no cell data part; save it again from Excel or LibreOffice, or export CSV UTF-8');
    this.out.write('</sheetData>');
    if (this.merges.length > 0) this.out.write(`<mergeCells count="${this.merges.length}">${this.merges.join('')}</mergeCells>`);
    this.out.write('</worksheet>');
    return { xml: this.out.bytes(), hiddenColumns: this.hiddenColumns, notes: this.notes, shared: this.shared, sharedAt: this.sharedAt };
  }

  private at(col: number, row: number): string {
    return `cell ${this.sheetRef}!${colLetters(col)}${row}`;
  }

  private note(row: number, col: number, n: CellNote): void {
    const key = cellKey(row, col);
    this.notes.set(key, { ...this.notes.get(key), ...n });
  }

  private cols(): void {
    const t = this.t;
    if (t.selfClosing) return;
    for (;;) {
      if (!t.next()) throw new XmlScanError(NOT_CLOSED);
      if (t.closing && t.is('cols')) return;
      if (t.closing || !t.is('col')) continue;
      const a = t.attrs();
      const min = Number(a.min);
      const max = Number(a.max);
      if (!(Number.isInteger(min) && Number.isInteger(max) && min >= 1 && max >= min && max <= XLSX_LIMITS.maxColumns)) {
        throw new PackageError(`the sheet's column definitions are invalid (columns ${printable(String(a.min).slice(0, 20))}..${printable(String(a.max).slice(0, 20))})`);
      }
      if (a.hidden === '1' || a.hidden === 'true') this.hiddenColumns.push([min, max]);
      if (!t.selfClosing) t.skipElement();
    }
  }

  private mergeCells(): void {
    const t = this.t;
    if (t.selfClosing) return;
    for (;;) {
      if (!t.next()) throw new XmlScanError(NOT_CLOSED);
      if (t.closing && t.is('mergeCells')) return;
      if (t.closing || !t.is('mergeCell')) continue;
      const ref = t.attr('ref') ?? '';
      const r = /^\$?([A-Z]{1,3})\$?(\d{1,7}):\$?([A-Z]{1,3})\$?(\d{1,7})$/.exec(ref);
      if (!r) throw new PackageError(`the sheet has an invalid merged range "${printable(ref.slice(0, 40))}"`);
      const c1 = colNumber(r[1]!);
      const c2 = colNumber(r[3]!);
      const r1 = Number(r[2]);
      const r2 = Number(r[4]);
      if (Math.max(c1, c2) > XLSX_LIMITS.maxColumns || Math.max(r1, r2) > XLSX_LIMITS.maxSheetRows || Math.min(r1, r2, c1, c2) < 1) {
        throw new PackageError(`the sheet's merged range ${ref} reaches past the last row or column a sheet can have`);
      }
      this.mergedArea += (Math.abs(c2 - c1) + 1) * (Math.abs(r2 - r1) + 1);
      if (this.mergedArea > XLSX_LIMITS.maxCells) throw new PackageError('the sheet merges more cells than it could hold data; unmerge the cells (Home > Merge > Unmerge) and save again');
      this.merges.push(`<mergeCell ref="${ref}"/>`);
      if (!t.selfClosing) t.skipElement();
    }
  }

  private sheetData(): void {
    const t = this.t;
    if (t.selfClosing) return;
    let rowNumber = 0;
    for (;;) {
      if (!t.next()) throw new XmlScanError(NOT_CLOSED);
      if (t.closing && t.is('sheetData')) return;
      if (t.closing) continue;
      if (!t.is('row')) {
        t.skipElement();
        continue;
      }
      rowNumber = this.row(rowNumber);
    }
  }

  /** One `<row>` (its start tag just read); returns its number. */
  private row(previous: number): number {
    const t = this.t;
    const s = this.source;
    const spans = this.rowSpans;
    t.pickSpans(ROW_ATTRS, spans);
    const numbered = spans[0]! >= 0 && digitsAt(s, spans[0]!, spans[1]!) >= 0;
    let rowNumber = numbered ? digitsAt(s, spans[0]!, spans[1]!) : previous + 1;
    if (rowNumber < 1) throw new PackageError('the sheet has a row numbered 0; rows start at 1');
    const hiddenValue = spans[2]! >= 0 ? s.slice(spans[2]!, spans[3]!) : '';
    const hidden = hiddenValue === '1' || hiddenValue === 'true';
    if (t.selfClosing) return rowNumber; // a formatted row without cells
    // A row without its number takes it from its first cell's reference, when that has one.
    let placed = numbered;
    let rowXml = '';
    let col = 0;
    for (;;) {
      if (!t.next()) throw new XmlScanError(NOT_CLOSED);
      if (t.closing && t.is('row')) break;
      if (t.closing) continue;
      if (!t.is('c')) {
        t.skipElement();
        continue;
      }
      const cs = this.cellSpans;
      t.pickSpans(CELL_ATTRS, cs);
      let row = rowNumber;
      if (cs[0]! >= 0) {
        if (!parseRef(s, cs[0]!, cs[1]!, this.ref)) {
          throw new PackageError(`the sheet has a cell with an invalid reference "${printable(s.slice(cs[0]!, Math.min(cs[1]!, cs[0]! + 20)))}" in row ${rowNumber}`);
        }
        col = this.ref.col;
        row = this.ref.row;
        if (!placed) rowNumber = row;
        if (row !== rowNumber && row <= XLSX_LIMITS.maxSheetRows && rowNumber <= XLSX_LIMITS.maxSheetRows) {
          throw new PackageError(`${this.at(col, row)} is written inside row ${rowNumber} (damaged file?); open it in Excel or LibreOffice and save it again`);
        }
      } else col++;
      placed = true;
      if (row > XLSX_LIMITS.maxSheetRows) throw new PackageError(`${this.at(col, row)} is past the last row a sheet can have (1,048,576); the file was not saved by a spreadsheet program, or is damaged`);
      if (col > XLSX_LIMITS.maxColumns || col < 1) throw new PackageError(`${this.at(col, row)} is past the last column a sheet can have (XFD); the file was not saved by a spreadsheet program, or is damaged`);
      if (t.selfClosing) continue; // style only, no value
      const type = cellType(s, cs[2]!, cs[3]!);
      const style = cs[4]! < 0 ? 0 : digitsAt(s, cs[4]!, cs[5]!);
      const cell = this.cell(readCellContent(t, this.content), type, style, row, col);
      if (cell === undefined) continue;
      if (++this.cells > XLSX_LIMITS.maxCells) throw new PackageError(`the sheet has more than ${XLSX_LIMITS.maxCells} cells with values; split the sheet or export CSV UTF-8`);
      rowXml += cell;
    }
    // One write per row: a write costs more than the concatenation of a row's cells.
    if (rowXml !== '') this.out.write(`<row r="${rowNumber}"${hidden ? ' hidden="1"' : ''}>${rowXml}</row>`);
    return rowNumber;
  }

  /** The cell as it goes on, or undefined for a cell without a value. */
  private cell(content: CellContent, type: string, style: number, row: number, col: number): string | undefined {
    const f = content.formula ?? '';
    const hasF = content.formula !== undefined;
    const r = `${columnName(col)}${row}`;
    if (type === 's') {
      const v = content.value ?? '';
      if (v.trim() === '') return hasF ? `<c r="${r}">${f}</c>` : undefined;
      const old = digitsValue(v);
      if (old < 0) throw new PackageError(`${this.at(col, row)} refers to a shared string by "${printable(v.trim().slice(0, 20))}", not a number (damaged file?)`);
      if (old > MAX_SHARED_INDEX) throw new PackageError(`${this.at(col, row)} refers to shared string ${old}, more than a workbook can hold (damaged file?)`);
      let n = this.sharedIndex[old];
      if (n === undefined) {
        n = this.shared.length;
        this.sharedIndex[old] = n;
        this.shared.push(old);
        this.sharedAt.push(`${this.sheetRef}!${r}`);
      }
      return `<c r="${r}" t="s">${f}<v>${n}</v></c>`;
    }
    if (type === 'inlineStr') {
      const text = content.inline ?? content.value ?? '';
      if (text === '' && !hasF) return undefined;
      if (ESCAPE.test(text)) this.note(row, col, { escaped: true });
      return `<c r="${r}" t="inlineStr">${f}<is><t>${text}</t></is></c>`;
    }
    if (type === 'd') {
      // The parser would read "2026-12-31T00:00:00" as the number 2026: handed on as text, noted as a date.
      const v = content.value ?? '';
      if (v.trim() === '' && !hasF) return undefined;
      if (v.trim() !== '') this.note(row, col, { date: { iso: v.trim() } });
      return `<c r="${r}" t="str">${f}<v>${v}</v></c>`;
    }
    // n (or none), str, b, e; any other type is read as a number, as the parser reads it.
    const kind = type === 'str' || type === 'b' || type === 'e' ? type : 'n';
    const v = content.value;
    const hasValue = v !== undefined && v !== '';
    if (!hasValue && !hasF) return undefined;
    if (kind === 'str' && hasValue && ESCAPE.test(v)) this.note(row, col, { escaped: true });
    // `<v></v>` under a formula is a saved result: the empty string (the parser drops it).
    if (hasF && v === '') this.note(row, col, { emptyResult: true });
    if (kind === 'n' && style >= 0 && this.dates[style] === 1) this.note(row, col, { date: {} });
    return `<c r="${r}"${kind === 'n' ? '' : ` t="${kind}"`}>${f}${hasValue ? `<v>${v}</v>` : ''}</c>`;
  }
}

interface CellContent {
  /** `<v>` text as written (entities kept); '' for `<v/>` or `<v></v>`. */
  value: string | undefined;
  /** Inline string: the texts of its runs joined, as written; phonetic guides left out. */
  inline: string | undefined;
  /** The `<f>` element as it goes on (attributes and formula text as written, no namespace prefix). */
  formula: string | undefined;
}

/** Reads a `<c>` element's children (after its start tag) up to `</c>` into `out` (one object reused per sheet). */
function readCellContent(t: TagScanner, out: CellContent): CellContent {
  out.value = out.inline = out.formula = undefined;
  // The common cell, `<v>text</v></c>` without prefixes, read with two searches instead of four tags.
  const s = t.s;
  const p = t.pos;
  if (s.startsWith('<v>', p)) {
    const lt = s.indexOf('<', p + 3);
    if (lt >= 0 && s.startsWith('</v></c>', lt)) {
      out.value = s.slice(p + 3, lt);
      t.pos = lt + 8;
      return out;
    }
  }
  for (;;) {
    if (!t.next()) throw new XmlScanError('an element is not closed before the end of the part');
    if (t.closing) {
      if (t.is('c')) return out;
      continue;
    }
    if (t.is('v')) out.value = t.skipElement();
    else if (t.is('f')) {
      const attrs = t.rawAttrs();
      out.formula = `<f${attrs}>${t.skipElement()}</f>`;
    } else if (t.is('is')) out.inline = t.selfClosing ? '' : flattenText(t, 'is');
    else t.skipElement();
  }
}

/**
 * The text of a string item (`<is>` or `<si>`) as written: its `<t>` elements, directly or in rich runs, joined;
 * phonetic guides (`<rPh>`) and run properties left out. Ends after the item's end tag.
 */
function flattenText(t: TagScanner, endName: string): string {
  let text = '';
  let depth = 1;
  while (t.next()) {
    if (t.closing) {
      if (--depth === 0) {
        if (!t.is(endName)) throw new XmlScanError('elements are not nested properly');
        return text;
      }
      continue;
    }
    if (t.is('t')) text += t.skipElement();
    else if (t.is('rPh') || t.is('rPr') || t.is('phoneticPr')) t.skipElement();
    else if (!t.selfClosing) depth++;
  }
  throw new XmlScanError('an element is not closed before the end of the part');
}

/**
 * The shared strings the sheet uses, renumbered in the sheet's order and flattened to plain text: a strings part
 * with millions of rich strings costs one scan, and the parser gets one string per distinct value the sheet holds.
 */
function rewriteSharedStrings(source: string, used: readonly number[], usedAt: readonly string[]): Buffer {
  // Old index -> new index (an array: much cheaper than a Map for hundreds of thousands of strings).
  const wanted: number[] = [];
  for (let n = 0; n < used.length; n++) wanted[used[n]!] = n;
  const texts: Array<string | undefined> = new Array(used.length);
  const t = new TagScanner(source);
  let index = 0;
  while (t.next()) {
    if (t.closing || !t.is('si')) continue;
    const n = wanted[index++];
    if (t.selfClosing) {
      if (n !== undefined) texts[n] = '';
      continue;
    }
    // The common item, `<si><t>text</t></si>` (or with xml:space), read with two searches instead of four tags.
    const p = t.pos;
    const open = source.startsWith('<t>', p) ? 3 : source.startsWith('<t xml:space="preserve">', p) ? 24 : 0;
    if (open > 0) {
      const lt = source.indexOf('<', p + open);
      if (lt >= 0 && source.startsWith('</t></si>', lt)) {
        if (n !== undefined) texts[n] = source.slice(p + open, lt);
        t.pos = lt + 9;
        continue;
      }
    }
    if (n === undefined) t.skipElement();
    else texts[n] = flattenText(t, 'si');
  }
  for (let n = 0; n < texts.length; n++) {
    if (texts[n] === undefined) {
      throw new PackageError(`cell ${usedAt[n]} refers to shared string ${used[n]}, but the workbook has only ${index} (damaged file?); open it in Excel or LibreOffice and save it again`);
    }
  }
  const out = new ByteWriter(source.length + 1024);
  out.write(xml(`<sst xmlns="${MAIN_NS}">`));
  for (const text of texts) out.write(`<si><t>${text}</t></si>`);
  out.write('</sst>');
  return out.bytes();
}

/**
 * UTF-8 output written as it is made: the rewritten sheet never exists as thousands of strings waiting for a join
 * (which made the garbage collector the main cost of the scan).
 */
class ByteWriter {
  private buf: Buffer;
  private n = 0;
  constructor(initial: number) {
    this.buf = Buffer.allocUnsafe(Math.max(initial, 4096));
  }
  write(s: string): void {
    // A UTF-16 unit is at most 3 UTF-8 bytes.
    if (this.n + s.length * 3 > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + s.length * 3));
      this.buf.copy(next, 0, 0, this.n);
      this.buf = next;
    }
    this.n += this.buf.write(s, this.n, 'utf8');
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.n);
  }
}

/** A cell's `t` attribute as one of the known type names (no string made for those), or as written. */
function cellType(s: string, a: number, b: number): string {
  if (a < 0) return 'n';
  const n = b - a;
  if (n === 1) {
    const c = s.charCodeAt(a);
    if (c === 0x73) return 's';
    if (c === 0x6e) return 'n';
    if (c === 0x62) return 'b';
    if (c === 0x65) return 'e';
    if (c === 0x64) return 'd';
  } else if (n === 3 && s.startsWith('str', a)) return 'str';
  else if (n === 9 && s.startsWith('inlineStr', a)) return 'inlineStr';
  return decodeXml(s.slice(a, b));
}

/** Decimal digits in s[a, b) as a number, or -1. */
function digitsAt(s: string, a: number, b: number): number {
  if (b === a || b - a > 10) return -1;
  let n = 0;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

/** `A1`, `$B$7`, `xfd3` in s[from, to) -> column and row numbers into `into` (not range-checked); false when not a cell reference. */
function parseRef(s: string, from: number, to: number, into: { col: number; row: number }): boolean {
  const ref = s;
  let i = from;
  if (ref.charCodeAt(i) === 0x24) i++;
  let col = 0;
  const lettersFrom = i;
  for (; i < to && i - lettersFrom < 5; i++) {
    const c = ref.charCodeAt(i) | 0x20; // lower case
    if (c < 0x61 || c > 0x7a) break;
    col = col * 26 + (c - 0x60);
  }
  const letters = i - lettersFrom;
  if (letters === 0 || letters > 4) return false;
  if (ref.charCodeAt(i) === 0x24) i++;
  const digitsFrom = i;
  let row = 0;
  for (; i < to; i++) {
    const c = ref.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
    row = row * 10 + (c - 0x30);
  }
  const digits = i - digitsFrom;
  into.col = col;
  into.row = row;
  return digits > 0 && digits <= 10;
}

/** The number written as 1-10 decimal digits (surrounding spaces allowed), or -1. */
function digitsValue(v: string): number {
  let i = 0;
  let j = v.length;
  while (i < j && v.charCodeAt(i) <= 0x20) i++;
  while (j > i && v.charCodeAt(j - 1) <= 0x20) j--;
  if (j === i || j - i > 10) return -1;
  let n = 0;
  for (let k = i; k < j; k++) {
    const c = v.charCodeAt(k);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

// Column letters by number, made once per column (a sheet has at most 16,384).
const columnNames: string[] = [];
function columnName(col: number): string {
  return (columnNames[col] ??= colLetters(col));
}

/** 1 -> A, 27 -> AA. */
export function colLetters(n: number): string {
  let s = '';
  for (let x = n; x > 0; x = Math.floor((x - 1) / 26)) s = String.fromCharCode(65 + ((x - 1) % 26)) + s;
  return s;
}

/** `A` -> 1, `XFD` -> 16384. */
export function colNumber(letters: string): number {
  let n = 0;
  for (const ch of letters) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n;
}

/** `_xHHHH_` escapes (how OOXML writes characters XML cannot hold, e.g. `_x000D_` for CR); `_x005F_` is `_`. */
export function decodeEscapes(s: string): string {
  return s.replace(/_x([0-9A-Fa-f]{4})_/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function asPackageError(e: unknown): PackageError {
  if (e instanceof PackageError) return e;
  if (e instanceof ZipError) return new PackageError(e.message);
  return new PackageError('it cannot be read as a ZIP package (damaged file?)');
}
