// A virtual clock: sleep() advances time instantly, so pacing and backoff logic run without real waiting.
import type { Clock } from '../../src/clock.js';

export class VirtualClock implements Clock {
  t = 0;
  sleeps: number[] = [];
  now(): number {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) return;
    // Advance to the wake-up time of this sleeper, never backwards (concurrent sleepers share the timeline).
    const wake = this.t + Math.max(0, ms);
    await Promise.resolve();
    if (wake > this.t) this.t = wake;
  }
}
