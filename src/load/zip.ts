// Minimal ZIP reader and writers (STORE, DEFLATE) for .xlsx packages. Every entry is inflated with a hard output cap, so a zip bomb
// (or a central directory that lies about sizes) stops at the cap instead of filling memory.
import * as zlib from 'node:zlib';

/** A ZIP that cannot be read; the message is for people and never quotes entry contents. */
export class ZipError extends Error {
  override name = 'ZipError';
}

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  /** Declared uncompressed size (checked against the real one when inflated). */
  size: number;
  /** Offset of the entry's local header. */
  headerOffset: number;
  encrypted: boolean;
}

const EOCD = 0x06054b50;
const CDH = 0x02014b50;
const LFH = 0x04034b50;

/** The central directory: names and sizes only, nothing inflated. At most `maxEntries` entries. */
export function listZip(buf: Buffer, maxEntries: number): ZipEntry[] {
  const eocd = findEocd(buf);
  const count = buf.readUInt16LE(eocd + 10);
  const cdSize = buf.readUInt32LE(eocd + 12);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) throw new ZipError('ZIP64 packages are not supported (the workbook is too large)');
  if (count > maxEntries) throw new ZipError(`the package has ${count} parts, more than the ${maxEntries} a manifest workbook needs`);
  if (cdOffset + cdSize > buf.length) throw new ZipError('the ZIP directory points past the end of the file (truncated?)');
  const out: ZipEntry[] = [];
  let p = cdOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CDH) throw new ZipError('the ZIP directory is damaged');
    const flags = buf.readUInt16LE(p + 8);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const entry: ZipEntry = {
      name: buf.toString('utf8', p + 46, p + 46 + nameLen).replace(/^\/+/, ''),
      method: buf.readUInt16LE(p + 10),
      compressedSize: buf.readUInt32LE(p + 20),
      size: buf.readUInt32LE(p + 24),
      headerOffset: buf.readUInt32LE(p + 42),
      encrypted: (flags & 1) !== 0,
    };
    if (entry.size === 0xffffffff || entry.compressedSize === 0xffffffff) throw new ZipError('ZIP64 packages are not supported (the workbook is too large)');
    out.push(entry);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** Where the end-of-central-directory record starts (searched back over a comment of up to 64 KB). */
function findEocd(buf: Buffer): number {
  const min = Math.max(0, buf.length - 22 - 0xffff);
  for (let i = buf.length - 22; i >= min; i--) if (buf.readUInt32LE(i) === EOCD) return i;
  throw new ZipError('the ZIP directory is missing (the file is truncated or not a workbook)');
}

/** The bytes of one entry, inflated with at most `maxBytes` of output; more than that (or than declared) is an error. */
export function readEntry(buf: Buffer, e: ZipEntry, maxBytes: number): Buffer {
  if (e.encrypted) throw new ZipError('the workbook is encrypted; remove the password and save it again');
  if (e.size > maxBytes) throw new ZipError(`the part ${e.name} is ${e.size} bytes uncompressed, over the ${maxBytes}-byte limit`);
  const h = e.headerOffset;
  if (h + 30 > buf.length || buf.readUInt32LE(h) !== LFH) throw new ZipError(`the part ${e.name} is damaged`);
  const start = h + 30 + buf.readUInt16LE(h + 26) + buf.readUInt16LE(h + 28);
  const end = start + e.compressedSize;
  if (end > buf.length) throw new ZipError(`the part ${e.name} is cut off (truncated file?)`);
  const data = buf.subarray(start, end);
  let out: Buffer;
  if (e.method === 0) out = data;
  else if (e.method === 8) {
    try {
      // The cap is the declared size: a bomb whose directory claims a small size stops there.
      out = zlib.inflateRawSync(data, { maxOutputLength: Math.max(1, e.size) });
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') throw new ZipError(`the part ${e.name} inflates to more than it declares (a damaged file or a zip bomb)`);
      throw new ZipError(`the part ${e.name} cannot be decompressed (damaged file)`);
    }
  } else throw new ZipError(`the part ${e.name} uses an unsupported compression method (${e.method})`);
  if (out.length !== e.size) throw new ZipError(`the part ${e.name} has ${out.length} bytes where the directory says ${e.size} (damaged file)`);
  return out;
}

/** A ZIP of the given parts without compression (an in-memory hand-over to the workbook parser, never written out). */
export function storeZip(parts: ReadonlyArray<{ name: string; data: Buffer }>): Buffer {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of parts) {
    const nameBuf = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LFH, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // STORE
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(CDH, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0x0800, 8);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(data.length, 20);
    cd.writeUInt32LE(data.length, 24);
    cd.writeUInt16LE(nameBuf.length, 28);
    cd.writeUInt32LE(offset, 42);
    chunks.push(local, nameBuf, data);
    central.push(cd, nameBuf);
    offset += 30 + nameBuf.length + data.length;
  }
  const cdBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(EOCD, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(cdBuf.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...chunks, cdBuf, end]);
}

/** DOS date fields: day 1, month 1, year 1980 (+0). */
const DOS_DATE_1980 = (1 << 5) | 1;

/** A ZIP of the given parts, each deflated (a writer's package: results.xlsx). */
export function deflateZip(parts: ReadonlyArray<{ name: string; data: Buffer }>): Buffer {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of parts) {
    const nameBuf = Buffer.from(name, 'utf8');
    const packed = zlib.deflateRawSync(data);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LFH, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(8, 8); // DEFLATE
    // 1980-01-01 00:00, the first valid DOS date: a zero date (month 0, day 0) is shown as 1980-00-00 by unzip, and
    // tools that turn it into a file time reject it.
    local.writeUInt16LE(DOS_DATE_1980, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(CDH, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0x0800, 8);
    cd.writeUInt16LE(8, 10);
    cd.writeUInt16LE(DOS_DATE_1980, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(packed.length, 20);
    cd.writeUInt32LE(data.length, 24);
    cd.writeUInt16LE(nameBuf.length, 28);
    cd.writeUInt32LE(offset, 42);
    chunks.push(local, nameBuf, packed);
    central.push(cd, nameBuf);
    offset += 30 + nameBuf.length + packed.length;
  }
  const cdBuf = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(EOCD, 0);
  eocd.writeUInt16LE(parts.length, 8);
  eocd.writeUInt16LE(parts.length, 10);
  eocd.writeUInt32LE(cdBuf.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...chunks, cdBuf, eocd]);
}

// zlib.crc32 arrived in Node 20.15; the package supports 20.12, so older runtimes get the table version.
let table: Uint32Array | undefined;
function crc32(data: Buffer): number {
  if (typeof zlib.crc32 === 'function') return zlib.crc32(data);
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
