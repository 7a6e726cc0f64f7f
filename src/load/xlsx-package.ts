// .xlsx package -> the one sheet to read, as a minimal canonical package for the workbook parser. Only the parts the
// loader needs are inflated (each under a cap); the sheet loses everything that makes exceljs expand ranges cell by
// cell (data validations, defined names, hyperlinks, drawings), and merged areas, columns and cells are counted first.
import { posix } from 'node:path';
import { ZipError, listZip, readEntry, storeZip, type ZipEntry } from './zip.js';

export const XLSX_LIMITS = {
  /** One part (the sheet, shared strings, styles) uncompressed. */
  maxPartBytes: 64 * 1024 * 1024,
  maxEntries: 10_000,
  /** Cells holding something, after empty formatted cells are dropped: bounds the parser's memory (~1 KB a cell). */
  maxCells: 600_000,
  /** Data rows (after the header); the loader checks it on the parsed sheet. */
  maxRows: 50_000,
  maxColumns: 16_384,
} as const;

export interface SheetInfo {
  name: string;
  state: 'visible' | 'hidden' | 'veryHidden';
}

export interface SelectedSheet {
  sheets: SheetInfo[];
  sheet: SheetInfo;
  /** Hidden column ranges (1-based, inclusive), read here because the package handed on has no column definitions. */
  hiddenColumns: Array<[number, number]>;
  /** A package holding only the selected sheet, its shared strings and styles, ready for exceljs. */
  pkg: Buffer;
}

/** A problem with the package, phrased for the person holding the file; the caller adds the file name. */
export class PackageError extends Error {
  override name = 'PackageError';
}

const MAIN_NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG_REL_NS = 'http://schemas.openxmlformats.org/package/2006/relationships';

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
      if (required) throw new PackageError(`it has no ${name} part: not an Excel workbook (an .ods or .numbers file renamed?)`);
      return undefined;
    }
    try {
      return readEntry(bytes, e, XLSX_LIMITS.maxPartBytes).toString('utf8');
    } catch (err) {
      throw asPackageError(err);
    }
  };

  // Package rels -> workbook part -> its rels -> sheets, shared strings and styles.
  const rootRels = part('_rels/.rels', true)!;
  const bookPath = relTargets(rootRels, '').find((r) => r.type.endsWith('/officeDocument'))?.target ?? 'xl/workbook.xml';
  const book = part(bookPath, true)!;
  const bookDir = posix.dirname(bookPath);
  const bookRels = relTargets(part(posix.join(bookDir, '_rels', `${posix.basename(bookPath)}.rels`), true)!, bookDir);
  const relById = new Map(bookRels.map((r) => [r.id, r]));

  const sheetTags = [...book.matchAll(/<(?:\w+:)?sheet\b[^>]*>/g)].map((m) => attributes(m[0]));
  const sheets: Array<SheetInfo & { target?: string }> = sheetTags.map((a) => {
    const state = a.state === 'hidden' || a.state === 'veryHidden' ? a.state : 'visible';
    const rid = Object.entries(a).find(([k]) => k === 'id' || k.endsWith(':id'))?.[1];
    const target = rid === undefined ? undefined : relById.get(rid)?.target;
    const info: SheetInfo & { target?: string } = { name: a.name ?? '', state };
    if (target !== undefined) info.target = target;
    return info;
  });
  if (sheets.length === 0) throw new PackageError('the workbook lists no sheets');
  const list = sheets.map((s) => `"${s.name}"`).join(', ');

  let chosen: (typeof sheets)[number] | undefined;
  if (wanted !== undefined) {
    chosen = sheets.find((s) => s.name === wanted) ?? single(sheets.filter((s) => s.name.toLowerCase() === wanted.trim().toLowerCase()));
    if (!chosen) throw new PackageError(`it has no sheet named "${wanted}"; its sheets are ${list}`);
  } else {
    chosen = sheets.find((s) => s.state === 'visible') ?? sheets[0]!;
  }
  if (chosen.target === undefined || !byName.has(chosen.target.toLowerCase())) throw new PackageError(`sheet "${chosen.name}" has no worksheet part (a chart sheet?); choose another with --sheet (sheets: ${list})`);

  const sheetXml = part(chosen.target, true)!;
  const sharedPath = bookRels.find((r) => r.type.endsWith('/sharedStrings'))?.target;
  const stylesPath = bookRels.find((r) => r.type.endsWith('/styles'))?.target;
  const shared = sharedPath === undefined ? undefined : part(sharedPath, false);
  const styles = stylesPath === undefined ? undefined : part(stylesPath, false);
  const date1904 = /<(?:\w+:)?workbookPr\b[^>]*\bdate1904\s*=\s*["'](1|true)["']/.test(book);

  const parts: Array<{ name: string; data: Buffer }> = [
    { name: '_rels/.rels', data: Buffer.from(xml(`<Relationships xmlns="${PKG_REL_NS}"><Relationship Id="rId1" Type="${REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>`)) },
    {
      name: 'xl/workbook.xml',
      data: Buffer.from(
        xml(
          `<workbook xmlns="${MAIN_NS}" xmlns:r="${REL_NS}"><workbookPr${date1904 ? ' date1904="1"' : ''}/>` +
            `<sheets><sheet name="${escapeAttr(chosen.name)}" sheetId="1" r:id="rId1"/></sheets></workbook>`,
        ),
      ),
    },
    {
      name: 'xl/_rels/workbook.xml.rels',
      data: Buffer.from(
        xml(
          `<Relationships xmlns="${PKG_REL_NS}"><Relationship Id="rId1" Type="${REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>` +
            (shared !== undefined ? `<Relationship Id="rId2" Type="${REL_NS}/sharedStrings" Target="sharedStrings.xml"/>` : '') +
            (styles !== undefined ? `<Relationship Id="rId3" Type="${REL_NS}/styles" Target="styles.xml"/>` : '') +
            '</Relationships>',
        ),
      ),
    },
  ];
  const minimal = minimalSheet(sheetXml);
  parts.push({ name: 'xl/worksheets/sheet1.xml', data: Buffer.from(minimal.xml, 'utf8') });
  if (shared !== undefined) parts.push({ name: 'xl/sharedStrings.xml', data: Buffer.from(shared, 'utf8') });
  if (styles !== undefined) parts.push({ name: 'xl/styles.xml', data: Buffer.from(styles, 'utf8') });
  return { sheets: sheets.map(({ name, state }) => ({ name, state })), sheet: { name: chosen.name, state: chosen.state }, hiddenColumns: minimal.hiddenColumns, pkg: storeZip(parts) };
}

