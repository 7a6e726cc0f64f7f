// Bytes -> text: BOM sniffing, strict UTF-8, UTF-16 LE/BE (with or without BOM), and a "not UTF-8" error that names
// the likely encoding and says how to export UTF-8 from Excel and from LibreOffice, instead of U+FFFD in the data.
import { isUtf8 } from 'node:buffer';
import { ManifestError } from '../errors.js';

export type Encoding = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be';

/** What the manifest is, for the "how to save it as UTF-8" part of the message. */
export type TextKind = 'csv' | 'yaml';

export interface Decoded {
  encoding: Encoding;
  /** UTF-8 bytes without BOM: the original buffer when possible (no copy), else a re-encoding of the text. */
  utf8: Buffer;
}

/** How to get UTF-8 out of each spreadsheet program (the same words in every message and in manifests/README.md). */
export const EXPORT_UTF8 =
  'in Excel use File > Save As > "CSV UTF-8 (Comma delimited) (*.csv)"; in LibreOffice Calc use File > Save As > "Text CSV (.csv)", ' +
  'tick "Edit filter settings" and choose Character set "Unicode (UTF-8)"; or give cgw-batch the .xlsx workbook itself';

/**
 * Returns UTF-8 bytes without a BOM. Plain UTF-8 is validated without decoding (isUtf8 is native and allocation-free),
 * so the CSV parser can run on the original buffer and byte offsets stay those of the file (after the BOM).
 */
export function toUtf8(bytes: Buffer, file: string, kind: TextKind = 'csv'): Decoded {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) {
    return { encoding: 'utf-16le', utf8: Buffer.from(decodeUtf16(bytes.subarray(2), 'utf-16le', file, 'starts with a UTF-16LE byte order mark'), 'utf8') };
  }
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    return { encoding: 'utf-16be', utf8: Buffer.from(decodeUtf16(bytes.subarray(2), 'utf-16be', file, 'starts with a UTF-16BE byte order mark'), 'utf8') };
  }
  // Before the UTF-8 check: ASCII text in UTF-16 is valid UTF-8 (a NUL after every letter), so it would pass it.
  const bomless = sniffUtf16(bytes);
  if (bomless) {
    const what = `looks like ${bomless.toUpperCase()} without a byte order mark`;
    return { encoding: bomless, utf8: Buffer.from(decodeUtf16(bytes, bomless, file, what), 'utf8') };
  }
  const hasBom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const body = hasBom ? bytes.subarray(3) : bytes;
  if (!isUtf8(body)) {
    const bad = firstInvalidUtf8(body);
    const how = kind === 'csv' ? EXPORT_UTF8 : 'save the YAML file as UTF-8 in your editor';
    throw new ManifestError(file, lineOfByte(body, bad), `the file is not UTF-8 (${guessEncoding(body, bad)}); ${how}`);
  }
  return { encoding: hasBom ? 'utf-8-bom' : 'utf-8', utf8: body };
}

/**
 * UTF-16 without a BOM, from the first line: the header is ASCII, so every code unit of it has a zero high byte
 * (LE: `r\0e\0`, BE: `\0r\0e`). At least 4 units and 90 % of them must fit, and the other byte must not be NUL too
 * (a file of NULs is not text in any encoding).
 */
export function sniffUtf16(b: Buffer): 'utf-16le' | 'utf-16be' | undefined {
  const n = Math.min(b.length, 512) & ~1;
  if (n < 8) return undefined;
  for (const enc of ['utf-16le', 'utf-16be'] as const) {
    let units = 0;
    let ascii = 0;
    for (let i = 0; i < n; i += 2) {
      const lo = enc === 'utf-16le' ? b[i]! : b[i + 1]!;
      const hi = enc === 'utf-16le' ? b[i + 1]! : b[i]!;
      if (hi === 0 && lo === 0x0a) break;
      units++;
      if (hi === 0 && lo !== 0) ascii++;
    }
    if (units >= 4 && ascii >= units * 0.9) return enc;
  }
  return undefined;
}

/**
 * A best guess at what the bytes are, for the error message only (error path, so plain loops are fine). Windows-1252
 * (and Latin-1) writes an accented letter as one byte 0xC0-0xFF between ASCII letters (`Z\xFCrich`, `K\xF6ln`).
 * GBK, Big5 and Shift-JIS write each CJK character as two bytes (lead 0x81-0xFE, trail 0x40-0xFE), so their high
 * bytes come in runs, or as lone leads below 0xC0 before an ASCII trail (Shift-JIS katakana, Big5).
 */
