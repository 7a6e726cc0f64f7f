// IPsec connection rules through pop-core: every documented code (and our choices where the docs are silent), with status.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DUAL_GW, REGION, SINGLE_GW, VPN_FIXTURES, call, caught, emulator } from './util.js';
import type { Emulator } from '../../src/emulator/index.js';

const ACCOUNT = '1234567890123456';

async function cgw(emu: Emulator, ip: string, asn?: string): Promise<string> {
  return (await call(emu, 'CreateCustomerGateway', { IpAddress: ip, ...(asn ? { Asn: asn } : {}) })).CustomerGatewayId;
}

/** The code and HTTP status a call fails with (fails the test if it succeeds). */
async function code(p: Promise<unknown>): Promise<string> {
  const e = await caught(p);
  return `${e.entry?.response?.statusCode ?? e.statusCode} ${e.code}`;
}

function single(cgwId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { VpnGatewayId: SINGLE_GW, CustomerGatewayId: cgwId, LocalSubnet: '10.0.0.0/16', RemoteSubnet: '192.168.1.0/24', ...extra };
}

function dual(master: string, slave: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    VpnGatewayId: DUAL_GW,
    LocalSubnet: '10.0.0.0/16',
    RemoteSubnet: '192.168.1.0/24',
    'TunnelOptionsSpecification.1.CustomerGatewayId': master,
    'TunnelOptionsSpecification.1.Role': 'master',
    'TunnelOptionsSpecification.2.CustomerGatewayId': slave,
    'TunnelOptionsSpecification.2.Role': 'slave',
    ...extra,
  };
}

