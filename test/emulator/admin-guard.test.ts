// The admin API answers only its owner: a token, the emulator's own Host, no cross-site requests; no secret in the dump.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostAllowed } from '../../src/emulator/admin.js';
import { startEmulator } from '../../src/emulator/index.js';
import { DUAL_GW, REGION, VPN_FIXTURES, admin, call, emulator, raw } from './util.js';

const ENDPOINTS: Array<['GET' | 'POST', string]> = [
  ['GET', '/__emulator/state'],
  ['GET', '/__emulator/stats'],
  ['POST', '/__emulator/config'],
  ['POST', '/__emulator/accounts/1234567890123456'],
  ['POST', '/__emulator/forget-tokens'],
  ['POST', '/__emulator/reset-stats'],
  ['POST', '/__emulator/vpn-gateways'],
  ['POST', '/__emulator/vpn-connections/vco-abc'],
];

test('every admin endpoint refuses a request without the token, or with a wrong one (401), and changes nothing', async (t) => {
  const emu = await emulator();
  t.after(() => emu.close());
  for (const [method, path] of ENDPOINTS) {
    const body = method === 'POST' ? JSON.stringify({ faults: { reset: 1 } }) : undefined;
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789', `Basic ${emu.adminToken}`, `Bearer ${emu.adminToken}x`]) {
      const r = await raw(emu, {
        method,
        path,
        body,
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      });
      assert.equal(r.status, 401, `${method} ${path} with ${authorization ?? 'no authorization'}`);
      assert.match(String(r.headers['www-authenticate']), /^Bearer /);
      assert.ok(!r.body.includes('accounts'), 'no state in a refusal');
    }
  }
  // Nothing took effect: the fault config a refused POST carried is not applied.
  assert.equal((await call(emu, 'DescribeRegions', {})).Regions.Region.length > 0, true);
  assert.equal((await admin(emu, 'GET', '/__emulator/stats')).status, 200);
});

test('a Host header that does not name the emulator is refused even with the token (DNS rebinding)', async (t) => {
  const emu = await emulator();
  t.after(() => emu.close());
  const port = emu.port;
  for (const host of [`attacker.example:${port}`, `rebind.attacker.example:${port}`, `127.0.0.1:${port + 1}`, `localhost`]) {
    const r = await admin(emu, 'GET', '/__emulator/state', undefined, { host });
    assert.equal(r.status, 403, `Host: ${host}`);
  }
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
    assert.equal((await admin(emu, 'GET', '/__emulator/stats', undefined, { host })).status, 200, `Host: ${host}`);
  }
  assert.equal(hostAllowed(`[::1]:${port}`, '127.0.0.1', port), true);
  assert.equal(hostAllowed(`10.1.2.3:${port}`, '0.0.0.0', port), true, 'on a wildcard address any IP literal: rebinding needs a name');
  assert.equal(hostAllowed(`[fd00::1]:${port}`, '::', port), true);
  assert.equal(hostAllowed(`10.1.2.3:${port}`, '127.0.0.1', port), false, 'not the listening address');
  assert.equal(hostAllowed(`10.1.2.3:${port}`, '10.1.2.3', port), true);
  assert.equal(hostAllowed(`127.0.0.2:${port}`, '10.1.2.3', port), true, 'loopback');
  assert.equal(hostAllowed(`emu.internal:${port}`, 'emu.internal', port), true, 'the --host name itself');
  assert.equal(hostAllowed(`emu.internal:${port}`, '127.0.0.1', port), false);
  assert.equal(hostAllowed(undefined, '127.0.0.1', port), false);
  // The API itself still answers whatever host name a client uses (--endpoint http://some-name:port).
  assert.equal((await raw(emu, { path: '/', headers: { host: `any.name:${port}` } })).status, 400);
});

test('cross-site requests are refused: text/plain or form POSTs, foreign Origins, Sec-Fetch-Site cross-site', async (t) => {
  const emu = await emulator();
  t.after(() => emu.close());
  const auth = { authorization: `Bearer ${emu.adminToken}` };
  const body = JSON.stringify({ faults: { reset: 1 } });
  // What a web page can send without a preflight: text/plain, form encodings, no content type.
  for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
    const r = await raw(emu, { method: 'POST', path: '/__emulator/config', body, headers: { ...auth, ...(ct ? { 'content-type': ct } : {}) } });
    assert.equal(r.status, 415, String(ct));
  }
  for (const origin of ['http://attacker.example', 'null', `http://localhost:${emu.port + 1}`, `https://127.0.0.1:${emu.port}`]) {
    const r = await admin(emu, 'POST', '/__emulator/config', { faults: { reset: 1 } }, { origin });
    assert.equal(r.status, 403, origin);
  }
  assert.equal((await admin(emu, 'GET', '/__emulator/state', undefined, { 'sec-fetch-site': 'cross-site' })).status, 403);
  assert.equal((await admin(emu, 'GET', '/__emulator/state', undefined, { 'sec-fetch-site': 'same-site' })).status, 403);
  // The emulator's own origin is fine (its own page, or a tool that sends Origin).
  assert.equal((await admin(emu, 'GET', '/__emulator/stats', undefined, { origin: `http://127.0.0.1:${emu.port}` })).status, 200);
  assert.equal((await admin(emu, 'GET', '/__emulator/stats', undefined, { 'sec-fetch-site': 'same-origin' })).status, 200);
  assert.equal((await admin(emu, 'POST', '/__emulator/config', { faults: {} }, { 'content-type': 'application/json; charset=utf-8' })).status, 200);
  assert.equal((await raw(emu, { method: 'DELETE', path: '/__emulator/state', headers: auth })).status, 405);
  // None of the refused POSTs set a fault.
  assert.ok((await call(emu, 'DescribeRegions', {})).RequestId);
});

