// Site columns, row by row: every rule with the code CreateVpnConnection would answer, the field (and, in a workbook,
// the cell) it is about; a valid site row's SiteSpec; profiles; a missing env: PSK held as a warning.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planManifest } from '../../src/plan/plan.js';
import { DEFAULT_PROFILE, resolveProfile } from '../../src/plan/site-rules.js';
import { validateRow, type ValidateOptions } from '../../src/plan/validate.js';
import type { Issue, SiteField } from '../../src/types.js';
import { manifest, profile, srow, VGW } from './builders.js';

const DEVICES = new Set(['strongswan', 'cisco-ios', 'fortigate']);
const PROFILES = new Map([['hq', resolveProfile(profile('hq', { ike_version: 'ikev2', ike_enc_alg: 'AES256', ipsec_pfs: 'group14', enable_dpd: 'FALSE' }, 7))]]);
const OPTS: ValidateOptions = { site: { profiles: PROFILES, deviceTypes: DEVICES } };

function errorsOf(site: Partial<Record<SiteField, string>>, fields: Record<string, string> = {}, pskValue?: string): Issue[] {
  const v = validateRow(srow(site, fields, pskValue !== undefined ? { pskValue } : {}), OPTS);
  return v.issues;
}
const codes = (issues: Issue[]): string[] => issues.map((i) => `${i.severity} ${i.code} ${i.field}`);

