// Fault injection: seeded reproducibility, per-action narrowing, commit-drop semantics, hang released by close(), latency.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32, pickFault, RandomStreams } from '../../src/emulator/faults.js';
import { REGION, caught, emulator, pop } from './util.js';

test('pickFault: seeded streams are reproducible and follow the probabilities', () => {
  const draw = (seed: number) => {
    const s = new RandomStreams(seed).stream('fault:CreateCustomerGateway');
    return Array.from({ length: 200 }, () => pickFault(s, { reset: 0.2, hang: 0.1 }) ?? '-');
  };
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42), draw(43));
  const r = mulberry32(7);
  const counts: Record<string, number> = {};
  for (let i = 0; i < 10_000; i++) {
    const k = pickFault(r, { conflict: 0.3, internal: 0.1 }) ?? 'none';
    counts[k] = (counts[k] ?? 0) + 1;
  }
  assert.ok(Math.abs((counts.conflict ?? 0) - 3000) < 300);
  assert.ok(Math.abs((counts.internal ?? 0) - 1000) < 200);
  assert.equal(pickFault(r, {}), undefined);
  assert.equal(pickFault(r, { reset: 1 }), 'reset');
});

test('the same seed gives the same outcome sequence end to end', async () => {
  const run = async () => {
    const emu = await emulator({ seed: 99, faults: { conflict: 0.3, unavailable: 0.2 } });
    const c = pop(emu);
    const out: string[] = [];
    for (let i = 0; i < 15; i++) {
      try {
        await c.describeCustomerGateways({ regionId: REGION });
        out.push('ok');
      } catch (e: any) {
        out.push(e.code);
      }
    }
    await emu.close();
    return out;
  };
  const a = await run();
  assert.deepEqual(await run(), a);
  assert.ok(a.includes('ok') && a.some((x) => x !== 'ok'));
});

test('commit-drop: the gateway exists and the token replays, but the caller saw a reset', async (t) => {
  const emu = await emulator({ faults: { 'commit-drop': 1 }, faultActions: ['CreateCustomerGateway'] });
  t.after(() => emu.close());
  const c = pop(emu);
  const input = { regionId: REGION, ipAddress: '11.0.0.1', clientToken: 'cd-1' };
  const e = await caught(c.createCustomerGateway(input));
  assert.equal(e.errorClass, 'transient');
  assert.equal(e.outcomeUnknown, true);
  const gws = emu.state().accounts['1234567890123456']?.regions[REGION]?.gateways ?? [];
  assert.equal(gws.length, 1);
  emu.configure({ faults: {} });
  const again = await c.createCustomerGateway(input);
  assert.equal(again.id, gws[0]?.CustomerGatewayId);
  assert.equal(emu.stats().actions.CreateCustomerGateway?.['fault:commit-drop'], 1);
  // commit-drop on a failing request loses the error too, but changes nothing
  emu.configure({ faults: { 'commit-drop': 1 } });
  await caught(c.createCustomerGateway({ regionId: REGION, ipAddress: 'bad' }));
  assert.equal(emu.state().accounts['1234567890123456']?.regions[REGION]?.gateways.length, 1);
});

test('hang holds the request until close() destroys it; latency delays answers', async () => {
  const emu = await emulator({ faults: { hang: 1 } });
  const c = pop(emu, undefined, 5000);
  const pending = caught(c.describeRegions());
  await new Promise((r) => setTimeout(r, 100));
  const t0 = Date.now();
  await emu.close();
  const e = await pending;
  assert.ok(Date.now() - t0 < 1000, 'close() does not wait for hung requests');
  assert.equal(e.errorClass, 'transient');

  const slow = await emulator({ latency: { minMs: 80, maxMs: 100 } });
  const t1 = Date.now();
  await pop(slow).describeRegions();
  assert.ok(Date.now() - t1 >= 75);
  await slow.close();
});
