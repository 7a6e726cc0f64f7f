// A clock whose timers fire only when the test advances time, one at a time in time order, with promise callbacks drained between.
import type { Clock } from '../../src/clock.js';

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
}

/** Lets every pending promise callback (and anything they schedule) run before the next timer fires. */
export function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer: Timer = {
        at: this.t + Math.max(0, ms),
        seq: this.seq++,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.timers = this.timers.filter((x) => x !== timer);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
    });
  }

  /** Timers not yet fired (cancelled ones are gone). */
  get pending(): number {
    return this.timers.length;
  }

  /** Fires, in order, every timer due up to now + ms, draining callbacks after each; then sets the time to now + ms. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.t + ms);
  }

  async advanceTo(target: number): Promise<void> {
    await drain();
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.at);
      next.fire();
      await drain();
    }
    this.t = Math.max(this.t, target);
    await drain();
  }

  /** Advances timer by timer until `done()` holds (checked after each timer); throws past `limitMs` of virtual time. */
  async runUntil(done: () => boolean, limitMs = 3_600_000): Promise<void> {
    const end = this.t + limitMs;
    await drain();
    while (!done()) {
      const next = this.nextDue(end);
      if (!next) throw new Error(`runUntil: nothing left to run at t=${this.t} ms and the condition does not hold`);
      await this.advanceTo(next.at);
    }
  }

  private nextDue(limit: number): Timer | undefined {
    let best: Timer | undefined;
    for (const x of this.timers) if (x.at <= limit && (!best || x.at < best.at || (x.at === best.at && x.seq < best.seq))) best = x;
    return best;
  }
}
