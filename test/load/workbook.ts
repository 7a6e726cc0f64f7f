// Builds real .xlsx workbooks in memory with exceljs (the library the loader reads with) and edits their parts.
import ExcelJS from 'exceljs';
import { deflateRawSync } from 'node:zlib';
import { listZip, readEntry, storeZip } from '../../src/load/zip.js';

export type CellValue = ExcelJS.CellValue;

/** A workbook with one sheet per entry, rows as given; `edit` can change the sheet (merges, hidden rows...). */
export async function workbook(sheets: Record<string, CellValue[][]>, edit?: (wb: ExcelJS.Workbook) => void): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  for (const [name, rows] of Object.entries(sheets)) {
    const ws = wb.addWorksheet(name);
    for (const r of rows) ws.addRow(r);
  }
  edit?.(wb);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** Reads a workbook back with exceljs (for tests of what was written). */
export async function readBack(bytes: Buffer | Uint8Array): Promise<ExcelJS.Workbook> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(Buffer.from(bytes) as unknown as ArrayBuffer);
  return wb;
}

/** The parts of a package, inflated. */
export function parts(bytes: Buffer): Array<{ name: string; data: Buffer }> {
  return listZip(bytes, 1000)
    .filter((e) => !e.name.endsWith('/'))
    .map((e) => ({ name: e.name, data: readEntry(bytes, e, 100 * 1024 * 1024) }));
}

/** The same package with one part's text changed. */
export function withPart(bytes: Buffer, name: string, change: (xml: string) => string): Buffer {
  return storeZip(parts(bytes).map((p) => (p.name === name ? { name, data: Buffer.from(change(p.data.toString('utf8')), 'utf8') } : p)));
}

export interface RawEntry {
  name: string;
  /** Bytes as stored (already deflated when method is 8). */
  data: Buffer;
  method: 0 | 8;
  /** Uncompressed size as the directory declares it (may lie, for bomb tests). */
  size: number;
}

/** A ZIP written entry by entry, with whatever sizes the test declares. */
export function rawZip(entries: RawEntry[]): Buffer {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.size, 22);
    local.writeUInt16LE(name.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(e.method, 10);
    cd.writeUInt32LE(e.data.length, 20);
    cd.writeUInt32LE(e.size, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    chunks.push(local, name, e.data);
    central.push(cd, name);
    offset += 30 + name.length + e.data.length;
  }
  const cdBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdBuf.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...chunks, cdBuf, end]);
}

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG = 'http://schemas.openxmlformats.org/package/2006/relationships';

/** Escapes text for an XML text node or attribute value. */
export function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An inline-string cell, as XlsxWriter (constant_memory) and SheetJS write text. */
export function inline(ref: string, text: string): string {
  return `<c r="${ref}" t="inlineStr"><is><t>${xmlText(text)}</t></is></c>`;
}

/** A row of inline-string cells from column A on. */
export function inlineRow(row: number, texts: string[]): string {
  return `<row r="${row}">${texts.map((t, i) => inline(`${String.fromCharCode(65 + i)}${row}`, t)).join('')}</row>`;
}

/**
 * A workbook written part by part from XML text, deflated (so a part of tens of MB is a small file): `sheetData` is
 * the inside of <sheetData> (or the whole worksheet when it starts with `<worksheet`), `sst` the inside of <sst>,
 * `styles` the inside of <styleSheet>. `sheetName` is written as given (already XML-escaped).
 */
export function xmlWorkbook(p: { sheetData: string; sst?: string; styles?: string; sheetName?: string; date1904?: boolean }): Buffer {
  const sheet = p.sheetData.startsWith('<worksheet') ? p.sheetData : `<worksheet xmlns="${MAIN}"><sheetData>${p.sheetData}</sheetData></worksheet>`;
  const rels = [`<Relationship Id="rId1" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/>`];
  if (p.sst !== undefined) rels.push(`<Relationship Id="rId2" Type="${REL}/sharedStrings" Target="sharedStrings.xml"/>`);
  if (p.styles !== undefined) rels.push(`<Relationship Id="rId3" Type="${REL}/styles" Target="styles.xml"/>`);
  const parts: Array<[string, string]> = [
    ['_rels/.rels', `<Relationships xmlns="${PKG}"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`],
    [
      'xl/workbook.xml',
      `<workbook xmlns="${MAIN}" xmlns:r="${REL}">${p.date1904 ? '<workbookPr date1904="1"/>' : ''}<sheets><sheet name="${p.sheetName ?? 'Sites'}" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    ],
    ['xl/_rels/workbook.xml.rels', `<Relationships xmlns="${PKG}">${rels.join('')}</Relationships>`],
    ['xl/worksheets/sheet1.xml', sheet],
  ];
  if (p.sst !== undefined) parts.push(['xl/sharedStrings.xml', `<sst xmlns="${MAIN}">${p.sst}</sst>`]);
  if (p.styles !== undefined) parts.push(['xl/styles.xml', `<styleSheet xmlns="${MAIN}">${p.styles}</styleSheet>`]);
  return rawZip(
    parts.map(([name, text]) => {
      const data = Buffer.from(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n${text}`, 'utf8');
      return { name, data: deflateRawSync(data, { level: 9 }), method: 8 as const, size: data.length };
    }),
  );
}
