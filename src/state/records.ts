// Journal record shapes, the JSON-lines codec and the patch rules (merge order, deletions, secret scrubbing).
import { StateError } from '../errors.js';
import { splitKey } from '../keys.js';
import type { ConnectionFields, JournalPatch, RowFields } from '../types.js';

export const JOURNAL_VERSION = 1;

export interface JournalHeader {
  version: 1;
  /** Random UUID made on first open, kept forever for this state file: the seed of every ClientToken. */
  runId: string;
  /** `path` is stored relative to the state file's directory, so moving both together keeps them paired. */
  manifest: { path: string; hash: string };
  endpoint: string;
  /** The account the journal belongs to (STS GetCallerIdentity); absent in journals of earlier versions. */
  accountId?: string;
  /** Earlier versions bound the journal to this key (never the secret); kept so such journals still open for it. */
  accessKeyId?: string;
  /** Random hex; HMAC key for AuthKey fingerprints (secrets.ts `fingerprint(key, authKey)`). */
  fingerprintKey: string;
  createdAt: string;
  updatedAt: string;
}

/** A journal row: its key (`region/ip`) and its fields. */
export interface JournalRow extends RowFields {
  key: string;
}

/** Fields a row always has; a patch cannot delete them (an explicit `undefined` leaves the old value). */
const REQUIRED: ReadonlySet<string> = new Set(['key', 'region', 'ip', 'line', 'token', 'generation', 'status', 'requestIds', 'attempts']);
/** Names that look secret but are ours and safe: a keyed fingerprint is not the key. */
const SAFE_NAMES: ReadonlySet<string> = new Set(['authKeyFingerprint', 'pskFingerprints']);
/** The connection part's fields a patch cannot delete (the part itself goes with `connection: null`). */
const CONNECTION_REQUIRED: ReadonlySet<string> = new Set(['status', 'token', 'generation', 'vpnGatewayId', 'attempts', 'requestIds']);
/** Record envelope fields: never part of a row. */
const ENVELOPE: ReadonlySet<string> = new Set(['t', 'ts', 'key']);

/** Defence in depth: the row type has no AuthKey field, but a careless caller could still pass one. */
export function isSecretName(name: string): boolean {
  if (SAFE_NAMES.has(name)) return false;
  const n = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return /authkey|secret|password|passwd|securitytoken|presharedkey|psk$/.test(n);
}

/** The connection part of a patch as written: secret-looking names dropped, `undefined` -> `null`; `null` stays (= remove it). */
function scrubConnection(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (k === '__proto__' || isSecretName(k)) continue;
    out[k] = x === undefined ? null : x;
  }
  return out;
}

/** A patch as written to disk: secret-looking names dropped, `undefined` turned into `null` (= "unset this field"). */
export function scrubPatch(patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (ENVELOPE.has(k) || k === '__proto__' || isSecretName(k)) continue;
    if (k === 'connection') {
      // Absent from the patch: the part is left alone; `null`: removed; an object: patched field by field.
      if (v !== undefined) out[k] = scrubConnection(v);
      continue;
    }
    if (k === 'echo' && v && typeof v === 'object') {
      const echo: Record<string, unknown> = {};
      for (const [ek, ev] of Object.entries(v as Record<string, unknown>)) {
        if (ek !== '__proto__' && !isSecretName(ek)) echo[ek] = ev;
      }
      out[k] = echo;
      continue;
    }
    out[k] = v === undefined ? null : v;
  }
  return out;
}

/** Every string value (in arrays and objects too) passed through `redact`; keys and other values unchanged. */
export function redactStrings<T extends object>(v: T, redact: (s: string) => string): T {
  const walk = (x: unknown): unknown => {
    if (typeof x === 'string') return redact(x);
    if (Array.isArray(x)) return x.map(walk);
    if (x !== null && typeof x === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, y] of Object.entries(x)) out[k] = walk(y);
      return out;
    }
    return x;
  };
  // The walk keeps every key and every non-string value: the shape is the input's.
  return walk(v) as T;
}

/** A fresh row for `key` (`region/ip`), before any patch. */
export function emptyRow(key: string): JournalRow {
  return {
    key,
    ...splitKey(key),
    line: 0,
    token: '',
    generation: 1,
    status: 'pending',
    requestIds: [],
    attempts: 0,
  };
}

