// The planner's site rules agree with the emulator's (written apart: the emulator is a leaf nothing imports): the same bad
// row is refused by plan with the code CreateVpnConnection (or ModifyVpnConnectionAttribute) answers on the emulator,
// through pop-core, for per-row rules, the VPN gateway's facts and the rules between connections of one gateway.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CustomerGateway, VpnConnection } from '../../src/cloud/types.js';
import type { Emulator } from '../../src/emulator/index.js';
import { planManifest, type PlanContext } from '../../src/plan/plan.js';
import { SITE_TAG_KEY, siteTagValue } from '../../src/plan/site-identity.js';
import type { ConnectionFields, PlannedRow, SiteField } from '../../src/types.js';
import { DUAL_GW, REGION, SINGLE_GW, VPN_FIXTURES, call, emulator, pop } from '../emulator/util.js';
import { manifest, profile, srow, vco, vpnGw } from './builders.js';

const NO_IPSEC = 'vpn-noipsec00000000000';
const NO_BGP = 'vpn-nobgp0000000000000';
const FIXTURES = [
  ...VPN_FIXTURES,
  { RegionId: REGION, VpnGatewayId: NO_IPSEC, InternetIp: '47.96.0.7', IpsecVpn: 'disable' as const },
  { RegionId: REGION, VpnGatewayId: NO_BGP, InternetIp: '47.96.0.9', EnableBgp: false },
];
// The planner's view of the same gateways (what DescribeVpnGateways answers).
const GATEWAYS = [
  vpnGw({ id: SINGLE_GW, internetIp: '47.96.0.1' }),
  vpnGw({ id: DUAL_GW, internetIp: '47.96.0.2', disasterRecoveryInternetIp: '47.96.0.3' }),
  vpnGw({ id: NO_IPSEC, internetIp: '47.96.0.7', ipsecVpn: 'disable' }),
  vpnGw({ id: NO_BGP, internetIp: '47.96.0.9', enableBgp: false }),
];

const IKE_KEYS: Record<string, string> = { ike_version: 'IkeVersion', ike_mode: 'IkeMode', ike_enc_alg: 'IkeEncAlg', ike_auth_alg: 'IkeAuthAlg', ike_pfs: 'IkePfs', ike_lifetime: 'IkeLifetime', local_id: 'LocalId', remote_id: 'RemoteId' };
const IPSEC_KEYS: Record<string, string> = { ipsec_enc_alg: 'IpsecEncAlg', ipsec_auth_alg: 'IpsecAuthAlg', ipsec_pfs: 'IpsecPfs', ipsec_lifetime: 'IpsecLifetime' };

interface Row {
  site: Partial<Record<SiteField, string>>;
  asn?: string;
  psk?: string;
  profile?: Record<string, string>;
}

/**
 * CreateVpnConnection's parameters for the row as written (test-side, independent of the executor): single tunnel as
 * JSON strings, dual tunnel in flat form; the values exactly as in the manifest.
 */
