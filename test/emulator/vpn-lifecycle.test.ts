// IPsec connections over time, on a clock the test moves: gateway tasks, states, conflicts, tokens, faults, status, limits.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAULT_KINDS, startEmulator, type Emulator, type NegotiationQuery } from '../../src/emulator/index.js';
import { tempDir } from '../helpers/tmp.js';
import { DUAL_GW, REGION, SINGLE_GW, VPN_FIXTURES, admin, call, caught, emulator, manualClock, rpc } from './util.js';

const TASK = 2000;

async function cgw(emu: Emulator, ip: string, asn?: string): Promise<string> {
  return (await call(emu, 'CreateCustomerGateway', { IpAddress: ip, ...(asn ? { Asn: asn } : {}) })).CustomerGatewayId;
}

const gatewayStatus = async (emu: Emulator, id: string): Promise<string> => (await call(emu, 'DescribeVpnGateway', { VpnGatewayId: id })).Status;

function site(cgwId: string, n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    VpnGatewayId: SINGLE_GW,
    CustomerGatewayId: cgwId,
    LocalSubnet: '10.0.0.0/16',
    RemoteSubnet: `192.168.${n}.0/24`,
    IkeConfig: JSON.stringify({ Psk: 'site-key' }),
    Name: `site-${n}`,
    ...extra,
  };
}

function dualSite(cgwId: string, n: number): Record<string, unknown> {
  return {
    VpnGatewayId: DUAL_GW,
    LocalSubnet: '10.0.0.0/8',
    RemoteSubnet: `172.16.${n}.0/24`,
    Name: `dual-${n}`,
    'TunnelOptionsSpecification.1.CustomerGatewayId': cgwId,
    'TunnelOptionsSpecification.1.Role': 'master',
    'TunnelOptionsSpecification.2.CustomerGatewayId': cgwId,
    'TunnelOptionsSpecification.2.Role': 'slave',
  };
}

