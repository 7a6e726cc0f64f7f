// Property tests of the lane scheduler: seeded random arrivals, latencies and answers on the virtual clock.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LaneScheduler } from '../../src/execute/scheduler.js';
import { seededRandom } from '../../src/clock.js';
import { RateLimiter } from '../../src/emulator/ratelimit.js';
import { ManualClock } from '../helpers/manual-clock.js';

type Rnd = () => number;
const int = (rnd: Rnd, lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));

/** One granted send as the lane and the (model) server saw it. */
interface Sent {
  t: number;
  probe: boolean;
  limit: number;
  /** When the lane learned the answer (Infinity: never answered within the run). */
  answeredAt: number;
  throttled: boolean;
}

interface Case {
  seed: number;
  /** Told rate (requests/s); undefined: adaptive. */
  told?: number;
  /** 'server': a token bucket at `limit` answers (the emulator's model); 'random': answers drawn at random. */
  answers: 'server' | 'random';
  /** The server's limit in 'server' mode. */
  limit: number;
  rows: number;
  workers: number;
  maxConcurrency: number;
  latency: { lo: number; hi: number };
  /** Share of requests answered past the rate check with a conflict, and whether the lane is told so. */
  conflicts: { share: number; passed: boolean };
}

interface Run {
  sends: Sent[];
  throttledByServer: number;
}

/**
 * Draws a case and runs it: rows arrive in random waves (some after idle gaps long enough to refill the bucket), each
 * sends until accepted (at most 6 attempts in 'random' mode), answers come after a random latency; in 'random' mode
 * answers are ok, throttled (with or without a retry-after hint), errors past the rate check or not, and the lane is
 * paused now and then, as the executor's retry layer does.
 */
async function runCase(c: Case, rnd: Rnd): Promise<Run> {
  const clock = new ManualClock();
  const limiter = new RateLimiter({ CreateCustomerGateway: c.limit }, () => clock.now());
  const s = new LaneScheduler({ clock, rate: c.told, publishedRate: 2, maxConcurrency: c.maxConcurrency });
  const sends: Sent[] = [];
  let throttledByServer = 0;
  // Arrival waves: each wave's rows arrive together or spread over up to 2 s; waves are up to 6 s apart.
  const arrivals: number[] = [];
  let at = 0;
  while (arrivals.length < c.rows) {
    const n = Math.min(c.rows - arrivals.length, int(rnd, 1, Math.max(1, Math.ceil(c.rows / 2))));
    const spread = rnd() < 0.5 ? 0 : rnd() * 2000;
    for (let i = 0; i < n; i++) arrivals.push(at + rnd() * spread);
    at += rnd() * 6000;
  }
  arrivals.sort((a, b) => a - b);
  const latency = () => c.latency.lo + rnd() * (c.latency.hi - c.latency.lo);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < c.rows) {
      const i = next++;
      if (arrivals[i]! > clock.now()) await clock.sleep(arrivals[i]! - clock.now());
      for (let attempt = 0; ; attempt++) {
        const ticket = await s.acquire();
        assert.ok(ticket, 'the lane is never closed here');
        const sent: Sent = { t: clock.now(), probe: ticket.probe, limit: ticket.limit, answeredAt: Infinity, throttled: false };
        sends.push(sent);
        await clock.sleep(latency());
        let accepted = false;
        if (c.answers === 'server') {
          const wait = limiter.take('acct', 'cn-hangzhou', 'CreateCustomerGateway');
          sent.answeredAt = clock.now();
          if (wait > 0) {
            throttledByServer++;
            sent.throttled = true;
            ticket.release({ kind: 'throttled', retryAfterMs: wait });
          } else if (rnd() < c.conflicts.share) {
            ticket.release({ kind: 'error', passed: c.conflicts.passed });
          } else {
            accepted = true;
            ticket.release({ kind: 'ok' });
          }
        } else {
          const x = rnd();
          sent.answeredAt = clock.now();
          if (x < 0.7) {
            accepted = true;
            ticket.release({ kind: 'ok' });
          } else if (x < 0.8) {
            sent.throttled = true;
            ticket.release({ kind: 'throttled', retryAfterMs: rnd() < 0.5 ? undefined : rnd() * 1500 });
          } else if (x < 0.9) {
            ticket.release({ kind: 'error', passed: true });
          } else {
            ticket.release({ kind: 'error', passed: false });
          }
          if (rnd() < 0.03) s.pause(rnd() * 2000);
        }
        if (accepted || (c.answers === 'random' && attempt >= 5)) break;
        await clock.sleep(rnd() * 200);
      }
      done++;
    }
  };
  const all = Promise.all(Array.from({ length: c.workers }, worker));
  await clock.runUntil(() => done === c.rows);
  await all;
  assert.equal(s.inFlight, 0);
  return { sends, throttledByServer };
}

function drawCase(seed: number, adaptive: boolean): { c: Case; rnd: Rnd } {
  const rnd = seededRandom(seed);
  // Integer rates as the published limits and most raised quotas are; every fifth told case a fractional one.
  const fractional = !adaptive && seed % 5 === 0;
  const rate = fractional ? 0.5 + rnd() * 40 : rnd() < 0.3 ? int(rnd, 1, 5) : int(rnd, 6, 120);
  const answers = rnd() < 0.5 ? 'server' : 'random';
  const lo = int(rnd, 0, 100);
  const c: Case = {
    seed,
    told: adaptive ? undefined : rate,
    answers,
    limit: adaptive ? (rnd() < 0.3 ? int(rnd, 1, 5) : int(rnd, 6, 60)) : rate,
    rows: int(rnd, 5, Math.min(240, Math.ceil(rate * 5) + 10)),
    workers: int(rnd, 1, 16),
    maxConcurrency: int(rnd, 1, 16),
    latency: { lo, hi: lo + (rnd() < 0.5 ? int(rnd, 0, 60) : int(rnd, 0, 400)) },
    conflicts: { share: rnd() < 0.5 ? 0 : rnd() * 0.1, passed: rnd() < 0.7 },
  };
  return { c, rnd };
}

