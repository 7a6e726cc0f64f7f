// The durable journal: one locked, append-only JSON-lines file per manifest; group-committed, compacted on open.
import { randomBytes, randomUUID } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, relative, resolve, sep } from 'node:path';
import { StateError } from '../errors.js';
import { sameEndpoint } from '../endpoint-match.js';
import type { JournalPatch, PriorRow } from '../types.js';
import { writeSnapshot } from './compact.js';
import { assertRegularOrAbsent, openAppend, readRegularFile, removeOrphans, tightenModeNoFollow } from '../fsutil.js';
import { Lock } from './lock.js';
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
  /** A lock taken earlier with lockJournal() (apply locks, then plans, then opens); otherwise taken here. */
  lock?: JournalLock;
}

export interface JournalLockOptions {
  forceUnlock?: boolean;
  /** The run taking the lock (shown to anyone the lock refuses). */
  runId?: string;
  clock?: () => number;
  host?: string;
  pid?: number;
  /** Torn last line dropped, stale lock taken over, permissions fixed, lock lost. */
  onWarning?: (message: string) => void;
  /** Applied to every string of every patch (and of rows read back) before it is stored or written: secrets.ts scrubber. */
  redact?: (s: string) => string;
}

/** Counters for tests and benchmarks: group commit shows as `fsyncs` far below `records`. */
export interface JournalStats {
  records: number;
  /** fdatasync calls made for appends (compaction's fsyncs are not counted). */
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

function normalizeEndpoint(e: string): string {
  return e.trim().replace(/\/+$/, '');
}

function errText(e: unknown): string {
  return (e as Error | undefined)?.message ?? String(e);
}

export class Journal {
  readonly path: string;
  readonly header: JournalHeader;
  readonly stats: JournalStats = { records: 0, fsyncs: 0, bytes: 0 };
  private readonly map: Map<string, JournalRow>;
  private readonly fh: FileHandle;
  private readonly lock: Lock;
  private readonly clock: () => number;
  private redact: ((s: string) => string) | undefined;
  private queue: string[] = [];
  private waiters: Waiter[] = [];
  private writing: Promise<void> | undefined;
  private state: 'open' | 'closed' | 'abandoned' = 'open';
  private failure: StateError | undefined;
  private closing: Promise<void> | undefined;

  private constructor(path: string, header: JournalHeader, rows: Map<string, JournalRow>, fh: FileHandle, lock: Lock, clock: () => number) {
    this.path = path;
    this.header = header;
    this.map = rows;
    this.fh = fh;
    this.lock = lock;
    this.clock = clock;
  }

  /** Locks (unless `opts.lock` is held already), reads and opens: for callers that have not read the journal yet. */
  static async open(path: string, opts: OpenOptions): Promise<Journal> {
    // Before anything opens them: a FIFO here would hang us, a symlink would redirect our writes and chmod.
    await assertRegularOrAbsent(path, 'state file');
    const held = opts.lock ?? (await lockJournal(path, opts));
    let read: JournalFile | undefined;
    try {
      read = await readJournal(path, opts.redact ? { redact: opts.redact } : {});
    } catch (e) {
      if (!opts.lock) await held.release();
      throw e;
    }
    read?.warnings.forEach(opts.onWarning ?? (() => undefined));
    return Journal.fromRead(path, read, { ...opts, lock: held });
  }

  /**
   * Opens the journal for appending from the read the caller made under the held lock (the file is not read again):
   * checks it belongs to this manifest, endpoint and account, compacts it (dropping a torn tail) and appends after.
   */
  static async fromRead(path: string, read: JournalFile | undefined, opts: OpenOptions & { lock: JournalLock }): Promise<Journal> {
    const clock = opts.clock ?? Date.now;
    const warn = opts.onWarning ?? (() => undefined);
    let journal: Journal | undefined;
    const held = opts.lock;
    const lock = held.lock;
    held.onLost = (err) => journal?.fail(err);
    try {
      await assertRegularOrAbsent(path, 'state file');
      await assertRegularOrAbsent(`${path}.bak`, 'state backup file');
      // We hold the lock, so any journal temp file here belongs to a writer that died mid-compaction.
      await removeOrphans(path, ['tmp']);
      await removeOrphans(`${path}.bak`, ['tmp']);
      // Lock temp files are written before their owner holds the lock: only clear old ones.
      await removeOrphans(`${path}.lock`, ['tmp', 'stale'], 60_000);
      await removeOrphans(`${path}.lock.takeover`, ['tmp', 'stale'], 60_000);

      const now = new Date(clock()).toISOString();
      const manifest = { path: manifestRef(path, opts.manifest.path), hash: opts.manifest.hash };
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
        await tightenMode(path, warn);
        await tightenMode(`${path}.bak`, warn);
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
      // Compaction also drops a torn tail, which must never sit before new appends.
      let snapshot = headerLine(header);
      for (const row of rows.values()) snapshot += snapshotLine(row, now);
      await writeSnapshot(path, snapshot, read !== undefined);
      const fh = await openAppend(path, 'state file');
      journal = new Journal(path, header, rows, fh, lock, clock);
      journal.redact = opts.redact;
      return journal;
    } catch (e) {
      await lock.release();
      if (e instanceof StateError) throw e;
      throw new StateError(`cannot open state file ${path}: ${errText(e)}`);
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
   * `undefined` in a patch clears an optional field. Calls made while an fsync runs share the next one (group commit).
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
      this.queue.push(line);
      this.waiters.push({ resolve: () => resolveRow(row), reject });
      this.writing ??= this.drain();
    });
  }

