// Per-lane send scheduler: each request is allowed at the moment it is sent, from a model of the server's token bucket.
import type { Clock } from '../clock.js';

export interface SchedulerOptions {
  /** `now()` and `sleep(ms, signal?)`; the scheduler keeps at most one timer of its own. */
  clock: Clock;
  /** `--rate` (told): requests per second for this lane. Never bursts above it, and paces `aim` under it. */
  rate?: number;
  /** Adaptive mode starts here: the documented limit (CreateCustomerGateway: 2/s per account and region). */
  publishedRate: number;
  /** `--concurrency`: the cap on requests on the wire; the working limit follows rate x latency under it. */
  maxConcurrency: number;
  /** Unused by the algorithm today (it is deterministic); accepted so callers can pass their seeded source. */
  random?: () => number;
  /** Called whenever the pacing rate changes (requests per second). */
  onRate?: (ratePerSec: number) => void;
  /** How many seconds of requests the server's bucket holds (Alibaba VPC and our emulator: 1). */
  burstSeconds?: number;
  /**
   * Fraction of the rate to pace under: told, 0.03 (the user's figure is the server's limit, and the shadow
   * bucket already absorbs latency jitter); adaptive, 0.01 (the proven rate is itself a lower bound).
   */
  aim?: number;
}

/**
 * What became of a granted send. `error` is any other answer or a transport failure: it says nothing about the rate,
 * unless `passed`: the API answered about the request itself (a conflict, an invalid or existing resource), so it got
 * past the rate check and took a token, as a clean answer does.
 */
export type SendOutcome =
  | { kind: 'ok'; latencyMs?: number }
  | { kind: 'throttled'; retryAfterMs?: number; latencyMs?: number }
  | { kind: 'error'; latencyMs?: number; passed?: boolean };

/** A granted send slot. `release` must be called exactly once, when the request's answer (or failure) is known. */
export interface Ticket {
  /** Adaptive: sent beyond the shadow's budget to test for a higher limit (what progress and tests may tell apart). */
  readonly probe: boolean;
  /** The limit (requests/s) the lane believed in when it granted this send: told, or learned. */
  readonly limit: number;
  release(outcome: SendOutcome): void;
}

type SendState = 'pending' | 'ok' | 'throttled' | 'error';

/** One request we sent, as the shadow model of the server's bucket sees it. */
interface Send {
  at: number;
  state: SendState;
  probe: boolean;
  /** Grant order (ties in time are common). */
  seq: number;
}

interface Waiter {
  resolve: (t: Ticket | undefined) => void;
}

const HISTORY_MAX = 4_096;
const LATENCY_SAMPLES = 64;
/** Until this many answers are in, the latency spread is assumed wide (100 ms or the slowest answer seen). */
const SPREAD_WARMUP = 8;
const DEFAULT_SPREAD_MS = 100;
const MIN_SPREAD_MS = 5;
const DEFAULT_LATENCY_MS = 200;
const PROBE_EVERY_MS = 15_000;
const PROBE_EVERY_MAX_MS = 120_000;
const DECREASE = 0.85;
/** A probe round widens its window once the proven limit passes this multiple of where it started. */
const ESCALATE = 1.1;

/**
 * Paces one lane (one account and region) against the server's token bucket (rate L, capacity L x 1 s).
 *
 * Every decision is taken when a request leaves, never reserved ahead: a FIFO queue of waiters and one timer.
 * The head goes when (a) it is 1/pace after the previous send, and (b) a shadow of the server's bucket,
 * rebuilt from our own sends at the believed limit, holds 1 + limit x latency-spread tokens for it (so that
 * arrival jitter cannot empty it). The shadow counts unanswered requests as spent and restarts from empty at
 * a Throttling answer. A rate change, a pause or close() therefore applies at once to every waiting request.
 *
 * Told the rate, the believed limit is that rate and the lane paces 3 % under it.
 * Adaptive, it starts at the published rate and also sends "probes" beyond the shadow's budget, at most W
 * unanswered at a time (W = 1 at first). A clean probe is evidence: n requests accepted within s seconds
 * prove L >= n / (1 + s) (the bucket holds one second; s widened by the latency spread), so the believed
 * limit rises to that bound, and once it is clearly (10 %) above where the round began W grows by one per
 * clean probe: doubling per round trip, like TCP's slow start. At the published limit the first probe is
 * throttled and the lane holds there after a single throttle; a raised limit is reached in a few round
 * trips. The first throttle ends the round; the lane holds at the proven rate and probes again rarely
 * (after 15 s, doubling while rounds find nothing). A throttle of an ordinary request outside a round means
 * the model is wrong (someone else spends the same bucket, or the limit fell): the rate drops by 15 % and
 * climbs back on clean answers.
 */