test('input rules on CreateVpnConnection: missing, not found, IP conflict, names, subnets, PSK, enums, JSON', async (t) => {
  // Tasks end at once so each accepted create leaves the gateway free for the next case.
  const emu = await emulator({ vpnGateways: VPN_FIXTURES, vpnTaskMs: 0, vpnConnectionQuota: 100 });
  t.after(() => emu.close());
  const a = await cgw(emu, '203.0.113.1');
  let n = 0;
  const ok = async (extra: Record<string, unknown>, local = '10.0.0.0/16') => {
    // A fresh customer gateway per accepted case, so the pairing rules never interfere.
    const id = await cgw(emu, `198.51.100.${++n}`);
    return call(emu, 'CreateVpnConnection', single(id, { LocalSubnet: local, ...extra }));
  };
  const cases: Array<[string, Record<string, unknown>]> = [
    ['400 MissingVpnGatewayId', { VpnGatewayId: '' }],
    ['400 MissingLocalSubnet', { LocalSubnet: '' }],
    ['400 MissingRemoteSubnet', { RemoteSubnet: '' }],
    ['404 InvalidVpnGatewayInstanceId.NotFound', { VpnGatewayId: 'vpn-nope000000000000000' }],
    ['404 InvalidCustomerGatewayInstanceId.NotFound', { CustomerGatewayId: 'cgw-nope000000000000000' }],
    ['400 MissingCustomerGatewayId', { CustomerGatewayId: '' }],
    ['400 InvalidParameter.VpnConnectionName', { Name: 'http://x' }],
    ['400 InvalidParameter.VpnConnectionName', { Name: 'x'.repeat(101) }],
    ['400 IllegalParam.LocalSubnet', { LocalSubnet: '10.0.0.0/33' }],
    ['400 IllegalParam.LocalSubnet', { LocalSubnet: '10.0.0.1/16' }],
    ['400 IllegalParam.LocalSubnet', { LocalSubnet: '10.1.0.0/16,10.2.0.0/16,10.3.0.0/16,10.4.0.0/16,10.5.0.0/16,10.6.0.0/16' }],
    ['400 IllegalParam.LocalSubnet', { LocalSubnet: '10.1.0.0/16,10.1.0.0/16' }],
    ['400 IllegalParam.LocalSubnet', { LocalSubnet: '0.0.0.0/0,10.1.0.0/16' }],
    ['400 IllegalParam.RemoteSubnet', { RemoteSubnet: 'fd00::/64' }],
    ['400 IllegalParam.RemoteSubnet', { RemoteSubnet: '192.168.1.0/24,' }],
    ['400 InvalidParameter', { IkeConfig: '{"Psk":' }],
    ['400 InvalidParameter', { IkeConfig: '["not","an","object"]' }],
    ['400 InvalidParameter', { IkeConfig: JSON.stringify({ Psk: 'has space' }) }],
    ['400 InvalidParameter', { IkeConfig: JSON.stringify({ Psk: 'quote"d' }) }],
    ['400 InvalidParameter', { IkeConfig: JSON.stringify({ Psk: 'back\\slash' }) }],
    ['400 InvalidParameter', { IkeConfig: JSON.stringify({ Psk: 'ünïcode' }) }],
    ['400 InvalidParameter', { IkeConfig: JSON.stringify({ Psk: 'k'.repeat(101) }) }],
    ['400 InvalidParameter', { IkeConfig: JSON.stringify({ IkeVersion: 'ikev3' }) }],
    ['400 InvalidParameter', { IkeConfig: JSON.stringify({ IkeMode: 'quick' }) }],
    ['400 InvalidParameter', { IkeConfig: JSON.stringify({ IkeEncAlg: 'aes512' }) }],
    ['400 InvalidParameter', { IkeConfig: JSON.stringify({ IkeAuthAlg: 'sha3' }) }],
    ['400 InvalidParameter', { IkeConfig: JSON.stringify({ IkePfs: 'group19' }) }],
    ['400 InvalidParameter', { IkeConfig: JSON.stringify({ IkeLifetime: 86401 }) }],
    ['400 InvalidParameter', { IkeConfig: JSON.stringify({ LocalId: 'x'.repeat(101) }) }],
    ['400 InvalidParameter', { IpsecConfig: JSON.stringify({ IpsecEncAlg: 'rc4' }) }],
    ['400 NotSupportVpnConnectionParameter.IpsecAuthAlg', { IpsecConfig: JSON.stringify({ IpsecAuthAlg: 'sha3' }) }],
    ['400 NotSupportVpnConnectionParameter.IpsecPfs', { IpsecConfig: JSON.stringify({ IpsecPfs: 'group3' }) }],
    ['400 InvalidParameter', { IpsecConfig: JSON.stringify({ IpsecLifetime: -1 }) }],
    ['400 InvalidParameter', { HealthCheckConfig: JSON.stringify({ enable: true }) }],
    ['400 InvalidParameter', { HealthCheckConfig: JSON.stringify({ enable: true, dip: 'x', sip: '10.0.0.1' }) }],
    ['400 InvalidParameter', { EffectImmediately: 'yes' }],
    ['400 InvalidParameter', { RemoteCaCertificate: '-----BEGIN CERTIFICATE-----' }],
    ['400 InvalidParameter', { 'TunnelOptionsSpecification.1.Role': 'master' }],
    ['400 InvalidParameter', { EnableTunnelsBgp: 'true' }],
    ['400 InvalidParameter', { TunnelOptionsSpecification: '[{"Role":"master"}]' }],
    ['400 InvalidParameter.TagKey', { 'Tags.1.Key': 'aliyun-x', 'Tags.1.Value': 'v' }],
  ];
  for (const [want, extra] of cases) assert.equal(await code(call(emu, 'CreateVpnConnection', single(a, extra))), want, JSON.stringify(extra));
  assert.equal(emu.state().accounts[ACCOUNT]?.regions[REGION]?.vpnConnections.length, 0, 'no refused request created anything');

  // The gateway's own IPs cannot be a customer gateway's.
  const clash = await cgw(emu, '47.96.0.1');
  assert.equal(await code(call(emu, 'CreateVpnConnection', single(clash))), '400 CustomerGateway.ConflictVpnIp');
  const clashDr = await cgw(emu, '47.96.0.3');
  assert.equal(await code(call(emu, 'CreateVpnConnection', dual(a, clashDr))), '400 CustomerGateway.ConflictVpnIp');

  // Accepted edges: five CIDRs, every allowed PSK character, 1 and 100 characters, destination routing, all enum values.
  await ok({ RemoteSubnet: '192.168.1.0/24,192.168.2.0/24,192.168.3.0/24,192.168.4.0/24,192.168.5.0/24' });
  for (const psk of ['~!`@#$%^&*()_-+={}[]|;:\',.<>/?', 'x', 'p'.repeat(100)]) await ok({ IkeConfig: JSON.stringify({ Psk: psk }) });
  await ok({}, '0.0.0.0/0');
  await ok({
    IkeConfig: JSON.stringify({ IkeVersion: 'ikev2', IkeMode: 'aggressive', IkeEncAlg: '3des', IkeAuthAlg: 'sha512', IkePfs: 'group14', IkeLifetime: '0', LocalId: 'vpc.example', RemoteId: 'branch.example' }),
    IpsecConfig: JSON.stringify({ IpsecEncAlg: 'aes256', IpsecAuthAlg: 'sha384', IpsecPfs: 'disabled', IpsecLifetime: 3600 }),
    HealthCheckConfig: JSON.stringify({ enable: 'true', dip: '10.0.0.1', sip: '192.168.1.1', interval: 5, retry: 4 }),
    EffectImmediately: 'true',
    AutoConfigRoute: 'false',
    EnableDpd: 'false',
    EnableNatTraversal: 'false',
  });
});

