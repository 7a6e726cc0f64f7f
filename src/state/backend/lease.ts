// What every backend's lease shares: the lost signal, the ttl-minus-margin self-fence, the heartbeat timer, one append at a time.
import { StateError } from '../../errors.js';
import {
  checkRecords,
  LeaseLostError,
  StateBackendError,
  type HolderInfo,
  type Lease,
  type LeaseClock,
  type LeaseTiming,
  type LogRead,
  type LogRecord,
} from './types.js';

export interface LeaseCore {
  epoch: number | undefined;
  token: string;
  log: LogRead;
  takeover: { from?: HolderInfo; why: string } | undefined;
  /** When the acquisition's confirming request was sent (monotonic ms). */
  confirmedAt: number;
}

/**
 * Backends implement the store operations; this class keeps the rules that must be the same everywhere.
 * `doAppend`/`doCompact`/`doHeartbeat` throw LeaseLostError when fenced and anything else for store trouble.
 */
export abstract class LeaseBase implements Lease {
  readonly epoch: number | undefined;
  readonly token: string;
  readonly log: LogRead;
  readonly takeover: { from?: HolderInfo; why: string } | undefined;
  private readonly controller = new AbortController();
  private confirmedAt: number;
  private appending = false;
  private timer: NodeJS.Timeout | undefined;
  private expiry: NodeJS.Timeout | undefined;
  private beatInFlight: Promise<void> | undefined;
  protected state: 'held' | 'released' | 'lost' = 'held';

  protected constructor(
    core: LeaseCore,
    protected readonly timing: LeaseTiming,
    protected readonly clock: LeaseClock,
    protected readonly what: string,
  ) {
    this.epoch = core.epoch;
    this.token = core.token;
    this.log = core.log;
    this.takeover = core.takeover;
    this.confirmedAt = core.confirmedAt;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Starts the heartbeat; backends call it once their constructor is done. */
  protected start(): void {
    this.schedule();
    this.armExpiry();
  }

  /**
   * The self-fence as a timer: the signal aborts at the moment the lease stops being trustworthy (last confirmed
   * contact + ttl - margin), even while a beat or an append hangs, so a caller listening to `signal` stops on time.
   */
  private armExpiry(): void {
    if (this.expiry) clearTimeout(this.expiry);
    if (this.state !== 'held') return;
    const left = this.confirmedAt + this.timing.ttlMs - this.timing.marginMs - this.clock.now();
    this.expiry = setTimeout(() => {
      this.expiry = undefined;
      try {
        this.assertHeld();
        this.armExpiry();
      } catch {
        // assertHeld has marked the lease lost and aborted the signal.
      }
    }, Math.max(0, left) + 1);
    this.expiry.unref();
  }

  private schedule(): void {
    if (this.state !== 'held') return;
    // Never keeps the process alive by itself; one beat at a time (a slow store never stacks beats).
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.heartbeat()
        .catch(() => undefined)
        .finally(() => this.schedule());
    }, this.timing.heartbeatMs);
    this.timer.unref();
  }

  /** Records a confirmed contact: the request that confirmed the lease was sent at `sentAt`. */
  protected confirm(sentAt: number): void {
    if (sentAt > this.confirmedAt) {
      this.confirmedAt = sentAt;
      this.armExpiry();
    }
  }

  /** Marks the lease lost (once) and aborts the signal; returns the error to throw. */
  protected lose(err: LeaseLostError): LeaseLostError {
    if (this.state === 'held') {
      this.state = 'lost';
      this.stopTimer();
      this.controller.abort(err);
      this.onLost();
    }
    return (this.controller.signal.reason as LeaseLostError | undefined) ?? err;
  }

  /** Backend hook: drop connections or handles that only the lease needed. */
  protected onLost(): void {}

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = undefined;
  }

  assertHeld(): void {
    if (this.state === 'lost') throw this.controller.signal.reason as LeaseLostError;
    if (this.state === 'released') throw new LeaseLostError(`the lease on ${this.what} was released`);
    const age = this.clock.now() - this.confirmedAt;
    if (age > this.timing.ttlMs - this.timing.marginMs) {
      throw this.lose(
        new LeaseLostError(
          `the lease on ${this.what} was last confirmed ${Math.round(age / 1000)} s ago, too close to its ${Math.round(this.timing.ttlMs / 1000)} s ttl: another runner may have taken over; stopped`,
        ),
      );
    }
  }

  /** Runs one store operation under the lease rules: held, one at a time, after any beat in flight, confirmed on success. */
  private async guarded(what: string, op: () => Promise<void>): Promise<void> {
    this.assertHeld();
    if (this.appending) throw new StateError(`${what} ${this.what} while another append or compaction is in flight (one at a time)`);
    this.appending = true;
    try {
      if (this.beatInFlight) await this.beatInFlight;
      this.assertHeld();
      const sentAt = this.clock.now();
      await op();
      this.confirm(sentAt);
    } catch (e) {
      if (e instanceof LeaseLostError) throw this.lose(e);
      if (e instanceof StateError && !(e instanceof StateBackendError)) throw e;
      // The store could not be reached within its deadlines: whether we still hold the lease is unknown, so
      // act as if we did not (a successor may already be appending).
      const err = e instanceof StateBackendError ? e : new StateBackendError(`${what} ${this.what} failed: ${errText(e)}`);
      this.lose(new LeaseLostError(`${err.message}; gave up the lease`));
      throw err;
    } finally {
      this.appending = false;
    }
  }

  append(records: readonly LogRecord[]): Promise<void> {
    try {
      checkRecords(records);
    } catch (e) {
      return Promise.reject(e);
    }
    if (records.length === 0) return Promise.resolve();
    return this.guarded('appending to', () => this.doAppend(records));
  }

  compact(snapshot: readonly LogRecord[]): Promise<void> {
    try {
      checkRecords(snapshot);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.guarded('compacting', () => this.doCompact(snapshot));
  }

  heartbeat(): Promise<void> {
    // A beat while an append is in flight is redundant (the append confirms) and would race it.
    if (this.state !== 'held' || this.appending) return Promise.resolve();
    this.beatInFlight ??= this.beat().finally(() => {
      this.beatInFlight = undefined;
    });
    return this.beatInFlight;
  }

  private async beat(): Promise<void> {
    const sentAt = this.clock.now();
    try {
      // false: nothing was sent (the backend judged a beat unnecessary), so nothing is confirmed.
      if ((await this.doHeartbeat()) !== false) this.confirm(sentAt);
    } catch (e) {
      if (e instanceof LeaseLostError) {
        this.lose(e);
        return;
      }
      // A failed beat is not yet a loss: the self-fence at ttl - margin decides, checked here too.
      if (this.clock.now() - this.confirmedAt > this.timing.ttlMs - this.timing.marginMs) {
        this.lose(new LeaseLostError(`the lease on ${this.what} could not be confirmed (${errText(e)}); stopped`));
      }
    }
  }

  async release(): Promise<void> {
    const was = this.state;
    if (was === 'released') return;
    this.state = 'released';
    this.stopTimer();
    await this.beatInFlight;
    if (!this.controller.signal.aborted) this.controller.abort(new LeaseLostError(`the lease on ${this.what} was released`));
    await this.doRelease(was === 'held');
  }

  abandon(): void {
    if (this.state === 'released') return;
    const was = this.state;
    this.state = 'released';
    this.stopTimer();
    if (!this.controller.signal.aborted) this.controller.abort(new LeaseLostError(`the lease on ${this.what} was abandoned`));
    this.doAbandon(was === 'held');
  }

  protected abstract doAppend(records: readonly LogRecord[]): Promise<void>;
  protected abstract doCompact(snapshot: readonly LogRecord[]): Promise<void>;
  // biome-ignore lint/suspicious/noConfusingVoidType: a backend with nothing to report returns nothing
  protected abstract doHeartbeat(): Promise<boolean | void>;
  /** `held`: false when the lease was already lost (only local resources to free then). */
  protected abstract doRelease(held: boolean): Promise<void>;
  protected abstract doAbandon(held: boolean): void;
}

