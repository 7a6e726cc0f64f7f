// VPN gateway fixtures: the admin API, startEmulator options, the sandbox's gateway per region; DescribeVpnGateway(s).
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sandboxGatewayId, startEmulator } from '../../src/emulator/index.js';
import { parseVpnGatewayFlag } from '../../src/emulator/vpn-fixtures.js';
import { tempDir } from '../helpers/tmp.js';
import { DUAL_GW, REGION, SINGLE_GW, VPN_FIXTURES, admin, call, caught, emulator, manualClock } from './util.js';

test('fixtures through the admin API: add, update, refuse bad ones; DescribeVpnGateway(s) fields, paging and filters', async (t) => {
  const clock = manualClock();
  const emu = await emulator({ vpnGateways: VPN_FIXTURES, clock: clock.now });
  t.after(() => emu.close());
  for (let i = 0; i < 11; i++) {
    const r = await admin(emu, 'POST', '/__emulator/vpn-gateways', { RegionId: REGION, VpnGatewayId: `vpn-extra${String(i).padStart(2, '0')}`, InternetIp: `47.97.0.${i + 1}`, Name: `extra-${i}` });
    assert.equal(r.status, 200);
    assert.equal(r.json.vpnGateway.VpnGatewayId, `vpn-extra${String(i).padStart(2, '0')}`);
  }
  const locked = await admin(emu, 'POST', '/__emulator/vpn-gateways', { RegionId: 'cn-beijing', VpnGatewayId: 'vpn-beijing01', InternetIp: '47.98.0.1', BusinessStatus: 'FinancialLocked', EnableBgp: false, IpsecVpn: 'disable', VpcId: 'vpc-beijing01' });
  assert.equal(locked.status, 200);
  for (const [body, why] of [
    [{ RegionId: REGION, VpnGatewayId: 'vpn-bad', InternetIp: '47.97.1.1' }, 'short id'],
    [{ RegionId: REGION, VpnGatewayId: 'vpn-badip0000', InternetIp: '47.97.1' }, 'bad IP'],
    [{ RegionId: REGION, VpnGatewayId: 'vpn-sameips00', InternetIp: '47.97.1.1', DisasterRecoveryInternetIp: '47.97.1.1' }, 'same two IPs'],
    [{ RegionId: 'xx-nowhere-1', VpnGatewayId: 'vpn-region0000', InternetIp: '47.97.1.1' }, 'unknown region'],
    [{ RegionId: REGION, VpnGatewayId: 'vpn-typo000000', InternetIp: '47.97.1.1', EnableBGP: true }, 'unknown field'],
    [{ RegionId: REGION, VpnGatewayId: 'vpn-status0000', InternetIp: '47.97.1.1', Status: 'running' }, 'unknown status'],
    [{ RegionId: 'cn-shanghai', VpnGatewayId: 'vpn-beijing01', InternetIp: '47.98.0.1' }, 'id taken in another region'],
  ] as const) {
    const r = await admin(emu, 'POST', '/__emulator/vpn-gateways', body);
    assert.equal(r.status, 400, why);
    assert.equal(typeof r.json.error, 'string');
  }

  const single = await call(emu, 'DescribeVpnGateway', { VpnGatewayId: SINGLE_GW });
  assert.deepEqual(
    {
      id: single.VpnGatewayId,
      ip: single.InternetIp,
      dr: single.DisasterRecoveryInternetIp,
      status: single.Status,
      business: single.BusinessStatus,
      ipsec: single.IpsecVpn,
      bgp: single.EnableBgp,
      net: single.NetworkType,
      type: single.VpnType,
      spec: single.Spec,
      charge: single.ChargeType,
      tags: single.Tags,
    },
    { id: SINGLE_GW, ip: '47.96.0.1', dr: undefined, status: 'active', business: 'Normal', ipsec: 'enable', bgp: true, net: 'public', type: 'Normal', spec: '10', charge: 'POSTPAY', tags: { Tag: [] } },
  );
  assert.match(single.VpcId, /^vpc-[a-z0-9]+$/);
  assert.match(single.VSwitchId, /^vsw-[a-z0-9]+$/);
  assert.match(single.ResourceGroupId, /^rg-acfm/);
  assert.deepEqual(JSON.parse(single.Tag), { VpnEnableBgp: 'true', VisuallySsl: 'true', PbrPriority: 'true', VpnNewImage: 'true' });
  const dual = await call(emu, 'DescribeVpnGateway', { VpnGatewayId: DUAL_GW });
  assert.equal(dual.DisasterRecoveryInternetIp, '47.96.0.3');
  assert.match(dual.DisasterRecoveryVSwitchId, /^vsw-/);

  const page1 = await call(emu, 'DescribeVpnGateways', {});
  assert.deepEqual([page1.TotalCount, page1.PageSize, page1.VpnGateways.VpnGateway.length, page1.VpnGateways.VpnGateway[0].Spec], [13, 10, 10, '10M']);
  const page2 = await call(emu, 'DescribeVpnGateways', { PageNumber: 2 });
  assert.deepEqual(page2.VpnGateways.VpnGateway.map((g: any) => g.Name), ['extra-8', 'extra-9', 'extra-10']);
  assert.equal((await call(emu, 'DescribeVpnGateways', { VpnGatewayId: DUAL_GW })).TotalCount, 1);
  assert.equal((await call(emu, 'DescribeVpnGateways', { VpcId: single.VpcId })).TotalCount, 1);
  const bj = await call(emu, 'DescribeVpnGateways', { RegionId: 'cn-beijing', BusinessStatus: 'FinancialLocked' });
  assert.deepEqual([bj.TotalCount, bj.VpnGateways.VpnGateway[0].EnableBgp, bj.VpnGateways.VpnGateway[0].IpsecVpn, bj.VpnGateways.VpnGateway[0].VpcId], [1, false, 'disable', 'vpc-beijing01']);
  assert.equal((await caught(call(emu, 'DescribeVpnGateways', { PageSize: 0 }))).code, 'InvalidParameter');

  // Status filter and the updating window after a connection write.
  const a = (await call(emu, 'CreateCustomerGateway', { IpAddress: '203.0.113.1' })).CustomerGatewayId;
  await call(emu, 'CreateVpnConnection', { VpnGatewayId: SINGLE_GW, CustomerGatewayId: a, LocalSubnet: '10.0.0.0/8', RemoteSubnet: '192.168.0.0/16' });
  assert.deepEqual((await call(emu, 'DescribeVpnGateways', { Status: 'updating' })).VpnGateways.VpnGateway.map((g: any) => g.VpnGatewayId), [SINGLE_GW]);
  assert.equal((await call(emu, 'DescribeVpnGateways', { Status: 'active', PageSize: 50 })).TotalCount, 12);
  clock.advance(2000);
  assert.equal((await call(emu, 'DescribeVpnGateways', { Status: 'updating' })).TotalCount, 0);

  // Updating a fixture: status and flags change; its IPs cannot while connections use it.
  assert.equal((await admin(emu, 'POST', '/__emulator/vpn-gateways', { ...VPN_FIXTURES[0], Status: 'deleting', IpsecVpn: 'disable' })).status, 200);
  const changed = await call(emu, 'DescribeVpnGateway', { VpnGatewayId: SINGLE_GW });
  assert.deepEqual([changed.Status, changed.IpsecVpn, changed.VpcId], ['deleting', 'disable', single.VpcId]);
  assert.equal((await admin(emu, 'POST', '/__emulator/vpn-gateways', { ...VPN_FIXTURES[0], InternetIp: '47.96.9.9' })).status, 400);
  assert.equal((await admin(emu, 'POST', '/__emulator/vpn-gateways', { ...VPN_FIXTURES[0], DisasterRecoveryInternetIp: '47.96.9.9' })).status, 400);
  // In-process, the same rules.
  assert.throws(() => emu.addVpnGateway({ RegionId: REGION, VpnGatewayId: 'vpn-x', InternetIp: '1.1.1.1' }), /VpnGatewayId must be/);
  assert.equal(emu.addVpnGateway({ RegionId: REGION, VpnGatewayId: 'vpn-inprocess0', InternetIp: '47.99.0.1' }).Status, 'active');
  // Another account sees none of them.
  const other = { accessKeyId: 'LTAIother', accessKeySecret: 'other-secret', accountId: '999' };
  const two = await emulator({ accounts: [{ accessKeyId: 'LTAI5tCgwBatchSandbox01', accessKeySecret: 'cgwBatchSandboxSecret0000000001', accountId: '1234567890123456' }, other], vpnGateways: [...VPN_FIXTURES, { RegionId: REGION, VpnGatewayId: 'vpn-otheraccount0', InternetIp: '47.99.0.2', AccountId: '999' }] });
  t.after(() => two.close());
  assert.equal((await call(two, 'DescribeVpnGateways', {})).TotalCount, 2);
  assert.deepEqual((await call(two, 'DescribeVpnGateways', {}, other)).VpnGateways.VpnGateway.map((g: any) => g.VpnGatewayId), ['vpn-otheraccount0']);
});