test('defaults: a 16-character PSK when none is given, IKE/IPsec defaults, ids from the gateway and customer gateway', async (t) => {
  const emu = await emulator({ vpnGateways: VPN_FIXTURES, vpnTaskMs: 0 });
  t.after(() => emu.close());
  const a = await cgw(emu, '203.0.113.1');
  const b = await cgw(emu, '203.0.113.2');
  const created = await call(emu, 'CreateVpnConnection', single(a));
  assert.match(created.VpnConnectionId, /^vco-[a-z0-9]{21}$/);
  assert.equal(created.Name, '');
  assert.ok(Math.abs(created.CreateTime - Date.now()) < 60_000);
  const c = await call(emu, 'DescribeVpnConnection', { VpnConnectionId: created.VpnConnectionId });
  assert.match(c.IkeConfig.Psk, /^[A-Za-z0-9]{16}$/);
  assert.deepEqual({ ...c.IkeConfig, Psk: '' }, {
    IkeAuthAlg: 'md5', IkeEncAlg: 'aes', IkeLifetime: 86400, IkeMode: 'main', IkePfs: 'group2', IkeVersion: 'ikev1', LocalId: '47.96.0.1', Psk: '', RemoteId: '203.0.113.1',
  });
  assert.deepEqual(c.IpsecConfig, { IpsecAuthAlg: 'md5', IpsecEncAlg: 'aes', IpsecLifetime: 86400, IpsecPfs: 'group2' });
  assert.equal(c.EnableDpd, true);
  assert.equal(c.EnableNatTraversal, true);
  assert.equal(c.EffectImmediately, false);
  assert.deepEqual(c.VpnBgpConfig, { EnableBgp: 'false' });
  assert.deepEqual(c.VcoHealthCheck, { Enable: 'false' });
  const d = await call(emu, 'CreateVpnConnection', dual(a, b));
  const dd = await call(emu, 'DescribeVpnConnection', { VpnConnectionId: d.VpnConnectionId });
  const [m, s] = dd.TunnelOptionsSpecification.TunnelOptions;
  assert.match(m.TunnelId, /^tun-[a-z0-9]{18}$/);
  assert.match(m.TunnelIkeConfig.Psk, /^[A-Za-z0-9]{16}$/);
  assert.match(s.TunnelIkeConfig.Psk, /^[A-Za-z0-9]{16}$/);
  assert.notEqual(m.TunnelIkeConfig.Psk, s.TunnelIkeConfig.Psk, 'one generated key per tunnel');
  assert.deepEqual([m.Role, m.InternetIp, m.TunnelIkeConfig.LocalId, m.TunnelIkeConfig.RemoteId], ['master', '47.96.0.2', '47.96.0.2', '203.0.113.1']);
  assert.deepEqual([s.Role, s.InternetIp, s.TunnelIkeConfig.LocalId, s.TunnelIkeConfig.RemoteId], ['slave', '47.96.0.3', '47.96.0.3', '203.0.113.2']);
  assert.deepEqual([m.EnableDpd, m.EnableNatTraversal, m.TunnelIkeConfig.IkeLifetime], ['true', 'true', '86400']);
  assert.equal(dd.IkeConfig, undefined, 'dual-tunnel settings are per tunnel only');
});

