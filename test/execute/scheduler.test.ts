import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LaneScheduler, type SchedulerOptions, type Ticket } from '../../src/execute/scheduler.js';
import { seededRandom } from '../../src/clock.js';
import { RateLimiter } from '../../src/emulator/ratelimit.js';
import { ManualClock, drain } from '../helpers/manual-clock.js';

/** The emulator's server model: one token bucket (capacity = one second's worth) on the virtual clock. */
function server(clock: ManualClock, rate: number): { take(): number; setRate(r: number): void } {
  const limiter = new RateLimiter({ CreateCustomerGateway: rate }, () => clock.now());
  return {
    take: () => limiter.take('acct', 'cn-hangzhou', 'CreateCustomerGateway'),
    setRate: (r) => limiter.setRates({ CreateCustomerGateway: r }),
  };
}

interface SimResult {
  /** Send times of every request (ms), and whether the server accepted it. */
  sends: Array<{ t: number; ok: boolean }>;
  throttled: number;
  wallMs: number;
  maxInFlight: number;
  /** The most requests on the wire once the lane's first 1.5 s are over (the opening burst long gone). */
  steadyInFlight: number;
  rates: Array<{ t: number; rate: number }>;
}

/**
 * `rows` rows through one lane, as the executor drives it: `workers` rows at a time, each sends until accepted;
 * the request reaches the server after 20-80 ms (the emulator adds its latency before the rate check).
 */
async function simulate(o: {
  rows: number;
  limit: number;
  told?: number;
  workers?: number;
  latency?: (random: () => number) => number;
  /** When row `i` reaches the lane (ms); all at once by default. */
  arrive?: (i: number) => number;
  /**
   * Share of requests the server takes a token for and then refuses (OperationConflict, as the emulator injects it
   * after the rate check); the row backs off (full jitter from 200 ms) and retries. `passed` says whether the lane is
   * told the answer got past the rate check.
   */
  conflicts?: { share: number; passed: boolean };
  seed?: number;
  onTick?: (clock: ManualClock, s: LaneScheduler, srv: ReturnType<typeof server>) => void;
  opts?: Partial<SchedulerOptions>;
}): Promise<SimResult & { scheduler: LaneScheduler }> {
  const clock = new ManualClock();
  const random = seededRandom(o.seed ?? 7);
  const srv = server(clock, o.limit);
  const rates: SimResult['rates'] = [];
  const s = new LaneScheduler({ clock, rate: o.told, publishedRate: 2, maxConcurrency: 16, onRate: (rate) => rates.push({ t: clock.now(), rate }), ...o.opts });
  const sends: SimResult['sends'] = [];
  const latency = o.latency ?? ((rnd) => 20 + rnd() * 60);
  let next = 0;
  let done = 0;
  let maxInFlight = 0;
  let steadyInFlight = 0;
  const worker = async () => {
    while (next < o.rows) {
      const i = next++;
      const at = o.arrive?.(i) ?? 0;
      if (at > clock.now()) await clock.sleep(at - clock.now());
      for (;;) {
        const ticket = await s.acquire();
        assert.ok(ticket);
        maxInFlight = Math.max(maxInFlight, s.inFlight);
        if (clock.now() >= 1500) steadyInFlight = Math.max(steadyInFlight, s.inFlight);
        const entry = { t: clock.now(), ok: false };
        sends.push(entry);
        await clock.sleep(latency(random));
        const wait = srv.take();
        if (wait === 0 && o.conflicts && random() < o.conflicts.share) {
          entry.ok = true;
          ticket.release({ kind: 'error', passed: o.conflicts.passed });
          await clock.sleep(random() * 200);
          continue;
        }
        if (wait === 0) {
          entry.ok = true;
          ticket.release({ kind: 'ok' });
          break;
        }
        ticket.release({ kind: 'throttled', retryAfterMs: wait });
      }
      done++;
      o.onTick?.(clock, s, srv);
    }
  };
  const all = Promise.all(Array.from({ length: o.workers ?? 16 }, worker));
  await clock.runUntil(() => done === o.rows);
  await all;
  const throttled = sends.filter((x) => !x.ok).length;
  return { sends, throttled, wallMs: clock.now(), maxInFlight, steadyInFlight, rates, scheduler: s };
}

/**
 * Spends a told lane's opening burst (clean answers), then idles until the bucket is full again: from the returned
 * time on, the lane paces by its spacing and shadow alone.
 */