function createParams(row: Row, cgwIds: string[], dual: boolean): Record<string, unknown> {
  const s = row.site;
  const p: Record<string, unknown> = { VpnGatewayId: s.vpn_gateway_id ?? '', LocalSubnet: s.local_subnet ?? '', RemoteSubnet: s.remote_subnet ?? '' };
  if (s.connection_name) p.Name = s.connection_name;
  if (s.effect_immediately) p.EffectImmediately = s.effect_immediately;
  const ike: Record<string, unknown> = {};
  const ipsec: Record<string, unknown> = {};
  if (row.psk !== undefined) ike.Psk = row.psk;
  for (const [k, v] of Object.entries(row.profile ?? {})) {
    if (IKE_KEYS[k]) ike[IKE_KEYS[k]!] = v;
    if (IPSEC_KEYS[k]) ipsec[IPSEC_KEYS[k]!] = v;
  }
  const bgp = (cidr?: string, ip?: string) => ({ ...(cidr ? { TunnelCidr: cidr } : {}), ...(ip ? { LocalBgpIp: ip } : {}) });
  const hasBgp = s.tunnel_cidr !== undefined || s.local_bgp_ip !== undefined || s.tunnel_cidr_2 !== undefined;
  if (!dual) {
    p.CustomerGatewayId = cgwIds[0];
    if (Object.keys(ike).length) p.IkeConfig = JSON.stringify(ike);
    if (Object.keys(ipsec).length) p.IpsecConfig = JSON.stringify(ipsec);
    if (hasBgp) p.BgpConfig = JSON.stringify({ EnableBgp: true, ...bgp(s.tunnel_cidr, s.local_bgp_ip) });
    if (cgwIds.length > 1) {
      // What a second customer gateway means on the wire: a second tunnel.
      p['TunnelOptionsSpecification.1.CustomerGatewayId'] = cgwIds[0];
      p['TunnelOptionsSpecification.2.CustomerGatewayId'] = cgwIds[1];
    }
    return p;
  }
  if (hasBgp) p.EnableTunnelsBgp = 'true';
  [1, 2].forEach((n) => {
    const at = `TunnelOptionsSpecification.${n}`;
    p[`${at}.CustomerGatewayId`] = cgwIds[n - 1] ?? cgwIds[0];
    p[`${at}.Role`] = n === 1 ? 'master' : 'slave';
    for (const [k, v] of Object.entries(ike)) p[`${at}.TunnelIkeConfig.${k}`] = v;
    for (const [k, v] of Object.entries(ipsec)) p[`${at}.TunnelIpsecConfig.${k}`] = v;
    const b = n === 1 ? bgp(s.tunnel_cidr, s.local_bgp_ip) : bgp(s.tunnel_cidr_2, s.local_bgp_ip_2);
    for (const [k, v] of Object.entries(b)) p[`${at}.TunnelBgpConfig.${k}`] = v;
  });
  return p;
}

async function errorCode(p: Promise<unknown>, what = ''): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code: string }).code;
  }
  return `(accepted: ${what})`;
}

let ipN = 0;
/** A customer gateway named site-N (N its address's last number) unless `name` says otherwise (a site's ip_2 shares its name). */
async function cgw(emu: Emulator, asn?: string, name?: string): Promise<{ id: string; ip: string }> {
  const ip = `198.51.100.${++ipN}`;
  const out = await call(emu, 'CreateCustomerGateway', { IpAddress: ip, Name: name ?? `site-${ipN}`, ...(asn ? { Asn: asn } : {}) });
  return { id: out.CustomerGatewayId, ip };
}

/** The planner on the row, online: the emulator's customer gateways, the gateways above, and `connections`. */
async function planRow(emu: Emulator, row: Row, ip: string, name: string, ip2?: string, connections: VpnConnection[] = [], prior?: ConnectionFields): Promise<PlannedRow> {
  const site = { ...row.site, ...(ip2 ? { ip_2: ip2 } : {}), ...(row.psk !== undefined ? { psk: 'env:PSK' } : {}), ...(row.profile ? { ike_profile: 'p' } : {}) };
  const w = srow(site, { ip, name, ...(row.asn ? { asn: row.asn } : {}) }, row.psk !== undefined ? { pskValue: row.psk } : {});
  const m = manifest([w]);
  if (row.profile) m.profiles = [profile('p', row.profile)];
  const gateways: CustomerGateway[] = await pop(emu).listCustomerGateways(REGION);
  const ctx: PlanContext = {
    online: true,
    quota: 100,
    regions: new Set([REGION]),
    inventory: new Map([[REGION, gateways]]),
    vpn: new Map([[REGION, { gateways: GATEWAYS, connections }]]),
    journalId: 'J',
    vpnQuota: 10,
    fingerprint: (k) => `fp:${k}`,
  };
  if (prior) ctx.prior = new Map([[`${REGION}/${ip}`, { key: `${REGION}/${ip}`, status: 'created', line: 2, generation: 1, gatewayId: gateways.find((g) => g.ip === ip)!.id, name, ...(row.asn ? { asn: row.asn } : {}), connection: prior }]]);
  return planManifest(m, ctx).rows[0]!;
}

const firstError = (r: PlannedRow): string => r.issues.find((i) => i.severity === 'error')?.code ?? `(no error: ${r.connection?.action})`;