test('BGP rules: TunnelCidr a /30 in 169.254/16 unique per gateway, LocalBgpIp inside, the customer gateway ASN, gateway BGP', async (t) => {
  const emu = await emulator({
    vpnGateways: [...VPN_FIXTURES, { RegionId: REGION, VpnGatewayId: 'vpn-nobgp0000000000000', InternetIp: '47.96.0.9', EnableBgp: false }],
    vpnTaskMs: 0,
  });
  t.after(() => emu.close());
  const withAsn = await cgw(emu, '203.0.113.1', '65001');
  const noAsn = await cgw(emu, '203.0.113.2');
  const bgp = (o: Record<string, unknown>) => ({ BgpConfig: JSON.stringify({ EnableBgp: true, ...o }) });
  const cases: Array<[string, Record<string, unknown>, string?]> = [
    ['400 MissingParameter.TunnelCidr', bgp({})],
    ['400 InvalidTunnelCidr.Malformed', bgp({ TunnelCidr: '169.254.1.0' })],
    ['400 InvalidTunnelCidr.Malformed', bgp({ TunnelCidr: 'abc/30' })],
    ['400 IllegalParam.TunnelCidr', bgp({ TunnelCidr: '169.254.1.0/29' })],
    ['400 IllegalParam.TunnelCidr', bgp({ TunnelCidr: '10.0.0.0/30' })],
    ['400 IllegalParam.TunnelCidr', bgp({ TunnelCidr: '169.254.1.1/30' })],
    ['400 InvalidLocalBgpIp.Malformed', bgp({ TunnelCidr: '169.254.1.0/30', LocalBgpIp: '169.254.1' })],
    ['400 IllegalParam.LocalBgpIp', bgp({ TunnelCidr: '169.254.1.0/30', LocalBgpIp: '169.254.1.5' })],
    ['400 IllegalParam.LocalBgpIp', bgp({ TunnelCidr: '169.254.1.0/30', LocalBgpIp: '169.254.1.3' })],
    ['400 IllegalParam.LocalAsn', bgp({ TunnelCidr: '169.254.1.0/30', LocalAsn: 0 })],
    ['400 IllegalParam.LocalAsn', bgp({ TunnelCidr: '169.254.1.0/30', LocalAsn: '65536.1' })],
    ['400 IllegalParam.BgpConfig', { BgpConfig: '{EnableBgp:true' }],
    ['400 IllegalParam.BgpConfig', bgp({ EnableBgp: 'yes' })],
    ['400 MissingParam.CustomerGatewayAsn', bgp({ TunnelCidr: '169.254.1.0/30' }), noAsn],
  ];
  for (const [want, extra, id] of cases) assert.equal(await code(call(emu, 'CreateVpnConnection', single(id ?? withAsn, extra))), want, JSON.stringify(extra));
  assert.equal(
    await code(call(emu, 'CreateVpnConnection', { ...single(withAsn, bgp({ TunnelCidr: '169.254.1.0/30' })), VpnGatewayId: 'vpn-nobgp0000000000000' })),
    '400 OperationUnsupported.EnableBgp',
  );
  const first = await call(emu, 'CreateVpnConnection', single(withAsn, bgp({ TunnelCidr: '169.254.1.0/30', LocalAsn: '1.10' })));
  const c = await call(emu, 'DescribeVpnConnection', { VpnConnectionId: first.VpnConnectionId });
  assert.deepEqual(
    { ...c.VpnBgpConfig },
    { EnableBgp: 'true', LocalAsn: 65546, TunnelCidr: '169.254.1.0/30', LocalBgpIp: '169.254.1.1', PeerBgpIp: '169.254.1.2', PeerAsn: 65001, Status: 'failed' },
  );
  // The same TunnelCidr on the same gateway (another customer gateway, other selectors) is refused; on another gateway it is fine.
  const other = await cgw(emu, '203.0.113.3', '65003');
  assert.equal(
    await code(call(emu, 'CreateVpnConnection', single(other, { ...bgp({ TunnelCidr: '169.254.1.0/30' }), RemoteSubnet: '192.168.3.0/24' }))),
    '400 IllegalParam.TunnelCidr',
  );
  const tunnelBgp = (a: string, b: string) =>
    dual(withAsn, other, {
      EnableTunnelsBgp: 'true',
      'TunnelOptionsSpecification.1.TunnelBgpConfig.TunnelCidr': a,
      'TunnelOptionsSpecification.2.TunnelBgpConfig.TunnelCidr': b,
      'TunnelOptionsSpecification.2.TunnelBgpConfig.LocalBgpIp': b.replace(/0\/30$/, '2'),
    });
  assert.equal(await code(call(emu, 'CreateVpnConnection', tunnelBgp('169.254.2.0/30', '169.254.2.0/30'))), '400 IllegalParam.TunnelCidr');
  const noAsnDual = dual(withAsn, noAsn, { EnableTunnelsBgp: 'true', 'TunnelOptionsSpecification.1.TunnelBgpConfig.TunnelCidr': '169.254.3.0/30', 'TunnelOptionsSpecification.2.TunnelBgpConfig.TunnelCidr': '169.254.3.4/30' });
  assert.equal(await code(call(emu, 'CreateVpnConnection', noAsnDual)), '400 MissingParam.CustomerGatewayAsn');
  const d = await call(emu, 'CreateVpnConnection', tunnelBgp('169.254.1.0/30', '169.254.2.0/30'));
  const dd = await call(emu, 'DescribeVpnConnection', { VpnConnectionId: d.VpnConnectionId });
  assert.deepEqual(dd.TunnelOptionsSpecification.TunnelOptions.map((x: any) => x.TunnelBgpConfig), [
    { BgpStatus: 'false', LocalAsn: '45104', LocalBgpIp: '169.254.1.1', PeerAsn: '65001', PeerBgpIp: '169.254.1.2', TunnelCidr: '169.254.1.0/30' },
    { BgpStatus: 'false', LocalAsn: '45104', LocalBgpIp: '169.254.2.2', PeerAsn: '65003', PeerBgpIp: '169.254.2.1', TunnelCidr: '169.254.2.0/30' },
  ]);
});