async function afterBurst(clock: ManualClock, s: LaneScheduler): Promise<number> {
  const spend = (async () => {
    for (let i = 0; i < 40; i++) (await s.acquire())!.release({ kind: 'ok', latencyMs: 50 });
  })();
  await clock.runUntil(() => s.waiting === 0 && s.inFlight === 0 && clock.now() >= 1000);
  await spend;
  await clock.advance(5000);
  return clock.now();
}

const pct = (r: SimResult) => (100 * r.throttled) / r.sends.length;

/**
 * The told-mode promise, checked on every window of the send times: the whole run fits the server's bucket (a window
 * of w seconds holds at most rate x (1 + w) sends: a full bucket plus what it refills), and once the opening burst
 * (at most the bucket's one second, so among the first floor(rate) sends) is over, no 1-second window, sliding as the
 * bucket counts, holds more than the rate.
 */
function assertToldWindows(label: string, times: number[], rate: number): void {
  const t = [...times].sort((a, b) => a - b);
  for (let i = 0; i < t.length; i++) {
    for (let j = i + 1; j < t.length; j++) {
      const count = j - i + 1;
      assert.ok(count <= rate * (1 + (t[j]! - t[i]!) / 1000) + 1e-9, `${label}: ${count} sends within ${t[j]! - t[i]!} ms exceed the bucket`);
    }
  }
  const after = t.slice(Math.floor(rate));
  let j = 0;
  for (let i = 0; i < after.length; i++) {
    while (j < after.length && after[j]! < after[i]! + 1000) j++;
    assert.ok(j - i <= rate, `${label}: ${j - i} sends in the second from ${after[i]} ms, after the opening burst`);
  }
}

test('told rate: the opening burst fits the one-second bucket, no second after it exceeds the rate, nothing throttled', async () => {
  for (const rate of [2, 5, 25, 100]) {
    for (const seed of [1, 2, 3]) {
      const rows = 3 * rate + 10;
      // Half the rows at the start; the rest in a second wave after a pause long enough to refill the bucket: the
      // burst belongs to the opening only.
      const r = await simulate({ rows, limit: rate, told: rate, seed, arrive: (i) => (i < rows / 2 ? 0 : 4000 + (rows / rate) * 500) });
      assertToldWindows(`rate ${rate}, seed ${seed}`, r.sends.map((x) => x.t), rate);
      assert.equal(r.throttled, 0, `rate ${rate}, seed ${seed}: ${r.throttled} throttled`);
    }
  }
});

test('told 25/s spends the full bucket at the start: 80 rows in under 0.8 x B, 20 rows in a few round trips', async () => {
  for (const seed of [1, 2, 3]) {
    const long = await simulate({ rows: 80, limit: 25, told: 25, seed });
    // Pacing alone (no burst) needs 79 intervals at 3 % under the rate: 1.02 x B.
    assert.ok(long.wallMs <= 0.8 * 3200, `seed ${seed}: 80 rows took ${long.wallMs} ms (B = 3200 ms)`);
    assert.equal(long.throttled, 0);
    const short = await simulate({ rows: 20, limit: 25, told: 25, seed });
    assert.ok(short.wallMs <= 0.3 * 800, `seed ${seed}: 20 rows took ${short.wallMs} ms (B = 800 ms)`);
    assert.equal(short.throttled, 0);
  }
});

test('told: close() during the burst and during pacing cancels every waiting send at once', async () => {
  for (const closeAt of [0, 400]) {
    const clock = new ManualClock();
    const s = new LaneScheduler({ clock, rate: 25, publishedRate: 2, maxConcurrency: 16 });
    const granted: number[] = [];
    let cancelled = 0;
    const all = Array.from({ length: 80 }, () =>
      s.acquire().then((t) => {
        if (!t) return void cancelled++;
        granted.push(clock.now());
        void clock.sleep(50).then(() => t.release({ kind: 'ok' }));
      }),
    );
    await clock.advance(closeAt);
    const before = granted.length;
    assert.ok(before >= 16 && before < 80, `${before} granted by ${closeAt} ms`);
    const t0 = clock.now();
    s.close();
    await drain();
    assert.equal(cancelled, 80 - before, 'every waiting send resolves at once');
    assert.equal(clock.now(), t0, 'no virtual time passed');
    await clock.advance(2000);
    assert.equal(granted.length, before, 'nothing is granted after close()');
    assert.equal(clock.pending, 0, 'no timer left behind');
    await Promise.all(all);
  }
});