const label = (c: Case) => JSON.stringify(c);

/** assert.ok with the message built only on failure (the checks run millions of times). */
function check(ok: boolean, message: () => string): void {
  if (!ok) assert.fail(message());
}

/**
 * The told promise on every window of the send times. (1) The whole run fits the server's one-second bucket at the
 * told rate: w seconds hold at most max(1, rate) + rate x w sends (the bucket holds at least one token). (2) The
 * opening burst (at most floor(rate) sends, within the first send's second) is the only excess: every sliding second
 * that starts at a send with index >= floor(rate), or one second or more after the first send, holds at most the rate.
 * (3) No send was granted under a limit above the told rate.
 */
function checkTold(c: Case, sends: Sent[]): void {
  const rate = c.told!;
  const t = sends.map((x) => x.t).sort((a, b) => a - b);
  for (let i = 0; i < t.length; i++) {
    for (let j = i + 1; j < t.length; j++) {
      const n = j - i + 1;
      check(n <= Math.max(1, rate) + (rate * (t[j]! - t[i]!)) / 1000 + 1e-9, () => `${label(c)}: ${n} sends within ${t[j]! - t[i]!} ms exceed the ${rate}/s bucket`);
    }
  }
  const perSecond = Math.floor(rate);
  const firstSecondEnds = t[0]! + 1000;
  let j = 0;
  for (let i = 0; i < t.length; i++) {
    if (i < perSecond && t[i]! < firstSecondEnds) continue;
    j = Math.max(j, i);
    while (j < t.length && t[j]! < t[i]! + 1000) j++;
    // A fractional rate paced 3 % under may still put ceil(rate) sends in a second (it is a rate over time); an
    // integer one never more than the rate.
    const most = Number.isInteger(rate) ? rate : Math.ceil(rate);
    check(j - i <= most, () => `${label(c)}: ${j - i} sends in the second from ${t[i]} ms (send #${i}), told ${rate}/s`);
  }
  // Every send carries the told limit or less (after an unexplained throttle the lane slows, never speeds past it).
  for (const s of sends) check(s.limit <= rate + 1e-9, () => `${label(c)}: a send believed ${s.limit}/s`);
}

/**
 * The adaptive promise: outside its probes, the lane never sends beyond the limit it has learned. At every ordinary
 * (non-probe) send, with L the limit the lane believed in when it granted it: (1) every window since the last
 * throttle the lane had heard of fits a one-second bucket at L (w seconds hold at most max(1, L) + L x w sends,
 * probes included, throttled ones known by then excluded); (2) after its first second, the send is at least 1/L
 * after the previous one (probes included).
 */
function checkAdaptive(c: Case, sends: Sent[]): void {
  const byTime = [...sends].sort((a, b) => a.t - b.t);
  const t0 = byTime[0]!.t;
  for (let k = 0; k < byTime.length; k++) {
    const s = byTime[k]!;
    if (s.probe) continue;
    const L = s.limit;
    check(L > 0 && Number.isFinite(L), () => `${label(c)}: learned ${L}`);
    let resetAt = -Infinity;
    for (const x of byTime) if (x.throttled && x.answeredAt <= s.t && x.t <= s.t) resetAt = Math.max(resetAt, x.t);
    let n = 1;
    for (let i = k - 1; i >= 0; i--) {
      const a = byTime[i]!;
      if (a.t <= resetAt) break;
      if (a.throttled && a.answeredAt <= s.t) continue;
      n++;
      const w = (s.t - a.t) / 1000;
      check(n <= Math.max(1, L) + L * w + 1e-9, () => `${label(c)}: ${n} sends within ${s.t - a.t} ms at ${s.t} ms exceed the learned ${L}/s`);
    }
    if (k > 0 && s.t >= t0 + 1000) {
      const gap = s.t - byTime[k - 1]!.t;
      check(gap >= 1000 / L - 1e-6, () => `${label(c)}: ${gap} ms after the previous send at ${s.t} ms, learned ${L}/s`);
    }
  }
}

const CASES = 150;

test(`told, ${CASES} seeded cases: the opening bucket, then never more than the rate in any sliding second; a server at the told rate never throttles`, async () => {
  let sends = 0;
  for (let seed = 1; seed <= CASES; seed++) {
    const { c, rnd } = drawCase(seed, false);
    const r = await runCase(c, rnd);
    sends += r.sends.length;
    checkTold(c, r.sends);
    if (c.answers === 'server') assert.equal(r.throttledByServer, 0, `${label(c)}: ${r.throttledByServer} throttled`);
  }
  // The cases are not trivially small: thousands of sends in all.
  assert.ok(sends > 5000, `${sends} sends`);
});

test(`adaptive, ${CASES} seeded cases: ordinary sends never exceed the limit the lane has learned`, async () => {
  let sends = 0;
  let probes = 0;
  for (let seed = 1001; seed <= 1000 + CASES; seed++) {
    const { c, rnd } = drawCase(seed, true);
    const r = await runCase(c, rnd);
    sends += r.sends.length;
    probes += r.sends.filter((x) => x.probe).length;
    checkAdaptive(c, r.sends);
  }
  assert.ok(sends > 5000, `${sends} sends`);
  // Probing happened (else the check above would be about the published rate alone).
  assert.ok(probes > 100, `${probes} probes`);
});
