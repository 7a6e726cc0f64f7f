// CSV bytes -> Manifest: encoding, `sep=` line, delimiter from the header, csv-parse without casting, exact line numbers.
import { createHash } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { ManifestError } from '../errors.js';
import type { Issue, Manifest, WrittenRow } from '../types.js';
import { CappedIssues } from './capped.js';
import { toUtf8 } from './decode.js';
import { spreadsheetFingerprints } from './fingerprints.js';
import { hasRequired, isResultsHeader, stripQuotes, type Column } from './headers.js';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_RECORD_BYTES, type LoadOptions } from './options.js';
import { buildRow, echoColumns, headerIssues, missingColumns, prepareHeader } from './rows.js';

const CANDIDATES = [',', ';', '\t'] as const;

export interface CsvResult {
  manifest: Manifest;
  literalAuthKeys: boolean;
}

/** Pure CSV reader: no fs, no process.env. Throws ManifestError when the file cannot be read as a manifest. */
export function readCsv(bytes: Buffer, file: string, opts: LoadOptions): CsvResult {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxRecord = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  if (bytes.length > maxBytes) throw new ManifestError(file, undefined, `the file is ${bytes.length} bytes, over the ${maxBytes}-byte limit`);
  const hash = createHash('sha256').update(bytes).digest('hex');
  const { utf8: buf } = toUtf8(bytes, file);

  // A leading `sep=X` line (Excel's hint) is honoured and skipped; parsing starts after it so line numbers stay physical.
  let start = 0;
  let forced: string | undefined;
  const sep = readSepLine(buf);
  if (sep) {
    forced = sep.delimiter;
    start = sep.next;
  }
  if (isAllWhitespace(buf, start)) throw new ManifestError(file, undefined, 'manifest is empty');
  const firstLine = readFirstLine(buf, start, maxRecord, file);
  const delimiter = forced ?? pickDelimiter(firstLine, file, start === 0 ? 1 : 2);

  const lines = new LineCursor(buf);
  const rows: WrittenRow[] = [];
  let columns: Column[] | undefined;
  let headerLine = 1;
  let literal = false;
  let prevEnd = start; // absolute offset just past the previous record (incl. its delimiter)
  const issues: Issue[] = [];
  let echoNames: string[] = [];

  // Handles one parsed record spanning [from, end) (from may point at skipped blank lines before it).
  const handle = (record: string[], from: number, end: number): null => {
    if (columns === undefined) {
      headerLine = lines.lineAt(skipBlank(buf, from, end));
      columns = prepareHeader(record, file, headerLine);
      echoNames = echoColumns(columns);
      issues.push(...headerIssues(columns, file, headerLine));
      return null;
    }
    if (isBlankRecord(record)) return null; // `,,,` and whitespace-only rows; dropped after offsets are taken
    const recStart = skipBlank(buf, from, end);
    const line = lines.lineAt(recStart);
    const endLine = Math.max(line, lines.lineAt(end - 1));
    if (record.length > columns.length) {
      throw new ManifestError(
        file,
        line,
        `row has ${record.length} fields, header has ${columns.length}: an unquoted '${show(delimiter)}' inside a value? Put that value in double quotes`,
      );
    }
    const r = buildRow(record, columns, file, line, endLine, opts);
    if (r.literal) literal = true;
    rows.push(r.row);
    return null;
  };

  const body = start === 0 ? buf : buf.subarray(start);
  const parseOpts = {
    delimiter,
    record_delimiter: ['\r\n', '\n', '\r'],
    quote: '"',
    escape: '"',
    relax_column_count: true, // we check counts ourselves: fewer = empty trailing cells, more = error at the line
    skip_empty_lines: true,
    trim: true,
    cast: false,
    bom: false,
    max_record_size: maxRecord,
  };
  // Fast path: csv-parse without per-record info (its info objects cost about as much as the parse), with record
  // bounds from our own one-pass scan. Used only when the scan agrees with csv-parse on every record's field count.
  let fast: string[][] | undefined;
  let bounds: Bounds | undefined;
  try {
    fast = parse(body, parseOpts) as string[][];
    bounds = scanRecords(buf, start, delimiter.charCodeAt(0));
  } catch {
    fast = undefined; // the slow path below reproduces the error with an exact line
  }
  if (fast !== undefined && bounds !== undefined && agrees(fast, bounds)) {
    for (let i = 0; i < fast.length; i++) handle(fast[i]!, bounds.starts[i]!, bounds.ends[i]!);
  } else {
    try {
      parse(body, {
        ...parseOpts,
        on_record: (record: string[], ctx: { bytes: number }) => {
          const end = start + ctx.bytes;
          const from = prevEnd;
          prevEnd = end;
          return handle(record, from, end);
        },
      });
    } catch (e) {
      if (e instanceof ManifestError) throw e;
      throw mapCsvError(e, buf, prevEnd, file, maxRecord);
    }
  }
  if (columns === undefined) throw new ManifestError(file, undefined, 'manifest is empty');
  if (rows.length === 0) throw new ManifestError(file, headerLine, 'manifest has a header but no rows');
  const sink = new CappedIssues();
  spreadsheetFingerprints(rows, sink);
  issues.push(...sink.summaries());
  return {
    manifest: { file, format: 'csv', hash, columns: echoNames, rows, issues, ...(isResultsHeader(columns) ? { origin: { resultsFile: true as const } } : {}) },
    literalAuthKeys: literal,
  };
}

