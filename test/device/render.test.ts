// renderConfig: the device types, every API value mapped by every vendor, --redact-psk, and each parameter a device
// cannot express refused as an error naming the site and the parameter (never a silently different config).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEVICE_TYPES, isDeviceType, renderConfig, renderSite } from '../../src/device/render.js';
import { buildSite } from '../../src/device/site.js';
import { AUTH_ALGS, DH_GROUPS, ENC_ALGS, PFS_VALUES, type DeviceType, type RenderOptions, type RenderResult, type Site } from '../../src/device/types.js';
import { matrix, type MatrixSet, type Obj } from '../helpers/ipsec-matrix.js';
import { CHECKS } from './syntax.js';

const sets = matrix();
const set = (name: string): MatrixSet => sets.find((s) => s.name === name)!;

function site(name: string, patch?: (c: Obj) => void, cgwPatch?: (c: Obj) => void): Site {
  const s = set(name);
  const connection = structuredClone(s.connection);
  patch?.(connection);
  const customerGateways = structuredClone(s.customerGateways);
  for (const c of customerGateways) cgwPatch?.(c);
  const r = buildSite({ site: name, connection, gateway: s.gateway, customerGateways });
  if (!r.ok) throw new Error(r.issues.map((i) => i.message).join('; '));
  return r.site;
}

function refused(r: RenderResult): Array<{ parameter: string; message: string; site: string }> {
  assert.equal(r.ok, false, 'refused');
  return r.ok ? [] : r.issues;
}

function text(r: RenderResult): string {
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.issues));
  return r.ok ? r.files.map((f) => f.text).join('\n') : '';
}

test('six device types with names; unknown ones are not device types', () => {
  assert.deepEqual(
    DEVICE_TYPES.map((d) => d.type),
    ['strongswan', 'cisco-ios', 'huawei-vrp', 'h3c-comware', 'juniper-srx', 'fortigate'],
  );
  for (const d of DEVICE_TYPES) {
    assert.ok(d.name.length > 10 && d.files.length > 5, d.type);
    assert.ok(isDeviceType(d.type));
  }
  assert.equal(isDeviceType('cisco'), false);
  assert.equal(isDeviceType('__proto__'), false);
});

test('every encryption, integrity, DH and PFS value the API allows maps on every device, for both IKE versions', () => {
  for (const device of DEVICE_TYPES) {
    for (const version of ['ikev1', 'ikev2']) {
      for (let i = 0; i < 5; i++) {
        const s = site('v2-aes-sha1-g2', (c) => {
          Object.assign(c['IkeConfig'] as Obj, { IkeVersion: version, IkeEncAlg: ENC_ALGS[i], IkeAuthAlg: AUTH_ALGS[(i + 1) % 5], IkePfs: DH_GROUPS[i % 4] });
          Object.assign(c['IpsecConfig'] as Obj, { IpsecEncAlg: ENC_ALGS[(i + 2) % 5], IpsecAuthAlg: AUTH_ALGS[i], IpsecPfs: PFS_VALUES[i] });
        });
        const r = renderConfig(s, device.type);
        assert.ok(r.ok, `${device.type} ${version} #${i}: ${r.ok ? '' : JSON.stringify(r.issues)}`);
        for (const f of r.files) assert.deepEqual(CHECKS[f.name]?.(f.text) ?? [], [], `${device.type} ${f.name}`);
      }
    }
  }
});