/**
 * The row after `patch`: a new object (rows handed out earlier stay as they were), secret-looking names dropped,
 * `undefined` clearing optional fields. The journal and its test double both change rows only through this.
 */
export function patchRow(prev: JournalRow | undefined, key: string, patch: JournalPatch): JournalRow {
  return applyPatch(prev ? { ...prev } : emptyRow(key), scrubPatch(patch));
}

/** A fresh connection part, before any patch (what a patch that names no required field starts from). */
function emptyConnection(): ConnectionFields {
  return { status: 'pending', token: '', generation: 1, vpnGatewayId: '', attempts: 0, requestIds: [] };
}

/** The connection part after a scrubbed nested patch: a new object; `null` deletes optional fields, never required ones. */
function patchConnection(prev: ConnectionFields | undefined, scrubbed: Record<string, unknown>): ConnectionFields {
  const next = { ...(prev ?? emptyConnection()) } as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(scrubbed)) {
    if (v === null) {
      if (!CONNECTION_REQUIRED.has(k)) delete next[k];
    } else {
      next[k] = v;
    }
  }
  return next as unknown as ConnectionFields;
}

/**
 * Applies a scrubbed patch in place: `null` deletes optional fields, arrays and objects replace whole, except the
 * connection part, which is itself patched (records on disk are patches of it; a snapshot holds it whole).
 */
export function applyPatch(row: JournalRow, scrubbed: Record<string, unknown>): JournalRow {
  const target = row as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(scrubbed)) {
    if (k === 'connection') {
      if (v === null) delete row.connection;
      else if (v && typeof v === 'object' && !Array.isArray(v)) row.connection = patchConnection(row.connection, v as Record<string, unknown>);
      continue;
    }
    if (v === null) {
      if (!REQUIRED.has(k)) delete target[k];
    } else {
      target[k] = v;
    }
  }
  return row;
}

export function headerLine(h: JournalHeader): string {
  return JSON.stringify({ t: 'header', ...h }) + '\n';
}

/** The record `state migrate` appends to a journal it copied elsewhere: readers are sent to `to` (no secret in it). */
export function movedLine(to: string, at: string): string {
  return JSON.stringify({ t: 'moved', to, at }) + '\n';
}

export function rowLine(key: string, scrubbed: Record<string, unknown>, ts: string): string {
  return JSON.stringify({ t: 'row', key, ...scrubbed, ts }) + '\n';
}

/** A full row as one snapshot record (compaction). */
export function snapshotLine(row: JournalRow, ts: string): string {
  const { key, ...rest } = row;
  return rowLine(key, scrubPatch(rest as Record<string, unknown>), ts);
}

export interface ParsedJournal {
  header: JournalHeader;
  rows: Map<string, JournalRow>;
  warnings: string[];
  /** True when a torn last line was dropped (the file must be rewritten before appending again). */
  torn: boolean;
}

function corrupt(file: string, line: number, why: string): StateError {
  return new StateError(
    `state file ${file} line ${line} is corrupt (${why}); the journal cannot be trusted; restore it from ${file}.bak or move it aside`,
  );
}

/** Statuses a journal row may carry ('unknown': the outcome stayed unknown after giving up). */
export const JOURNAL_STATUSES: ReadonlySet<string> = new Set([
  'pending',
  'in-flight',
  'unknown',
  'created',
  'adopted',
  'updated',
  'deleted',
  'failed',
  'skipped',
]);

const STRING_FIELDS = [
  'region', 'ip', 'token', 'gatewayId', 'errorCode', 'errorMessage', 'errorClass', 'startedAt', 'finishedAt',
  'specHash', 'authKeyFingerprint', 'name', 'description', 'resourceGroupId', 'ts', 'siteKey',
] as const;
const COUNT_FIELDS = ['line', 'generation', 'attempts', 'quotaLimit'] as const;
const OPERATIONS = new Set(['create', 'adopt', 'update', 'delete', 'replace']);

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isStringMap = (v: unknown): boolean =>
  !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v as Record<string, unknown>).every(isString);

/**
 * Why a row record's fields have the wrong types, or undefined when they are fine. Names the field, never its
 * value (a hand-edited value could be anything, a secret included). `null` is "unset" and always allowed.
 */
