// The durable journal: one estate's append-only records behind a state backend (a file, PostgreSQL or OSS), written
// under the estate's lease; group-committed, compacted on open.
import { randomBytes, randomUUID } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import { StateError } from '../errors.js';
import { sameEndpoint } from '../endpoint-match.js';
import type { JournalPatch, PriorRow } from '../types.js';
import { openFileBackend } from './backend/file.js';
import type { Lease, LogRead, StateBackend } from './backend/types.js';
import {
  headerLine,
  JOURNAL_VERSION,
  parseJournal,
  patchRow,
  redactStrings,
  rowLine,
  scrubPatch,
  snapshotLine,
  type JournalHeader,
  type JournalRow,
} from './records.js';

export type { JournalHeader, JournalRow } from './records.js';

/** Who is calling: the account (from STS GetCallerIdentity) and the key in use (for journals of earlier versions). */
export interface Caller {
  accountId?: string;
  accessKeyId: string;
}

export interface OpenOptions extends JournalLockOptions {
  manifest: { path: string; hash: string };
  /**
   * The journal stays its manifest's: not checked against `manifest.path`, its header's manifest kept. For a saved
   * results file working on the journal it came from, and for writes that only bind the journal to its account.
   */
  keepManifest?: boolean;
  endpoint: string;
  caller: Caller;
  /** A lease taken earlier with leaseJournal() (apply takes it, then plans, then opens); otherwise taken here. */
  lease?: Lease;
}

export interface JournalLockOptions {
  /** Break the current holder's lease first (--force-unlock): it is fenced and stops at its next write. */
  forceUnlock?: boolean;
  /** The run taking the lease (shown to anyone the lease refuses). */
  runId?: string;
  clock?: () => number;
  host?: string;
  pid?: number;
  /** How long to wait while a live runner holds the lease (default 0: refuse at once). */
  waitMs?: number;
  /** Torn last line dropped, stale lease taken over, permissions fixed, lease lost. */
  onWarning?: (message: string) => void;
  /** Applied to every string of every patch (and of rows read back) before it is stored or written: secrets.ts scrubber. */
  redact?: (s: string) => string;
}

/** Counters for tests and benchmarks: group commit shows as `fsyncs` far below `records`. */
export interface JournalStats {
  records: number;
  /** Durable batch appends made (one fdatasync, one INSERT or one AppendObject each; compaction not counted). */
  fsyncs: number;
  bytes: number;
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

/** `branches.csv` -> `branches.csv.state.jsonl`, in the manifest's directory. */
export function defaultStatePath(manifestPath: string): string {
  return `${manifestPath}.state.jsonl`;
}

/** The manifest path as stored in the header: relative to the state file's directory, with `/` separators. */
export function manifestRef(statePath: string, manifestPath: string): string {
  return relative(dirname(resolve(statePath)), resolve(manifestPath)).split(sep).join('/');
}

/**
 * The manifest as a journal of this backend names it: beside a file journal, its path relative to the file; in a
 * shared estate (PostgreSQL, OSS), its file name, which every engineer's checkout has in common.
 */
export function manifestRefFor(backend: StateBackend, manifestPath: string): string {
  return backend.kind === 'file' ? manifestRef(backend.location, manifestPath) : basename(manifestPath);
}

function normalizeEndpoint(e: string): string {
  return e.trim().replace(/\/+$/, '');
}

function errText(e: unknown): string {
  return (e as Error | undefined)?.message ?? String(e);
}

/** Beyond this many records past the snapshot, a remote journal is compacted on open (each compaction costs requests). */
const TAIL_SLACK = 500;

export class Journal {
  /** Where the journal lives, for messages: a path, `postgres://host/db#estate` or `oss://bucket/prefix` (never a secret). */
  readonly path: string;
  readonly header: JournalHeader;
  readonly stats: JournalStats = { records: 0, fsyncs: 0, bytes: 0 };
  private readonly map: Map<string, JournalRow>;
  private readonly lease: Lease;
  private readonly clock: () => number;
  private redact: ((s: string) => string) | undefined;
  private queue: string[] = [];
  private waiters: Waiter[] = [];
  private writing: Promise<void> | undefined;
  private state: 'open' | 'closed' | 'abandoned' = 'open';
  private failure: StateError | undefined;
  private closing: Promise<void> | undefined;