test('told 2/s at the published limit: a long run throttles at most 2 % and takes at most 1.05 x B', async () => {
  const r = await simulate({ rows: 200, limit: 2, told: 2 });
  assert.ok(pct(r) <= 2, `${r.throttled} of ${r.sends.length} throttled`);
  const bound = (200 / 2) * 1000;
  assert.ok(r.wallMs <= 1.05 * bound, `wall ${r.wallMs} ms vs B ${bound} ms`);
});

test('adaptive at the published 2/s limit: under 5 % throttled over 100 rows, at most one throttle over 20 rows', async () => {
  const long = await simulate({ rows: 100, limit: 2 });
  assert.ok(pct(long) < 5, `${long.throttled} of ${long.sends.length} throttled`);
  assert.ok(long.wallMs <= 1.1 * 50_000, `wall ${long.wallMs}`);
  for (const seed of [1, 2, 3]) {
    const short = await simulate({ rows: 20, limit: 2, seed });
    assert.ok(short.throttled <= 1, `seed ${seed}: ${short.throttled} throttled`);
    assert.ok(short.wallMs <= 1.1 * 10_000, `seed ${seed}: wall ${short.wallMs}`);
  }
});

test('adaptive finds a raised 25/s limit within about a second, then throttles rarely', async () => {
  const r = await simulate({ rows: 250, limit: 25 });
  const reached = r.rates.find((x) => x.rate >= 0.85 * 25);
  assert.ok(reached && reached.t <= 1000, `rate reached ${reached?.rate} at ${reached?.t} ms`);
  const late = r.sends.filter((x) => !x.ok && x.t > 2000).length;
  assert.ok(late <= 2, `${late} throttled after the first 2 s`);
  assert.ok(r.wallMs <= 1.15 * 10_000, `wall ${r.wallMs}`);
  assert.ok(r.scheduler.rate <= 25, `holds under the limit (${r.scheduler.rate})`);
  // Small batches: 20 rows at 25/s finish in a few round trips, not at the published 2/s.
  const small = await simulate({ rows: 20, limit: 25 });
  assert.ok(small.wallMs <= 600, `20 rows took ${small.wallMs} ms`);
});

test('adaptive: answers past the rate check (conflicts) are evidence like clean ones, so 6 % of them cost no rate', async () => {
  for (const seed of [1, 2, 3]) {
    const passed = await simulate({ rows: 250, limit: 25, seed, conflicts: { share: 0.06, passed: true } });
    const blind = await simulate({ rows: 250, limit: 25, seed, conflicts: { share: 0.06, passed: false } });
    assert.ok(passed.scheduler.rate >= 0.95 * 25 && passed.scheduler.rate <= 25, `seed ${seed}: holds at ${passed.scheduler.rate}`);
    assert.ok(passed.scheduler.rate > blind.scheduler.rate, `seed ${seed}: ${passed.scheduler.rate} vs ${blind.scheduler.rate} when conflicts are not counted`);
    const late = passed.sends.filter((x) => !x.ok && x.t > 2000).length;
    assert.ok(late <= 2, `seed ${seed}: ${late} throttled after the first 2 s`);
  }
});

test('a rate increase shortens waits already queued: 16 rows queued at the 2/s start all leave within half a second', async () => {
  const r = await simulate({ rows: 16, limit: 25 });
  const last = Math.max(...r.sends.map((x) => x.t));
  // A token bucket that reserves slots at the moment of asking would send the 16th at 7.5 s.
  assert.ok(last <= 500, `16th send at ${last} ms`);
});

test('a throttle and a pause move every queued request back at once; a clean answer moves them forward again', async () => {
  const clock = new ManualClock();
  const s = new LaneScheduler({ clock, rate: 10, publishedRate: 2, maxConcurrency: 16 });
  const t0 = await afterBurst(clock, s);
  const granted: number[] = [];
  const tickets: Ticket[] = [];
  for (let i = 0; i < 6; i++) {
    void s.acquire().then((t) => {
      assert.ok(t);
      granted.push(clock.now());
      tickets.push(t);
    });
  }
  await drain();
  assert.deepEqual(granted, [t0]);
  await clock.advance(150);
  assert.equal(granted.length, 2);
  tickets[0]!.release({ kind: 'ok', latencyMs: 50 });
  // The server says Throttling with a 1 s hint: the four queued requests wait it out.
  tickets[1]!.release({ kind: 'throttled', retryAfterMs: 1000, latencyMs: 50 });
  const rateAfterThrottle = s.rate;
  assert.ok(rateAfterThrottle < 9.7, `rate dropped to ${rateAfterThrottle}`);
  await clock.advance(900);
  assert.equal(granted.length, 2, 'nothing leaves during the retry-after pause');
  await clock.advance(200);
  assert.equal(granted.length, 3);
  assert.ok(granted[2]! >= t0 + 1150);
  s.pause(2000);
  await clock.advance(1900);
  assert.equal(granted.length, 3, 'pause() holds the queue');
  await clock.advance(200);
  assert.equal(granted.length, 4);
  // Clean answers climb back towards the told rate; the queue speeds up without re-queuing.
  tickets[2]!.release({ kind: 'ok', latencyMs: 50 });
  tickets[3]!.release({ kind: 'ok', latencyMs: 50 });
  assert.ok(s.rate > rateAfterThrottle);
  await clock.advance(1000);
  assert.equal(granted.length, 6);
  assert.equal(s.waiting, 0);
});

