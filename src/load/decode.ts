// Bytes -> text: BOM sniffing, strict UTF-8, UTF-16 LE/BE, and a precise "not UTF-8" error instead of U+FFFD in the data.
import { isUtf8 } from 'node:buffer';
import { ManifestError } from '../errors.js';

export type Encoding = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be';

export interface Decoded {
  encoding: Encoding;
  /** UTF-8 bytes without BOM: the original buffer when possible (no copy), else a re-encoding of the text. */
  utf8: Buffer;
}

/**
 * Returns UTF-8 bytes without a BOM. Plain UTF-8 is validated without decoding (isUtf8 is native and allocation-free),
 * so the CSV parser can run on the original buffer and byte offsets stay those of the file (after the BOM).
 */
export function toUtf8(bytes: Buffer, file: string): Decoded {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) {
    return { encoding: 'utf-16le', utf8: Buffer.from(decodeUtf16(bytes.subarray(2), 'utf-16le', file), 'utf8') };
  }
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    return { encoding: 'utf-16be', utf8: Buffer.from(decodeUtf16(bytes.subarray(2), 'utf-16be', file), 'utf8') };
  }
  const hasBom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const body = hasBom ? bytes.subarray(3) : bytes;
  if (!isUtf8(body)) {
    const bad = firstInvalidUtf8(body);
    throw new ManifestError(
      file,
      lineOfByte(body, bad),
      'the file is not UTF-8 (e.g. Windows-1252); in Excel use Save As > "CSV UTF-8 (Comma delimited)", or save the YAML file as UTF-8',
    );
  }
  return { encoding: hasBom ? 'utf-8-bom' : 'utf-8', utf8: body };
}

/** Text of a manifest for parsers that want a string (YAML). */
export function toText(bytes: Buffer, file: string): string {
  return toUtf8(bytes, file).utf8.toString('utf8');
}

function decodeUtf16(body: Buffer, enc: 'utf-16le' | 'utf-16be', file: string): string {
  try {
    return new TextDecoder(enc, { fatal: true }).decode(body);
  } catch {
    // Line counted from the top of the file (the BOM is on line 1), like the UTF-8 error.
    throw new ManifestError(file, lineOfBadUtf16(body, enc), `the file starts with a ${enc.toUpperCase()} byte order mark but is not valid ${enc.toUpperCase()}; save it as "CSV UTF-8"`);
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