  private constructor(path: string, header: JournalHeader, rows: Map<string, JournalRow>, lease: Lease, clock: () => number) {
    this.path = path;
    this.header = header;
    this.map = rows;
    this.lease = lease;
    this.clock = clock;
  }

  /**
   * Takes the lease (unless `opts.lease` is held already), reads and opens: for callers that have not read the
   * journal yet. A string is a journal file's path (the file backend).
   */
  static async open(where: string | StateBackend, opts: OpenOptions): Promise<Journal> {
    const backend = typeof where === 'string' ? openFileBackend({ path: where }) : where;
    const lease = opts.lease ?? (await leaseJournal(backend, opts));
    let read: JournalFile | undefined;
    try {
      read = await journalOfLease(backend, lease, opts.redact ? { redact: opts.redact } : {});
    } catch (e) {
      if (!opts.lease) await lease.release();
      throw e;
    }
    return Journal.fromRead(backend, read, { ...opts, lease });
  }

  /**
   * Opens the journal for appending from the read the caller made under the held lease (the journal is not read
   * again): checks it belongs to this manifest, endpoint and account, compacts it when due and appends after. The
   * store's own checks (a file's type and mode, orphan temp files, a torn tail) were made when the lease was taken.
   */
  static async fromRead(backend: StateBackend, read: JournalFile | undefined, opts: OpenOptions & { lease: Lease }): Promise<Journal> {
    const clock = opts.clock ?? Date.now;
    const path = backend.location;
    let journal: Journal | undefined;
    const lease = opts.lease;
    // The lease lost (taken over, broken, unconfirmed for too long): every later record fails at once.
    const onLost = () => {
      if (journal?.state === 'open') journal.fail(lease.signal.reason as StateError);
    };
    lease.signal.addEventListener('abort', onLost, { once: true });
    try {
      const now = new Date(clock()).toISOString();
      const manifest = { path: manifestRefFor(backend, opts.manifest.path), hash: opts.manifest.hash };
      const endpoint = normalizeEndpoint(opts.endpoint);
      let header: JournalHeader;
      let rows: Map<string, JournalRow>;
      if (read === undefined) {
        header = {
          version: JOURNAL_VERSION,
          runId: randomUUID(),
          manifest,
          endpoint,
          ...(opts.caller.accountId ? { accountId: opts.caller.accountId } : { accessKeyId: opts.caller.accessKeyId }),
          fingerprintKey: randomBytes(32).toString('hex'),
          createdAt: now,
          updatedAt: now,
        };
        rows = new Map();
      } else {
        if (opts.keepManifest) checkAccount(path, read.header, endpoint, opts.caller);
        else checkBelongs(path, read.header, manifest.path, endpoint, opts.caller);
        // A changed hash for the same manifest is normal: the user fixed rows. Rows carry their own specHash.
        header = { ...read.header, version: JOURNAL_VERSION, manifest: opts.keepManifest ? read.header.manifest : manifest, updatedAt: now };
        // A journal of an earlier version, bound to a key, is bound to the key's account from now on; one that names
        // neither reached here only after the caller proved it owns its gateways (run/session.ts), or it records none.
        if (header.accountId === undefined && opts.caller.accountId) {
          header.accountId = opts.caller.accountId;
          delete header.accessKeyId;
        } else if (header.accountId === undefined && header.accessKeyId === undefined) {
          header.accessKeyId = opts.caller.accessKeyId;
        }
        // A copy of the map (rows are copied on write): the caller's read stays what the plan was made from.
        rows = new Map(read.rows);
      }
      const snapshot = [headerLine(header)];
      for (const row of rows.values()) snapshot.push(snapshotLine(row, now));
      const records = snapshot.map((l) => l.slice(0, -1));
      if (compactionDue(backend, lease.log, read, header, rows.size)) await lease.compact(records);
      else if (read === undefined) await lease.append(records);
      journal = new Journal(path, header, rows, lease, clock);
      journal.redact = opts.redact;
      if (lease.signal.aborted) onLost();
      return journal;
    } catch (e) {
      lease.signal.removeEventListener('abort', onLost);
      await lease.release();
      if (e instanceof StateError) throw e;
      throw new StateError(`cannot open state ${path}: ${errText(e)}`);
    }
  }