test('pairing rules: same customer gateway and gateway IP need the same PSK and IKE settings and disjoint selectors', async (t) => {
  const emu = await emulator({ vpnGateways: VPN_FIXTURES, vpnTaskMs: 0 });
  t.after(() => emu.close());
  const a = await cgw(emu, '203.0.113.1');
  const b = await cgw(emu, '203.0.113.2');
  const ike = (o: Record<string, unknown>) => ({ IkeConfig: JSON.stringify({ Psk: 'shared-key', ...o }) });
  await call(emu, 'CreateVpnConnection', single(a, { ...ike({}), LocalSubnet: '10.0.0.0/16', RemoteSubnet: '192.168.1.0/24' }));
  const next = (o: Record<string, unknown>) => call(emu, 'CreateVpnConnection', single(a, { LocalSubnet: '10.1.0.0/16', RemoteSubnet: '192.168.2.0/24', ...o }));
  const different = '400 VpnConnectionParamInvalid.SameVpnAndCgwDifferentIkeConfigs';
  assert.equal(await code(next(ike({ Psk: 'other-key' }))), different);
  assert.equal(await code(next({})), different, 'an omitted PSK is a generated one, so it differs');
  assert.equal(await code(next(ike({ IkeEncAlg: 'aes256' }))), different);
  assert.equal(await code(next(ike({ IkeVersion: 'ikev2' }))), different);
  const overlap = '400 VpnConnectionParamInvalid.SameVpnAndCgwTrafficSelectorOverlap';
  assert.equal(await code(next({ ...ike({}), LocalSubnet: '10.0.128.0/17', RemoteSubnet: '192.168.1.128/25' })), overlap);
  assert.equal(await code(next({ ...ike({}), LocalSubnet: '0.0.0.0/0', RemoteSubnet: '0.0.0.0/0' })), overlap);
  // Disjoint on one side is enough; another customer gateway, or another gateway, is not constrained.
  await next({ ...ike({}), LocalSubnet: '10.0.0.0/16', RemoteSubnet: '192.168.9.0/24' });
  await call(emu, 'CreateVpnConnection', single(b, { ...ike({ Psk: 'b-key' }), LocalSubnet: '10.0.0.0/16', RemoteSubnet: '192.168.1.0/24' }));
  // Dual tunnel: the peers are (tunnel IP, customer gateway); both tunnels on one customer gateway may use two keys.
  const two = { 'TunnelOptionsSpecification.1.TunnelIkeConfig.Psk': 'master-key', 'TunnelOptionsSpecification.2.TunnelIkeConfig.Psk': 'slave-key' };
  await call(emu, 'CreateVpnConnection', dual(a, a, two));
  assert.equal(await code(call(emu, 'CreateVpnConnection', dual(a, a, { ...two, RemoteSubnet: '192.168.7.0/24', 'TunnelOptionsSpecification.2.TunnelIkeConfig.Psk': 'x' }))), different);
  assert.equal(await code(call(emu, 'CreateVpnConnection', dual(a, a, two))), overlap);
  await call(emu, 'CreateVpnConnection', dual(a, a, { ...two, RemoteSubnet: '192.168.7.0/24' }));
});