test('a single-tunnel connection through its life: provisioning, active, updating, deleted, on the task clock', async (t) => {
  const clock = manualClock();
  const emu = await emulator({ vpnGateways: VPN_FIXTURES, clock: clock.now, vpnConnectionQuota: 12 });
  t.after(() => emu.close());
  const a = await cgw(emu, '203.0.113.1', '65001');
  assert.equal(await gatewayStatus(emu, SINGLE_GW), 'active');
  const created = await call(emu, 'CreateVpnConnection', site(a, 1, { 'Tags.1.Key': 'cgw-batch:site', 'Tags.1.Value': 'hq', EffectImmediately: 'true' }));
  const id = created.VpnConnectionId;
  const describe = () => call(emu, 'DescribeVpnConnection', { VpnConnectionId: id });
  assert.equal(await gatewayStatus(emu, SINGLE_GW), 'updating');
  let c = await describe();
  assert.deepEqual([c.State, c.Status], ['provisioning', 'ike_sa_not_established']);
  assert.equal(c.IkeConfig.Psk, 'site-key', 'DescribeVpnConnection returns the PSK in clear, as the real API does');
  assert.deepEqual(c.Tags, { Tag: [{ Key: 'cgw-batch:site', Value: 'hq' }] });
  assert.equal(c.EffectImmediately, true);
  assert.equal(c.AttachType, 'VPNGW');
  clock.advance(TASK - 1);
  assert.equal(await gatewayStatus(emu, SINGLE_GW), 'updating', 'still within the configured task time');
  clock.advance(1);
  assert.equal(await gatewayStatus(emu, SINGLE_GW), 'active');
  c = await describe();
  assert.equal(c.State, 'active');

  // The list: filters, paging, and `Tag` (not `Tags`) per item.
  for (let n = 2; n <= 12; n++) {
    await call(emu, 'CreateVpnConnection', site(a, n));
    clock.advance(TASK);
  }
  assert.equal((await caught(call(emu, 'CreateVpnConnection', site(a, 13)))).code, 'CreateVpnConnectionsQuotaFull.QuotaFull');
  const b = await cgw(emu, '203.0.113.2');
  await call(emu, 'CreateVpnConnection', dualSite(b, 1));
  clock.advance(TASK);
  const page1 = await call(emu, 'DescribeVpnConnections', {});
  assert.deepEqual([page1.TotalCount, page1.PageSize, page1.PageNumber, page1.VpnConnections.VpnConnection.length], [13, 10, 1, 10]);
  assert.equal(page1.VpnConnections.VpnConnection[0].VpnConnectionId, id);
  assert.deepEqual(page1.VpnConnections.VpnConnection[0].Tag, { Tag: [{ Key: 'cgw-batch:site', Value: 'hq' }] });
  assert.equal(page1.VpnConnections.VpnConnection[0].Tags, undefined);
  assert.equal(page1.VpnConnections.VpnConnection[0].IkeConfig.Psk, 'site-key');
  const page2 = await call(emu, 'DescribeVpnConnections', { PageNumber: 2, PageSize: 5 });
  assert.deepEqual(page2.VpnConnections.VpnConnection.map((x: any) => x.Name), ['site-6', 'site-7', 'site-8', 'site-9', 'site-10']);
  assert.equal((await call(emu, 'DescribeVpnConnections', { PageSize: 50 })).VpnConnections.VpnConnection.length, 13);
  assert.equal((await caught(call(emu, 'DescribeVpnConnections', { PageSize: 51 }))).code, 'InvalidParameter');
  assert.equal((await call(emu, 'DescribeVpnConnections', { VpnGatewayId: DUAL_GW })).TotalCount, 1);
  assert.equal((await call(emu, 'DescribeVpnConnections', { CustomerGatewayId: b })).TotalCount, 1, 'a tunnel customer gateway matches');
  assert.equal((await call(emu, 'DescribeVpnConnections', { CustomerGatewayId: a, VpnGatewayId: SINGLE_GW })).TotalCount, 12);
  assert.equal((await call(emu, 'DescribeVpnConnections', { VpnConnectionId: id })).TotalCount, 1);
  assert.equal((await call(emu, 'DescribeVpnConnections', { 'Tag.1.Key': 'cgw-batch:site', 'Tag.1.Value': 'hq' })).TotalCount, 1);
  assert.equal((await call(emu, 'DescribeVpnConnections', { 'Tag.1.Key': 'cgw-batch:site' })).TotalCount, 1);
  assert.equal((await call(emu, 'DescribeVpnConnections', { 'Tag.1.Key': 'cgw-batch:site', 'Tag.1.Value': 'branch' })).TotalCount, 0);
  assert.equal((await call(emu, 'DescribeVpnConnections', { RegionId: 'cn-beijing' })).TotalCount, 0);

  // Modify: the connection updates, then is active again.
  await call(emu, 'ModifyVpnConnectionAttribute', { VpnConnectionId: id, RemoteSubnet: '192.168.100.0/24' });
  c = await describe();
  assert.deepEqual([c.State, c.RemoteSubnet], ['updating', '192.168.100.0/24']);
  clock.advance(TASK);
  assert.equal((await describe()).State, 'active');

  // Delete: still there (updating) during the task, then gone with its tags.
  await call(emu, 'DeleteVpnConnection', { VpnConnectionId: id });
  c = await describe();
  assert.equal(c.State, 'updating');
  assert.equal(await gatewayStatus(emu, SINGLE_GW), 'updating');
  assert.equal((await caught(call(emu, 'DeleteCustomerGateway', { CustomerGatewayId: a }))).code, 'DependencyViolation.VpnConnection');
  clock.advance(TASK);
  const gone = await caught(describe());
  assert.equal(gone.code, 'InvalidVpnConnectionInstanceId.NotFound');
  assert.equal(gone.entry.response.statusCode, 404);
  assert.equal((await call(emu, 'ListTagResources', { ResourceType: 'VPNCONNECTION', 'ResourceId.1': id })).TagResources.TagResource.length, 0);
  assert.equal((await call(emu, 'DescribeVpnConnections', { VpnGatewayId: SINGLE_GW })).TotalCount, 11);
});