export function errText(e: unknown): string {
  return (e as Error | undefined)?.message ?? String(e);
}

export function describeHolder(h: HolderInfo | undefined): string {
  if (!h) return 'an unknown holder';
  return `pid ${h.pid} on host ${h.host} since ${h.startedAt}${h.runId ? ` (run ${h.runId})` : ''}`;
}

export function parseHolder(v: unknown): HolderInfo | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o['host'] !== 'string' || typeof o['pid'] !== 'number' || typeof o['startedAt'] !== 'string') return undefined;
  return { host: o['host'], pid: o['pid'], startedAt: o['startedAt'], ...(typeof o['runId'] === 'string' ? { runId: o['runId'] } : {}) };
}

/** Splits JSON-lines text; a last line without its newline, or a last line that is not JSON, is torn and dropped. */
export function splitLines(text: string, where: string): { lines: string[]; tornBytes: number; warnings: string[] } {
  const lines = text.split('\n');
  const tail = lines.pop() ?? '';
  const warnings: string[] = [];
  let tornBytes = 0;
  if (tail !== '') {
    tornBytes = Buffer.byteLength(tail);
    warnings.push(`${where}: dropped an incomplete last line ${lines.length + 1} (a write was interrupted)`);
  } else if (lines.length > 1) {
    const last = lines[lines.length - 1] ?? '';
    if (!isJson(last)) {
      lines.pop();
      tornBytes = Buffer.byteLength(last) + 1;
      warnings.push(`${where}: dropped an unreadable last line ${lines.length + 1} (a write was interrupted)`);
    }
  }
  return { lines, tornBytes, warnings };
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}
