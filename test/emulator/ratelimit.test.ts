// Per (account, region, action) throttling with Throttling.User and x-acs-retry-after, through both clients.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../src/emulator/ratelimit.js';
import { REGION, caught, emulator, model, pop, rpc, vpc3 } from './util.js';

test('token bucket: burst of one second, refill, retry-after in ms', () => {
  let now = 0;
  const rl = new RateLimiter({ A: 2 }, () => now);
  assert.equal(rl.take('acc', 'r', 'A'), 0);
  assert.equal(rl.take('acc', 'r', 'A'), 0);
  assert.equal(rl.take('acc', 'r', 'A'), 500);
  assert.equal(rl.take('acc', 'r2', 'A'), 0, 'regions have separate buckets');
  assert.equal(rl.take('acc2', 'r', 'A'), 0, 'accounts have separate buckets');
  assert.equal(rl.take('acc', 'r', 'B'), 0, 'unlimited action');
  now += 250;
  assert.equal(rl.take('acc', 'r', 'A'), 250);
  now += 250;
  assert.equal(rl.take('acc', 'r', 'A'), 0);
});

test('pop-core burst over 2/s: Throttling.User 400 with x-acs-retry-after; header switch; other actions unaffected', async (t) => {
  const emu = await emulator({ rateLimits: true, rates: { CreateCustomerGateway: 2 } });
  t.after(() => emu.close());
  const c = rpc(emu);
  const results = await Promise.allSettled(
    Array.from({ length: 6 }, (_, i) => c.request('CreateCustomerGateway', { RegionId: REGION, IpAddress: `9.0.0.${i + 1}` }, { method: 'POST' })),
  );
  const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
  assert.equal(results.length - rejected.length, 2);
  for (const e of rejected) {
    assert.equal(e.code, 'Throttling.User');
    assert.equal(e.data.Message, 'Request was denied due to user flow control.');
    assert.equal(e.entry.response.statusCode, 400);
    const ra = Number(e.entry.response.headers['x-acs-retry-after']);
    assert.ok(ra >= 1 && ra <= 500, `retry-after ${ra}`);
  }
  // The wrapper turns it into a throttled CloudError carrying the hint
  const w = await caught(pop(emu).createCustomerGateway({ regionId: REGION, ipAddress: '9.0.1.1' }));
  assert.equal(w.errorClass, 'throttled');
  assert.ok(w.retryAfterMs > 0);
  // Describe has its own bucket
  await pop(emu).describeCustomerGateways({ regionId: REGION });
  // other region: own bucket
  await pop(emu).createCustomerGateway({ regionId: 'cn-beijing', ipAddress: '9.0.1.1' });
  emu.configure({ retryAfterHeader: false });
  const noHint = await caught(c.request('CreateCustomerGateway', { RegionId: REGION, IpAddress: '9.0.2.1' }, { method: 'POST' }));
  assert.equal(noHint.code, 'Throttling.User');
  assert.equal(noHint.entry.response.headers['x-acs-retry-after'], undefined);
  assert.equal(emu.stats().actions.CreateCustomerGateway?.['Throttling.User'], 6);
  // after waiting the hinted time, calls go through again
  await new Promise((r) => setTimeout(r, 520));
  await c.request('CreateCustomerGateway', { RegionId: REGION, IpAddress: '9.0.3.1' }, { method: 'POST' });
});

test('vpc20160428 sees a ThrottlingError with retryAfter', async (t) => {
  const emu = await emulator({ rateLimits: true, rates: { DescribeCustomerGateways: 1 } });
  t.after(() => emu.close());
  const v = vpc3(emu);
  const req = () => model('DescribeCustomerGatewaysRequest', { regionId: REGION });
  await v.describeCustomerGateways(req());
  const e = await caught(v.describeCustomerGateways(req()));
  assert.equal(e.code, 'Throttling.User');
  assert.equal(e.name, 'ThrottlingError');
  assert.ok(e.retryAfter > 0 && e.retryAfter <= 1000);
});