function single<T>(xs: T[]): T | undefined {
  return xs.length === 1 ? xs[0] : undefined;
}

function xml(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n${body}`;
}

/**
 * The sheet reduced to its root element, cell data and merged areas, with the main namespace's prefix (some
 * generators write `<x:row>`) removed, empty formatted cells dropped, and sizes checked. Column definitions are read
 * here (hidden columns) and left out: exceljs merges a column's style into every cell of it, which doubled load time.
 */
export function minimalSheet(source: string): { xml: string; hiddenColumns: Array<[number, number]> } {
  let text = source;
  const prefix = /<(\w+):worksheet\b/.exec(text)?.[1];
  if (prefix !== undefined) text = text.replace(new RegExp(`<(/?)${prefix}:`, 'g'), '<$1');
  const root = /<worksheet\b[^>]*>/.exec(text)?.[0];
  if (root === undefined) throw new PackageError('the sheet part is not a worksheet');
  const cols = /<cols\b[^>]*>[\s\S]*?<\/cols>/.exec(text)?.[0] ?? '';
  let data = /<sheetData\b[^>]*\/>|<sheetData\b[^>]*>[\s\S]*?<\/sheetData>/.exec(text)?.[0];
  if (data === undefined) throw new PackageError('the sheet has no cell data part; save it again from Excel or LibreOffice, or export CSV UTF-8');
  const merges = /<mergeCells\b[^>]*>[\s\S]*?<\/mergeCells>/.exec(text)?.[0] ?? '';

  const hiddenColumns: Array<[number, number]> = [];
  for (const m of cols.matchAll(/<col\b[^>]*>/g)) {
    const a = attributes(m[0]);
    const min = Number(a.min);
    const max = Number(a.max);
    if (!(min >= 1 && max >= min && max <= XLSX_LIMITS.maxColumns)) throw new PackageError(`the sheet's column definitions are invalid (columns ${a.min}..${a.max})`);
    if (a.hidden === '1' || a.hidden === 'true') hiddenColumns.push([min, max]);
  }
  // Cell and row references are optional in the format, and exceljs needs them: fill them in (before dropping cells).
  if (/<c(?![^>]*\br\s*=)[\s>\/]|<row(?![^>]*\br\s*=)[\s>\/]/.test(data)) data = addReferences(data);
  // Cells with a style but no value (whole formatted ranges) carry nothing to read: dropped before counting.
  data = data.replace(/<c\b[^>]*\/>/g, '').replace(/<row\b[^>]*\/>/g, '');
  let cells = 0;
  for (let i = data.indexOf('<c'); i >= 0; i = data.indexOf('<c', i + 2)) {
    const next = data.charCodeAt(i + 2);
    if (next === 0x20 || next === 0x3e || next === 0x09 || next === 0x0a || next === 0x0d) cells++;
  }
  if (cells > XLSX_LIMITS.maxCells) throw new PackageError(`the sheet has ${cells} cells with values, over the ${XLSX_LIMITS.maxCells} limit; split the sheet or export CSV UTF-8`);
  let merged = 0;
  for (const m of merges.matchAll(/<mergeCell\b[^>]*>/g)) {
    const ref = attributes(m[0]).ref ?? '';
    const r = /^\$?([A-Z]{1,3})\$?(\d{1,7}):\$?([A-Z]{1,3})\$?(\d{1,7})$/.exec(ref);
    if (!r) throw new PackageError(`the sheet has an invalid merged range "${ref.slice(0, 40)}"`);
    merged += (Math.abs(colNumber(r[3]!) - colNumber(r[1]!)) + 1) * (Math.abs(Number(r[4]) - Number(r[2])) + 1);
    if (merged > XLSX_LIMITS.maxCells) throw new PackageError('the sheet merges more cells than it could hold data; unmerge the cells (Home > Merge > Unmerge) and save again');
  }
  return { xml: xml(`${root}${data}${merges}</worksheet>`), hiddenColumns };
}

