// buildSite: the API's answers (DescribeVpnConnection / DescribeVpnGateway / DescribeCustomerGateway, shaped and typed
// as the real API answers them) mirrored to the branch's point of view, and every bad field an issue value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSite, type SiteInput } from '../../src/device/site.js';
import { matrix, type Obj } from '../helpers/ipsec-matrix.js';

const sets = matrix();
const byName = (name: string) => {
  const s = sets.find((x) => x.name === name);
  if (!s) throw new Error(name);
  return s;
};
function input(name: string, patch?: (c: Obj) => void): SiteInput {
  const s = byName(name);
  const connection = structuredClone(s.connection);
  patch?.(connection);
  return { site: `site:${name}`, connection, gateway: structuredClone(s.gateway), customerGateways: structuredClone(s.customerGateways) };
}
function ok(i: SiteInput) {
  const r = buildSite(i);
  if (!r.ok) throw new Error(r.issues.map((x) => x.message).join('; '));
  return r;
}
function issues(i: SiteInput) {
  const r = buildSite(i);
  assert.equal(r.ok, false, 'refused');
  return r.ok ? [] : r.issues;
}

test('single tunnel: addresses, subnets and identities are mirrored', () => {
  const { site } = ok(input('v2-multi-cidr'));
  const t = site.tunnels[0]!;
  assert.equal(site.dual, false);
  assert.equal(site.routing, 'protected');
  assert.deepEqual(site.remoteSubnets, ['172.16.15.0/24', '172.17.15.0/24', '172.18.15.0/24'], 'the VPC (LocalSubnet) is remote');
  assert.deepEqual(site.localSubnets, ['10.15.1.0/24', '10.15.2.0/24'], 'the branch (RemoteSubnet) is local');
  assert.equal(t.localAddress, '198.18.0.15', 'the customer gateway is this device');
  assert.equal(t.remoteAddress, '198.19.0.15', 'the VPN gateway is the peer');
  assert.deepEqual(t.ike.localId, { kind: 'ip', value: '198.18.0.15' }, 'RemoteId names this device');
  assert.deepEqual(t.ike.remoteId, { kind: 'ip', value: '198.19.0.15' }, 'LocalId names the gateway');
  assert.equal(t.ike.version, 'ikev2');
});

test('FQDN identities swap too; values are matched case-insensitively; numbers as strings are accepted', () => {
  const { site } = ok(
    input('v1-aggressive-fqdn', (c) => {
      const ike = c['IkeConfig'] as Obj;
      ike['IkeVersion'] = 'Ikev1'; // the Japanese API reference writes it so
      ike['IkeLifetime'] = '28800';
    }),
  );
  const t = site.tunnels[0]!;
  assert.deepEqual(t.ike.localId, { kind: 'fqdn', value: 'branch11.example.com' });
  assert.deepEqual(t.ike.remoteId, { kind: 'fqdn', value: 'vpngw.example.com' });
  assert.equal(t.ike.mode, 'aggressive');
  assert.equal(t.ike.version, 'ikev1');
  assert.equal(t.ike.lifetime, 28800);
});

test('absent identities default to the two public IPs; absent fields take the API defaults', () => {
  const { site } = ok(
    input('api-defaults', (c) => {
      c['IkeConfig'] = { Psk: 'abcdefgh12' };
      delete c['IpsecConfig'];
      delete c['EnableDpd'];
    }),
  );
  const t = site.tunnels[0]!;
  assert.deepEqual([t.ike.version, t.ike.mode, t.ike.encryption, t.ike.integrity, t.ike.dhGroup, t.ike.lifetime], ['ikev1', 'main', 'aes', 'md5', 'group2', 86400]);
  assert.deepEqual(t.ipsec, { encryption: 'aes', integrity: 'md5', pfs: 'group2', lifetime: 86400 });
  assert.equal(t.ike.localId.value, '198.18.0.14');
  assert.equal(t.ike.remoteId.value, '198.19.0.14');
  assert.equal(t.dpd, true);
});