test('writes on an updating gateway: VpnGateway.Configuring for another connection, VpnTask.CONFLICT for the same one', async (t) => {
  const clock = manualClock();
  const emu = await emulator({ vpnGateways: VPN_FIXTURES, clock: clock.now, vpnTaskMs: 500 });
  t.after(() => emu.close());
  const a = await cgw(emu, '203.0.113.1', '65001');
  const first = await call(emu, 'CreateVpnConnection', site(a, 1));
  const expect = async (p: Promise<unknown>, c: string) => {
    const e = await caught(p);
    assert.equal(e.code, c);
    assert.equal(e.entry.response.statusCode, 400);
  };
  await expect(call(emu, 'CreateVpnConnection', site(a, 2)), 'VpnGateway.Configuring');
  await expect(call(emu, 'ModifyVpnConnectionAttribute', { VpnConnectionId: first.VpnConnectionId, Name: 'x' }), 'VpnTask.CONFLICT');
  await expect(call(emu, 'DeleteVpnConnection', { VpnConnectionId: first.VpnConnectionId }), 'VpnTask.CONFLICT');
  // Another gateway is not affected; reads are never refused.
  const b = await cgw(emu, '203.0.113.2');
  await call(emu, 'CreateVpnConnection', dualSite(b, 1));
  await call(emu, 'DescribeVpnConnection', { VpnConnectionId: first.VpnConnectionId });
  clock.advance(500);
  const second = await call(emu, 'CreateVpnConnection', site(a, 2));
  await expect(call(emu, 'ModifyVpnConnectionAttribute', { VpnConnectionId: first.VpnConnectionId, Name: 'x' }), 'VpnGateway.Configuring');
  clock.advance(500);
  // An AuthKey change on the customer gateway reconfigures every gateway it has connections on.
  await call(emu, 'ModifyCustomerGatewayAttribute', { CustomerGatewayId: a, AuthKey: 'rotated-key' });
  assert.equal(await gatewayStatus(emu, SINGLE_GW), 'updating');
  assert.equal(await gatewayStatus(emu, DUAL_GW), 'active');
  await expect(call(emu, 'DeleteVpnConnection', { VpnConnectionId: second.VpnConnectionId }), 'VpnGateway.Configuring');
  const busy = await caught(call(emu, 'ModifyCustomerGatewayAttribute', { CustomerGatewayId: a, AuthKey: 'again' }));
  assert.equal(busy.code, 'OperationDenied.VpnConfiguring');
  await call(emu, 'ModifyCustomerGatewayAttribute', { CustomerGatewayId: a, Name: 'no key: synchronous, no task' });
  clock.advance(500);
  await call(emu, 'DeleteVpnConnection', { VpnConnectionId: second.VpnConnectionId });
  // A gateway whose fixture status is not active refuses writes until it is.
  clock.advance(500);
  await admin(emu, 'POST', '/__emulator/vpn-gateways', { ...VPN_FIXTURES[0], Status: 'updating' });
  await expect(call(emu, 'ModifyVpnConnectionAttribute', { VpnConnectionId: first.VpnConnectionId, Name: 'x' }), 'VpnGateway.Configuring');
  await admin(emu, 'POST', '/__emulator/vpn-gateways', { ...VPN_FIXTURES[0], Status: 'active' });
  await call(emu, 'ModifyVpnConnectionAttribute', { VpnConnectionId: first.VpnConnectionId, Name: 'x' });
});

test('ClientToken: Create, Modify and Delete replay (also while the task runs) and refuse other parameters', async (t) => {
  const clock = manualClock();
  const emu = await emulator({ vpnGateways: VPN_FIXTURES, clock: clock.now });
  t.after(() => emu.close());
  const a = await cgw(emu, '203.0.113.1');
  const params = { ...site(a, 1), ClientToken: 'site-1-vco' };
  const first = await call(emu, 'CreateVpnConnection', params);
  // A retry during the gateway's own task gets the same connection, not "configuring".
  const again = await call(emu, 'CreateVpnConnection', params);
  assert.equal(again.VpnConnectionId, first.VpnConnectionId);
  assert.equal(again.CreateTime, first.CreateTime);
  assert.equal((await caught(call(emu, 'CreateVpnConnection', { ...params, Name: 'other' }))).code, 'IdempotentParameterMismatch');
  clock.advance(TASK);
  assert.equal((await call(emu, 'CreateVpnConnection', params)).VpnConnectionId, first.VpnConnectionId);
  const listed = await call(emu, 'DescribeVpnConnections', {});
  assert.equal(listed.TotalCount, 1);
  assert.deepEqual(emu.state().accounts['1234567890123456']?.regions[REGION]?.vpnConnections.map((c: any) => c.ClientTokens), [['site-1-vco']]);
  const m = { VpnConnectionId: first.VpnConnectionId, Name: 'renamed', ClientToken: 'm-1' };
  await call(emu, 'ModifyVpnConnectionAttribute', m);
  assert.equal((await call(emu, 'ModifyVpnConnectionAttribute', m)).Name, 'renamed');
  clock.advance(TASK);
  const del = { VpnConnectionId: first.VpnConnectionId, ClientToken: 'd-1' };
  await call(emu, 'DeleteVpnConnection', del);
  await call(emu, 'DeleteVpnConnection', del);
  clock.advance(TASK);
  // After the connection is gone the retried delete still succeeds; without the token it is NotFound.
  await call(emu, 'DeleteVpnConnection', del);
  assert.equal((await caught(call(emu, 'DeleteVpnConnection', { VpnConnectionId: first.VpnConnectionId }))).code, 'InvalidVpnConnectionInstanceId.NotFound');
  // No token, no idempotency: a retried create is a second connection (here refused by the pairing rule).
  const b = await cgw(emu, '203.0.113.2');
  await call(emu, 'CreateVpnConnection', site(b, 1));
  clock.advance(TASK);
  assert.equal((await caught(call(emu, 'CreateVpnConnection', site(b, 1)))).code, 'VpnConnectionParamInvalid.SameVpnAndCgwTrafficSelectorOverlap');
});