test('the state dump (HTTP and in-process) shows AuthKeys and PSKs as fingerprints and lengths, never in clear', async (t) => {
  const AUTH_KEY = 'DumpMarkerAuthKey42';
  const PSK = 'DumpMarkerPsk#1';
  const PSK2 = 'DumpMarkerPsk#2';
  const emu = await emulator({ vpnGateways: VPN_FIXTURES, vpnTaskMs: 0 });
  t.after(() => emu.close());
  const cgw = await call(emu, 'CreateCustomerGateway', { IpAddress: '203.0.113.9', Asn: '65001', AuthKey: AUTH_KEY });
  await call(emu, 'CreateVpnConnection', {
    VpnGatewayId: DUAL_GW,
    LocalSubnet: '10.0.0.0/16',
    RemoteSubnet: '192.168.9.0/24',
    'TunnelOptionsSpecification.1.CustomerGatewayId': cgw.CustomerGatewayId,
    'TunnelOptionsSpecification.1.Role': 'master',
    'TunnelOptionsSpecification.1.TunnelIkeConfig.Psk': PSK,
    'TunnelOptionsSpecification.2.CustomerGatewayId': cgw.CustomerGatewayId,
    'TunnelOptionsSpecification.2.Role': 'slave',
    'TunnelOptionsSpecification.2.TunnelIkeConfig.Psk': PSK2,
  });
  const single = await call(emu, 'CreateCustomerGateway', { IpAddress: '203.0.113.10' });
  await call(emu, 'CreateVpnConnection', {
    VpnGatewayId: 'vpn-single0000000000000',
    CustomerGatewayId: single.CustomerGatewayId,
    LocalSubnet: '10.1.0.0/16',
    RemoteSubnet: '192.168.10.0/24',
    IkeConfig: JSON.stringify({ Psk: PSK }),
  });
  const http = await admin(emu, 'GET', '/__emulator/state');
  assert.equal(http.status, 200);
  for (const text of [http.body, JSON.stringify(emu.state())]) {
    for (const secret of [AUTH_KEY, PSK, PSK2]) assert.ok(!text.includes(secret), 'no secret in clear');
    assert.ok(text.includes(emu.fingerprint(AUTH_KEY)));
    assert.ok(text.includes(emu.fingerprint(PSK)) && text.includes(emu.fingerprint(PSK2)));
  }
  const region = http.json.accounts['1234567890123456'].regions[REGION];
  assert.deepEqual(region.gateways[0].AuthKey, { fingerprint: emu.fingerprint(AUTH_KEY), length: AUTH_KEY.length });
  assert.deepEqual(region.vpnConnections[0].Tunnels[0].Ike.Psk, { fingerprint: emu.fingerprint(PSK), length: PSK.length });
  assert.match(emu.fingerprint('x'), /^hmac-sha256:[0-9a-f]{16}$/);
  // The fingerprint is keyed per emulator: another one (or an attacker's dictionary) gets other values.
  const other = await emulator();
  t.after(() => other.close());
  assert.notEqual(other.fingerprint(AUTH_KEY), emu.fingerprint(AUTH_KEY));
  // The API itself still answers the secrets, as the real one does.
  const described = await call(emu, 'DescribeCustomerGateway', { CustomerGatewayId: cgw.CustomerGatewayId });
  assert.equal(described.AuthKey, AUTH_KEY);
});

test('the admin token: generated per start (or given), returned by startEmulator, checked strictly', async (t) => {
  const a = await emulator();
  const b = await emulator();
  t.after(() => Promise.all([a.close(), b.close()]));
  assert.match(a.adminToken, /^[A-Za-z0-9_-]{32}$/);
  assert.notEqual(a.adminToken, b.adminToken);
  assert.equal((await raw(a, { path: '/__emulator/stats', headers: { authorization: `Bearer ${b.adminToken}` } })).status, 401);
  const given = await emulator({ adminToken: 'bench-token-0123456789' });
  t.after(() => given.close());
  assert.equal(given.adminToken, 'bench-token-0123456789');
  assert.equal((await admin(given, 'GET', '/__emulator/stats')).status, 200);
  await assert.rejects(startEmulator({ adminToken: 'short' }), /adminToken must be 16-200/);
});