describe('site rules: one bad value, one issue with the API code and the field', () => {
  const cases: Array<[string, Partial<Record<SiteField, string>>, string, Record<string, string>?, string?]> = [
    ['site columns without a VPN gateway', { vpn_gateway_id: '', local_subnet: '10.0.0.0/16' }, 'error MissingVpnGatewayId vpn_gateway_id'],
    ['a VPN gateway id that is no id', { vpn_gateway_id: 'VPN-Gateway-1' }, 'error InvalidVpnGatewayInstanceId.NotFound vpn_gateway_id'],
    ['no VPC-side subnets', { local_subnet: '' }, 'error MissingLocalSubnet local_subnet'],
    ['no branch-side subnets', { remote_subnet: '' }, 'error MissingRemoteSubnet remote_subnet'],
    ['a prefix over 32', { local_subnet: '10.0.0.0/33' }, 'error IllegalParam.LocalSubnet local_subnet'],
    ['host bits set', { local_subnet: '10.0.0.1/16' }, 'error IllegalParam.LocalSubnet local_subnet'],
    ['six CIDR blocks', { local_subnet: '10.1.0.0/16,10.2.0.0/16,10.3.0.0/16,10.4.0.0/16,10.5.0.0/16,10.6.0.0/16' }, 'error IllegalParam.LocalSubnet local_subnet'],
    ['a CIDR block twice', { local_subnet: '10.1.0.0/16, 10.1.0.0/16' }, 'error IllegalParam.LocalSubnet local_subnet'],
    ['0.0.0.0/0 with another block', { local_subnet: '0.0.0.0/0,10.1.0.0/16' }, 'error IllegalParam.LocalSubnet local_subnet'],
    ['an IPv6 branch subnet', { remote_subnet: 'fd00::/64' }, 'error IllegalParam.RemoteSubnet remote_subnet'],
    ['a trailing comma', { remote_subnet: '192.168.1.0/24,' }, 'error IllegalParam.RemoteSubnet remote_subnet'],
    ['a PSK with a space', { psk: 'env:K' }, 'error InvalidParameter psk', {}, 'has space'],
    ['a PSK with a double quote', { psk: 'env:K' }, 'error InvalidParameter psk', {}, 'quote"d'],
    ['a PSK with a backslash', { psk: 'env:K' }, 'error InvalidParameter psk', {}, 'back\\slash'],
    ['a PSK of 101 characters', { psk: 'env:K' }, 'error InvalidParameter psk', {}, 'k'.repeat(101)],
    ['an unknown profile', { ike_profile: 'hq2' }, 'error Cgw.UnknownProfile ike_profile'],
    ['a connection name over 100 characters', { connection_name: 'x'.repeat(101) }, 'error InvalidParameter.VpnConnectionName connection_name'],
    ['a connection name that is a URL', { connection_name: 'https://x' }, 'error InvalidParameter.VpnConnectionName connection_name'],
    ['effect_immediately neither true nor false', { effect_immediately: 'yes' }, 'error InvalidParameter effect_immediately'],
    ['ip_2 no address', { ip_2: '203.0.113.300' }, 'error InvalidIpAddress.WrongFormat ip_2'],
    ['ip_2 the row\'s own ip', { ip_2: '203.0.113.10' }, 'error InvalidIpAddress.AlreadyExist ip_2'],
    ['a tunnel CIDR that is no CIDR', { tunnel_cidr: '169.254.1' }, 'error InvalidTunnelCidr.Malformed tunnel_cidr', { asn: '65001' }],
    ['a tunnel CIDR that is no /30', { tunnel_cidr: '169.254.1.0/29' }, 'error IllegalParam.TunnelCidr tunnel_cidr', { asn: '65001' }],
    ['a tunnel CIDR outside 169.254/16', { tunnel_cidr: '10.0.0.0/30' }, 'error IllegalParam.TunnelCidr tunnel_cidr', { asn: '65001' }],
    ['a tunnel CIDR with host bits', { tunnel_cidr: '169.254.1.1/30' }, 'error IllegalParam.TunnelCidr tunnel_cidr', { asn: '65001' }],
    ['a BGP address that is no address', { tunnel_cidr: '169.254.1.0/30', local_bgp_ip: '169.254.1' }, 'error InvalidLocalBgpIp.Malformed local_bgp_ip', { asn: '65001' }],
    ['a BGP address outside the tunnel CIDR', { tunnel_cidr: '169.254.1.0/30', local_bgp_ip: '169.254.1.3' }, 'error IllegalParam.LocalBgpIp local_bgp_ip', { asn: '65001' }],
    ['a BGP address without its CIDR', { local_bgp_ip: '169.254.1.1' }, 'error MissingParameter.TunnelCidr tunnel_cidr', { asn: '65001' }],
    ['the second tunnel CIDR without the first', { tunnel_cidr_2: '169.254.2.0/30' }, 'error MissingParameter.TunnelCidr tunnel_cidr', { asn: '65001' }],
    ['a dual site (ip_2) with BGP on one tunnel only', { ip_2: '203.0.113.11', tunnel_cidr: '169.254.1.0/30' }, 'error MissingParameter.TunnelCidr tunnel_cidr_2', { asn: '65001' }],
    ['both tunnels on one CIDR', { tunnel_cidr: '169.254.1.0/30', tunnel_cidr_2: '169.254.1.0/30' }, 'error IllegalParam.TunnelCidr tunnel_cidr_2', { asn: '65001' }],
    ['BGP without the customer gateway\'s ASN', { tunnel_cidr: '169.254.1.0/30' }, 'error MissingParam.CustomerGatewayAsn asn'],
    ['an unknown device type', { device: 'cisco-io' }, 'error Cgw.UnknownDevice device'],
    ['destination routing on one side only', { local_subnet: '0.0.0.0/0' }, 'warning Cgw.HalfDestinationRouting local_subnet'],
    ['ip_2 in a range IPsec cannot reach', { ip_2: '127.0.0.2' }, 'warning Cgw.UnsupportedIpRange ip_2'],
  ];
  for (const [what, site, want, fields, pskValue] of cases) {
    it(what, () => {
      const issues = errorsOf(site, { ip: '203.0.113.10', ...fields }, pskValue);
      assert.deepEqual(codes(issues), [want]);
      // The message says what to do; a key is never in it.
      assert.ok(issues[0]!.message.length > 20);
      if (pskValue) assert.ok(!issues[0]!.message.includes(pskValue), issues[0]!.message);
    });
  }
});