test('commit-drop and commit-500 on CreateVpnConnection: the connection exists once, and the token finds it', async (t) => {
  const clock = manualClock();
  const emu = await emulator({ vpnGateways: VPN_FIXTURES, clock: clock.now, faults: { 'commit-500': 1 }, faultActions: ['CreateVpnConnection'] });
  t.after(() => emu.close());
  const a = await cgw(emu, '203.0.113.1');
  const params = { ...site(a, 1), ClientToken: 'tf-4808' };
  const e500 = await caught(call(emu, 'CreateVpnConnection', params));
  assert.equal(e500.code, 'InternalError');
  assert.equal(e500.entry.response.statusCode, 500);
  const conns = () => emu.state().accounts['1234567890123456']?.regions[REGION]?.vpnConnections ?? [];
  assert.equal(conns().length, 1, 'committed before the 500 (terraform-provider-alicloud #4808)');
  assert.equal(await gatewayStatus(emu, SINGLE_GW), 'updating');
  // A retry with the same token (even during the task) gets the connection; a new token (Terraform) would not.
  emu.configure({ faults: {} });
  const retried = await call(emu, 'CreateVpnConnection', params);
  assert.equal(retried.VpnConnectionId, (conns()[0] as any).VpnConnectionId);
  // A new token (Terraform's retry) is a new request: here the pairing rule refuses the copy.
  assert.equal((await caught(call(emu, 'CreateVpnConnection', { ...params, ClientToken: 'tf-4808-retry' }))).code, 'VpnConnectionParamInvalid.SameVpnAndCgwTrafficSelectorOverlap');
  clock.advance(TASK);
  emu.configure({ faults: { 'commit-drop': 1 } });
  const b = await cgw(emu, '203.0.113.2');
  const dropped = await caught(call(emu, 'CreateVpnConnection', { ...site(b, 2), ClientToken: 'drop-1' }));
  assert.equal(dropped.entry, undefined, `no answer at all (${String(dropped.code)})`);
  assert.equal(conns().length, 2);
  emu.configure({ faults: {} });
  assert.equal((await call(emu, 'CreateVpnConnection', { ...site(b, 2), ClientToken: 'drop-1' })).VpnConnectionId, (conns()[1] as any).VpnConnectionId);
  assert.equal(emu.stats().actions.CreateVpnConnection?.['fault:commit-500'], 1);
  assert.equal(emu.stats().actions.CreateVpnConnection?.['fault:commit-drop'], 1);
  // On reads the commit faults are no-ops; the 500 is answered for writes only.
  clock.advance(TASK);
  emu.configure({ faults: { 'commit-500': 1 }, faultActions: ['DescribeVpnConnections', 'DeleteVpnConnection'] });
  assert.equal((await call(emu, 'DescribeVpnConnections', {})).TotalCount, 2);
  assert.equal((await caught(call(emu, 'DeleteVpnConnection', { VpnConnectionId: retried.VpnConnectionId }))).code, 'InternalError');
  assert.equal((await call(emu, 'DescribeVpnConnection', { VpnConnectionId: retried.VpnConnectionId })).State, 'updating', 'the delete was committed');
});