test('tunnel modes: dual gateways take exactly two tunnels (master, slave), single-tunnel parameters are refused and back', async (t) => {
  const emu = await emulator({ vpnGateways: VPN_FIXTURES, vpnTaskMs: 0 });
  t.after(() => emu.close());
  const a = await cgw(emu, '203.0.113.1');
  const b = await cgw(emu, '203.0.113.2');
  const base = { VpnGatewayId: DUAL_GW, LocalSubnet: '10.0.0.0/16', RemoteSubnet: '192.168.1.0/24' };
  const spec = (n: number, cg: string, role: string) => ({ [`TunnelOptionsSpecification.${n}.CustomerGatewayId`]: cg, [`TunnelOptionsSpecification.${n}.Role`]: role });
  const cases: Array<[string, Record<string, unknown>]> = [
    ['400 MissingParameter.TunnelOptionsSpecification', base],
    ['400 MissingParameter.TunnelOptionsSpecification', { ...base, ...spec(1, a, 'master') }],
    ['400 MissingParameter.TunnelOptionsSpecification', { ...base, ...spec(1, a, 'master'), 'TunnelOptionsSpecification.2.Role': 'slave' }],
    ['400 InvalidParameter', { ...base, ...spec(1, a, 'master'), ...spec(2, b, 'slave'), ...spec(3, b, 'slave') }],
    ['400 IllegalParam.Role', { ...base, ...spec(1, a, 'master'), ...spec(2, b, 'master') }],
    ['400 IllegalParam.Role', { ...base, ...spec(1, a, 'master'), ...spec(2, b, 'backup') }],
    ['404 InvalidCustomerGatewayInstanceId.NotFound', { ...base, ...spec(1, a, 'master'), ...spec(2, 'cgw-gone00000000000000000', 'slave') }],
    ['400 InvalidParameter', dual(a, b, { CustomerGatewayId: a })],
    ['400 InvalidParameter', dual(a, b, { IkeConfig: '{}' })],
    ['400 InvalidParameter', dual(a, b, { IpsecConfig: '{}' })],
    ['400 InvalidParameter', dual(a, b, { HealthCheckConfig: '{}' })],
    ['400 OperationUnsupported.SetDPD', dual(a, b, { EnableDpd: 'true' })],
    ['400 OperationUnsupported.SetNatTraversal', dual(a, b, { EnableNatTraversal: 'false' })],
    ['400 OperationUnsupported.EnableBgp', dual(a, b, { BgpConfig: '{"EnableBgp":false}' })],
    ['400 InvalidParameter', dual(a, b, { 'TunnelOptionsSpecification.1.TunnelIkeConfig.Psk': 'bad key' })],
    ['400 NotSupportVpnConnectionParameter.IpsecPfs', dual(a, b, { 'TunnelOptionsSpecification.2.TunnelIpsecConfig.IpsecPfs': 'group3' })],
    ['400 InvalidParameter', dual(a, b, { 'TunnelOptionsSpecification.1.EnableDpd': 'maybe' })],
  ];
  for (const [want, params] of cases) assert.equal(await code(call(emu, 'CreateVpnConnection', params)), want, JSON.stringify(params));
  // Tunnels may come in any index order; master is listed first.
  const d = await call(emu, 'CreateVpnConnection', { ...base, ...spec(1, b, 'slave'), ...spec(2, a, 'master') });
  const dd = await call(emu, 'DescribeVpnConnection', { VpnConnectionId: d.VpnConnectionId });
  assert.deepEqual(dd.TunnelOptionsSpecification.TunnelOptions.map((x: any) => [x.Role, x.CustomerGatewayId]), [['master', a], ['slave', b]]);
});