test('per row and per gateway: plan refuses the row with the code the emulator answers CreateVpnConnection', async (t) => {
  const emu = await emulator({ vpnGateways: FIXTURES, vpnTaskMs: 0, vpnConnectionQuota: 100 });
  t.after(() => emu.close());
  const S = { vpn_gateway_id: SINGLE_GW, local_subnet: '10.0.0.0/16', remote_subnet: '192.168.1.0/24' };
  const D = { ...S, vpn_gateway_id: DUAL_GW };
  const cases: Array<[string, Row, { dual?: boolean; second?: boolean }?]> = [
    ['no VPC-side subnets', { site: { ...S, local_subnet: '' } }],
    ['no branch-side subnets', { site: { ...S, remote_subnet: '' } }],
    ['a prefix over 32', { site: { ...S, local_subnet: '10.0.0.0/33' } }],
    ['host bits', { site: { ...S, local_subnet: '10.0.0.1/16' } }],
    ['six blocks', { site: { ...S, local_subnet: '10.1.0.0/16,10.2.0.0/16,10.3.0.0/16,10.4.0.0/16,10.5.0.0/16,10.6.0.0/16' } }],
    ['a block twice', { site: { ...S, local_subnet: '10.1.0.0/16,10.1.0.0/16' } }],
    ['0.0.0.0/0 not alone', { site: { ...S, remote_subnet: '0.0.0.0/0,192.168.1.0/24' } }],
    ['IPv6', { site: { ...S, remote_subnet: 'fd00::/64' } }],
    ['a PSK with a space', { site: S, psk: 'has space' }],
    ['a PSK with a quote', { site: S, psk: 'quote"d' }],
    ['a PSK of 101 characters', { site: S, psk: 'k'.repeat(101) }],
    ['a connection name that is a URL', { site: { ...S, connection_name: 'http://x' } }],
    ['effect_immediately yes', { site: { ...S, effect_immediately: 'yes' } }],
    ['IKE version', { site: S, profile: { ike_version: 'ikev3' } }],
    ['IKE mode', { site: S, profile: { ike_mode: 'quick' } }],
    ['IKE encryption', { site: S, profile: { ike_enc_alg: 'aes512' } }],
    ['IKE integrity', { site: S, profile: { ike_auth_alg: 'sha3' } }],
    ['IKE PFS', { site: S, profile: { ike_pfs: 'group19' } }],
    ['IKE lifetime', { site: S, profile: { ike_lifetime: '86401' } }],
    ['LocalId length', { site: S, profile: { local_id: 'x'.repeat(101) } }],
    ['IPsec encryption', { site: S, profile: { ipsec_enc_alg: 'rc4' } }],
    ['IPsec integrity', { site: S, profile: { ipsec_auth_alg: 'sha3' } }],
    ['IPsec PFS', { site: S, profile: { ipsec_pfs: 'group3' } }],
    ['tunnel CIDR malformed', { site: { ...S, tunnel_cidr: '169.254.1.0' }, asn: '65001' }],
    ['tunnel CIDR not a /30', { site: { ...S, tunnel_cidr: '169.254.1.0/29' }, asn: '65001' }],
    ['tunnel CIDR outside 169.254/16', { site: { ...S, tunnel_cidr: '10.0.0.0/30' }, asn: '65001' }],
    ['BGP address malformed', { site: { ...S, tunnel_cidr: '169.254.1.0/30', local_bgp_ip: '169.254.1' }, asn: '65001' }],
    ['BGP address outside its CIDR', { site: { ...S, tunnel_cidr: '169.254.1.0/30', local_bgp_ip: '169.254.1.3' }, asn: '65001' }],
    ['BGP address without a CIDR', { site: { ...S, local_bgp_ip: '169.254.1.1' }, asn: '65001' }],
    ['BGP without the ASN', { site: { ...S, tunnel_cidr: '169.254.1.0/30' } }],
    ['IPsec disabled on the gateway', { site: { ...S, vpn_gateway_id: NO_IPSEC } }],
    ['an unknown gateway', { site: { ...S, vpn_gateway_id: 'vpn-nope000000000000000' } }],
    ['BGP on a gateway without BGP', { site: { ...S, vpn_gateway_id: NO_BGP, tunnel_cidr: '169.254.1.0/30' }, asn: '65001' }],
    ['a second customer gateway on a single-tunnel gateway', { site: S }, { second: true }],
    ['dual tunnel, BGP on one tunnel only', { site: { ...D, tunnel_cidr: '169.254.1.0/30' }, asn: '65001' }, { dual: true }],
    ['dual tunnel, both tunnels on one CIDR', { site: { ...D, tunnel_cidr: '169.254.1.0/30', tunnel_cidr_2: '169.254.1.0/30' }, asn: '65001' }, { dual: true }],
  ];
  for (const [what, row, o] of cases) {
    const a = await cgw(emu, row.asn);
    const b = o?.second ? await cgw(emu, row.asn, `site-${ipN}`) : undefined;
    const planned = await planRow(emu, row, a.ip, `site-${ipN - (b ? 1 : 0)}`, o?.second ? b!.ip : undefined);
    const emulated = await errorCode(call(emu, 'CreateVpnConnection', createParams(row, [a.id, ...(b ? [b.id] : [])], o?.dual === true)), what);
    assert.equal(firstError(planned), emulated, what);
    assert.equal(planned.action, 'invalid', what);
  }
  // The customer gateway at one of the VPN gateway's own addresses.
  const clash = await call(emu, 'CreateCustomerGateway', { IpAddress: '47.96.0.1', Name: 'clash' });
  const clashRow: Row = { site: S };
  assert.equal(firstError(await planRow(emu, clashRow, '47.96.0.1', 'clash')), await errorCode(call(emu, 'CreateVpnConnection', createParams(clashRow, [clash.CustomerGatewayId], false))));
  // And the row the rules accept is accepted by the emulator as well.
  const good: Row = { site: { ...S, tunnel_cidr: '169.254.9.0/30', local_bgp_ip: '169.254.9.2', connection_name: 'ok' }, asn: '65009', psk: '~!`@#$%^&*()_-+={}[]|;:\',.<>/?', profile: { ike_version: 'ikev2', ipsec_pfs: 'disabled' } };
  const g = await cgw(emu, '65009');
  const planned = await planRow(emu, good, g.ip, `site-${ipN}`);
  assert.deepEqual(planned.issues.filter((i) => i.severity === 'error'), []);
  assert.equal(planned.connection?.action, 'create');
  const made = await call(emu, 'CreateVpnConnection', createParams(good, [g.id], false));
  assert.match(made.VpnConnectionId, /^vco-/);
});

