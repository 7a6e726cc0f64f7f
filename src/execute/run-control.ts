// Run-wide control: the stop decision (interrupt, max-failures, auth, permissions, retry budget), cancellable sleeps
// with one listener for all of them, and the gate that lets the run's first request go alone.
import type { CloudError } from '../cloud/errors.js';
import type { RunEvent, StopReason } from '../types.js';
import type { Clock } from '../clock.js';

export interface FailurePolicy {
  count?: number;
  percent?: number;
}

/**
 * The first request of a run goes alone: until an answer shows the credentials are accepted, every other send waits
 * here. An auth failure closes the gate (the run stops and nobody else sends); any other answer opens it.
 */
export class FirstRequestGate {
  private state: 'idle' | 'leading' | 'open' | 'closed' = 'idle';
  private waiters: Array<(ok: boolean) => void> = [];

  /** 'leader' for the first caller, 'open' once an answer came, 'closed' when the run stopped. */
  async pass(): Promise<'leader' | 'open' | 'closed'> {
    if (this.state === 'open' || this.state === 'closed') return this.state;
    if (this.state === 'idle') {
      this.state = 'leading';
      return 'leader';
    }
    return new Promise<boolean>((resolve) => this.waiters.push(resolve)).then((ok) => (ok ? 'open' : 'closed'));
  }

  /** The server answered without rejecting the credentials (or the leader is done): everyone may send. */
  open(): void {
    this.settle('open');
  }

  /** The run stopped: every waiter leaves without sending. */
  close(): void {
    this.settle('closed');
  }

  private settle(to: 'open' | 'closed'): void {
    if (this.state === 'open' || this.state === 'closed') return;
    this.state = to;
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve(to === 'open');
  }
}

export class RunControl {
  readonly gate = new FirstRequestGate();
  reason: StopReason | undefined;
  /** The error that stopped the run (auth, permission), for the final message. */
  stopError: CloudError | undefined;
  failed = 0;
  private readonly aborter = new AbortController();
  /** Aborted when the run stops: for the few long calls (a reconciliation listing) that take a signal. */
  readonly signal: AbortSignal = this.aborter.signal;
  private readonly sleepers = new Set<() => void>();
  private readonly onStop: Array<() => void> = [];

  constructor(
    private readonly clock: Clock,
    private readonly emit: (e: RunEvent) => void,
    private readonly total: number,
    private readonly maxFailures: FailurePolicy | undefined,
  ) {}

  get stopped(): boolean {
    return this.reason !== undefined;
  }

  /** Runs `fn` once when the run stops (schedulers close their queues). */
  whenStopped(fn: () => void): void {
    if (this.stopped) fn();
    else this.onStop.push(fn);
  }

  stop(reason: StopReason, message: string, err?: CloudError): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.stopError = err;
    this.emit({ type: 'run:stopping', reason, message });
    this.gate.close();
    this.aborter.abort();
    for (const wake of [...this.sleepers]) wake();
    for (const fn of this.onStop.splice(0)) fn();
  }

  /** A row ended failed: counts toward --max-failures; the Nth failure stops every send not yet on the wire. */
  countFailure(): void {
    this.failed++;
    const p = this.maxFailures;
    if (!p) return;
    const over = (p.count !== undefined && this.failed >= p.count) || (p.percent !== undefined && this.total > 0 && (this.failed / this.total) * 100 >= p.percent);
    if (over) this.stop('max-failures', `stopping: ${this.failed} row(s) failed (--max-failures); nothing more is sent`);
  }

  /**
   * Sleeps `ms` unless the run stops first; true when the full time passed. One registration per sleeper in a set the
   * stop wakes, rather than one listener per sleeper on a shared AbortSignal (Node warns past 10 of those).
   */
  async sleep(ms: number): Promise<boolean> {
    if (this.stopped) return false;
    if (ms <= 0) return true;
    const ac = new AbortController();
    const wake = (): void => ac.abort();
    this.sleepers.add(wake);
    try {
      await this.clock.sleep(ms, ac.signal);
    } finally {
      this.sleepers.delete(wake);
    }
    return !this.stopped;
  }
}
