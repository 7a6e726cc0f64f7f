// The plan of site rows, printed: each part of a row with its action and reason (text), each part as an object (JSON),
// per-resource counts, the connections in the closing line; a plan without sites prints as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_FLAGS, planManifest } from '../../src/plan/plan.js';
import { planToJson, renderPlanText } from '../../src/report/plan-output.js';
import { conn, fp, manifest, prior, priors, srow, vco, vpnGw } from '../plan/builders.js';

const K = 'cn-hangzhou/203.0.113.10';

function sitePlan() {
  const rows = [
    srow({ ip_2: '203.0.113.11' }, { ip: '203.0.113.10', name: 'a' }, { line: 2 }),
    srow({ vpn_gateway_id: 'vpn-new0000000000000000001' }, { ip: '203.0.113.20', name: 'b' }, { line: 3 }),
    srow({ remote_subnet: '192.168.3.0/24' }, { ip: '203.0.113.30', name: 'c' }, { line: 4 }),
  ];
  const prs = priors(
    prior('cn-hangzhou/203.0.113.20', { name: 'b', gatewayId: 'cgw-b', connection: conn({ connectionId: 'vco-b', customerGatewayIds: ['cgw-b'] }) }),
    prior('cn-hangzhou/203.0.113.30', { name: 'c', gatewayId: 'cgw-c', connection: conn({ connectionId: 'vco-c', customerGatewayIds: ['cgw-c'] }) }),
  );
  return planManifest(manifest(rows), {
    online: true,
    quota: 100,
    regions: new Set(['cn-hangzhou']),
    inventory: new Map([['cn-hangzhou', [{ id: 'cgw-b', regionId: 'cn-hangzhou', ip: '203.0.113.20', name: 'b', createTime: 1, tags: [] }, { id: 'cgw-c', regionId: 'cn-hangzhou', ip: '203.0.113.30', name: 'c', createTime: 1, tags: [] }]]]),
    vpn: new Map([
      ['cn-hangzhou', { gateways: [vpnGw({ disasterRecoveryInternetIp: '47.96.0.2' }), vpnGw({ id: 'vpn-new0000000000000000001', internetIp: '47.96.0.5' })], connections: [vco('vco-b', 'cgw-b'), vco('vco-c', 'cgw-c', { remoteSubnet: ['192.168.3.0/24'] })] }],
    ]),
    prior: prs,
    fingerprint: fp,
    flags: NO_FLAGS,
  });
}

test('text: one line naming each part\'s action, then each part with its reason and changes; the resources; the connections', () => {
  const p = sitePlan();
  // a: new, dual tunnel; b: its VPN gateway changed (blocked without --allow-replace); c: up to date.
  const text = renderPlanText(p, { color: false });
  assert.match(text, /\nResources:\n  cgw   1 create, 1 skip, 1 blocked  \(customer gateways\)\n  cgw2  1 create  \(second customer gateways, ip_2\)\n  vco   1 create, 1 skip, 1 blocked  \(IPsec connections\)\n/);
  assert.match(text, /  sites\.csv:2  cn-hangzhou\/203\.0\.113\.10  create cgw \+ create cgw2 \+ create vco\n      cgw   new gateway\n      cgw2  new gateway\n      vco   new connection on vpn-hz0000000000000000001, after its customer gateways \(ip and ip_2\) are created in this run\n/);
  assert.match(
    text,
    /  sites\.csv:3  cn-hangzhou\/203\.0\.113\.20  blocked cgw \+ blocked vco\n      cgw   up to date \(cgw-b\); not carried out while the connection is blocked \(it needs --allow-replace\)\n      vco   the VPN gateway changed from vpn-hz0000000000000000001: delete vco-b, then create the connection on vpn-new0000000000000000001; pass --allow-replace to delete and create\n          vpn_gateway_id: vpn-hz0000000000000000001 -> vpn-new0000000000000000001\n/,
  );
  assert.doesNotMatch(text, /203\.0\.113\.30  /, 'an up-to-date site is not listed');
  assert.match(text, /\n1 blocked row\(s\): apply refuses to run/);
});

test('text: an up-to-date site is not listed; an update lists its changes under the connection; the closing line counts connections', () => {
  const rows = [srow({ remote_subnet: '192.168.2.0/24' }, { ip: '203.0.113.10', name: 'a' }), srow({}, { ip: '203.0.113.20', name: 'b' }, { line: 3 })];
  const p = planManifest(manifest(rows), {
    online: true,
    quota: 100,
    regions: new Set(['cn-hangzhou']),
    inventory: new Map([['cn-hangzhou', [{ id: 'cgw-a', regionId: 'cn-hangzhou', ip: '203.0.113.10', name: 'a', createTime: 1, tags: [] }, { id: 'cgw-b', regionId: 'cn-hangzhou', ip: '203.0.113.20', name: 'b', createTime: 1, tags: [] }]]]),
    vpn: new Map([['cn-hangzhou', { gateways: [vpnGw()], connections: [vco('vco-a', 'cgw-a'), vco('vco-b', 'cgw-b')] }]]),
    prior: priors(
      prior(K, { name: 'a', gatewayId: 'cgw-a', connection: conn({ connectionId: 'vco-a', customerGatewayIds: ['cgw-a'] }) }),
      prior('cn-hangzhou/203.0.113.20', { name: 'b', gatewayId: 'cgw-b', line: 3, connection: conn({ connectionId: 'vco-b', customerGatewayIds: ['cgw-b'] }) }),
    ),
    fingerprint: fp,
  });
  const text = renderPlanText(p, { color: false });
  assert.match(text, /  sites\.csv:2  cn-hangzhou\/203\.0\.113\.10  skip cgw \+ update vco\n      cgw   up to date \(cgw-a\)\n      vco   change remote_subnet of vco-a in place\n          remote_subnet: 192\.168\.1\.0\/24 -> 192\.168\.2\.0\/24\n/);
  assert.doesNotMatch(text, /203\.0\.113\.20  skip/);
  assert.match(text, /No errors\. 2 skip\. Connections: 1 update\.\n$/);
});

test('JSON: each part with its key, action, reason and decision fields; per-resource counts', () => {
  const j = planToJson(sitePlan());
  assert.deepEqual(j.rows[0]!.gateway2, { key: 'cn-hangzhou/203.0.113.11', action: 'create', reason: 'new gateway', generation: 1 });
  assert.deepEqual(Object.keys(j.rows[0]!.connection!), ['key', 'action', 'reason', 'generation']);
  assert.equal(j.rows[1]!.connection?.action, 'blocked');
  assert.equal(j.rows[1]!.connection?.needs, '--allow-replace');
  assert.equal(j.rows[1]!.connection?.existingId, 'vco-b');
  assert.equal(j.rows[1]!.connection?.generation, 2);
  assert.deepEqual(j.resources?.vco, { rows: 3, create: 1, adopt: 0, skip: 1, invalid: 0, resume: 0, retry: 0, update: 0, replace: 0, delete: 0, blocked: 1, notInRun: 0 });
  assert.deepEqual(Object.keys(j).slice(0, 10), ['version', 'command', 'manifest', 'target', 'online', 'flags', 'rows', 'summary', 'resources', 'quota']);
});

test('a plan without sites: no resources, no parts, the text has no Resources block', () => {
  const w = srow();
  delete w.site;
  const p = planManifest(manifest([w]), { online: false, quota: 100 });
  const j = planToJson(p);
  assert.equal('resources' in j, false);
  assert.equal('connection' in j.rows[0]!, false);
  assert.doesNotMatch(renderPlanText(p, { color: false }), /Resources:|Connections:/);
});