interface Bounds {
  starts: number[];
  ends: number[];
  fields: number[];
}

/**
 * One pass over the bytes: where each non-empty record starts and ends (end = just past its line break) and how many
 * fields it has, with the same quote, delimiter and line-break rules given to csv-parse. Whitespace-only lines are
 * skipped as csv-parse (trim + skip_empty_lines) skips them.
 */
function scanRecords(buf: Buffer, from: number, delim: number): Bounds {
  const starts: number[] = [];
  const ends: number[] = [];
  const fields: number[] = [];
  const n = buf.length;
  let p = from;
  let recStart = p;
  let count = 1;
  let empty = true;
  let inQuote = false;
  while (p < n) {
    const c = buf[p]!;
    if (inQuote) {
      if (c === 0x22) {
        if (buf[p + 1] === 0x22) p++;
        else inQuote = false;
      }
      p++;
      continue;
    }
    if (c === 0x0a || c === 0x0d) {
      p += c === 0x0d && buf[p + 1] === 0x0a ? 2 : 1;
      if (!empty) {
        starts.push(recStart);
        ends.push(p);
        fields.push(count);
      }
      recStart = p;
      count = 1;
      empty = true;
      continue;
    }
    if (c === delim) {
      count++;
      empty = false;
    } else if (c === 0x22) {
      inQuote = true;
      empty = false;
    } else if (c !== 0x20 && c !== 0x09) empty = false;
    p++;
  }
  if (!empty) {
    starts.push(recStart);
    ends.push(n);
    fields.push(count);
  }
  return { starts, ends, fields };
}

function agrees(records: string[][], b: Bounds): boolean {
  if (records.length !== b.fields.length) return false;
  for (let i = 0; i < records.length; i++) if (records[i]!.length !== b.fields[i]) return false;
  return true;
}

function isAllWhitespace(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return true;
}

function isBlankRecord(record: string[]): boolean {
  for (let i = 0; i < record.length; i++) if (record[i] !== '') return false;
  return true;
}

/**
 * Maps csv-parse errors to our own messages. CsvError carries the record (AuthKeys included) and its message may quote
 * a value, so only its code is used; the line comes from our own byte offsets (csv-parse's `lines` double-counts CRLF
 * inside quoted cells).
 */
function mapCsvError(e: unknown, buf: Buffer, recordFrom: number, file: string, maxRecord: number): ManifestError {
  const code = (e as { code?: unknown } | null)?.code;
  const recStart = skipBlank(buf, recordFrom, buf.length);
  const line = lineOfFresh(buf, recStart);
  switch (code) {
    case 'CSV_QUOTE_NOT_CLOSED': {
      const open = unclosedQuoteAt(buf, recStart);
      return new ManifestError(file, lineOfFresh(buf, open), 'a quoted value opened on this line is never closed (a missing " ?)');
    }
    case 'INVALID_OPENING_QUOTE':
      return new ManifestError(file, line, 'a double quote inside an unquoted value; put the whole value in quotes and double the inner quote ("")');
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return new ManifestError(file, line, 'text after a closing quote; a quoted value must end at the delimiter');
    case 'CSV_MAX_RECORD_SIZE':
      return new ManifestError(file, line, `a record is larger than ${maxRecord} bytes (an unclosed quote, or the wrong delimiter?)`);
    default:
      return new ManifestError(file, line, `cannot parse CSV (${typeof code === 'string' ? code : 'unknown error'})`);
  }
}