  /** One write + one fdatasync per batch; everything queued during a batch forms the next one. */
  private async drain(): Promise<void> {
    // Let every record() of the current tick join the first batch.
    await new Promise<void>((r) => setImmediate(r));
    while (this.queue.length > 0) {
      const lines = this.queue;
      const waiters = this.waiters;
      this.queue = [];
      this.waiters = [];
      try {
        if (this.failure) throw this.failure;
        if (this.state === 'abandoned') throw new StateError(`journal ${this.path} was abandoned`);
        const buf = Buffer.from(lines.join(''), 'utf8');
        let off = 0;
        while (off < buf.length) off += (await this.fh.write(buf, off, buf.length - off)).bytesWritten;
        await this.fh.datasync();
        this.stats.fsyncs++;
        this.stats.bytes += buf.length;
        for (const w of waiters) w.resolve();
      } catch (e) {
        // A failed or partial append may leave half a line: appending after it would corrupt the middle of the
        // file, so the journal refuses all further writes. The next open drops the torn tail.
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

  /** Resolves when every record made so far is durable; rejects if the journal has failed. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.failure) throw this.failure;
  }

  /** Flushes and releases the lock. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        if (this.state === 'open') await this.flush();
      } finally {
        if (this.state === 'open') this.state = 'closed';
        while (this.writing) await this.writing;
        await this.fh.close().catch(() => undefined);
        await this.lock.release();
      }
    })();
    return this.closing;
  }

  /**
   * Releases only the lock, without flushing ("second Ctrl-C"). Every record was appended whole or is a torn last
   * line, so the file stays consistent; queued records that were never written reject.
   */
  abandon(): void {
    if (this.state !== 'open') return;
    this.state = 'abandoned';
    this.lock.releaseSync();
    this.fail(new StateError(`journal ${this.path} was abandoned`));
    const closeFh = () => void this.fh.close().catch(() => undefined);
    if (this.writing) void this.writing.finally(closeFh);
    else closeFh();
  }

  /** Test hook: run the lock heartbeat now (touch + ownership check) instead of waiting for its timer. */
  async checkLock(): Promise<void> {
    await this.lock.refresh();
    if (this.lock.lost) this.fail(this.lock.lost);
  }
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

/** The journal's lock, taken before planning (apply, import, destroy) so plan and execution see the same journal. */
export interface JournalLock {
  lock: Lock;
  /** Set by the journal that uses the lock: the heartbeat found it lost. */
  onLost?: (err: StateError) => void;
  release(): Promise<void>;
}

export async function lockJournal(path: string, opts: JournalLockOptions): Promise<JournalLock> {
  const warn = opts.onWarning ?? (() => undefined);
  const held: JournalLock = {
    lock: undefined as unknown as Lock,
    release: () => held.lock.release(),
  };
  held.lock = await Lock.acquire({
    statePath: path,
    pid: opts.pid ?? process.pid,
    host: opts.host ?? hostname(),
    // The lock names the run that holds it; callers that have not made a run id name the journal's.
    runId: opts.runId ?? (await peekRunId(path)),
    clock: opts.clock ?? Date.now,
    forceUnlock: opts.forceUnlock,
    onWarning: warn,
    onLost: (err) => {
      warn(err.message);
      held.onLost?.(err);
    },
  }).catch((e: unknown) => {
    if (e instanceof StateError) throw e;
    throw new StateError(`cannot lock state file ${path}: ${errText(e)}`);
  });
  return held;
}

/** The state holds fingerprint keys and account ids: 0600, and say so when fixing a looser file (never through a link). */
async function tightenMode(path: string, warn: (m: string) => void): Promise<void> {
  const old = await tightenModeNoFollow(path, 'state file');
  if (old !== undefined) warn(`state file ${path} was readable by others (mode ${old.toString(8).padStart(4, '0')}); changed it to 0600`);
}

/** Older journals may hold what a newer cgw-batch would have scrubbed: rows read back are scrubbed too. */
function redactRows(rows: Map<string, JournalRow>, redact: (s: string) => string): Map<string, JournalRow> {
  return new Map([...rows].map(([k, r]) => [k, redactStrings(r, redact)]));
}

/** A journal is a few hundred bytes per row; a file far beyond any real one is not ours to slurp. */
const MAX_JOURNAL_BYTES = 1024 * 1024 * 1024;

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
 * Reads a journal whole, without locking it (plan, status and report read it so; apply, import, destroy and refresh
 * read it once under the lock and open it for appending from this read). `undefined` when there is none.
 */
export async function readJournal(path: string, opts: { redact?: (s: string) => string } = {}): Promise<JournalFile | undefined> {
  const buf = await readRegularFile(path, 'state file', MAX_JOURNAL_BYTES);
  if (buf === undefined) return undefined;
  const { header, rows, warnings } = parseJournal(path, buf.toString('utf8'));
  return { header, rows: opts.redact ? redactRows(rows, opts.redact) : rows, warnings };
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