  rows(): ReadonlyMap<string, JournalRow> {
    return this.map;
  }

  get(key: string): JournalRow | undefined {
    return this.map.get(key);
  }

  /**
   * Merges `patch` into the row (creating it if new) and appends the record. Resolves once the record is durable.
   * `undefined` in a patch clears an optional field. Calls made while an append runs share the next one (group commit).
   */
  record(key: string, patch: JournalPatch): Promise<JournalRow> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.state !== 'open') return Promise.reject(new StateError(`journal ${this.path} is closed`));
    if (typeof key !== 'string' || key === '') return Promise.reject(new StateError('journal record without a row key'));
    const clean = this.redact ? redactStrings(patch, this.redact) : patch;
    // Copy on write: rows handed out earlier by get() stay as they were.
    const row = patchRow(this.map.get(key), key, clean);
    this.map.set(key, row);
    const line = rowLine(key, scrubPatch(clean), new Date(this.clock()).toISOString());
    this.stats.records++;
    return new Promise<JournalRow>((resolveRow, reject) => {
      this.queue.push(line.slice(0, -1));
      this.waiters.push({ resolve: () => resolveRow(row), reject });
      this.writing ??= this.drain();
    });
  }

  /** One fenced, durable append per batch; everything queued during a batch forms the next one. */
  private async drain(): Promise<void> {
    // Let every record() of the current tick join the first batch.
    await new Promise<void>((r) => setImmediate(r));
    while (this.queue.length > 0) {
      const records = this.queue;
      const waiters = this.waiters;
      this.queue = [];
      this.waiters = [];
      try {
        if (this.failure) throw this.failure;
        if (this.state === 'abandoned') throw new StateError(`journal ${this.path} was abandoned`);
        await this.lease.append(records);
        this.stats.fsyncs++;
        for (const r of records) this.stats.bytes += Buffer.byteLength(r) + 1;
        for (const w of waiters) w.resolve();
      } catch (e) {
        // The backend could not make the batch durable, or the lease is gone: the journal refuses all further
        // writes (a file may hold a torn tail, which the next open drops; a fenced holder must not write again).
        const err = e instanceof StateError ? e : new StateError(`could not write the journal ${this.path}: ${errText(e)}; no further rows are recorded`);
        this.fail(err);
        for (const w of waiters) w.reject(err);
      }
    }
    this.writing = undefined;
  }

  private fail(err: StateError): void {
    this.failure ??= err;
    const waiters = this.waiters;
    this.queue = [];
    this.waiters = [];
    for (const w of waiters) w.reject(this.failure);
  }

  /**
   * Throws when this journal may no longer be written: it failed, it was closed, or its lease is lost or too long
   * unconfirmed (another runner may take over). The executor calls it right before every cloud call.
   */
  assertHeld(): void {
    if (this.failure) throw this.failure;
    if (this.state !== 'open') throw new StateError(`journal ${this.path} is closed`);
    try {
      this.lease.assertHeld();
    } catch (e) {
      this.fail(e as StateError);
      throw e;
    }
  }

  /** Resolves when every record made so far is durable; rejects if the journal has failed. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.failure) throw this.failure;
  }

  /** Flushes and releases the lease. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        if (this.state === 'open') await this.flush();
      } finally {
        if (this.state === 'open') this.state = 'closed';
        while (this.writing) await this.writing;
        await this.lease.release();
      }
    })();
    return this.closing;
  }

  /**
   * Drops only the lease, without flushing ("second Ctrl-C"). Every batch was appended whole or not at all (a file
   * may keep a torn last line), so the journal stays consistent; queued records that were never written reject.
   */
  abandon(): void {
    if (this.state !== 'open') return;
    this.state = 'abandoned';
    this.lease.abandon();
    this.fail(new StateError(`journal ${this.path} was abandoned`));
  }

  /** Test hook: run the lease's heartbeat now (shows we are alive, checks we still hold it) instead of waiting for its timer. */
  async checkLock(): Promise<void> {
    await this.lease.heartbeat();
    if (this.lease.signal.aborted) this.fail(this.lease.signal.reason as StateError);
  }
}

/**
 * Whether to rewrite the journal as a snapshot on open. A file always (today's behaviour: cheap, and the header's
 * times stay true). A shared store only when it pays: a torn tail, a header that changed (manifest, account), or a
 * tail far longer than the snapshot (on OSS a compaction costs two PUTs, a LIST and a DELETE).
 */