test('IkeConfig given as a JSON string (as CreateVpnConnection takes it) is read too', () => {
  const { site } = ok(input('v2-fqdn', (c) => (c['IkeConfig'] = JSON.stringify(c['IkeConfig']))));
  assert.equal(site.tunnels[0]!.ike.remoteId.value, 'gw13.example.net');
});

test('dual tunnel: master first whatever the order, per-tunnel PSKs, customer gateways and BGP', () => {
  const { site } = ok(
    input('dual-bgp', (c) => {
      const opts = (c['TunnelOptionsSpecification'] as Obj)['TunnelOptions'] as Obj[];
      opts.reverse();
    }),
  );
  assert.equal(site.dual, true);
  assert.equal(site.routing, 'destination');
  const [t1, t2] = site.tunnels;
  assert.equal(t1!.role, 'master');
  assert.equal(t1!.tunnelId, 'tun-m25a');
  assert.equal(t1!.localAddress, '198.18.0.25');
  assert.equal(t2!.localAddress, '198.18.1.25', 'the second customer gateway');
  assert.equal(t2!.remoteAddress, '198.19.1.25');
  assert.notEqual(t1!.psk, t2!.psk);
  assert.deepEqual(t1!.bgp, { localAsn: 65025, remoteAsn: 45104, tunnelCidr: '169.254.25.0/30', localIp: '169.254.25.2', remoteIp: '169.254.25.1' });
  assert.equal(t2!.bgp!.remoteIp, '169.254.25.5');
  assert.equal(t1!.ike.lifetime, 86400, 'string-typed tunnel lifetimes');
  assert.equal(t1!.dpd, true, 'string-typed EnableDpd');
});

test('dual tunnel: a tunnel without InternetIp takes the gateway IP of its role', () => {
  const { site } = ok(
    input('dual-protected', (c) => {
      for (const t of (c['TunnelOptionsSpecification'] as Obj)['TunnelOptions'] as Obj[]) delete t['InternetIp'];
    }),
  );
  assert.equal(site.tunnels[0]!.remoteAddress, '198.19.0.21');
  assert.equal(site.tunnels[1]!.remoteAddress, '198.19.1.21', 'DisasterRecoveryInternetIp for the slave');
});

test('BGP: PeerBgpIp is derived from the /30 when absent; an asdot LocalAsn becomes asplain', () => {
  const { site } = ok(
    input('v2-bgp', (c) => {
      const b = c['VpnBgpConfig'] as Obj;
      delete b['PeerBgpIp'];
      b['LocalAsn'] = '1.10';
    }),
  );
  assert.equal(site.tunnels[0]!.bgp!.localIp, '169.254.24.2');
  assert.equal(site.tunnels[0]!.bgp!.remoteAsn, 65546);
});

test('BGP without the customer gateway ASN is MissingParam-like, naming the customer gateway', () => {
  const i = input('v2-bgp', (c) => delete (c['VpnBgpConfig'] as Obj)['PeerAsn']);
  delete (i.customerGateways[0] as Obj)['Asn'];
  const list = issues(i);
  assert.ok(list.some((x) => x.parameter === 'CustomerGateway.Asn' && x.code === 'Device.MissingValue'), JSON.stringify(list));
});