test('the mapping tables: group2 = modp1024 and the like, in each syntax', () => {
  const s = site('v1-main-aes256-sha256-g5');
  assert.match(text(renderConfig(s, 'strongswan')), /proposals = aes256-sha256-modp1536\n[\s\S]*esp_proposals = aes256-sha256-modp1024/);
  const cisco = text(renderConfig(s, 'cisco-ios'));
  assert.match(cisco, /encryption aes 256\n hash sha256\n authentication pre-share\n group 5\n lifetime 28800/);
  assert.match(cisco, /transform-set ALIYUN-TS1 esp-aes 256 esp-sha256-hmac/);
  assert.match(cisco, /set pfs group2\n set security-association lifetime seconds 3600/);
  assert.match(text(renderConfig(s, 'juniper-srx')), /encryption-algorithm aes-256-cbc[\s\S]*dh-group group5[\s\S]*hmac-sha-256-128[\s\S]*perfect-forward-secrecy keys group2/);
  assert.match(text(renderConfig(s, 'fortigate')), /set proposal aes256-sha256\n        set dhgrp 5\n        set keylife 28800/);
  assert.match(text(renderConfig(s, 'huawei-vrp')), /encryption-algorithm aes-256\n authentication-algorithm sha2-256[\s\S]*pfs dh-group2/);
  assert.match(text(renderConfig(s, 'h3c-comware')), /encryption-algorithm aes-cbc-256\n authentication-algorithm sha256[\s\S]*pfs dh-group2/);
});

test('--redact-psk: no PSK and no BGP key in any file, a placeholder instead', () => {
  const withKey = (c: Obj) => {
    const opts = (c['TunnelOptionsSpecification'] as Obj)['TunnelOptions'] as Obj[];
    for (const t of opts) (t['TunnelBgpConfig'] as Obj)['AuthKey'] = 'BgpKeyMarker1';
  };
  for (const device of DEVICE_TYPES) {
    const s = site('dual-bgp', withKey);
    const plain = renderConfig(s, device.type);
    if (plain.ok) assert.ok(text(plain).includes(s.tunnels[0]!.psk), `${device.type} writes the PSK without the option`);
    const r = renderConfig(s, device.type, { redactPsk: true });
    if (!r.ok) {
      // Only a device that refuses the site anyway (never because of the placeholder).
      assert.ok(!plain.ok, `${device.type}: ${JSON.stringify(r.issues)}`);
      continue;
    }
    const all = text(r);
    for (const t of s.tunnels) {
      assert.ok(!all.includes(t.psk), `${device.type}: tunnel ${t.index} PSK redacted`);
      assert.ok(all.includes(`REPLACE_WITH_PSK_OF_TUNNEL_${t.index}`), `${device.type}: placeholder ${t.index}`);
    }
    assert.ok(!all.includes('BgpKeyMarker1'), `${device.type}: BGP key redacted`);
    for (const f of r.files) assert.deepEqual(CHECKS[f.name]?.(f.text) ?? [], [], `${device.type} ${f.name}`);
  }
});

test('the same site renders the same bytes (no clock, no randomness)', () => {
  for (const device of DEVICE_TYPES) {
    const a = renderConfig(site('v2-multi-cidr'), device.type);
    const b = renderConfig(site('v2-multi-cidr'), device.type);
    assert.deepEqual(a, b);
  }
});

