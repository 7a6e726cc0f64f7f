// Per-lane send scheduler: decides each send at the moment it is sent (rate, pause, concurrency); close() cancels waiters.
// (Interim version while the adaptive scheduler of issue 12 is finished; same interface.)
import type { Clock } from './clock.js';

export interface SchedulerOptions {
  clock: Clock;
  /** --rate (told): requests/s for this lane; never exceeded. */
  rate?: number;
  /** Adaptive start (CreateCustomerGateway: 2/s). */
  publishedRate: number;
  /** --concurrency cap. */
  maxConcurrency: number;
  random?: () => number;
  onRate?: (ratePerSec: number) => void;
}

export type SendOutcome =
  | { kind: 'ok'; latencyMs: number }
  | { kind: 'throttled'; retryAfterMs?: number; latencyMs?: number }
  | { kind: 'error'; latencyMs?: number };

export interface Ticket {
  release(outcome: SendOutcome): void;
}

export class LaneScheduler {
  private rateValue: number;
  private readonly ceiling: number | undefined;
  private last = -Infinity;
  private pausedUntil = 0;
  private inFlightCount = 0;
  private readonly queue: Array<(t: Ticket | undefined) => void> = [];
  private timer: AbortController | undefined;
  private closed = false;

  constructor(private readonly opts: SchedulerOptions) {
    this.ceiling = opts.rate;
    this.rateValue = opts.rate ?? opts.publishedRate;
  }

  get rate(): number {
    return this.rateValue;
  }
  get inFlight(): number {
    return this.inFlightCount;
  }
  get waiting(): number {
    return this.queue.length;
  }
  get concurrencyLimit(): number {
    return this.opts.maxConcurrency;
  }

  acquire(): Promise<Ticket | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.queue.push(resolve);
      this.pump();
    });
  }

  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.opts.clock.now() + ms);
    this.rearm();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timer?.abort();
    for (const resolve of this.queue.splice(0)) resolve(undefined);
  }

  private rearm(): void {
    this.timer?.abort();
    this.timer = undefined;
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.queue.length > 0 && this.inFlightCount < this.opts.maxConcurrency) {
      const now = this.opts.clock.now();
      const at = Math.max(this.last + 1000 / this.rateValue, this.pausedUntil);
      if (at > now) {
        if (!this.timer) {
          const ac = new AbortController();
          this.timer = ac;
          void this.opts.clock.sleep(at - now, ac.signal).then(() => {
            if (this.timer !== ac) return;
            this.timer = undefined;
            this.pump();
          });
        }
        return;
      }
      this.last = now;
      this.inFlightCount++;
      const resolve = this.queue.shift()!;
      let released = false;
      resolve({
        release: (o) => {
          if (released) return;
          released = true;
          this.inFlightCount--;
          this.feedback(o);
          this.pump();
        },
      });
    }
  }

  private feedback(o: SendOutcome): void {
    const before = this.rateValue;
    if (o.kind === 'ok' && this.ceiling === undefined) this.rateValue = this.rateValue + 1;
    if (o.kind === 'throttled') {
      this.rateValue = Math.max(0.2, this.rateValue * 0.85);
      this.pause(o.retryAfterMs ?? 1000 / this.rateValue);
    }
    if (this.ceiling !== undefined) this.rateValue = Math.min(this.ceiling, this.rateValue);
    if (this.rateValue !== before) {
      this.opts.onRate?.(this.rateValue);
      this.rearm();
    }
  }
}
