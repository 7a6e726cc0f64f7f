// manifests/schema.json for site rows and profiles (ajv, YAML parsed as an editor parses it): the forms the loader
// and the site rules accept pass, wrong shapes and values fail, and the device list is src/device's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { load } from 'js-yaml';
import { DEVICE_TYPES } from '../../src/device/render.js';
import { parseYaml } from '../../src/load/index.js';
import { planManifest } from '../../src/plan/plan.js';
import { repoRoot } from '../helpers/paths.js';

const schema = JSON.parse(readFileSync(join(repoRoot, 'manifests', 'schema.json'), 'utf8')) as { definitions: Record<string, { enum?: unknown[] }> };
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
const validate = ajv.compile(schema);
const valid = (text: string): boolean => validate(load(text)) as boolean;

const GOOD = `defaults:
  region: cn-hangzhou
  vpn_gateway_id: vpn-bp1q8bgx4xnkm2ogj3ft8
  local_subnet: 10.0.0.0/16, 10.1.0.0/16
gateways:
  - ip: 203.0.113.10
    asn: "65001"
    remote_subnet: 192.168.1.0/24
    psk: env:PSK_HZ
    ike_profile: hq
    tunnel_cidr: 169.254.10.0/30
    local_bgp_ip: 169.254.10.2
    connection_name: hz-01
    effect_immediately: true
    ip_2: 203.0.113.11
    tunnel_cidr_2: 169.254.10.252/30
    local_bgp_ip_2: 169.254.10.253
    device: cisco-ios
  - ip: 203.0.113.20
    remote_subnet: 0.0.0.0/0
    local_subnet: 0.0.0.0/0
    psk: generate
    effect_immediately: "False"
profiles:
  hq:
    ike_version: ikev2
    ike_mode: aggressive
    ike_enc_alg: aes256
    ike_auth_alg: sha256
    ike_pfs: group14
    ike_lifetime: 3600
    local_id: 47.96.0.1
    remote_id: branch.example.com
    ipsec_enc_alg: aes
    ipsec_auth_alg: sha1
    ipsec_pfs: disabled
    ipsec_lifetime: "86400"
    enable_dpd: false
    enable_nat_traversal: "true"
  empty:
`;

test('a site manifest with every column and a profile of every parameter validates, and plans cleanly', () => {
  assert.ok(valid(GOOD), ajv.errorsText(validate.errors));
  const m = parseYaml(Buffer.from(GOOD), 'sites.yaml', { env: { PSK_HZ: 'a-key-value' } });
  const p = planManifest(m, { online: false, quota: 100, deviceTypes: new Set(DEVICE_TYPES.map((d) => d.type)) });
  assert.deepEqual(p.rows.flatMap((r) => r.issues.filter((i) => i.severity === 'error')), []);
  assert.deepEqual(p.rows.map((r) => r.connection?.action), ['create', 'create']);
});

test('wrong site values and profile shapes are rejected', () => {
  const row = (extra: string) => `- region: cn-hangzhou\n  ip: 203.0.113.1\n  vpn_gateway_id: vpn-a1\n${extra}`;
  const bad: Record<string, string> = {
    'a PSK itself': row('  psk: s3cret-key\n'),
    'a gateway id of another shape': row('  vpn_gateway_id: VPN-1\n').replace('  vpn_gateway_id: vpn-a1\n', ''),
    'a subnet with a bad prefix': row('  local_subnet: 10.0.0.0/33\n'),
    'six subnets': row('  local_subnet: 10.1.0.0/16,10.2.0.0/16,10.3.0.0/16,10.4.0.0/16,10.5.0.0/16,10.6.0.0/16\n'),
    'a tunnel CIDR not a /30': row('  tunnel_cidr: 169.254.1.0/29\n'),
    'a tunnel CIDR with host bits': row('  tunnel_cidr: 169.254.1.1/30\n'),
    'a tunnel CIDR outside 169.254/16': row('  tunnel_cidr: 10.0.0.0/30\n'),
    'an unknown device': row('  device: cisco\n'),
    'effect_immediately yes': row('  effect_immediately: "yes"\n'),
    'ip_2 not an address': row('  ip_2: 203.0.113\n'),
    'a misspelt site key': row('  remote_subent: 10.0.0.0/8\n'),
    'an unknown profile parameter': 'gateways:\n  - {region: cn-hangzhou, ip: 203.0.113.1}\nprofiles:\n  hq: {ike_enc_alog: aes}\n',
    'a profile value out of its set': 'gateways:\n  - {region: cn-hangzhou, ip: 203.0.113.1}\nprofiles:\n  hq: {ipsec_pfs: group3}\n',
    'a lifetime over a day': 'gateways:\n  - {region: cn-hangzhou, ip: 203.0.113.1}\nprofiles:\n  hq: {ike_lifetime: 86401}\n',
    'profiles as a list': 'gateways:\n  - {region: cn-hangzhou, ip: 203.0.113.1}\nprofiles: [hq]\n',
  };
  for (const [what, text] of Object.entries(bad)) assert.equal(valid(text), false, `${what} accepted`);
});

test('the schema\'s device list is the renderers\' list', () => {
  const listed = (schema.definitions.device?.enum ?? []).filter((x) => x !== null);
  assert.deepEqual([...listed].sort(), DEVICE_TYPES.map((d) => d.type).sort());
});
