// Builds real .xlsx workbooks in memory with exceljs (the library the loader reads with) and edits their parts.
import ExcelJS from 'exceljs';
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
