// Golden files (issue 19 item 5): the golden sets of the parameter matrix (test/helpers/ipsec-matrix.ts, the same
// matrix the negotiation test proves with strongSwan) rendered for every device type and compared byte for byte with
// test/fixtures/device/<device>/<set>/ (a refused set keeps its issues in ISSUES.txt). Regenerate after a deliberate
// change with CGW_UPDATE_GOLDEN=1 and review the diff against the guides below.
//
// Guides the renderers and these files were checked against, construct by construct:
// - strongSwan: AlibabaCloudDocs/vpn intl.en-US/User Guide/Configure IPsec-VPN connections/Configure local gateways/
//   Configure strongSwan.md (ike=aes-sha1-modp1024, lifetimes, ids); https://www.alibabacloud.com/help/en/vpn/
//   sub-product-ipsec-vpn/user-guide/configure-strongswan (dual tunnel, XFRM interfaces, BGP; strongSwan 5.8+,
//   kernel 4.19+); swanctl.conf(5) of strongSwan 5.9.8 (proposals, rekey/reauth/over/life times, if_id_in/out,
//   secrets with 0x/0s prefixes). Proven by negotiation in negotiation.test.ts.
// - Cisco IOS: AlibabaCloudDocs/vpn .../Load the IPsec-VPN configuration to a Cisco firewall device.md (crypto isakmp
//   policy, transform-set esp-aes esp-sha-hmac, crypto map set peer/transform-set/pfs/match address, crypto ikev2
//   proposal/policy/keyring "pre-shared-key 0", ikev2 profile match identity remote address / identity local address
//   / authentication pre-share / keyring local, set ikev2-profile, ip route to the VPC); Cisco IOS Security
//   Configuration Guide, "IPsec Virtual Tunnel Interfaces" (tunnel mode ipsec ipv4, tunnel protection ipsec profile).
// - Huawei VRP: AlibabaCloudDocs/vpn .../Load the IPsec-VPN configuration to a Huawei firewall device.md (parameters
//   per field, static route to the VPC via the gateway's public IP); Huawei AR "IPSec Configuration" (ike proposal,
//   ike peer, ipsec proposal, ipsec policy isakmp, ipsec profile on Tunnel interfaces with tunnel-protocol ipsec).
// - H3C Comware: AlibabaCloudDocs/vpn .../Configure H3C firewall.md (protected data stream, IKE proposal, IPsec
//   policy); H3C Comware 7 IKE / IKEv2 / IPsec command references (ike keychain/profile, ikev2 keychain/profile,
//   ipsec transform-set, ipsec policy isakmp, ipsec profile, interface Tunnel mode ipsec).
// - Juniper SRX: AlibabaCloudDocs/vpn .../Configure an IPsec-VPN connection through an SRX series Services Gateway
//   firewall device from Juniper.md (ike policy mode/pre-shared-key ascii-text, ike gateway address/
//   external-interface/version, ipsec vpn bind-interface st0.0 / establish-tunnels immediately, perfect-forward-secrecy
//   keys, zone policies); Juniper "[edit security ike]" and "[edit security ipsec]" hierarchies (proposal
//   algorithms, dead-peer-detection, local-identity/remote-identity, no-nat-traversal) and "Route-Based IPsec VPNs".
// - FortiGate: Fortinet FortiOS 7.0 Administration Guide, "IKEv2 IPsec site-to-site VPN to an AWS VPN gateway"
//   (docs.fortinet.com/document/fortigate/7.0.8/administration-guide/31670: phase1-interface, phase2-interface,
//   tunnel interface ip/remote-ip, router bgp neighbor, firewall policy) and the FortiOS CLI reference for
//   phase1-interface (ike-version, mode, peertype/peerid, localid-type, dpd, nattraversal, keylife).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_TYPES, renderSite } from '../../src/device/render.js';
import type { DeviceIssue } from '../../src/device/types.js';
import { matrix } from '../helpers/ipsec-matrix.js';
import { fixture } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { CHECKS } from './syntax.js';

