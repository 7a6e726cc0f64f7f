// Large listings at the published Describe limit: pages retried where they failed, virtual time, progress, abort.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetchInventory, withReadRetry } from '../../src/cloud/inventory.js';
import { CloudError } from '../../src/cloud/errors.js';
import { DEFAULT_ACCOUNT, startEmulator } from '../../src/emulator/index.js';
import { VirtualClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';
import { seedDataFile } from '../hostile/seed.js';
import { CREDS, caught, pop } from '../emulator/util.js';

const REGION = 'cn-shanghai';

async function bigEmulator(t: { after(fn: () => unknown): void }, count: number, extra: Parameters<typeof startEmulator>[0] = {}) {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const dataFile = tmp.path('emu.json');
  seedDataFile(dataFile, { accountId: DEFAULT_ACCOUNT.accountId, regionId: REGION, count });
  const clock = new VirtualClock();
  clock.t = Date.now();
  // The published limit (10/s DescribeCustomerGateways) on the same virtual timeline the client sleeps on.
  const emu = await startEmulator({ dataFile, seed: 7, clock: () => clock.now(), ...extra });
  t.after(() => emu.close());
  return { emu, clock };
}

test('5,000 gateways list completely at the published 10/s Describe limit: each page fetched once, no restart', async (t) => {
  const { emu, clock } = await bigEmulator(t, 5000);
  const started = clock.now();
  const progress: Array<[number, number]> = [];
  const inv = await fetchInventory([REGION], () => pop(emu), { clock, onProgress: (r, listed, total) => (assert.equal(r, REGION), progress.push([listed, total])) });
  const list = inv.get(REGION) ?? [];
  assert.equal(list.length, 5000);
  assert.equal(new Set(list.map((g) => g.id)).size, 5000);
  const stats = emu.stats().actions.DescribeCustomerGateways ?? {};
  assert.equal(stats.ok, 100, 'every page exactly once: a throttled page is retried, not the listing');
  assert.ok((stats['Throttling.User'] ?? 0) > 0, 'the limit was actually met');
  // 100 pages at 10/s with a 10-token burst take at least 9 s; waiting on x-acs-retry-after keeps it near that.
  const elapsed = clock.now() - started;
  assert.ok(elapsed >= 8_500 && elapsed < 20_000, `virtual ${elapsed} ms`);
  assert.equal(progress.length, 100);
  assert.deepEqual(progress.at(-1), [5000, 5000]);
  assert.ok(progress.every(([l], i) => i === 0 || l > progress[i - 1]![0]));
});

test('a page that fails transiently (503, reset, HTML) is retried at that page; the listing completes', async (t) => {
  const { emu, clock } = await bigEmulator(t, 730, {
    rateLimits: false,
    faults: { unavailable: 0.15, reset: 0.1, html: 0.1 },
    faultActions: ['DescribeCustomerGateways'],
  });
  const c = pop(emu, CREDS, 1000);
  const list = await c.listCustomerGateways(REGION, { clock });
  assert.equal(list.length, 730);
  const stats = emu.stats().actions.DescribeCustomerGateways ?? {};
  assert.equal(stats.ok, 15);
  assert.ok((stats.ServiceUnavailable ?? 0) + (stats['fault:reset'] ?? 0) + (stats['fault:html'] ?? 0) > 0);
});

test('an abort during a throttled wait ends the listing at once with RequestAborted', async (t) => {
  const { emu } = await bigEmulator(t, 2000, { rates: { DescribeCustomerGateways: 0.1 } });
  // A real clock here: the wait is what gets aborted.
  const ac = new AbortController();
  const started = performance.now();
  setTimeout(() => ac.abort(), 300);
  const e = await caught(pop(emu).listCustomerGateways(REGION, { signal: ac.signal }));
  assert.ok(e instanceof CloudError);
  assert.equal(e.code, 'RequestAborted');
  assert.ok(performance.now() - started < 3000);
});

test('withReadRetry: non-retryable errors are not retried; throttling waits the hint on the given clock', async () => {
  const clock = new VirtualClock();
  let calls = 0;
  const invalid = new CloudError({ code: 'InvalidParameter', message: 'x', errorClass: 'invalid' });
  await assert.rejects(withReadRetry(async () => { calls++; throw invalid; }, { clock }), /x/);
  assert.equal(calls, 1);
  calls = 0;
  const thr = new CloudError({ code: 'Throttling.User', message: 't', errorClass: 'throttled', retryAfterMs: 700 });
  const v = await withReadRetry(async () => (++calls < 4 ? Promise.reject(thr) : 'done'), { clock, random: () => 0 });
  assert.equal(v, 'done');
  assert.deepEqual(clock.sleeps, [700, 700, 700]);
});
