// ClientToken semantics: replay, mismatch, both duplicate-IP check orders, retention, forgetTokens, Modify/Delete tokens.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REGION, caught, emulator, model, pop, rpc, vpc3 } from './util.js';

const ACCOUNT = '1234567890123456';
const gateways = (emu: Awaited<ReturnType<typeof emulator>>) => emu.state().accounts[ACCOUNT]?.regions[REGION]?.gateways ?? [];

test('same token + same params replays the same gateway and fields; different params -> mismatch (pop-core)', async (t) => {
  const emu = await emulator();
  t.after(() => emu.close());
  const c = rpc(emu);
  const params = { RegionId: REGION, IpAddress: '5.5.5.5', Name: 'n', Asn: '1.1', AuthKey: 'k', 'Tags.1.Key': 'a', 'Tags.1.Value': 'b', ClientToken: 'row-1' };
  const first = await c.request('CreateCustomerGateway', params, { method: 'POST' });
  const second = await c.request('CreateCustomerGateway', params, { method: 'POST' });
  assert.notEqual(first.RequestId, second.RequestId);
  const strip = (x: any) => {
    const { RequestId: _r, ...rest } = JSON.parse(JSON.stringify(x));
    return rest;
  };
  assert.deepEqual(strip(second), strip(first));
  // asdot and plain forms normalise to the same ASN, so this is the same request
  await c.request('CreateCustomerGateway', { ...params, Asn: '65537' }, { method: 'POST' });
  assert.equal(gateways(emu).length, 1);
  assert.deepEqual(gateways(emu)[0]?.ClientTokens, ['row-1']);
  for (const changed of [{ Name: 'other' }, { IpAddress: '5.5.5.6' }, { 'Tags.1.Value': 'c' }, { AuthKey: 'k2' }]) {
    const e = await caught(c.request('CreateCustomerGateway', { ...params, ...changed }, { method: 'POST' }));
    assert.equal(e.code, 'IdempotentParameterMismatch');
    assert.equal(e.entry.response.statusCode, 400);
  }
  // without a token there is no idempotency: the duplicate IP is refused
  const noTok = await caught(c.request('CreateCustomerGateway', { RegionId: REGION, IpAddress: '5.5.5.5' }, { method: 'POST' }));
  assert.equal(noTok.code, 'InvalidIpAddress.AlreadyExist');
  assert.equal(gateways(emu).length, 1);
});

test('vpc20160428: replay and mismatch', async (t) => {
  const emu = await emulator();
  t.after(() => emu.close());
  const v = vpc3(emu);
  const req = (name: string) => model('CreateCustomerGatewayRequest', { regionId: REGION, ipAddress: '6.6.6.6', name, clientToken: 'v3-row' });
  const a = await v.createCustomerGateway(req('x'));
  const b = await v.createCustomerGateway(req('x'));
  assert.equal(b.body.customerGatewayId, a.body.customerGatewayId);
  assert.equal(b.body.createTime, a.body.createTime);
  const e = await caught(v.createCustomerGateway(req('y')));
  assert.equal(e.code, 'IdempotentParameterMismatch');
  assert.equal(gateways(emu).length, 1);
});

test('duplicate-IP check order: token first (default) vs duplicate check first', async (t) => {
  const emu = await emulator();
  t.after(() => emu.close());
  const c = pop(emu);
  const input = { regionId: REGION, ipAddress: '7.7.7.7', clientToken: 'order-1' };
  const first = await c.createCustomerGateway(input);
  assert.equal((await c.createCustomerGateway(input)).id, first.id);
  emu.configure({ duplicateIpCheckBeforeToken: true });
  const e = await caught(c.createCustomerGateway(input));
  assert.equal(e.code, 'InvalidIpAddress.AlreadyExist');
  assert.equal(e.errorClass, 'exists');
  // a fresh IP with a token still replays normally in this order
  const other = await c.createCustomerGateway({ regionId: REGION, ipAddress: '7.7.7.8', clientToken: 'order-2' });
  assert.equal(gateways(emu).length, 2);
  await c.deleteCustomerGateway({ regionId: REGION, id: other.id });
  assert.equal((await c.createCustomerGateway({ regionId: REGION, ipAddress: '7.7.7.8', clientToken: 'order-2' })).id, other.id);
  assert.equal(gateways(emu).length, 1, 'a replay after delete returns the old answer and creates nothing');
});

test('retention window and forgetTokens', async (t) => {
  let now = Date.now();
  const emu = await emulator({ clock: () => now, tokenRetentionMs: 60_000 });
  t.after(() => emu.close());
  const c = pop(emu);
  const a = await c.createCustomerGateway({ regionId: REGION, ipAddress: '4.4.4.4', clientToken: 'ret' });
  now += 30_000;
  assert.equal((await c.createCustomerGateway({ regionId: REGION, ipAddress: '4.4.4.4', clientToken: 'ret' })).id, a.id);
  now += 31_000;
  // the timestamp the client signs is real time; keep the skew small by moving the emulator clock only ~1 min
  const expired = await caught(c.createCustomerGateway({ regionId: REGION, ipAddress: '4.4.4.4', clientToken: 'ret' }));
  assert.equal(expired.code, 'InvalidIpAddress.AlreadyExist');
  const b = await c.createCustomerGateway({ regionId: REGION, ipAddress: '4.4.4.5', clientToken: 'fg' });
  emu.forgetTokens();
  const forgotten = await caught(c.createCustomerGateway({ regionId: REGION, ipAddress: '4.4.4.5', clientToken: 'fg' }));
  assert.equal(forgotten.code, 'InvalidIpAddress.AlreadyExist');
  assert.ok(b.id);
  // a forgotten token on a new IP creates a second gateway: that is what "forgetting" costs
  await c.createCustomerGateway({ regionId: REGION, ipAddress: '4.4.4.6', clientToken: 'fg' });
  assert.equal(gateways(emu).length, 3);
});

test('Modify and Delete honour ClientToken', async (t) => {
  const emu = await emulator();
  t.after(() => emu.close());
  const c = pop(emu);
  const g = await c.createCustomerGateway({ regionId: REGION, ipAddress: '3.3.3.3' });
  await c.modifyCustomerGatewayAttribute({ regionId: REGION, id: g.id, name: 'a', clientToken: 'm1' });
  await c.modifyCustomerGatewayAttribute({ regionId: REGION, id: g.id, name: 'a', clientToken: 'm1' });
  assert.equal((await caught(c.modifyCustomerGatewayAttribute({ regionId: REGION, id: g.id, name: 'b', clientToken: 'm1' }))).code, 'IdempotentParameterMismatch');
  await c.deleteCustomerGateway({ regionId: REGION, id: g.id, clientToken: 'd1' });
  // the retried delete succeeds instead of NotFound
  await c.deleteCustomerGateway({ regionId: REGION, id: g.id, clientToken: 'd1' });
  assert.equal((await caught(c.deleteCustomerGateway({ regionId: REGION, id: g.id }))).code, 'InvalidCustomerGatewayInstanceId.NotFound');
});
