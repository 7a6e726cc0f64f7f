import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pacer } from '../../src/execute/pacer.js';
import { VirtualClock } from '../helpers/fake-clock.js';

test('told rate: one second of burst (like the server bucket), then exactly 1/rate apart', async () => {
  const clock = new VirtualClock();
  const p = new Pacer(clock, { initialRate: 5, ceiling: 5 });
  const times: number[] = [];
  for (let i = 0; i < 11; i++) {
    assert.equal(await p.acquire(), true);
    times.push(clock.now());
    p.onSuccess();
  }
  assert.deepEqual(times, [0, 0, 0, 0, 0, 200, 400, 600, 800, 1000, 1200]);
  assert.equal(p.rate, 5, 'never exceeds the told rate');
});

test('adaptive: grows in slow start until throttled, then drops and honours retry-after', async () => {
  const clock = new VirtualClock();
  const p = new Pacer(clock, { initialRate: 2 });
  for (let i = 0; i < 10; i++) p.onSuccess();
  assert.equal(p.rate, 32);
  await p.acquire();
  const before = clock.now();
  p.onThrottle(1500);
  assert.ok(Math.abs(p.rate - 32 * 0.85) < 1e-9);
  await p.acquire();
  assert.ok(clock.now() - before >= 1500, 'the lane waits out x-acs-retry-after');
  // Recovery climbs back towards 95 % of the throttled rate, then probes slowly.
  for (let i = 0; i < 200; i++) p.onSuccess();
  assert.ok(p.rate > 30 && p.rate < 36, `rate ${p.rate}`);
});

test('told rate: a throttle slows the lane below the ceiling, then it recovers to it', () => {
  const clock = new VirtualClock();
  const p = new Pacer(clock, { initialRate: 10, ceiling: 10 });
  p.onThrottle(undefined);
  assert.equal(p.rate, 8.5);
  for (let i = 0; i < 500; i++) p.onSuccess();
  assert.equal(p.rate, 10);
});

test('acquire returns false once the signal aborts', async () => {
  const clock = new VirtualClock();
  const p = new Pacer(clock, { initialRate: 1, ceiling: 1 });
  const ac = new AbortController();
  ac.abort();
  assert.equal(await p.acquire(ac.signal), false);
});