export class LaneScheduler {
  private readonly clock: Clock;
  private readonly told: number | undefined;
  private readonly maxConcurrency: number;
  private readonly burstS: number;
  private readonly aim: number;
  private readonly floor: number;
  private readonly onRate: ((r: number) => void) | undefined;

  /** The limit we believe in (requests/s); we pace at `believed x (1 - aim)`. */
  private believed: number;
  /** After an unexplained throttle: the rate to climb back to. */
  private recoverTo: number;
  /** Adaptive: the limit our clean answers prove (a lower bound); `believed` may sit a little above it. */
  private proven = 0;
  private paceRate: number;

  private readonly queue: Waiter[] = [];
  private readonly out = new Set<Send>();
  private history: Send[] = [];
  private lastGrant = -Infinity;
  private pausedUntil = -Infinity;
  private closed = false;

  /**
   * The opening burst: the server's bucket starts full (one second's worth), so the lane's first sends may go at
   * once, as many as the shadow holds beyond the margin, up to `cap` of them within the bucket's one second. It ends
   * for good at the first send the shadow (or a pause) holds back, at the first throttle, or when spent; every send
   * after it keeps the 1/rate spacing, so no second after the burst sees more than the rate.
   */
  private bursting = true;
  private burstSent = 0;
  private burstUntil = Infinity;

  /** Probing (adaptive): a round is active from start until its first throttle, then again every `probeEvery`. */
  private probing: boolean;
  private window = 1;
  private probesOut = 0;
  private lastProbe: Send | undefined;
  private seq = 0;
  private raisedThisRound = false;
  private roundFrom: number;
  private probeEvery = PROBE_EVERY_MS;
  private nextRoundAt = Infinity;
  /** Bumped when a round ends or the rate drops: throttles of requests sent before then were already answered for. */
  private epoch = 0;
  /** Evidence counts only sends after the last unexplained throttle. */
  private evidenceFrom = -Infinity;

  private readonly latencies: number[] = [];
  /** Recomputed when a latency sample arrives: the slowest recent answer and the spread (hot path reads these). */
  private latencyHi = DEFAULT_LATENCY_MS;
  private spread = DEFAULT_SPREAD_MS;

  private timerGen = 0;
  private timerAt = Infinity;
  private timerAbort: AbortController | undefined;

  constructor(opts: SchedulerOptions) {
    if (!(opts.publishedRate > 0)) throw new Error('publishedRate must be positive');
    if (opts.rate !== undefined && !(opts.rate > 0)) throw new Error('rate must be positive');
    this.clock = opts.clock;
    this.told = opts.rate;
    this.maxConcurrency = Math.max(1, Math.floor(opts.maxConcurrency));
    this.burstS = opts.burstSeconds ?? 1;
    this.aim = opts.aim ?? (opts.rate !== undefined ? 0.03 : 0.01);
    this.onRate = opts.onRate;
    this.believed = opts.rate ?? opts.publishedRate;
    this.recoverTo = this.believed;
    this.proven = opts.rate === undefined ? opts.publishedRate : 0;
    this.floor = Math.min(0.1, this.believed);
    this.paceRate = this.believed * (1 - this.aim);
    this.probing = opts.rate === undefined;
    this.roundFrom = this.believed;
  }

  /** The rate this lane paces at, in requests per second (adaptive probes go above it). */
  get rate(): number {
    return this.paceRate;
  }