test('close() cancels every queued request at once; only granted ones are on the wire', async () => {
  const clock = new ManualClock();
  const s = new LaneScheduler({ clock, rate: 1, publishedRate: 2, maxConcurrency: 16 });
  const results: Array<Ticket | undefined> = [];
  const waits = Array.from({ length: 10 }, () => s.acquire().then((t) => (results.push(t), t)));
  await drain();
  assert.equal(results.length, 1);
  assert.equal(s.waiting, 9);
  s.close();
  s.close();
  await drain();
  assert.equal(clock.now(), 0, 'no virtual time passed');
  assert.equal(results.length, 10);
  assert.equal(results.filter((t) => t === undefined).length, 9);
  assert.equal(s.waiting, 0);
  assert.equal(clock.pending, 0, 'no timer left behind');
  assert.equal(await s.acquire(), undefined, 'new requests are refused');
  results[0]!.release({ kind: 'ok', latencyMs: 30 });
  assert.equal(s.inFlight, 0);
  await Promise.all(waits);
});

test('80 waiters: FIFO, one timer, no listener per waiter', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    const clock = new ManualClock();
    const s = new LaneScheduler({ clock, rate: 100, publishedRate: 2, maxConcurrency: 16 });
    const order: number[] = [];
    const all = Array.from({ length: 80 }, (_, i) =>
      s.acquire().then((t) => {
        order.push(i);
        // Answer after 20 ms so the concurrency cap releases.
        void clock.sleep(20).then(() => t!.release({ kind: 'ok' }));
      }),
    );
    await drain();
    // The answers' own timers (one per request on the wire), and at most one of the scheduler's.
    assert.ok(clock.pending <= s.inFlight + 1, `${clock.pending} timers pending with ${s.inFlight} on the wire`);
    await clock.runUntil(() => order.length === 80);
    await Promise.all(all);
    assert.deepEqual(order, Array.from({ length: 80 }, (_, i) => i));
    await drain();
    assert.deepEqual(warnings.map((w) => w.name), []);
  } finally {
    process.off('warning', onWarning);
  }
});

test('concurrency follows rate x latency, capped by maxConcurrency', async () => {
  const fixed = (ms: number) => () => ms;
  const slow = await simulate({ rows: 60, limit: 1000, told: 20, latency: fixed(400) });
  // 20/s x 0.4 s = 8 requests on the wire are needed; the limit adds half again plus one. The opening burst may put
  // up to maxConcurrency out at once.
  assert.ok(slow.steadyInFlight >= 7 && slow.steadyInFlight <= 14, `max in flight after the burst ${slow.steadyInFlight}`);
  assert.ok(slow.maxInFlight <= 16, `max in flight ${slow.maxInFlight}`);
  assert.equal(slow.scheduler.concurrencyLimit, Math.ceil((20 * 0.97 * 400 * 1.5) / 1000) + 1);
  assert.ok(slow.wallMs <= (60 / 20) * 1000 * 1.1 + 400, `wall ${slow.wallMs}`);
  const gentle = await simulate({ rows: 10, limit: 1000, told: 2, latency: fixed(400) });
  assert.ok(gentle.maxInFlight <= 3, `max in flight ${gentle.maxInFlight}`);
  const capped = await simulate({ rows: 60, limit: 1000, told: 100, latency: fixed(400), opts: { maxConcurrency: 6 } });
  assert.equal(capped.maxInFlight, 6);
  assert.equal(capped.scheduler.concurrencyLimit, 6);
});