test('every fault kind applies to every new action', async (t) => {
  const emu = await emulator({ vpnGateways: VPN_FIXTURES, vpnTaskMs: 0 });
  t.after(() => emu.close());
  const a = await cgw(emu, '203.0.113.1');
  const vco = (await call(emu, 'CreateVpnConnection', site(a, 1))).VpnConnectionId;
  const actions: Array<[string, Record<string, unknown>]> = [
    ['DescribeVpnGateway', { VpnGatewayId: SINGLE_GW }],
    ['DescribeVpnGateways', {}],
    ['DescribeVpnConnection', { VpnConnectionId: vco }],
    ['DescribeVpnConnections', {}],
    ['DownloadVpnConnectionConfig', { VpnConnectionId: vco }],
    ['ModifyVpnConnectionAttribute', { VpnConnectionId: vco, Name: 'n' }],
  ];
  const expected: Record<string, string> = {
    conflict: 'OperationConflict',
    unavailable: 'ServiceUnavailable',
    internal: 'InternalError',
    throttle: 'Throttling.User',
    html: 'fault:html',
    empty: 'fault:empty',
    reset: 'fault:reset',
    hang: 'fault:hang',
  };
  for (const kind of FAULT_KINDS) {
    for (const [action, params] of actions) {
      emu.configure({ faults: { [kind]: 1 }, faultActions: [action] });
      emu.resetStats();
      // A short client timeout ends a hang; every other kind answers (or resets) at once.
      await rpc(emu, undefined, 300)
        .request(action, { RegionId: REGION, ...params }, { method: 'POST' })
        .catch(() => undefined);
      const outcomes = emu.stats().actions[action] ?? {};
      const want = kind === 'commit-drop' || kind === 'commit-500' || kind === 'commit-200' ? (action.startsWith('Modify') ? `fault:${kind}` : 'ok') : expected[kind];
      assert.deepEqual(Object.keys(outcomes), [want], `${kind} on ${action}`);
    }
  }
});

test('negotiation status: not established by default, set per connection or tunnel (admin API), or asked from a source', async (t) => {
  const asked: NegotiationQuery[] = [];
  let answer: string | undefined;
  const emu = await emulator({
    vpnGateways: VPN_FIXTURES,
    vpnTaskMs: 0,
    negotiationStatus: (q) => {
      asked.push(q);
      if (answer === 'throw') throw new Error('responder down');
      return answer as never;
    },
  });
  t.after(() => emu.close());
  const a = await cgw(emu, '203.0.113.1', '65001');
  const s = (await call(emu, 'CreateVpnConnection', site(a, 1, { BgpConfig: JSON.stringify({ EnableBgp: true, TunnelCidr: '169.254.5.0/30' }) }))).VpnConnectionId;
  const d = (
    await call(emu, 'CreateVpnConnection', dualSite(a, 1))
  ).VpnConnectionId;
  const one = (id: string) => call(emu, 'DescribeVpnConnection', { VpnConnectionId: id });
  assert.equal((await one(s)).Status, 'ike_sa_not_established');
  const q = asked.find((x) => x.vpnConnectionId === s && x.tunnelId === undefined);
  assert.deepEqual(
    { ...q },
    { accountId: '1234567890123456', regionId: REGION, vpnConnectionId: s, vpnGatewayId: SINGLE_GW, state: 'active', gatewayIp: '47.96.0.1', customerGatewayId: a, customerGatewayIp: '203.0.113.1' },
  );
  answer = 'ipsec_sa_established';
  let c = await one(s);
  assert.deepEqual([c.Status, c.VpnBgpConfig.Status], ['ipsec_sa_established', 'success']);
  answer = 'nonsense';
  assert.equal((await one(s)).Status, 'ike_sa_not_established', 'an unknown answer falls back');
  answer = 'throw';
  assert.equal((await one(s)).Status, 'ike_sa_not_established', 'a throwing source falls back');
  // The admin API: an override wins over the source; null clears it.
  answer = 'ike_sa_established';
  assert.equal((await admin(emu, 'POST', `/__emulator/vpn-connections/${s}`, { Status: 'ipsec_sa_not_established' })).status, 200);
  assert.equal((await one(s)).Status, 'ipsec_sa_not_established');
  await admin(emu, 'POST', `/__emulator/vpn-connections/${s}`, { Status: null });
  assert.equal((await one(s)).Status, 'ike_sa_established');
  answer = undefined;
  const [master, slave] = (await one(d)).TunnelOptionsSpecification.TunnelOptions.map((x: any) => x.TunnelId);
  assert.equal((await admin(emu, 'POST', `/__emulator/vpn-connections/${d}`, { Status: 'ipsec_sa_established', TunnelId: slave })).status, 200);
  c = await one(d);
  assert.deepEqual(c.TunnelOptionsSpecification.TunnelOptions.map((x: any) => x.Status), ['ike_sa_not_established', 'ipsec_sa_established']);
  assert.equal(c.Status, 'ipsec_sa_established', 'a dual-tunnel connection is as up as its best tunnel');
  emu.setConnectionStatus(d, 'ike_sa_established', master);
  assert.equal((await call(emu, 'DescribeVpnConnections', { VpnConnectionId: d })).VpnConnections.VpnConnection[0].TunnelOptionsSpecification.TunnelOptions[0].Status, 'ike_sa_established');
  assert.ok(asked.some((x) => x.tunnelId === master && x.role === 'master' && x.gatewayIp === '47.96.0.2'));
  for (const [body, status] of [
    [{ Status: 'up' }, 400],
    [{}, 400],
    [{ Status: null, Extra: 1 }, 400],
    [{ Status: null, TunnelId: 'tun-nope' }, 404],
  ] as const)
    assert.equal((await admin(emu, 'POST', `/__emulator/vpn-connections/${d}`, body)).status, status, JSON.stringify(body));
  assert.equal((await admin(emu, 'POST', '/__emulator/vpn-connections/vco-nope00000000000000000', { Status: null })).status, 404);
});