test('every bad field is an issue naming the site and the parameter as the API spells it', () => {
  const list = issues(
    input('v2-aes-sha1-g2', (c) => {
      const ike = c['IkeConfig'] as Obj;
      ike['IkeEncAlg'] = 'aes128';
      ike['IkePfs'] = 'group19';
      ike['IkeLifetime'] = 90000;
      ike['LocalId'] = 'gw "quoted"';
      (c['IpsecConfig'] as Obj)['IpsecPfs'] = 'enabled';
      c['LocalSubnet'] = '10.0.0.0/33,172.16.0.0/12';
      c['EnableDpd'] = 'yes';
    }),
  );
  const params = list.map((x) => x.parameter).sort();
  assert.deepEqual(params, ['EnableDpd', 'IkeConfig.IkeEncAlg', 'IkeConfig.IkeLifetime', 'IkeConfig.IkePfs', 'IkeConfig.LocalId', 'IpsecConfig.IpsecPfs', 'LocalSubnet']);
  assert.ok(list.every((x) => x.site === 'site:v2-aes-sha1-g2' && x.severity === 'error'));
  assert.match(list.find((x) => x.parameter === 'IkeConfig.IkeEncAlg')!.message, /aes, aes192, aes256, des, 3des/);
});

test('a PSK the API could not hold is refused without being quoted', () => {
  for (const bad of ['has space', 'quote"d', 'back\\slash', 'x'.repeat(101), 'tab\tkey']) {
    const list = issues(input('v2-aes-sha1-g2', (c) => ((c['IkeConfig'] as Obj)['Psk'] = bad)));
    const p = list.find((x) => x.parameter === 'IkeConfig.Psk');
    assert.ok(p, bad);
    assert.ok(!JSON.stringify(list).includes(bad), 'the PSK is not in any issue');
  }
  const missing = issues(input('v2-aes-sha1-g2', (c) => delete (c['IkeConfig'] as Obj)['Psk']));
  assert.match(missing[0]!.message, /DescribeVpnConnection/);
});

test('a TunnelCidr that is not a /30 in 169.254.0.0/16, or a LocalBgpIp outside it, is refused', () => {
  for (const [cidr, ip] of [
    ['169.254.24.0/29', '169.254.24.1'],
    ['10.0.0.0/30', '10.0.0.1'],
    ['169.254.24.0/30', '169.254.24.3'],
  ]) {
    const list = issues(
      input('v2-bgp', (c) => {
        (c['VpnBgpConfig'] as Obj)['TunnelCidr'] = cidr;
        (c['VpnBgpConfig'] as Obj)['LocalBgpIp'] = ip;
        delete (c['VpnBgpConfig'] as Obj)['PeerBgpIp'];
      }),
    );
    assert.ok(list.some((x) => x.parameter.startsWith('VpnBgpConfig.')), `${cidr} ${ip}`);
  }
});

test('a dual-tunnel answer with other than two tunnels, or not an object at all, is refused', () => {
  const one = issues(input('dual-bgp', (c) => ((c['TunnelOptionsSpecification'] as Obj)['TunnelOptions'] as Obj[]).pop()));
  assert.equal(one[0]!.parameter, 'TunnelOptionsSpecification.TunnelOptions');
  const twoMasters = issues(input('dual-bgp', (c) => {
    for (const t of (c['TunnelOptionsSpecification'] as Obj)['TunnelOptions'] as Obj[]) t['Role'] = 'master';
  }));
  assert.match(twoMasters[0]!.message, /one master and one slave/);
  assert.equal(buildSite({ site: 'x', connection: 'nope', gateway: {}, customerGateways: [] }).ok, false);
  assert.equal(buildSite({ site: 'x', connection: null, gateway: null, customerGateways: [] }).ok, false);
});

test('CIDRs with host bits set are normalised with a warning; a bare address is a /32', () => {
  const r = ok(input('v2-aes-sha1-g2', (c) => (c['LocalSubnet'] = '172.16.6.9/24,192.168.1.1')));
  assert.deepEqual(r.site.remoteSubnets, ['172.16.6.0/24', '192.168.1.1/32']);
  assert.equal(r.warnings.length, 1);
  assert.equal(r.warnings[0]!.parameter, 'LocalSubnet');
});

test('destination routing only when both sides are exactly 0.0.0.0/0', () => {
  assert.equal(ok(input('v2-destination')).site.routing, 'destination');
  assert.equal(ok(input('v2-destination', (c) => (c['RemoteSubnet'] = '10.0.0.0/8'))).site.routing, 'protected');
});