test('the sandbox: one dual-tunnel gateway per region with the documented ids and IPs, a short task, kept in its data file', async (t) => {
  const tmp = tempDir();
  const dataFile = tmp.path('sandbox.json');
  const clock = manualClock();
  const emu = await startEmulator({ sandbox: true, dataFile, rateLimits: false, clock: clock.now });
  let again: Awaited<ReturnType<typeof startEmulator>> | undefined;
  t.after(async () => {
    await emu.close();
    await again?.close();
    tmp.cleanup();
  });
  const regions = (await call(emu, 'DescribeRegions', {})).Regions.Region.map((r: any) => r.RegionId);
  assert.ok(regions.length > 30);
  const ids = new Set<string>();
  for (const [i, region] of regions.entries()) {
    const list = await call(emu, 'DescribeVpnGateways', { RegionId: region });
    assert.equal(list.TotalCount, 1, region);
    const g = list.VpnGateways.VpnGateway[0];
    assert.deepEqual([g.VpnGatewayId, g.InternetIp, g.DisasterRecoveryInternetIp, g.Status, g.EnableBgp], [sandboxGatewayId(region), `47.100.${i}.10`, `47.101.${i}.10`, 'active', true]);
    assert.match(g.VpnGatewayId, /^vpn-[a-z0-9]{21}$/);
    ids.add(g.VpnGatewayId);
  }
  assert.equal(ids.size, regions.length, 'ids are unique');
  assert.equal(sandboxGatewayId('cn-hangzhou'), 'vpn-sbxcnhangzhou00000000');
  // A connection on it: the gateway is busy for the sandbox's short task only (100 ms), then active.
  const a = (await call(emu, 'CreateCustomerGateway', { IpAddress: '203.0.113.1' })).CustomerGatewayId;
  const gw = sandboxGatewayId(REGION);
  const tunnels = { 'TunnelOptionsSpecification.1.CustomerGatewayId': a, 'TunnelOptionsSpecification.1.Role': 'master', 'TunnelOptionsSpecification.2.CustomerGatewayId': a, 'TunnelOptionsSpecification.2.Role': 'slave' };
  await call(emu, 'CreateVpnConnection', { VpnGatewayId: gw, LocalSubnet: '10.0.0.0/8', RemoteSubnet: '192.168.0.0/16', ...tunnels });
  clock.advance(99);
  assert.equal((await call(emu, 'DescribeVpnGateway', { VpnGatewayId: gw })).Status, 'updating');
  clock.advance(1);
  assert.equal((await call(emu, 'DescribeVpnGateway', { VpnGatewayId: gw })).Status, 'active');
  await emu.close();
  // The data file keeps the gateways and the connection; nothing is seeded twice.
  again = await startEmulator({ sandbox: true, dataFile, rateLimits: false });
  assert.equal((await call(again, 'DescribeVpnGateways', {})).TotalCount, 1);
  assert.equal((await call(again, 'DescribeVpnConnections', {})).TotalCount, 1);
  // Without `sandbox`, no gateways.
  const plain = await emulator();
  t.after(() => plain.close());
  assert.equal((await call(plain, 'DescribeVpnGateways', {})).TotalCount, 0);
});

test('--vpn-gateway REGION:ID:IP[:DR_IP] parses into a spec, or says what is wrong', () => {
  assert.deepEqual(parseVpnGatewayFlag('cn-hangzhou:vpn-flag000001:47.96.5.1'), { RegionId: 'cn-hangzhou', VpnGatewayId: 'vpn-flag000001', InternetIp: '47.96.5.1' });
  assert.deepEqual(parseVpnGatewayFlag('cn-shanghai:vpn-flag000002:47.96.5.2:47.96.5.3'), {
    RegionId: 'cn-shanghai',
    VpnGatewayId: 'vpn-flag000002',
    InternetIp: '47.96.5.2',
    DisasterRecoveryInternetIp: '47.96.5.3',
  });
  for (const bad of ['cn-hangzhou:vpn-flag000001', 'cn-hangzhou:vpn-flag000001:47.96.5.1:47.96.5.2:x', 'nowhere:vpn-flag000001:47.96.5.1', 'cn-hangzhou:gw1:47.96.5.1', 'cn-hangzhou:vpn-flag000001:300.1.1.1'])
    assert.throws(() => parseVpnGatewayFlag(bad), Error, bad);
});