test('PSK quoting per syntax', () => {
  const s = site('psk-hex-prefix');
  assert.match(text(renderConfig(s, 'strongswan')), new RegExp(`secret = 0x${Buffer.from('0xDEADBEEF#;$`').toString('hex')}\\n`), 'a 0x key is written hex-encoded');
  const q = site('v2-aes-sha1-g2');
  assert.ok(text(renderConfig(q, 'strongswan')).includes(`secret = "${q.tunnels[0]!.psk}"`));
  assert.ok(text(renderConfig(q, 'juniper-srx')).includes(`pre-shared-key ascii-text "${q.tunnels[0]!.psk}"`));
  assert.ok(text(renderConfig(q, 'fortigate')).includes(`set psksecret "${q.tunnels[0]!.psk}"`));
  assert.ok(text(renderConfig(q, 'cisco-ios')).includes(`pre-shared-key 0 ${q.tunnels[0]!.psk}\n`));
  assert.ok(text(renderConfig(q, 'huawei-vrp')).includes(` pre-shared-key cipher ${q.tunnels[0]!.psk}\n`));
  assert.ok(text(renderConfig(q, 'h3c-comware')).includes(`pre-shared-key plaintext ${q.tunnels[0]!.psk}\n`));
  const ask = site('psk-100-chars');
  assert.match(text(renderConfig(ask, 'cisco-ios')), /Ctrl-V/, 'Cisco: how to enter "?"');
});

function expectUnsupported(device: DeviceType, s: Site, parameter: string, pattern: RegExp, options?: RenderOptions): void {
  const list = refused(renderConfig(s, device, options));
  const hit = list.find((i) => i.parameter === parameter && pattern.test(i.message));
  assert.ok(hit, `${device}: expected ${parameter} ~ ${pattern}; got ${JSON.stringify(list)}`);
  assert.equal(hit.site, s.site);
}

test('parameters a device cannot express are errors naming the site and the parameter', () => {
  const short = site('v2-aes-sha1-g2', (c) => ((c['IkeConfig'] as Obj)['Psk'] = 'a;b$#'));
  expectUnsupported('fortigate', short, 'IkeConfig.Psk', /6 to 128/);
  expectUnsupported('fortigate', short, 'IkeConfig.Psk', /6 to 128/, { redactPsk: true }); // the placeholder hides nothing
  assert.ok(renderConfig(short, 'strongswan').ok, 'strongSwan takes a 5-character key');
  const question = site('psk-100-chars');
  expectUnsupported('huawei-vrp', question, 'IkeConfig.Psk', /"\?"/);
  expectUnsupported('huawei-vrp', question, 'IkeConfig.Psk', /"\?"/, { redactPsk: true });
  expectUnsupported('h3c-comware', question, 'IkeConfig.Psk', /"\?"/);
  expectUnsupported('cisco-ios', site('v1-aggressive-fqdn'), 'IkeConfig.RemoteId', /hostname/);
  assert.ok(renderConfig(site('v2-fqdn'), 'cisco-ios').ok, 'IKEv2 takes an FQDN identity on Cisco');
  for (const device of ['cisco-ios', 'huawei-vrp', 'h3c-comware'] as const) {
    expectUnsupported(device, site('dual-protected'), 'LocalSubnet', /dual-tunnel connection with protected data flows/);
  }
  for (const device of ['strongswan', 'juniper-srx', 'fortigate'] as const) assert.ok(renderConfig(site('dual-protected'), device).ok, device);
  const bgpProtected = site('v2-bgp', (c) => {
    c['LocalSubnet'] = '172.16.24.0/24';
    c['RemoteSubnet'] = '10.24.1.0/24';
  });
  for (const d of DEVICE_TYPES) expectUnsupported(d.type, bgpProtected, 'VpnBgpConfig.TunnelCidr', /destination routing/);
  const shortLife = site('v2-aes-sha1-g2', (c) => ((c['IpsecConfig'] as Obj)['IpsecLifetime'] = 60));
  expectUnsupported('juniper-srx', shortLife, 'IpsecConfig.IpsecLifetime', /180 to 86400/);
  expectUnsupported('fortigate', shortLife, 'IpsecConfig.IpsecLifetime', /120 to 172800/);
  expectUnsupported('cisco-ios', shortLife, 'IpsecConfig.IpsecLifetime', /120 to 2592000/);
  expectUnsupported('h3c-comware', shortLife, 'IpsecConfig.IpsecLifetime', /180 to 604800/);
  assert.ok(renderConfig(shortLife, 'huawei-vrp').ok && renderConfig(shortLife, 'strongswan').ok);
  const zero = site('v2-aes-sha1-g2', (c) => ((c['IkeConfig'] as Obj)['IkeLifetime'] = 0));
  expectUnsupported('strongswan', zero, 'IkeConfig.IkeLifetime', /1 to 86400/);
  const junosEncrypted = site('v2-aes-sha1-g2', (c) => ((c['IkeConfig'] as Obj)['Psk'] = '$9$abcdef'));
  expectUnsupported('juniper-srx', junosEncrypted, 'IkeConfig.Psk', /\$9\$/);
  const vrpCipher = site('v2-aes-sha1-g2', (c) => ((c['IkeConfig'] as Obj)['Psk'] = '%^%#abc%^%#'));
  expectUnsupported('huawei-vrp', vrpCipher, 'IkeConfig.Psk', /ciphertext/);
  const longBgpKey = site('v2-bgp', undefined, (c) => (c['AuthKey'] = 'k'.repeat(30)));
  expectUnsupported('cisco-ios', longBgpKey, 'VpnBgpConfig.AuthKey', /25 characters/);
});

test('strongSwan: two tunnels with the same identities but different PSKs cannot be told apart', () => {
  const s = site('dual-protected', (c) => {
    for (const t of (c['TunnelOptionsSpecification'] as Obj)['TunnelOptions'] as Obj[]) {
      Object.assign(t['TunnelIkeConfig'] as Obj, { LocalId: 'gw.example.com', RemoteId: 'branch.example.com' });
    }
  });
  expectUnsupported('strongswan', s, 'TunnelOptionsSpecification.TunnelOptions[2].TunnelIkeConfig.Psk', /identities/);
});

test('options: a hostile interface name or route is refused before anything is rendered', () => {
  const s = site('v2-destination');
  for (const wan of ['ge-0/0/0\nset system root-authentication plain-text-password', 'eth0; rm -rf /', 'wan1" set x', '']) {
    const list = refused(renderConfig(s, 'juniper-srx', { wanInterface: wan }));
    assert.equal(list[0]!.parameter, 'wanInterface');
  }
  for (const cidr of ['10.0.0.0/8\nip route 0.0.0.0 0.0.0.0 Null0', '10.0.0.1/8', 'x']) {
    const list = refused(renderConfig(s, 'cisco-ios', { staticRoutes: [cidr] }));
    assert.equal(list[0]!.parameter, 'staticRoutes');
  }
  const ok = text(renderConfig(s, 'cisco-ios', { staticRoutes: ['192.168.0.0/16'], wanInterface: 'Dialer1' }));
  assert.match(ok, /\nip route 192\.168\.0\.0 255\.255\.0\.0 Tunnel1\n/);
  assert.match(ok, /ip unnumbered Dialer1/);
});

test('destination routing without routes names them as commented examples, never as live routes', () => {
  const s = site('v2-destination');
  assert.match(text(renderConfig(s, 'cisco-ios')), /\n! ip route 192\.168\.0\.0 255\.255\.0\.0 Tunnel1\n/);
  assert.match(text(renderConfig(s, 'strongswan')), /\n# ip route add 192\.168\.0\.0\/16 dev xfrm-ali1 metric 100\n/);
  assert.match(text(renderConfig(s, 'huawei-vrp')), /\n# ip route-static 192\.168\.0\.0 255\.255\.0\.0 Tunnel0\/0\/1\n/);
});

test('a site name or connection field with control characters cannot break out of a comment', () => {
  const s = { ...site('v2-aes-sha1-g2'), site: 'evil\nrouter bgp 1\r\n!' };
  for (const d of DEVICE_TYPES) {
    const r = renderConfig(s, d.type);
    assert.ok(r.ok);
    for (const f of r.ok ? r.files : []) {
      assert.ok(!/^router bgp 1$/m.test(f.text), `${d.type} ${f.name}`);
      assert.deepEqual(CHECKS[f.name]?.(f.text) ?? [], [], `${d.type} ${f.name}`);
    }
  }
});

test('renderSite passes the model issues through', () => {
  const s = set('v2-aes-sha1-g2');
  const r = renderSite({ site: 'x', connection: { ...s.connection, LocalSubnet: 'bad' }, gateway: s.gateway, customerGateways: s.customerGateways }, 'strongswan');
  assert.equal(r.ok, false);
  assert.equal(r.ok ? '' : r.issues[0]!.parameter, 'LocalSubnet');
});