export function rowProblem(rec: Record<string, unknown>): string | undefined {
  const bad = (field: string, want: string) => `field "${field}" must be ${want}`;
  for (const f of STRING_FIELDS) if (rec[f] != null && !isString(rec[f])) return bad(f, 'a string');
  for (const f of COUNT_FIELDS) if (rec[f] != null && !isCount(rec[f])) return bad(f, 'a whole number >= 0');
  if (rec['durationMs'] != null && !(typeof rec['durationMs'] === 'number' && Number.isFinite(rec['durationMs']))) return bad('durationMs', 'a number');
  if (rec['generation'] != null && (rec['generation'] as number) < 1) return bad('generation', 'at least 1');
  if (rec['status'] != null && !(isString(rec['status']) && JOURNAL_STATUSES.has(rec['status'])))
    return bad('status', `one of ${[...JOURNAL_STATUSES].join(', ')}`);
  if (rec['operation'] != null && !(isString(rec['operation']) && OPERATIONS.has(rec['operation'])))
    return bad('operation', `one of ${[...OPERATIONS].join(', ')}`);
  // The ASN is kept as text; an older writer may have stored it as a number.
  if (rec['asn'] != null && !isString(rec['asn']) && !(typeof rec['asn'] === 'number' && Number.isFinite(rec['asn']))) return bad('asn', 'a string');
  if (rec['requestIds'] != null && !(Array.isArray(rec['requestIds']) && rec['requestIds'].every(isString)))
    return bad('requestIds', 'a list of strings');
  if (
    rec['tags'] != null &&
    !(Array.isArray(rec['tags']) && rec['tags'].every((t) => !!t && typeof t === 'object' && !Array.isArray(t) && isString((t as Record<string, unknown>)['key']) && isString((t as Record<string, unknown>)['value'])))
  )
    return bad('tags', 'a list of {key, value} strings');
  if (rec['echo'] != null && !isStringMap(rec['echo'])) return bad('echo', 'a map of strings');
  if (rec['adopted'] != null && typeof rec['adopted'] !== 'boolean') return bad('adopted', 'true or false');
  if (rec['connection'] != null) {
    const c = rec['connection'];
    if (typeof c !== 'object' || Array.isArray(c)) return bad('connection', 'an object');
    const problem = connectionProblem(c as Record<string, unknown>);
    if (problem) return `field "connection.${problem.field}" must be ${problem.want}`;
  }
  return undefined;
}

const CONNECTION_STRINGS = [
  'token', 'connectionId', 'vpnGatewayId', 'specHash', 'state', 'negotiation', 'errorCode', 'errorMessage', 'errorClass', 'startedAt', 'finishedAt',
] as const;
const CONNECTION_LISTS = ['customerGatewayIds', 'pskFingerprints', 'requestIds'] as const;

/** The first wrong field of a connection part (a patch: every field optional; `null` = unset). */
function connectionProblem(c: Record<string, unknown>): { field: string; want: string } | undefined {
  for (const f of CONNECTION_STRINGS) if (c[f] != null && !isString(c[f])) return { field: f, want: 'a string' };
  for (const f of ['generation', 'attempts'] as const) if (c[f] != null && !isCount(c[f])) return { field: f, want: 'a whole number >= 0' };
  if (c['generation'] != null && (c['generation'] as number) < 1) return { field: 'generation', want: 'at least 1' };
  if (c['durationMs'] != null && !(typeof c['durationMs'] === 'number' && Number.isFinite(c['durationMs']))) return { field: 'durationMs', want: 'a number' };
  for (const f of CONNECTION_LISTS) if (c[f] != null && !(Array.isArray(c[f]) && (c[f] as unknown[]).every(isString))) return { field: f, want: 'a list of strings' };
  if (c['status'] != null && !(isString(c['status']) && JOURNAL_STATUSES.has(c['status']))) return { field: 'status', want: `one of ${[...JOURNAL_STATUSES].join(', ')}` };
  if (c['operation'] != null && !(isString(c['operation']) && OPERATIONS.has(c['operation']))) return { field: 'operation', want: `one of ${[...OPERATIONS].join(', ')}` };
  if (c['adopted'] != null && typeof c['adopted'] !== 'boolean') return { field: 'adopted', want: 'true or false' };
  return undefined;
}