const UPDATE = process.env['CGW_UPDATE_GOLDEN'] === '1';
const GOLDEN = matrix().filter((s) => s.golden);

function issuesText(issues: DeviceIssue[]): string {
  return issues.map((i) => `${i.severity} ${i.code} ${i.parameter}: ${i.message}`).join('\n') + '\n';
}

for (const device of DEVICE_TYPES) {
  test(`golden files: ${device.type}`, async (t) => {
    for (const set of GOLDEN) {
      await t.test(set.name, () => {
        const dir = fixture('device', device.type, set.name);
        const r = renderSite({ site: set.name, connection: set.connection, gateway: set.gateway, customerGateways: set.customerGateways }, device.type);
        const files: Record<string, string> = r.ok ? Object.fromEntries(r.files.map((f) => [f.name, f.text])) : { 'ISSUES.txt': issuesText(r.issues) };
        if (UPDATE) {
          rmSync(dir, { recursive: true, force: true });
          mkdirSync(dir, { recursive: true });
          for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
        }
        assert.ok(existsSync(dir), `${dir} exists (run with CGW_UPDATE_GOLDEN=1 to create it)`);
        assert.deepEqual(readdirSync(dir).sort(), Object.keys(files).sort(), 'the same files');
        for (const [name, text] of Object.entries(files)) {
          assert.equal(text, readFileSync(join(dir, name), 'utf8'), `${device.type}/${set.name}/${name} matches the golden file`);
          const check = CHECKS[name];
          if (check) assert.deepEqual(check(text), [], `${name} passes the syntax check`);
        }
      });
    }
  });
}

test('the XFRM interface scripts are valid sh (sh -n)', () => {
  const tmp = tempDir();
  try {
    let checked = 0;
    for (const set of matrix()) {
      const r = renderSite({ site: set.name, connection: set.connection, gateway: set.gateway, customerGateways: set.customerGateways }, 'strongswan');
      assert.ok(r.ok, set.name);
      const script = r.files.find((f) => f.name === 'xfrm-interfaces.sh');
      if (!script) continue;
      const path = tmp.path(`${set.name}.sh`);
      writeFileSync(path, script.text);
      const res = spawnSync('sh', ['-n', path], { encoding: 'utf8' });
      assert.equal(res.status, 0, `${set.name}: ${res.stderr}`);
      checked++;
    }
    assert.ok(checked >= 4, `checked ${checked} scripts`);
  } finally {
    tmp.cleanup();
  }
});

test('the syntax checks catch what they look for', () => {
  assert.notDeepEqual(CHECKS['fortigate.conf']!('config vpn ipsec phase1-interface\n    edit "x"\n        set psksecret "a\n    next\nend\n'), []);
  assert.notDeepEqual(CHECKS['fortigate.conf']!('config x\n    edit 1\nend\n'), []);
  assert.notDeepEqual(CHECKS['juniper-srx.set']!('set security ike policy p pre-shared-key ascii-text "a"b"\n'), []);
  assert.notDeepEqual(CHECKS['juniper-srx.set']!('delete security\n'), []);
  assert.notDeepEqual(CHECKS['swanctl.conf']!('connections {\n  a {\n    secret = ab#c\n  }\n}\n'), []);
  assert.notDeepEqual(CHECKS['swanctl.conf']!('connections {\n  a {\n}\n'), []);
  assert.notDeepEqual(CHECKS['cisco-ios.txt']!(' encryption aes\nend\n'), []);
  assert.notDeepEqual(CHECKS['huawei-vrp.txt']!('#\n pre-shared-key cipher x\nreturn\n'), []);
  assert.deepEqual(CHECKS['huawei-vrp.txt']!('#\nike peer a\n pre-shared-key cipher x\n#\nreturn\n'), []);
});