test('errors carry no rate signal; an unexplained throttle in told mode slows the lane, then it climbs back', async () => {
  const clock = new ManualClock();
  const s = new LaneScheduler({ clock, rate: 10, publishedRate: 2, maxConcurrency: 16 });
  const start = s.rate;
  for (let i = 0; i < 5; i++) {
    const t = await s.acquire();
    t!.release({ kind: 'error', latencyMs: 40 });
    await clock.advance(110);
  }
  assert.equal(s.rate, start);
  const t = await s.acquire();
  t!.release({ kind: 'throttled', latencyMs: 40 });
  assert.ok(Math.abs(s.rate - start * 0.85) < 1e-9, `rate ${s.rate}`);
  for (let i = 0; i < 60; i++) {
    const next = s.acquire();
    await clock.runUntil(() => s.inFlight > 0);
    (await next)!.release({ kind: 'ok', latencyMs: 40 });
  }
  assert.equal(s.rate, start, 'back at the told rate, never above it');
});

test('adaptive: a limit raised mid-run is found by a later probe', async () => {
  let raised = false;
  const r = await simulate({
    rows: 400,
    limit: 2,
    onTick: (clock, _s, srv) => {
      if (!raised && clock.now() >= 20_000) {
        raised = true;
        srv.setRate(10);
      }
    },
  });
  assert.ok(raised);
  assert.ok(r.scheduler.rate >= 8, `rate ${r.scheduler.rate}`);
  assert.ok(pct(r) < 5, `${r.throttled} of ${r.sends.length} throttled`);
});

test('told: a throttle or a pause during the opening burst ends it for good; the sends after it keep the spacing', async () => {
  const run = async (interrupt: 'none' | 'throttle' | 'pause') => {
    const clock = new ManualClock();
    const s = new LaneScheduler({ clock, rate: 25, publishedRate: 2, maxConcurrency: 16 });
    const first = await Promise.all([s.acquire(), s.acquire(), s.acquire()]);
    assert.equal(clock.now(), 0);
    await clock.advance(50);
    first[0]!.release({ kind: 'ok', latencyMs: 50 });
    first[1]!.release({ kind: 'ok', latencyMs: 50 });
    if (interrupt === 'throttle') first[2]!.release({ kind: 'throttled', latencyMs: 50 });
    else first[2]!.release({ kind: 'ok', latencyMs: 50 });
    if (interrupt === 'pause') s.pause(10);
    const times: number[] = [];
    const more = Array.from({ length: 5 }, () => s.acquire().then((t) => (times.push(clock.now()), t!.release({ kind: 'ok', latencyMs: 0 }))));
    await clock.runUntil(() => times.length === 5);
    await Promise.all(more);
    return { times, rate: s.rate };
  };
  // Uninterrupted, the bucket's second still has room: the five go at once.
  assert.deepEqual((await run('none')).times, [50, 50, 50, 50, 50]);
  for (const interrupt of ['throttle', 'pause'] as const) {
    const { times, rate } = await run(interrupt);
    for (let i = 1; i < times.length; i++) {
      assert.ok(times[i]! - times[i - 1]! >= 1000 / rate - 1e-9, `${interrupt}: ${times.join(', ')} ms at ${rate}/s`);
    }
  }
});

test('adaptive: an answer past the rate check (passed) raises the learned limit as a clean one does; other errors leave it', async () => {
  const run = async (outcome: 'ok' | 'passed' | 'blind') => {
    const clock = new ManualClock();
    const s = new LaneScheduler({ clock, publishedRate: 2, maxConcurrency: 16 });
    const limits: number[] = [];
    let answered = 0;
    const all = Array.from({ length: 40 }, () =>
      s.acquire().then(async (t) => {
        limits.push(t!.limit);
        await clock.sleep(50);
        if (outcome === 'ok') t!.release({ kind: 'ok' });
        else t!.release({ kind: 'error', passed: outcome === 'passed' });
        answered++;
      }),
    );
    await clock.runUntil(() => answered === 40);
    await Promise.all(all);
    return { rate: s.rate, limit: Math.max(...limits) };
  };
  const ok = await run('ok');
  const passed = await run('passed');
  const blind = await run('blind');
  // Every answer accepted at once: the probes prove a limit far above the published 2/s.
  assert.ok(ok.rate > 10, `clean answers: ${ok.rate}/s`);
  assert.equal(passed.rate, ok.rate, 'an answer past the rate check is the same evidence');
  assert.equal(passed.limit, ok.limit);
  assert.ok(Math.abs(blind.rate - 2 * 0.99) < 1e-9, `errors that say nothing about the rate: ${blind.rate}/s`);
  assert.equal(blind.limit, 2);
});