export function guessEncoding(b: Buffer, bad: number): string {
  if (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04) {
    return 'it is a ZIP archive, e.g. an .xlsx workbook; name it .xlsx to read it as a workbook';
  }
  const sample = b.subarray(0, 8192);
  let control = 0;
  for (const c of sample) if (c < 0x09 || (c > 0x0d && c < 0x20) || c === 0x7f) control++;
  if (control > sample.length * 0.05) return 'it looks like binary data, not text';
  let pairs = 0;
  let lone = 0;
  let latinLetters = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample[i]!;
    if (c < 0x80) continue;
    const prev = i > 0 ? sample[i - 1]! : 0x20;
    const next = i + 1 < sample.length ? sample[i + 1]! : 0x20;
    // One high byte between ASCII bytes, in the range where Windows-1252 keeps its accented letters.
    if (c >= 0xc0 && prev < 0x80 && next < 0x80) latinLetters++;
    const d = sample[i + 1];
    if (c >= 0x81 && c <= 0xfe && d !== undefined && d >= 0x40 && d <= 0xfe && d !== 0x7f) {
      pairs++;
      i++;
    } else lone++;
  }
  if (latinLetters > 0 && latinLetters * 2 >= pairs + lone) return 'it looks like Windows-1252 or another 8-bit code page';
  if (pairs >= 2 && pairs >= lone * 4) return 'the bytes look like a Chinese or Japanese code page: GBK, Big5 or Shift-JIS';
  if (cutOff(b, bad)) return 'it ends in the middle of a character: is the file cut off?';
  return 'it looks like Windows-1252 or another 8-bit code page';
}

/** The first bad byte starts a multi-byte character whose remaining bytes are all continuations up to the end. */
function cutOff(b: Buffer, bad: number): boolean {
  const lead = b[bad]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc2 ? 2 : 1;
  if (need === 1 || bad + need <= b.length) return false;
  for (let i = bad + 1; i < b.length; i++) if ((b[i]! & 0xc0) !== 0x80) return false;
  return true;
}

/** Text of a manifest for parsers that want a string (YAML). */
export function toText(bytes: Buffer, file: string, kind: TextKind = 'yaml'): string {
  return toUtf8(bytes, file, kind).utf8.toString('utf8');
}

function decodeUtf16(body: Buffer, enc: 'utf-16le' | 'utf-16be', file: string, what: string): string {
  try {
    return new TextDecoder(enc, { fatal: true }).decode(body);
  } catch {
    // Line counted from the top of the file (the BOM is on line 1), like the UTF-8 error.
    throw new ManifestError(file, lineOfBadUtf16(body, enc), `the file ${what} but is not valid ${enc.toUpperCase()}; ${EXPORT_UTF8}`);
  }
}

/** Line of the first unpaired surrogate or of a dangling last byte (error path only). */
function lineOfBadUtf16(body: Buffer, enc: 'utf-16le' | 'utf-16be'): number {
  const unit = (i: number): number => (enc === 'utf-16le' ? body[i]! | (body[i + 1]! << 8) : (body[i]! << 8) | body[i + 1]!);
  let line = 1;
  const n = body.length - (body.length % 2);
  for (let i = 0; i < n; i += 2) {
    const u = unit(i);
    if (u >= 0xd800 && u <= 0xdbff) {
      const next = i + 2 < n ? unit(i + 2) : -1;
      if (next >= 0xdc00 && next <= 0xdfff) {
        i += 2;
        continue;
      }
      return line;
    }
    if (u >= 0xdc00 && u <= 0xdfff) return line;
    if (u === 0x0a || (u === 0x0d && (i + 2 >= n || unit(i + 2) !== 0x0a))) line++;
  }
  return line;
}

/** Offset of the first byte that breaks UTF-8 (only called on the error path, so a plain loop is fine). */
export function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  const n = b.length;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) (need = 1), (min = 0x80);
    else if (c >= 0xe0 && c <= 0xef) (need = 2), (min = 0x800);
    else if (c >= 0xf0 && c <= 0xf4) (need = 3), (min = 0x10000);
    else return i;
    let cp = c & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return n;
}

/** 1-based line of a byte offset (CRLF, LF and lone CR each end one line). */
export function lineOfByte(b: Buffer, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < b.length; i++) {
    const c = b[i];
    if (c === 0x0a || (c === 0x0d && b[i + 1] !== 0x0a)) line++;
  }
  return line;
}