/** Why a header record is malformed, or undefined. `accessKeyId` and `accountId` are optional but typed. */
export function headerProblem(v: Record<string, unknown>): string | undefined {
  const m = v['manifest'] as Record<string, unknown> | undefined;
  if (typeof v['version'] !== 'number' || !Number.isInteger(v['version'])) return 'the header field "version" must be a whole number';
  for (const f of ['runId', 'endpoint', 'fingerprintKey'] as const) if (!isString(v[f]) || v[f] === '') return `the header field "${f}" must be a string`;
  for (const f of ['accessKeyId', 'accountId', 'createdAt', 'updatedAt'] as const) if (v[f] != null && !isString(v[f])) return `the header field "${f}" must be a string`;
  if (!m || typeof m !== 'object' || Array.isArray(m) || !isString(m['path']) || !isString(m['hash'])) return 'the header field "manifest" must be {path, hash}';
  return undefined;
}

/**
 * Replays a journal's text. A torn LAST line (no trailing newline, or not JSON) is dropped with a warning:
 * that is what a crash mid-append leaves. Anything wrong earlier means the file was damaged otherwise: hard error.
 */
export function parseJournal(file: string, text: string): ParsedJournal {
  const warnings: string[] = [];
  const lines = text.split('\n');
  // split() leaves '' after a final '\n'; anything else there is a line without its newline.
  const tail = lines.pop() ?? '';
  let torn = false;
  if (tail !== '') {
    torn = true;
    warnings.push(`state file ${file}: dropped an incomplete last line ${lines.length + 1} (a write was interrupted)`);
  }
  let header: JournalHeader | undefined;
  const rows = new Map<string, JournalRow>();
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const isLast = i === lines.length - 1 && !torn;
    const raw = lines[i] ?? '';
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      if (isLast && lineNo > 1) {
        torn = true;
        warnings.push(`state file ${file}: dropped an unreadable last line ${lineNo} (a write was interrupted)`);
        break;
      }
      throw corrupt(file, lineNo, 'not valid JSON');
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw corrupt(file, lineNo, 'not a record');
    const rec = v as Record<string, unknown>;
    if (lineNo === 1) {
      if (rec['t'] !== 'header') throw corrupt(file, lineNo, 'the first line must be the header record');
      const problem = headerProblem(rec);
      if (problem) throw corrupt(file, lineNo, problem);
      if ((rec['version'] as number) > JOURNAL_VERSION) {
        throw new StateError(
          `state file ${file} has format version ${String(rec['version'])}, newer than this cgw-batch understands (${JOURNAL_VERSION}); upgrade cgw-batch`,
        );
      }
      const { t: _t, ...h } = rec;
      header = h as unknown as JournalHeader;
      continue;
    }
    if (rec['t'] === 'moved') {
      // `state migrate` leaves this behind: the journal lives on elsewhere, and two journals for one estate must never
      // both be written (one would plan creates for gateways the other already made, or deleted).
      // Printed as written by migrate (a path or a password-less URL); anything else is not ours to echo.
      const to = typeof rec['to'] === 'string' && /^[\x21-\x7e]{1,1000}$/.test(rec['to']) ? rec['to'] : '(unreadable)';
      throw new StateError(`state ${file} was moved to ${to}${typeof rec['at'] === 'string' ? ` on ${rec['at']}` : ''} (cgw-batch state migrate); use --state ${to}`);
    }
    if (rec['t'] === 'row') {
      const key = rec['key'];
      if (typeof key !== 'string' || key === '') throw corrupt(file, lineNo, 'row record without a key');
      const problem = rowProblem(rec);
      if (problem) throw corrupt(file, lineNo, problem);
      const row = rows.get(key) ?? emptyRow(key);
      rows.set(key, applyPatch(row, scrubPatch(rec)));
    } else {
      throw corrupt(file, lineNo, `unknown record type ${JSON.stringify(rec['t'])}`);
    }
  }
  if (!header) throw new StateError(`state file ${file} is empty or has no header; restore it from ${file}.bak or move it aside`);
  return { header, rows, warnings, torn };
}