// Error path only: a fresh count from the top of the file.
function lineOfFresh(buf: Buffer, offset: number): number {
  return new LineCursor(buf).lineAt(offset);
}

/** Offset of the quote that is still open at the end of the file, scanning from the start of the failing record. */
function unclosedQuoteAt(buf: Buffer, from: number): number {
  let open = -1;
  for (let i = from; i < buf.length; i++) if (buf[i] === 0x22) open = open < 0 ? i : -1;
  return open < 0 ? from : open;
}

/** First byte of a record: skips the line breaks and blank/whitespace-only lines csv-parse skipped before it. */
function skipBlank(buf: Buffer, from: number, end: number): number {
  let p = from;
  while (p < end) {
    const c = buf[p];
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) p++;
    else if (c === 0xc2 && buf[p + 1] === 0xa0) p += 2; // NBSP, trimmed by csv-parse 7
    else break;
  }
  return p < end ? p : from;
}

/**
 * Monotonic byte-offset -> line mapper: one pass over the buffer for the whole file. CRLF, LF and lone CR each end
 * one line, matching the record delimiters given to csv-parse.
 */
export class LineCursor {
  private pos = 0;
  private line = 1;
  constructor(private readonly buf: Buffer) {}

  lineAt(offset: number): number {
    const b = this.buf;
    if (offset < this.pos) return new LineCursor(b).lineAt(offset); // never on the hot path
    let line = this.line;
    for (let i = this.pos; i < offset; i++) {
      const c = b[i];
      if (c === 0x0a) line++;
      else if (c === 0x0d && b[i + 1] !== 0x0a) line++;
    }
    this.pos = offset;
    this.line = line;
    return line;
  }
}

function readSepLine(buf: Buffer): { delimiter: string; next: number } | undefined {
  // `sep=;` + line break; case-insensitive, exactly one delimiter character.
  if (buf.length < 5) return undefined;
  const head = buf.subarray(0, 4).toString('latin1').toLowerCase();
  if (head !== 'sep=') return undefined;
  const d = String.fromCharCode(buf[4]!);
  let p = 5;
  if (buf[p] === 0x0d) p++;
  if (buf[p] === 0x0a) p++;
  if (p === 5 && p < buf.length) return undefined;
  if (d !== ',' && d !== ';' && d !== '\t' && d !== '|') return undefined;
  return { delimiter: d, next: p };
}

function readFirstLine(buf: Buffer, start: number, max: number, file: string): string {
  let p = start;
  const limit = Math.min(buf.length, start + max);
  while (p < limit && buf[p] !== 0x0a && buf[p] !== 0x0d) p++;
  if (p === limit && limit < buf.length) throw new ManifestError(file, start === 0 ? 1 : 2, `the header line is longer than ${max} bytes (wrong file, or no line breaks?)`);
  return buf.subarray(start, p).toString('utf8');
}

/** The delimiter among `,` `;` tab whose split of the header line names both required columns; anything else is an error. */
function pickDelimiter(header: string, file: string, line: number): string {
  const fits = CANDIDATES.filter((d) => hasRequired(header.split(d)));
  if (fits.length === 1) return fits[0]!;
  if (fits.length > 1) {
    throw new ManifestError(file, line, `cannot tell the delimiter: the header works with ${fits.map(show).join(' and ')}; add a first line sep=, (or sep=;)`);
  }
  // Show the header as the most plausible delimiter splits it.
  const best = CANDIDATES.map((d) => header.split(d)).sort((a, b) => b.length - a.length)[0]!;
  throw missingColumns(best.map(stripQuotes), file, line);
}

function show(d: string): string {
  return d === '\t' ? 'tab' : d;
}