function compactionDue(backend: StateBackend, log: LogRead, read: JournalFile | undefined, header: JournalHeader, rows: number): boolean {
  if (backend.kind === 'file') return true;
  if (read === undefined) return false;
  if (log.warnings.length > 0) return true;
  const { updatedAt: _a, ...before } = read.header;
  const { updatedAt: _b, ...after } = header;
  if (JSON.stringify(before) !== JSON.stringify(after)) return true;
  return log.records.length > 2 * (rows + 1) + TAIL_SLACK;
}

/** Refuses a state file from another batch: another manifest, endpoint or account (its tokens must not be replayed there). */
function checkBelongs(path: string, h: JournalHeader, manifestPath: string, endpoint: string, caller: Caller): void {
  if (h.manifest.path !== manifestPath) {
    throw new StateError(
      `state file ${path} belongs to manifest ${h.manifest.path}, not ${manifestPath} (paths relative to the state file); use --state to choose a state file for this manifest`,
    );
  }
  checkAccount(path, h, endpoint, caller);
}

/** A journal's ClientTokens and gateway ids mean nothing at another endpoint: refused before any request is sent. */
export function checkEndpoint(path: string, h: JournalHeader, endpoint: string): void {
  const ep = normalizeEndpoint(endpoint);
  if (!sameEndpoint(h.endpoint, ep)) {
    throw new StateError(
      `state file ${path} belongs to endpoint ${h.endpoint}, not ${ep}; its ClientTokens and gateway ids mean nothing there; use another --state`,
    );
  }
}

/**
 * A journal speaks for one account at one endpoint: its ClientTokens and gateway ids mean nothing elsewhere. Any key
 * or STS session of the same account may use it. Journals of earlier versions name only a key: that key may.
 * Every command that talks to the cloud with a journal checks this first (before reading or writing anything).
 */
export function checkAccount(path: string, h: JournalHeader, endpoint: string, caller: Caller): void {
  checkEndpoint(path, h, endpoint);
  if (h.accountId !== undefined) {
    if (caller.accountId !== undefined && caller.accountId !== h.accountId) {
      throw new StateError(
        `state file ${path} belongs to account ${h.accountId}, but these credentials are of account ${caller.accountId}; ` +
          `its ClientTokens and gateway ids must not be used in another account; use another --state or the other account's credentials`,
      );
    }
    if (caller.accountId === undefined) {
      throw new StateError(`state file ${path} belongs to account ${h.accountId}, and the account of these credentials is unknown; cannot check it`);
    }
    return;
  }
  if (h.accessKeyId !== undefined && h.accessKeyId !== caller.accessKeyId) {
    throw new StateError(
      `state file ${path} was written by an earlier cgw-batch for access key ${h.accessKeyId}; run cgw-batch apply once with that key ` +
        `(an apply with nothing to do is enough): it binds the journal to the key's account, then any key of the account works (or use another --state)`,
    );
  }
}

/** A header that names neither an account nor a key (hand-edited, or damaged): whoever uses it must prove ownership. */
export function isUnbound(h: JournalHeader): boolean {
  return h.accountId === undefined && h.accessKeyId === undefined;
}

/**
 * Takes the estate's lease before planning (apply, import, destroy, refresh --write) so plan and execution see the same
 * journal. `forceUnlock` breaks the current holder's lease first (it is fenced: its next write fails).
 */
export async function leaseJournal(backend: StateBackend, opts: JournalLockOptions): Promise<Lease> {
  const warn = opts.onWarning ?? (() => undefined);
  const clock = opts.clock ?? Date.now;
  if (opts.forceUnlock) await backend.breakLease((m) => warn(`${m} (--force-unlock)`));
  // The lease names the run that holds it; callers that have not made a run id name the journal's (a file's header).
  const runId = opts.runId ?? (backend.kind === 'file' ? await peekRunId(backend.location) : undefined);
  return backend.acquire({
    holder: { host: opts.host ?? hostname(), pid: opts.pid ?? process.pid, ...(runId ? { runId } : {}), startedAt: new Date(clock()).toISOString() },
    waitMs: opts.waitMs ?? 0,
    onWarning: warn,
  });
}