describe('site rules: what a valid site row becomes', () => {
  it('defaults: Alibaba profile, the first host of the tunnel CIDR, no PSK (the API makes one)', () => {
    const v = validateRow(srow({ tunnel_cidr: '169.254.10.0/30' }, { asn: '65001' }), OPTS);
    assert.deepEqual(v.issues, []);
    assert.deepEqual(v.row?.site, {
      vpnGatewayId: VGW,
      localSubnet: ['10.0.0.0/16'],
      remoteSubnet: ['192.168.1.0/24'],
      profile: DEFAULT_PROFILE,
      bgp: { tunnelCidr: '169.254.10.0/30', localBgpIp: '169.254.10.1' },
    });
  });

  it('every column: PSK reference with its value, profile by name, dual tunnel with BGP on both', () => {
    const v = validateRow(
      srow(
        {
          local_subnet: '10.0.0.0/16, 10.1.0.0/16',
          psk: 'env:PSK_HZ',
          ike_profile: 'hq',
          tunnel_cidr: '169.254.10.0/30',
          local_bgp_ip: '169.254.10.2',
          connection_name: 'hz-01',
          effect_immediately: 'TRUE',
          ip_2: '203.0.113.11',
          tunnel_cidr_2: '169.254.11.0/30',
          device: 'strongswan',
        },
        { asn: '65001' },
        { pskValue: 'k3y!With#Marks' },
      ),
      OPTS,
    );
    assert.deepEqual(v.issues, []);
    const s = v.row!.site!;
    assert.deepEqual(s.localSubnet, ['10.0.0.0/16', '10.1.0.0/16']);
    assert.deepEqual(s.psk, { kind: 'ref', ref: 'env:PSK_HZ', value: 'k3y!With#Marks' });
    assert.equal(s.profileName, 'hq');
    assert.equal(s.profile.ike.version, 'ikev2');
    assert.equal(s.profile.ike.encAlg, 'aes256', 'enum values are read in any case');
    assert.equal(s.profile.ike.authAlg, 'md5', 'what the profile leaves out keeps the default');
    assert.equal(s.profile.ipsec.pfs, 'group14');
    assert.equal(s.profile.enableDpd, false);
    assert.equal(s.effectImmediately, true);
    assert.deepEqual(s.bgp, { tunnelCidr: '169.254.10.0/30', localBgpIp: '169.254.10.2' });
    assert.deepEqual(s.bgp2, { tunnelCidr: '169.254.11.0/30', localBgpIp: '169.254.11.1' });
    assert.equal(s.ip2, '203.0.113.11');
    assert.equal(s.device, 'strongswan');
    assert.equal(s.name, 'hz-01');
  });

  it('psk: generate is a source of its own; a row without site columns has no site and the same issues as before', () => {
    assert.deepEqual(validateRow(srow({ psk: 'generate' }), OPTS).row?.site?.psk, { kind: 'generate' });
    const plain = validateRow(srow({}, {}, {}), OPTS);
    assert.ok(plain.row?.site);
    const w = srow();
    delete w.site;
    const v = validateRow(w, OPTS);
    assert.equal(v.row?.site, undefined);
    assert.equal('site' in v.row!, false);
  });

  it('a missing env: PSK is held as a warning here (the planner raises it only when the key must be sent)', () => {
    const w = srow({ psk: 'env:PSK_GONE' });
    w.issues.push({ severity: 'error', code: 'Cgw.PskEnvMissing', field: 'psk', message: 'environment variable PSK_GONE (the row\'s psk) is not set (or is empty); export it before running', file: w.file, line: w.line });
    const v = validateRow(w, OPTS);
    assert.deepEqual(codes(v.issues), ['warning Cgw.PskEnvMissing psk']);
    assert.equal(w.issues[0]!.severity, 'error', 'the loader\'s issue itself is not changed');
    assert.equal(v.row?.site?.psk, undefined);
  });

  it('the PSK pasted into another cell is refused there, never quoted', () => {
    const key = 'S3cret-PSK-value';
    const issues = errorsOf({ psk: 'env:K' }, { name: `hz-${key}` }, key);
    assert.deepEqual(codes(issues), ['error Cgw.PskElsewhere name']);
    assert.ok(!issues[0]!.message.includes(key));
  });

  it('an unknown profile: did you mean, and the names defined', () => {
    const [i] = errorsOf({ ike_profile: 'HQ' });
    assert.match(i!.message, /profile "HQ" is not defined \(did you mean "hq"\?\); profiles: hq/);
    const none = validateRow(srow({ ike_profile: 'x' }), { site: {} }).issues[0]!;
    assert.match(none.message, /define it under profiles: \(YAML\), in the Profiles sheet \(xlsx\) or in a --profiles FILE/);
  });

  it('a device column alone does not make a site (an inventory column of that name stays harmless)', () => {
    const w = srow({ vpn_gateway_id: '', local_subnet: '', remote_subnet: '', device: 'Cisco ASA 5505' });
    const v = validateRow(w, OPTS);
    assert.deepEqual(v.issues, []);
    assert.equal(v.row?.site, undefined);
    const p = planManifest(manifest([w]), { online: false, quota: 100 });
    assert.equal('connection' in p.rows[0]!, false);
    assert.equal(p.resources, undefined);
  });

  it('device types are checked only against the list given (the planner gets src/device\'s)', () => {
    assert.deepEqual(validateRow(srow({ device: 'anything' }), { site: {} }).issues, []);
    assert.match(errorsOf({ device: 'cisco-io' })[0]!.message, /did you mean cisco-ios\?/);
  });
});

