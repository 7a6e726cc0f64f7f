// The state backend interface below the Journal: where an estate's records live and who may append them.
import { StateError } from '../../errors.js';

/**
 * One journal record: the text of one JSON object, without a newline. Backends store and return it byte for byte
 * (file and OSS as a JSON line, PostgreSQL in a `json` column, which keeps the text as given). The Journal decides
 * what records mean; a backend only adds and hides its own control records (OSS lease/seal records).
 */
export type LogRecord = string;

/** Who holds (or held) a lease. `startedAt` is the holder's own wall clock: shown to people, never compared. */
export interface HolderInfo {
  host: string;
  pid: number;
  /** The journal's run id, when known, so messages can name the run. */
  runId?: string;
  startedAt: string;
}

/** What a read found: the latest snapshot followed by every batch appended after it, in order. */
export interface LogRead {
  records: LogRecord[];
  /** Things a person should know (a torn last line dropped, a file's mode tightened); never fatal. */
  warnings: string[];
}

export interface AcquireOptions {
  holder: HolderInfo;
  /**
   * How long to keep trying while a live holder has the lease (default 0: refuse at once with LeaseBusyError).
   * A holder that has stopped showing signs of life is taken over without this: see `Lease.takeover`.
   */
  waitMs?: number;
  /** Aborts the wait for the lease (Ctrl-C while waiting); rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Progress a person should see: watching a silent holder, a takeover, a repaired tail. */
  onWarning?: (message: string) => void;
}

/** Who holds an estate's lease right now, as far as the backend can tell without taking it. */
export interface LeaseStatus {
  held: boolean;
  holder?: HolderInfo;
  /** The lease's epoch when the backend counts tenures (PostgreSQL, OSS); undefined for the file lock. */
  epoch?: number;
}

/**
 * A store for one estate's journal. Every method is safe to call from many processes on many machines at once:
 * the lease decides who appends, and reads never need it.
 */
export interface StateBackend {
  readonly kind: 'file' | 'postgres' | 'oss';
  /** Where the estate lives, for messages: a path, `postgres://host/db#estate`, `oss://bucket/prefix`. Never a secret. */
  readonly location: string;

  /**
   * Reads the estate without the lease (plan, status, report): a consistent view (a whole snapshot plus whole
   * batches; on the file backend the batch being written at that instant may show as a prefix of its records).
   * A torn last record is dropped with a warning. `undefined` when the estate has never been written.
   */
  read(): Promise<LogRead | undefined>;

  /**
   * Takes the estate's lease and reads the log under it, so the caller appends from exactly what it read.
   * A live holder: wait up to `waitMs`, then LeaseBusyError naming it. A dead holder is taken over (reported in
   * `Lease.takeover`): at once when its death is certain (a local pid gone, a PostgreSQL session ended), otherwise
   * only after its log or heartbeat has not changed for the lease's ttl measured on OUR monotonic clock. Wall clocks
   * of different machines are never compared, so clock skew cannot steal a lease.
   */
  acquire(opts: AcquireOptions): Promise<Lease>;

  /** Who holds the lease now (`state show`). Takes nothing, writes nothing. */
  status(): Promise<LeaseStatus>;

  /**
   * Ends the current holder's lease whoever it is (`state unlock`), fenced: that holder's next append or
   * heartbeat fails with LeaseLostError, so it stops before its next cloud call. Returns whom it removed.
   */
  breakLease(onWarning?: (message: string) => void): Promise<HolderInfo | undefined>;

  /** Closes connections and agents. Leases taken through this backend must be released (or abandoned) first. */
  close(): Promise<void>;
}

/**
 * The right to append to one estate, held by one process at a time. Each tenure has its own fencing token:
 * a holder that lost the lease gets LeaseLostError from its next append, and its `signal` aborts as soon as it
 * knows (heartbeat found someone else, or its last confirmed contact is older than ttl minus a margin).
 */
export interface Lease {
  /** The tenure's number where the backend counts them (PostgreSQL, OSS: +1 per acquisition); undefined for file. */
  readonly epoch: number | undefined;
  /** Unique per tenure (file: the lock's nonce; PostgreSQL/OSS: the epoch and a nonce). */
  readonly token: string;
  /** The log as read under this lease at acquisition: append continues from here. */
  readonly log: LogRead;
  /** Set when this lease took over a dead holder's: whom, and why it was judged dead. */
  readonly takeover: { from?: HolderInfo; why: string } | undefined;
  /** Aborted (reason: LeaseLostError) the moment the holder knows the lease is lost. */
  readonly signal: AbortSignal;