test('gateway state and account rules: IPsec disabled, financial lock, not active, quota, DryRun, SubUser', async (t) => {
  const gws = [
    ...VPN_FIXTURES,
    { RegionId: REGION, VpnGatewayId: 'vpn-noipsec000000000000', InternetIp: '47.96.0.10', IpsecVpn: 'disable' as const },
    { RegionId: REGION, VpnGatewayId: 'vpn-locked0000000000000', InternetIp: '47.96.0.11', BusinessStatus: 'FinancialLocked' as const },
    { RegionId: REGION, VpnGatewayId: 'vpn-init00000000000000', InternetIp: '47.96.0.12', Status: 'init' as const },
  ];
  const emu = await emulator({ vpnGateways: gws, vpnTaskMs: 0, vpnConnectionQuota: 2 });
  t.after(() => emu.close());
  const a = await cgw(emu, '203.0.113.1');
  const on = (gw: string) => call(emu, 'CreateVpnConnection', { ...single(a), VpnGatewayId: gw });
  assert.equal(await code(on('vpn-noipsec000000000000')), '400 VpnGateway.IpsecVpnDisabled');
  assert.equal(await code(on('vpn-locked0000000000000')), '400 VpnGateway.FinancialLocked');
  assert.equal(await code(on('vpn-init00000000000000')), '400 VpnGateway.Configuring');
  assert.equal(await code(call(emu, 'CreateVpnConnection', single(a, { DryRun: 'true' }))), '400 DryRunOperation');
  assert.equal(emu.state().accounts[ACCOUNT]?.regions[REGION]?.vpnConnections.length, 0, 'DryRun creates nothing');
  await call(emu, 'CreateVpnConnection', single(a, { IkeConfig: '{"Psk":"k"}' }));
  await call(emu, 'CreateVpnConnection', single(a, { IkeConfig: '{"Psk":"k"}', RemoteSubnet: '192.168.2.0/24' }));
  assert.equal(await code(call(emu, 'CreateVpnConnection', single(a, { IkeConfig: '{"Psk":"k"}', RemoteSubnet: '192.168.3.0/24' }))), '400 CreateVpnConnectionsQuotaFull.QuotaFull');
  emu.configure({ vpnConnectionQuota: 3 });
  await call(emu, 'CreateVpnConnection', single(a, { IkeConfig: '{"Psk":"k"}', RemoteSubnet: '192.168.3.0/24' }));
  emu.setAccountFlags(ACCOUNT, { subUser: true });
  assert.equal(await code(call(emu, 'CreateVpnConnection', single(a))), '403 Forbbiden.SubUser');
  assert.equal(await code(call(emu, 'DescribeVpnGateways', {})), '403 Forbidden.SubUser');
  assert.equal(await code(call(emu, 'DescribeVpnConnections', {})), '403 Forbbiden.SubUser');
  emu.setAccountFlags(ACCOUNT, { subUser: false, forbidden: true });
  assert.equal(await code(call(emu, 'DownloadVpnConnectionConfig', { VpnConnectionId: 'vco-x' })), '403 Forbidden');
  emu.setAccountFlags(ACCOUNT, { forbidden: false });
  for (const action of ['DescribeVpnConnection', 'ModifyVpnConnectionAttribute', 'DeleteVpnConnection', 'DownloadVpnConnectionConfig'])
    assert.equal(await code(call(emu, action, { VpnConnectionId: 'vco-nope000000000000000' })), '404 InvalidVpnConnectionInstanceId.NotFound', action);
  assert.equal(await code(call(emu, 'DescribeVpnConnection', {})), '400 MissingVpnConnectionId');
  assert.equal(await code(call(emu, 'DescribeVpnGateway', { VpnGatewayId: 'vpn-nope000000000000000' })), '404 InvalidVpnGatewayInstanceId.NotFound');
});