describe('profiles: each parameter with the code the API gives, at the profile\'s place', () => {
  const bad: Array<[Record<string, string>, string]> = [
    [{ ike_version: 'ikev3' }, 'InvalidParameter'],
    [{ ike_mode: 'quick' }, 'InvalidParameter'],
    [{ ike_enc_alg: 'aes512' }, 'InvalidParameter'],
    [{ ike_auth_alg: 'sha3' }, 'InvalidParameter'],
    [{ ike_pfs: 'group19' }, 'InvalidParameter'],
    [{ ike_lifetime: '86401' }, 'InvalidParameter'],
    [{ ike_lifetime: '-1' }, 'InvalidParameter'],
    [{ local_id: 'x'.repeat(101) }, 'InvalidParameter'],
    [{ ipsec_enc_alg: 'rc4' }, 'InvalidParameter'],
    [{ ipsec_auth_alg: 'sha3' }, 'NotSupportVpnConnectionParameter.IpsecAuthAlg'],
    [{ ipsec_pfs: 'group3' }, 'NotSupportVpnConnectionParameter.IpsecPfs'],
    [{ ipsec_lifetime: '1.5' }, 'InvalidParameter'],
    [{ enable_dpd: 'maybe' }, 'InvalidParameter'],
    [{ enable_nat_traversal: '1' }, 'InvalidParameter'],
  ];
  for (const [params, code] of bad) {
    it(`${Object.keys(params)[0]} = ${Object.values(params)[0]!.slice(0, 12)}: ${code}`, () => {
      const p = resolveProfile(profile('p', params, 12));
      assert.deepEqual(p.problems.map((x) => `${x.severity} ${x.code} ${x.param}`), [`error ${code} ${Object.keys(params)[0]}`]);
      // A row naming it carries the issue on its ike_profile cell, naming where the profile is.
      const v = validateRow(srow({ ike_profile: 'p' }), { site: { profiles: new Map([['p', p]]) } });
      assert.deepEqual(codes(v.issues), [`error ${code} ike_profile`]);
      assert.match(v.issues[0]!.message, /^profile "p" \(sites\.csv:12\): /);
      assert.equal(v.row?.site, undefined);
    });
  }

  it('an FQDN identity with IKEv1 main mode is a warning (aggressive, or IKEv2)', () => {
    assert.deepEqual(resolveProfile(profile('p', { remote_id: 'branch.example.com' })).problems.map((x) => x.code), ['Cgw.IdentityMode']);
    assert.deepEqual(resolveProfile(profile('p', { remote_id: 'branch.example.com', ike_mode: 'aggressive' })).problems, []);
    assert.deepEqual(resolveProfile(profile('p', { remote_id: 'branch.example.com', ike_version: 'ikev2' })).problems, []);
  });

  it('every parameter read', () => {
    const p = resolveProfile(
      profile('all', {
        ike_version: 'ikev2', ike_mode: 'aggressive', ike_enc_alg: '3des', ike_auth_alg: 'sha512', ike_pfs: 'group5', ike_lifetime: '3600',
        local_id: '47.96.0.1', remote_id: 'branch.example.com', ipsec_enc_alg: 'aes192', ipsec_auth_alg: 'sha384', ipsec_pfs: 'disabled',
        ipsec_lifetime: '0', enable_dpd: 'false', enable_nat_traversal: 'False',
      }),
    );
    assert.deepEqual(p.problems, []);
    assert.deepEqual(p.profile, {
      ike: { version: 'ikev2', mode: 'aggressive', encAlg: '3des', authAlg: 'sha512', pfs: 'group5', lifetime: 3600, localId: '47.96.0.1', remoteId: 'branch.example.com' },
      ipsec: { encAlg: 'aes192', authAlg: 'sha384', pfs: 'disabled', lifetime: 0 },
      enableDpd: false,
      enableNatTraversal: false,
    });
  });
});

describe('in a workbook, a site issue names its cell', () => {
  it('the planner passes the manifest\'s column cells to the rules', () => {
    const w = srow({ tunnel_cidr: '169.254.1.0/29' }, { asn: '65001' }, { line: 4 });
    const m = manifest([w]);
    m.format = 'xlsx';
    m.cells = { sheet: 'Sites', columns: { region: 'A', ip: 'B', asn: 'C', vpn_gateway_id: 'D', tunnel_cidr: 'G' } };
    const p = planManifest(m, { online: false, quota: 100 });
    const i = p.rows[0]!.issues.find((x) => x.code === 'IllegalParam.TunnelCidr')!;
    assert.equal(i.cell, 'Sites!G4');
    assert.equal(p.rows[0]!.action, 'invalid');
    assert.equal(p.rows[0]!.connection?.action, 'invalid');
  });
});