  get inFlight(): number {
    return this.out.size;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Requests allowed on the wire: rate x recent latency x 1.5, plus one, plus the probe window; capped by maxConcurrency. */
  get concurrencyLimit(): number {
    // The opening burst is bounded by the shadow bucket, not by the wire: all of it may be out at once.
    if (this.bursting) return this.maxConcurrency;
    // Requests still out count with their age, so a few slow ones cannot stall the lane.
    const now = this.clock.now();
    let lat = this.latencyHi;
    for (const s of this.out) lat = Math.max(lat, now - s.at);
    const base = Math.ceil((this.paceRate * lat * 1.5) / 1000) + 1 + (this.probing ? this.window : 0);
    return Math.min(this.maxConcurrency, Math.max(1, base));
  }

  /** When the age of the oldest request on the wire will let one more go (Infinity: only a release will). */
  private limitRisesAt(): number {
    if (this.out.size >= this.maxConcurrency || this.paceRate <= 0) return Infinity;
    if (this.bursting) return this.clock.now();
    let oldest = Infinity;
    for (const s of this.out) oldest = Math.min(oldest, s.at);
    const extra = this.probing ? this.window : 0;
    const age = ((this.out.size - 1 - extra) * 1000) / (1.5 * this.paceRate);
    return oldest + Math.max(age, 1) + 1;
  }

  /** Waits for a send slot. Resolves undefined when cancelled by close(); never rejects. */
  acquire(): Promise<Ticket | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.queue.push({ resolve });
      this.pump();
    });
  }

  /** Pause the whole lane for `ms` (a server retry-after hint); waiting requests move back at once. */
  pause(ms: number): void {
    if (!(ms > 0)) return;
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + Math.min(ms, 60_000));
    this.pump();
  }

  /** Cancel every waiter at once (they resolve undefined) and refuse new ones. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelTimer();
    for (const w of this.queue.splice(0)) w.resolve(undefined);
  }

  // ---- decisions ----

  private pump(): void {
    if (this.closed) return;
    for (;;) {
      const head = this.queue[0];
      if (!head) return this.cancelTimer();
      const now = this.clock.now();
      if (!this.probing && now >= this.nextRoundAt) this.startRound();
      if (this.bursting && (now >= this.burstUntil || this.burstSent >= this.cap())) this.bursting = false;
      // Full: a release will pump, or the oldest request's age will raise the limit.
      if (this.out.size >= this.concurrencyLimit) return this.setTimer(Math.max(now + 1, this.limitRisesAt()));
      let at = this.earliestSafe(now);
      if (at > now && this.bursting && (at > this.lastGrant + 1000 / this.paceRate || now < this.pausedUntil)) {
        // The shadow holds this send back longer than the spacing would (or a pause does): the bucket is spent, the
        // opening burst is over, and the spacing applies from now on.
        this.bursting = false;
        at = this.earliestSafe(now);
      }
      let probe = false;
      if (at > now) {
        if (this.mayProbe(now)) probe = true;
        else return this.setTimer(Math.min(at, this.probing ? Infinity : this.nextRoundAt));
      }
      this.queue.shift();
      head.resolve(this.grant(now, probe));
    }
  }

  /** The earliest time (ms) the spacing, the shadow bucket and any pause allow a send that is not a probe. */
  private earliestSafe(now: number): number {
    // Never two sends closer than 1/rate (except in the opening burst). Below 1 ms timers cannot pace, so the lane
    // may catch up 1 ms.
    const interval = 1000 / this.paceRate;
    const spaced = this.bursting ? -Infinity : this.lastGrant + interval - (interval < 1 ? 1 : 0);
    let at = Math.max(now, this.pausedUntil, spaced);
    // The shadow of the server's bucket at the believed limit. Each of our sends is an anchor where the bucket
    // held at most `cap` tokens (or none, for a throttled one); from there it refilled at rho and lost a token
    // per send since (unanswered ones included). Wait until every anchor leaves `need` tokens.
    const rho = this.believed;
    const cap = this.cap();
    const need = 1 + (rho * this.spreadMs()) / 1000;
    let spent = 0;
    for (let i = this.history.length - 1; i >= 0; i--) {
      const s = this.history[i]!;
      if (s.state === 'throttled') {
        at = Math.max(at, s.at + ((need + spent) * 1000) / rho);
        continue;
      }
      spent++;
      at = Math.max(at, s.at + ((need + spent - cap) * 1000) / rho);
    }
    return at;
  }

  private cap(): number {
    return Math.max(1, this.believed * this.burstS);
  }

  /**
   * A probe may go when the window has room. Until the round has found a higher limit, also only when no
   * ordinary request sent before the previous probe is still unanswered: arriving first, a probe could take
   * that request's token (two throttles at the edge instead of one), and its clean answer would prove nothing.
   */
  private mayProbe(now: number): boolean {
    if (!this.probing || this.probesOut >= this.window || now < this.pausedUntil) return false;
    const last = this.lastProbe;
    if (!last || this.raisedThisRound) return true;
    for (const s of this.out) if (!s.probe && s.seq < last.seq) return false;
    return true;
  }

  private grant(now: number, probe: boolean): Ticket {
    const send: Send = { at: now, state: 'pending', probe, seq: this.seq++ };
    if (this.bursting) {
      if (this.burstSent === 0) this.burstUntil = now + this.burstS * 1000;
      this.burstSent++;
    }
    this.history.push(send);
    this.prune(now);
    const interval = 1000 / this.paceRate;
    this.lastGrant = interval < 1 ? Math.max(now - 1, this.lastGrant + interval) : now;
    this.out.add(send);
    if (probe) {
      this.probesOut++;
      this.lastProbe = send;
    }
    const inRound = this.probing;
    const epoch = this.epoch;
    let released = false;
    return {
      probe,
      limit: this.believed,
      release: (outcome: SendOutcome) => {
        if (released) throw new Error('Ticket.release called twice');
        released = true;
        this.onAnswer(send, outcome, { probe, inRound, epoch });
      },
    };
  }

  private onAnswer(send: Send, outcome: SendOutcome, t: { probe: boolean; inRound: boolean; epoch: number }): void {
    const now = this.clock.now();
    this.out.delete(send);
    if (t.probe) this.probesOut--;
    const latency = outcome.latencyMs ?? now - send.at;
    if (Number.isFinite(latency) && latency >= 0) {
      this.latencies.push(latency);
      if (this.latencies.length > LATENCY_SAMPLES) this.latencies.shift();
      this.updateLatencyStats();
    }
    // An answer past the rate check is the same evidence about the bucket whatever it says about the row.
    const accepted = outcome.kind === 'ok' || (outcome.kind === 'error' && outcome.passed === true);
    send.state = accepted ? 'ok' : outcome.kind === 'throttled' ? 'throttled' : 'error';

    if (accepted) {
      if (t.probe) {
        // A probe answered after its round ended (by another request's throttle) is still evidence.
        const { bound, estimate } = this.evidence(send);
        this.proven = Math.max(this.proven, bound);
        if (estimate > this.believed) {
          // Widen the window only once the limit is clearly above where the round started: near the old limit
          // a single probe at a time finds the edge with a single throttle.
          if (this.probing && estimate >= ESCALATE * this.roundFrom) {
            this.raisedThisRound = true;
            this.window = Math.min(this.maxConcurrency, this.window + 1);
          }
          this.setBelieved(estimate);
          this.recoverTo = Math.max(this.recoverTo, estimate);
        }
      } else if (this.believed < this.recoverTo) {
        const step = Math.max(0.01 * this.recoverTo, 0.1 * (this.recoverTo - this.believed));
        this.setBelieved(Math.min(this.recoverTo, this.believed + step));
      }
    } else if (outcome.kind === 'throttled') {
      this.bursting = false;
      if (this.probing) {
        this.endRound(now);
      } else if (!t.probe && !t.inRound && t.epoch === this.epoch) {
        // Not a probe, and the shadow said the server had room: the estimate was too high (fall back to what
        // is proven), or someone else spends this bucket or the limit fell (slow down by 15 %).
        this.epoch++;
        this.evidenceFrom = now;
        const next = this.told === undefined && this.believed > this.proven ? this.proven : this.believed * DECREASE;
        this.recoverTo = this.told ?? next;
        this.proven = Math.min(this.proven, next);
        this.setBelieved(Math.max(this.floor, next));
      }
      if (outcome.retryAfterMs !== undefined && outcome.retryAfterMs > 0) {
        this.pausedUntil = Math.max(this.pausedUntil, now + Math.min(outcome.retryAfterMs, 60_000));
      }
    }
    this.pump();
  }

  /**
   * What our accepted sends say about the limit: n of them within s seconds fit a bucket of rate L and
   * capacity L x burst only if L >= n / (burst + s). Arrival times are uncertain by the latency spread:
   * `bound` widens s by all of it (a proven lower bound), `estimate` by half (the likely value, which the
   * lane holds; one throttle above it falls back to the bound). Windows end at the send just answered or at
   * the latest accepted one.
   */
  private evidence(answered: Send): { bound: number; estimate: number } {
    const spreadS = this.spreadMs() / 1000;
    let bound = 0;
    let estimate = 0;
    let latestOk: Send | undefined;
    for (const s of this.history) if (s.state === 'ok' && s.at >= this.evidenceFrom && (!latestOk || s.at >= latestOk.at)) latestOk = s;
    for (const end of latestOk && latestOk !== answered ? [answered, latestOk] : [answered]) {
      let n = 0;
      for (let i = this.history.length - 1; i >= 0; i--) {
        const s = this.history[i]!;
        if (s.at > end.at || s.state !== 'ok') continue;
        if (s.at < this.evidenceFrom) break;
        n++;
        const span = this.burstS + (end.at - s.at) / 1000;
        bound = Math.max(bound, n / (span + spreadS));
        estimate = Math.max(estimate, n / (span + spreadS / 2));
      }
    }
    return { bound, estimate };
  }

  private startRound(): void {
    this.probing = true;
    this.window = 1;
    this.raisedThisRound = false;
    this.roundFrom = this.believed;
    this.nextRoundAt = Infinity;
  }

  private endRound(now: number): void {
    this.probing = false;
    this.epoch++;
    this.probeEvery = this.raisedThisRound ? PROBE_EVERY_MS : Math.min(PROBE_EVERY_MAX_MS, this.probeEvery * 2);
    this.nextRoundAt = now + this.probeEvery;
  }

  private setBelieved(v: number): void {
    const capped = this.told !== undefined ? Math.min(this.told, v) : v;
    this.believed = Math.max(this.floor, capped);
    const pace = this.believed * (1 - this.aim);
    if (pace !== this.paceRate) {
      this.paceRate = pace;
      this.onRate?.(pace);
    }
  }

  /** Arrival-time uncertainty: the spread of recent latencies (wide until enough answers are in). */
  private spreadMs(): number {
    return this.spread;
  }

  private updateLatencyStats(): void {
    const xs = this.latencies;
    let hi = -Infinity;
    let lo = Infinity;
    for (const x of xs) {
      if (x > hi) hi = x;
      if (x < lo) lo = x;
    }
    this.latencyHi = hi;
    this.spread = xs.length < SPREAD_WARMUP ? Math.max(DEFAULT_SPREAD_MS, hi) : Math.max(MIN_SPREAD_MS, hi - lo);
  }


  /**
   * Drops anchors that can no longer bind: once the shadow says the bucket refilled to `cap` after an anchor,
   * every later send is a tighter anchor. (Terms only grow while the rate holds; a lower rate always comes
   * with a fresh throttle anchor.) HISTORY_MAX bounds memory at absurd rates.
   */
  private prune(now: number): void {
    const h = this.history;
    const rho = this.believed;
    const cap = this.cap();
    let consuming = 0;
    for (const s of h) if (s.state !== 'throttled') consuming++;
    let drop = 0;
    while (drop < h.length) {
      const s = h[drop]!;
      const start = s.state === 'throttled' ? 0 : cap;
      const level = start + (rho * (now - s.at)) / 1000 - consuming;
      if (h.length - drop <= HISTORY_MAX && level < cap) break;
      if (s.state !== 'throttled') consuming--;
      drop++;
    }
    if (drop > 0) this.history = h.slice(drop);
  }

  // ---- the one timer ----

  private setTimer(at: number): void {
    if (!Number.isFinite(at)) return this.cancelTimer();
    if (this.timerAbort && at === this.timerAt) return;
    this.cancelTimer();
    const gen = ++this.timerGen;
    const ac = new AbortController();
    this.timerAbort = ac;
    this.timerAt = at;
    void this.clock.sleep(Math.max(0, at - this.clock.now()), ac.signal).then(() => {
      if (gen !== this.timerGen || ac.signal.aborted) return;
      this.timerAbort = undefined;
      this.timerAt = Infinity;
      this.pump();
    });
  }

  private cancelTimer(): void {
    if (!this.timerAbort) return;
    this.timerGen++;
    this.timerAbort.abort();
    this.timerAbort = undefined;
    this.timerAt = Infinity;
  }
}
