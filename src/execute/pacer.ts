// Per-lane request pacing: a token bucket of capacity one whose rate adapts to Throttling (slow start, then AIMD around the limit).
import type { Clock } from './clock.js';

export interface PacerOptions {
  /** Requests per second to start at. */
  initialRate: number;
  /** The user's `--rate`: never exceed it. Undefined = adaptive: probe upward until the server throttles. */
  ceiling?: number;
  /** Lowest rate the lane slows down to. */
  floor?: number;
}

/**
 * A token bucket per lane. Told the rate, it may burst one second's worth (as the server's own bucket allows)
 * and then sends one request every 1/rate s. Adaptive, it paces smoothly with no burst: exponential growth per
 * success until the first Throttling (slow start: +3/s per success, about 0.8 s from 2/s to 25/s); then the rate drops to 85 % of the throttled rate, climbs back
 * quickly to 95 % of it, and probes above it gently.
 */
export class Pacer {
  private rateValue: number;
  private tokens: number;
  private at: number;
  private pausedUntil = 0;
  private slowStart: boolean;
  private throttledAt: number | undefined;
  private readonly ceiling: number | undefined;
  private readonly floor: number;
  throttles = 0;

  constructor(
    private readonly clock: Clock,
    opts: PacerOptions,
  ) {
    this.ceiling = opts.ceiling;
    this.floor = opts.floor ?? 0.2;
    this.rateValue = Math.max(this.floor, opts.ceiling !== undefined ? Math.min(opts.ceiling, opts.initialRate) : opts.initialRate);
    // Told the rate: start there. Not told: start at the published rate and grow until the server says stop.
    this.slowStart = opts.ceiling === undefined;
    this.tokens = this.capacity();
    this.at = clock.now();
  }

  get rate(): number {
    return this.rateValue;
  }

  private capacity(): number {
    return this.ceiling !== undefined ? Math.max(1, this.ceiling) : 1;
  }

  /** Waits for this lane's next send slot (a reservation: the token is taken now, possibly on credit). False when `signal` aborted. */
  async acquire(signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal?.aborted) return false;
      const now = this.clock.now();
      this.tokens = Math.min(this.capacity(), this.tokens + ((now - this.at) * this.rateValue) / 1000);
      this.at = now;
      this.tokens -= 1;
      const wait = Math.max(this.tokens < 0 ? (-this.tokens * 1000) / this.rateValue : 0, this.pausedUntil - now);
      if (wait > 0) await this.clock.sleep(wait, signal);
      if (signal?.aborted) return false;
      // A Throttling answer may have paused the lane while we slept: queue again behind the pause.
      if (this.clock.now() >= this.pausedUntil) return true;
    }
  }

  onSuccess(): void {
    if (this.slowStart) {
      this.setRate(this.rateValue + 3);
      return;
    }
    const target = this.throttledAt !== undefined ? this.throttledAt * 0.95 : undefined;
    if (target !== undefined && this.rateValue < target) {
      this.setRate(this.rateValue + Math.max(0.05, (target - this.rateValue) * 0.15));
    } else {
      this.setRate(this.rateValue + 0.02);
    }
  }

  /** Server said Throttling: slow down, drop any burst credit, and honour its retry-after hint for the whole lane. */
  onThrottle(retryAfterMs: number | undefined): void {
    this.throttles++;
    const was = this.rateValue;
    this.slowStart = false;
    this.throttledAt = this.throttledAt === undefined ? was : Math.min(was, Math.max(this.throttledAt, was));
    this.setRate(was * 0.85);
    this.tokens = Math.min(this.tokens, 0);
    const pause = retryAfterMs !== undefined ? Math.min(retryAfterMs, 60_000) : 1000 / this.rateValue;
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + pause);
  }

  private setRate(r: number): void {
    let v = Math.max(this.floor, r);
    if (this.ceiling !== undefined) v = Math.min(this.ceiling, v);
    this.rateValue = v;
  }
}