/** Older journals may hold what a newer cgw-batch would have scrubbed: rows read back are scrubbed too. */
function redactRows(rows: Map<string, JournalRow>, redact: (s: string) => string): Map<string, JournalRow> {
  return new Map([...rows].map(([k, r]) => [k, redactStrings(r, redact)]));
}

/**
 * The header record (the first line) alone, without reading the rest of the journal; undefined when there is no
 * readable header (absent, not a regular file, corrupt: the full read says why). Never fails, never blocks.
 */
async function peekHeader(path: string): Promise<Record<string, unknown> | undefined> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
    if (!(await fh.stat()).isFile()) return undefined;
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const first = buf.subarray(0, bytesRead).toString('utf8').split('\n')[0] ?? '';
    const v = JSON.parse(first) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  } finally {
    await fh?.close();
  }
}

/** The run id from the header line, if readable, so the lock can name the run. Never fails. */
async function peekRunId(path: string): Promise<string | undefined> {
  const runId = (await peekHeader(path))?.['runId'];
  return typeof runId === 'string' ? runId : undefined;
}

/** A journal as read from its file: the header, every row, and what was wrong with its tail. */
export interface JournalFile {
  header: JournalHeader;
  rows: Map<string, JournalRow>;
  warnings: string[];
}

/**
 * Reads a journal file whole, without locking it (plan, status and report read it so; apply, import, destroy and
 * refresh read it once under the lease and open it for appending from this read). `undefined` when there is none.
 */
export function readJournal(path: string, opts: { redact?: (s: string) => string } = {}): Promise<JournalFile | undefined> {
  return readState(openFileBackend({ path }), opts);
}

/** The same for any backend: its records read without the lease. */
export async function readState(backend: StateBackend, opts: { redact?: (s: string) => string } = {}): Promise<JournalFile | undefined> {
  const log = await backend.read();
  return log === undefined ? undefined : journalOf(backend.location, log, opts);
}

/**
 * The journal as read under a lease: the lease's log, parsed. The backend has already said what was wrong with the
 * log's tail (through the acquire's onWarning), so `warnings` is empty here.
 */
export async function journalOfLease(backend: StateBackend, lease: Lease, opts: { redact?: (s: string) => string } = {}): Promise<JournalFile | undefined> {
  let log = lease.log;
  if (log.records.length === 0) {
    // An empty log is a new estate, except a journal FILE that exists and is empty: that is damage (a journal file
    // is never empty by our writes), and treating it as new would lose the journal's id, the seed of its tokens.
    if (backend.kind !== 'file') return undefined;
    const again = await backend.read();
    if (again === undefined) return undefined;
    log = again;
  }
  const j = journalOf(backend.location, log, opts);
  return { ...j, warnings: [] };
}

/** Records to a journal (parseJournal over their text: whole records, so no torn tail remains to find). */
function journalOf(where: string, log: LogRead, opts: { redact?: (s: string) => string }): JournalFile {
  const { header, rows, warnings } = parseJournal(where, log.records.map((r) => r + '\n').join(''));
  return { header, rows: opts.redact ? redactRows(rows, opts.redact) : rows, warnings: [...log.warnings, ...warnings] };
}

const PRIOR_FIELDS = [
  'gatewayId',
  'authKeyFingerprint',
  'name',
  'description',
  'asn',
  'resourceGroupId',
  'tags',
  'errorCode',
  'errorMessage',
  'errorClass',
  'specHash',
  'operation',
  'adopted',
  // A site's second customer gateway names its row; a site row carries its connection's part.
  'siteKey',
  'connection',
  'quotaLimit',
  'finishedAt',
] as const satisfies ReadonlyArray<keyof PriorRow & keyof JournalRow>;

/** What the planner needs from each journal row. */
export function toPriorRows(rows: ReadonlyMap<string, JournalRow>): Map<string, PriorRow> {
  const out = new Map<string, PriorRow>();
  for (const [key, r] of rows) {
    const p: PriorRow = { key, status: r.status, generation: r.generation, line: r.line };
    // Optional fields are copied only when present, so a prior row never carries `undefined` members.
    for (const f of PRIOR_FIELDS) if (r[f] !== undefined) (p as unknown as Record<string, unknown>)[f] = r[f];
    out.set(key, p);
  }
  return out;
}