test('between connections of one gateway: TunnelCidr, pairing and the quota agree with the emulator', async (t) => {
  const emu = await emulator({ vpnGateways: FIXTURES, vpnTaskMs: 0, vpnConnectionQuota: 3 });
  t.after(() => emu.close());
  const S = { vpn_gateway_id: SINGLE_GW, local_subnet: '10.0.0.0/16', remote_subnet: '192.168.1.0/24' };

  // An existing connection (another branch) holds 169.254.5.0/30.
  const other = await cgw(emu, '65100');
  const existing = await call(emu, 'CreateVpnConnection', createParams({ site: { ...S, tunnel_cidr: '169.254.5.0/30', remote_subnet: '192.168.50.0/24' }, asn: '65100' }, [other.id], false));
  const existingView = vco(existing.VpnConnectionId, other.id, { vpnGatewayId: SINGLE_GW, remoteSubnet: ['192.168.50.0/24'], tunnel: { bgp: { tunnelCidr: '169.254.5.0/30', localBgpIp: '169.254.5.1' } } });
  const taken: Row = { site: { ...S, tunnel_cidr: '169.254.5.0/30' }, asn: '65101' };
  const a = await cgw(emu, '65101');
  const planned = await planRow(emu, taken, a.ip, `site-${ipN}`, undefined, [existingView]);
  assert.equal(firstError(planned), await errorCode(call(emu, 'CreateVpnConnection', createParams(taken, [a.id], false))));
  assert.equal(firstError(planned), 'IllegalParam.TunnelCidr');

  // Two connections on one customer gateway: this row's (tagged) and another. Changing ours to other IKE settings,
  // or to selectors overlapping the other's, is refused by ModifyVpnConnectionAttribute as by the plan.
  const b = await cgw(emu);
  const ours = await call(emu, 'CreateVpnConnection', { ...createParams({ site: S, psk: 'SharedKey1' }, [b.id], false), 'Tags.1.Key': SITE_TAG_KEY, 'Tags.1.Value': siteTagValue('J', `${REGION}/${b.ip}`) });
  const theirs = await call(emu, 'CreateVpnConnection', createParams({ site: { ...S, local_subnet: '10.9.0.0/16' }, psk: 'SharedKey1' }, [b.id], false));
  const listed = [
    vco(ours.VpnConnectionId, b.id, { vpnGatewayId: SINGLE_GW, tags: [{ key: SITE_TAG_KEY, value: siteTagValue('J', `${REGION}/${b.ip}`) }] }),
    vco(theirs.VpnConnectionId, b.id, { vpnGatewayId: SINGLE_GW, localSubnet: ['10.9.0.0/16'] }),
    existingView,
  ];
  const ikeChange: Row = { site: S, profile: { ike_version: 'ikev2' } };
  const p1 = await planRow(emu, ikeChange, b.ip, `site-${ipN}`, undefined, listed);
  assert.equal(p1.connection?.action, 'invalid');
  const m1 = await errorCode(call(emu, 'ModifyVpnConnectionAttribute', { VpnConnectionId: ours.VpnConnectionId, IkeConfig: JSON.stringify({ IkeVersion: 'ikev2' }) }));
  assert.equal(firstError(p1), m1);
  assert.equal(m1, 'VpnConnectionParamInvalid.SameVpnAndCgwDifferentIkeConfigs');
  const overlap: Row = { site: { ...S, local_subnet: '10.9.1.0/24' } };
  const p2 = await planRow(emu, overlap, b.ip, `site-${ipN}`, undefined, listed);
  const m2 = await errorCode(call(emu, 'ModifyVpnConnectionAttribute', { VpnConnectionId: ours.VpnConnectionId, LocalSubnet: '10.9.1.0/24' }));
  assert.equal(firstError(p2), m2);
  assert.equal(m2, 'VpnConnectionParamInvalid.SameVpnAndCgwTrafficSelectorOverlap');
  // Disjoint selectors and the same IKE set: both accept (the plan adopts ours by its tag and changes its subnet).
  const fine: Row = { site: { ...S, local_subnet: '10.8.0.0/16' } };
  const p3 = await planRow(emu, fine, b.ip, `site-${ipN}`, undefined, listed);
  assert.equal(p3.connection?.action, 'adopt');
  assert.deepEqual(p3.connection?.changes, [{ field: 'local_subnet', before: '10.0.0.0/16', after: '10.8.0.0/16' }]);
  await call(emu, 'ModifyVpnConnectionAttribute', { VpnConnectionId: ours.VpnConnectionId, LocalSubnet: '10.8.0.0/16' });

  // The quota: 3 per gateway here, 3 exist; a fourth is refused by both.
  const c = await cgw(emu);
  const full: Row = { site: { ...S, remote_subnet: '192.168.77.0/24' } };
  const ctxRow = await (async () => {
    const w = srow(full.site, { ip: c.ip, name: `site-${ipN}` });
    const gateways = await pop(emu).listCustomerGateways(REGION);
    return planManifest(manifest([w]), {
      online: true,
      quota: 100,
      regions: new Set([REGION]),
      inventory: new Map([[REGION, gateways]]),
      vpn: new Map([[REGION, { gateways: GATEWAYS, connections: listed }]]),
      vpnQuota: 3,
    }).rows[0]!;
  })();
  assert.equal(firstError(ctxRow), await errorCode(call(emu, 'CreateVpnConnection', createParams(full, [c.id], false))));
  assert.equal(firstError(ctxRow), 'CreateVpnConnectionsQuotaFull.QuotaFull');
});