/** Gives every `<row>` its `r` (previous + 1) and every `<c>` its `r` (previous column + 1), as the format implies. */
function addReferences(data: string): string {
  let row = 0;
  let col = 0;
  return data.replace(/<(row|c)\b([^>]*)>/g, (tag, name: string, rest: string) => {
    const r = /\br\s*=\s*["']([^"']*)["']/.exec(rest)?.[1];
    if (name === 'row') {
      row = r !== undefined && /^\d+$/.test(r) ? Number(r) : row + 1;
      col = 0;
      return r !== undefined ? tag : `<row r="${row}"${rest}>`;
    }
    const m = r === undefined ? null : /^([A-Z]{1,3})(\d+)$/.exec(r);
    col = m ? colNumber(m[1]!) : col + 1;
    return r !== undefined ? tag : `<c r="${colLetters(col)}${row}"${rest}>`;
  });
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

interface RelTarget {
  id: string;
  type: string;
  /** Package path of the target, without a leading slash. */
  target: string;
}

function relTargets(text: string, baseDir: string): RelTarget[] {
  const out: RelTarget[] = [];
  for (const m of text.matchAll(/<(?:\w+:)?Relationship\b[^>]*>/g)) {
    const a = attributes(m[0]);
    if (a.Id === undefined || a.Target === undefined || a.TargetMode === 'External') continue;
    const t = a.Target;
    const target = t.startsWith('/') ? t.slice(1) : posix.normalize(posix.join(baseDir, t));
    out.push({ id: a.Id, type: a.Type ?? '', target });
  }
  return out;
}

/** Attributes of one start tag, entity-decoded. */
function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const m of tag.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) out[m[1]!] = decodeXml(m[2] ?? m[3] ?? '');
  return out;
}

function decodeXml(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    if (e === 'amp') return '&';
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    const cp = e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
  });
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

function asPackageError(e: unknown): PackageError {
  if (e instanceof PackageError) return e;
  if (e instanceof ZipError) return new PackageError(e.message);
  return new PackageError('it cannot be read as a ZIP package (damaged file?)');
}