test('rate limits as published: DownloadVpnConnectionConfig 30 per minute, Describe 600 per minute', async (t) => {
  const clock = manualClock();
  const emu = await emulator({ vpnGateways: VPN_FIXTURES, vpnTaskMs: 0, clock: clock.now, rateLimits: true });
  t.after(() => emu.close());
  const a = await cgw(emu, '203.0.113.1');
  const id = (await call(emu, 'CreateVpnConnection', site(a, 1))).VpnConnectionId;
  let ok = 0;
  let throttled = 0;
  // 60 calls over 60 s of emulator time, two per second: half of them get through.
  for (let i = 0; i < 60; i++) {
    try {
      await call(emu, 'DownloadVpnConnectionConfig', { VpnConnectionId: id });
      ok++;
    } catch (e: any) {
      assert.equal(e.code, 'Throttling.User');
      throttled++;
    }
    clock.advance(1000);
  }
  assert.ok(ok >= 29 && ok <= 31, `${ok} downloads in a minute`);
  assert.equal(ok + throttled, 60);
  const burst = await Promise.allSettled(Array.from({ length: 14 }, () => call(emu, 'DescribeVpnConnection', { VpnConnectionId: id })));
  assert.equal(burst.filter((r) => r.status === 'fulfilled').length, 10, 'ten per second');
});

test('connections, their tasks and statuses survive a restart on the same data file', async (t) => {
  const tmp = tempDir();
  let second: Emulator | undefined;
  t.after(async () => {
    await second?.close();
    tmp.cleanup();
  });
  const dataFile = tmp.path('emu.json');
  const clock = manualClock();
  const first = await startEmulator({ dataFile, vpnGateways: VPN_FIXTURES, clock: clock.now, rateLimits: false });
  const a = await cgw(first, '203.0.113.1');
  const id = (await call(first, 'CreateVpnConnection', site(a, 1, { ClientToken: 'persist' }))).VpnConnectionId;
  first.setConnectionStatus(id, 'ipsec_sa_established');
  await first.close();
  // The same fixtures again: nothing duplicated, the task still running on the same clock.
  second = await startEmulator({ dataFile, vpnGateways: VPN_FIXTURES, clock: clock.now, rateLimits: false });
  assert.equal(await gatewayStatus(second, SINGLE_GW), 'updating');
  assert.equal((await call(second, 'CreateVpnConnection', site(a, 1, { ClientToken: 'persist' }))).VpnConnectionId, id);
  clock.advance(TASK);
  const c = await call(second, 'DescribeVpnConnection', { VpnConnectionId: id });
  assert.deepEqual([c.State, c.Status, c.IkeConfig.Psk], ['active', 'ipsec_sa_established', 'site-key']);
  assert.equal((await call(second, 'DescribeVpnGateways', {})).TotalCount, 2);
});