  /**
   * Throws LeaseLostError when the lease is lost or may be: call it right before every cloud call. Besides a
   * known loss, it fails once the last confirmed contact with the store is older than the lease's ttl minus a
   * safety margin (measured from when that contact was SENT, on our monotonic clock), because another runner may
   * take over at ttl.
   */
  assertHeld(): void;

  /**
   * Appends one batch atomically and durably, fenced: it lands only if this tenure still holds the lease.
   * Resolves once the whole batch is durable, exactly once: an answer lost after the store committed is
   * detected by content on the retry (never duplicated, never dropped). Rejects with LeaseLostError when fenced
   * (nothing of the batch landed unless the error says `landed: true`), StateBackendError when the store could not
   * be reached within its deadlines (the lease is then given up too: the outcome may be unknown).
   * One append at a time per lease: group commit (batching concurrent records) is the Journal's job.
   */
  append(records: readonly LogRecord[]): Promise<void>;

  /**
   * Replaces the whole log by `snapshot` atomically (readers see the old log or the new one, never a mix); later
   * appends follow the snapshot. Fenced like append.
   */
  compact(snapshot: readonly LogRecord[]): Promise<void>;

  /**
   * Shows the store we are alive and checks we still hold the lease (runs by itself every ttl/3; exposed for
   * tests and for callers that want to check before a long step). Aborts `signal` when lost.
   */
  heartbeat(): Promise<void>;

  /** Gives the lease up so the next runner takes it at once. Idempotent; never releases a successor's lease. */
  release(): Promise<void>;

  /** Hard abort (second Ctrl-C): stop heartbeating and drop the lease without awaiting anything. */
  abandon(): void;
}

/** The lease is held by a live runner (after waiting `waitMs`). Exit 2, like a locked state file today. */
export class LeaseBusyError extends StateError {
  override name = 'LeaseBusyError';
  constructor(
    message: string,
    readonly holder: HolderInfo | undefined,
  ) {
    super(message);
  }
}

/** This runner no longer holds the lease (taken over, broken, or unconfirmed for too long): stop at once. */
export class LeaseLostError extends StateError {
  override name = 'LeaseLostError';
  constructor(
    message: string,
    /** True when the batch that got this error was found durable before the loss was noticed. */
    readonly landed = false,
  ) {
    super(message);
  }
}

/** The store failed (unreachable, refused, corrupt) beyond retries. The message names the store, never a secret. */
export class StateBackendError extends StateError {
  override name = 'StateBackendError';
}

/** Time and timers, injectable so lease tests can run on a virtual clock. `now` is monotonic milliseconds. */
export interface LeaseClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: LeaseClock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** Every lease times out on the same rule: a ttl, heartbeats every third of it, a margin the holder keeps back. */
export interface LeaseTiming {
  /** A holder silent this long (on the observer's clock) is dead. Default 60 s. */
  ttlMs: number;
  /** The holder stops trusting its lease this long before ttl runs out. Default ttl/6. */
  marginMs: number;
  /** Heartbeat period. Default ttl/3. */
  heartbeatMs: number;
  /** How often a waiting acquirer looks again. Default min(1 s, ttl/10). */
  pollMs: number;
}

export function leaseTiming(ttlMs = 60_000, over: Partial<Omit<LeaseTiming, 'ttlMs'>> = {}): LeaseTiming {
  if (!(Number.isFinite(ttlMs) && ttlMs >= 300)) throw new StateError(`lease ttl must be at least 300 ms, got ${ttlMs}`);
  return {
    ttlMs,
    marginMs: over.marginMs ?? Math.round(ttlMs / 6),
    heartbeatMs: over.heartbeatMs ?? Math.round(ttlMs / 3),
    pollMs: over.pollMs ?? Math.min(1000, Math.round(ttlMs / 10)),
  };
}

/** The JSON text check every backend applies to what it is asked to append: one object, one line. */
export function checkRecords(records: readonly LogRecord[]): void {
  for (const r of records) {
    if (typeof r !== 'string' || r.length < 2 || r[0] !== '{' || r.includes('\n') || r.includes('\r')) {
      throw new StateError('a journal record must be the text of one JSON object on one line');
    }
  }
}