test('ModifyVpnConnectionAttribute: merges, IKEv1 with several CIDRs, dual-tunnel edits by TunnelId, names', async (t) => {
  const emu = await emulator({ vpnGateways: VPN_FIXTURES, vpnTaskMs: 0 });
  t.after(() => emu.close());
  const a = await cgw(emu, '203.0.113.1', '65001');
  const b = await cgw(emu, '203.0.113.2', '65002');
  const s = await call(emu, 'CreateVpnConnection', single(a, { IkeConfig: JSON.stringify({ Psk: 'first-key', IkeAuthAlg: 'sha1' }) }));
  const mod = (o: Record<string, unknown>) => call(emu, 'ModifyVpnConnectionAttribute', { VpnConnectionId: s.VpnConnectionId, ...o });
  assert.equal(await code(mod({ Name: 'https://no' })), '400 InvalidName');
  assert.equal(await code(mod({ LocalSubnet: '10.0.0.0/16,10.1.0.0/16' })), '400 ModifyIkeV1WithMultiRoutes.Invalid');
  assert.equal(await code(mod({ 'TunnelOptionsSpecification.1.TunnelId': 'tun-x' })), '400 InvalidParameter');
  const out = await mod({ Name: 'renamed', IkeConfig: JSON.stringify({ Psk: 'second-key' }), IpsecConfig: JSON.stringify({ IpsecPfs: 'group14' }) });
  assert.equal(out.Name, 'renamed');
  assert.equal(out.IkeConfig.Psk, 'second-key');
  assert.equal(out.IkeConfig.IkeAuthAlg, 'sha1', 'fields not given stay as they were');
  assert.equal(out.IpsecConfig.IpsecPfs, 'group14');
  assert.equal(out.IpsecConfig.IpsecAuthAlg, 'md5');
  // IKEv2 allows several CIDRs; the switch and the CIDRs may come in one call.
  await mod({ IkeConfig: JSON.stringify({ IkeVersion: 'ikev2' }), LocalSubnet: '10.0.0.0/16,10.1.0.0/16' });
  await mod({ BgpConfig: JSON.stringify({ EnableBgp: true, TunnelCidr: '169.254.9.0/30' }) });
  const after = await call(emu, 'DescribeVpnConnection', { VpnConnectionId: s.VpnConnectionId });
  assert.equal(after.LocalSubnet, '10.0.0.0/16,10.1.0.0/16');
  assert.equal(after.VpnBgpConfig.TunnelCidr, '169.254.9.0/30');
  assert.equal(after.IkeConfig.Psk, 'second-key');

  const d = await call(emu, 'CreateVpnConnection', dual(a, b, { RemoteSubnet: '192.168.8.0/24' }));
  const tunnels = (await call(emu, 'DescribeVpnConnection', { VpnConnectionId: d.VpnConnectionId })).TunnelOptionsSpecification.TunnelOptions;
  const [master, slave] = tunnels.map((x: any) => x.TunnelId);
  const dmod = (o: Record<string, unknown>) => call(emu, 'ModifyVpnConnectionAttribute', { VpnConnectionId: d.VpnConnectionId, ...o });
  assert.equal(await code(dmod({ 'TunnelOptionsSpecification.1.TunnelIkeConfig.Psk': 'k' })), '400 IllegalParam.TunnelId');
  assert.equal(await code(dmod({ 'TunnelOptionsSpecification.1.TunnelId': 'tun-unknown000000000', 'TunnelOptionsSpecification.1.TunnelIkeConfig.Psk': 'k' })), '400 IllegalParam.TunnelId');
  assert.equal(await code(dmod({ 'TunnelOptionsSpecification.1.TunnelId': master, 'TunnelOptionsSpecification.1.Role': 'slave' })), '400 IllegalParam.Role');
  assert.equal(await code(dmod({ IkeConfig: '{"Psk":"k"}' })), '400 InvalidParameter');
  assert.equal(await code(dmod({ EnableTunnelsBgp: 'true' })), '400 MissingParameter.TunnelCidr');
  const dout = await dmod({
    'TunnelOptionsSpecification.1.TunnelId': slave,
    'TunnelOptionsSpecification.1.TunnelIkeConfig.Psk': 'slave-rotated',
    'TunnelOptionsSpecification.1.EnableDpd': 'false',
    'TunnelOptionsSpecification.2.TunnelId': master,
    'TunnelOptionsSpecification.2.Role': 'master',
    'TunnelOptionsSpecification.2.TunnelIpsecConfig.IpsecEncAlg': 'aes256',
  });
  const [dm, ds] = dout.TunnelOptionsSpecification.TunnelOptions;
  assert.deepEqual([dm.TunnelId, dm.TunnelIpsecConfig.IpsecEncAlg, dm.EnableDpd], [master, 'aes256', true]);
  assert.deepEqual([ds.TunnelId, ds.TunnelIkeConfig.Psk, ds.EnableDpd], [slave, 'slave-rotated', false]);
  assert.equal(dm.TunnelIkeConfig.Psk, tunnels[0].TunnelIkeConfig.Psk, 'the master key is unchanged');
});
