// Wire-level behaviour over raw HTTP: GET/POST, XML, common errors, bad encodings, huge bodies, admin API; never crashes.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { REGION, admin, emulator, raw, signedQuery } from './util.js';

test('GET and form POST; XML when Format=XML; common error codes', async (t) => {
  const emu = await emulator();
  t.after(() => emu.close());
  const ok = await raw(emu, { path: `/any/path?${signedQuery({ Action: 'DescribeCustomerGateways', RegionId: REGION })}` });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.TotalCount, 0);
  assert.match(ok.json.RequestId, /^[0-9A-F-]{36}$/);
  const post = await raw(emu, {
    method: 'POST',
    body: signedQuery({ Action: 'DescribeCustomerGateways', RegionId: REGION }, { method: 'POST' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(post.status, 200);
  const xml = await raw(emu, { path: `/?${signedQuery({ Action: 'DescribeRegions', Format: 'XML' })}` });
  assert.match(xml.body, /^<\?xml version="1.0" encoding="UTF-8"\?><DescribeRegionsResponse><RequestId>[0-9A-F-]{36}<\/RequestId><Regions><Region><RegionId>/);
  const xmlErr = await raw(emu, { path: `/?${signedQuery({ Action: 'DescribeCustomerGateway', RegionId: REGION, CustomerGatewayId: 'cgw-x', Format: 'xml' })}` });
  assert.equal(xmlErr.status, 404);
  assert.match(xmlErr.body, /<Error><RequestId>.*<\/RequestId><HostId>vpc.aliyuncs.com<\/HostId><Code>InvalidCustomerGatewayInstanceId.NotFound<\/Code>/);
  const cases: Array<[Record<string, string>, number, string, string?]> = [
    [{ Action: 'DescribeRegions', Version: '2014-05-26' }, 400, 'InvalidVersion'],
    [{ Action: 'NoSuchThing' }, 404, 'InvalidAction.NotFound'],
    [{ Action: 'DescribeCustomerGateways' }, 400, 'MissingRegionId', 'RegionId is mandatory for this action.'],
    [{ Action: 'DescribeCustomerGateway', RegionId: REGION }, 400, 'MissingCustomerGatewayId', 'CustomerGatewayId is mandatory for this action.'],
    [{ Action: 'DescribeCustomerGateways', RegionId: 'mars-1' }, 404, 'InvalidRegionId.NotFound'],
    [{ Action: 'DescribeCustomerGateways', RegionId: REGION, PageSize: '0' }, 400, 'InvalidParameter'],
    [{ Action: 'DescribeCustomerGateways', RegionId: REGION, PageNumber: 'x' }, 400, 'InvalidParameter'],
    [{ Action: 'TagResources', RegionId: REGION }, 400, 'MissingResourceType'],
  ];
  for (const [p, status, code, message] of cases) {
    const r = await raw(emu, { path: `/?${signedQuery(p)}` });
    assert.equal(r.status, status, code);
    assert.equal(r.json.Code, code);
    if (message) assert.equal(r.json.Message, message);
    assert.deepEqual(Object.keys(r.json), ['RequestId', 'HostId', 'Code', 'Message', 'Recommend']);
  }
  const noAction = await raw(emu, { path: '/?Version=2016-04-28' });
  assert.equal(noAction.json.Code, 'MissingAction');
});

test('malformed requests get proper 4xx bodies and the server keeps serving', async (t) => {
  const emu = await emulator();
  t.after(() => emu.close());
  const expectCode = async (p: Promise<{ status: number; json?: any }>, status: number, code: string) => {
    const r = await p;
    assert.equal(r.status, status, code);
    assert.equal(r.json?.Code, code);
  };
  await expectCode(raw(emu, { path: '/?Action=DescribeRegions&Name=%ZZ' }), 400, 'InvalidParameter.Encoding');
  await expectCode(raw(emu, { path: '/?Action=DescribeRegions&Name=%E4%B8' }), 400, 'InvalidParameter.Encoding');
  await expectCode(raw(emu, { path: '/?Action=DescribeRegions&Name=%FF' }), 400, 'InvalidParameter.Encoding');
  await expectCode(raw(emu, { path: '/?Action=DescribeRegions&Action=DescribeRegions' }), 400, 'InvalidParameter.Repeated');
  await expectCode(
    raw(emu, { method: 'POST', path: '/?Action=DescribeRegions', body: 'Action=DescribeRegions', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    400,
    'InvalidParameter.Repeated',
  );
  await expectCode(
    raw(emu, { method: 'POST', body: Buffer.from([0x41, 0x3d, 0xff, 0xfe]), headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    400,
    'InvalidParameter.Encoding',
  );
  await expectCode(
    raw(emu, { method: 'POST', body: 'A=' + 'x'.repeat(1024 * 1024 + 10), headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    413,
    'InvalidParameter.BodyTooLarge',
  );
  // Prototype-ish keys are just unknown parameters
  const proto = await raw(emu, { path: `/?${signedQuery({ Action: 'DescribeRegions', __proto__x: '1', constructor: 'x' })}` });
  assert.equal(proto.status, 200);
  // Garbage on the socket: a bare 400, no crash
  await new Promise<void>((resolve) => {
    const s = connect(emu.port, emu.host, () => s.end('NOT HTTP AT ALL\r\n\r\n'));
    s.on('data', () => {});
    s.on('close', () => resolve());
    s.on('error', () => resolve());
  });
  // Still alive
  const alive = await raw(emu, { path: `/?${signedQuery({ Action: 'DescribeRegions' })}` });
  assert.equal(alive.status, 200);
  // JSON never carries numbers longer than 15 characters (pop-core's json-bigint would turn them into BigNumbers)
  for (const m of alive.body.matchAll(/:(-?\d[\d.eE+-]*)/g)) assert.ok((m[1] ?? '').length <= 15);
  assert.ok(!/constructor|__proto__/.test(alive.body));
});

test('admin API over HTTP (with the admin token)', async (t) => {
  const emu = await emulator({ vpnTaskMs: 0 });
  t.after(() => emu.close());
  const post = (path: string, body: unknown) => admin(emu, 'POST', path, body);
  assert.equal((await post('/__emulator/config', { faults: { conflict: 1 }, faultActions: ['DescribeRegions'] })).status, 200);
  const r = await raw(emu, { path: `/?${signedQuery({ Action: 'DescribeRegions' })}` });
  assert.equal(r.json.Code, 'OperationConflict');
  assert.equal(r.status, 409);
  const ok = await raw(emu, { path: `/?${signedQuery({ Action: 'DescribeCustomerGateways', RegionId: REGION })}` });
  assert.equal(ok.status, 200, 'faultActions narrows the faults');
  assert.equal((await post('/__emulator/config', { nope: 1 })).status, 400);
  assert.equal((await post('/__emulator/config', { quota: 'x' })).status, 400);
  assert.equal((await post('/__emulator/config', { faults: { explode: 1 } })).status, 400, 'an unknown fault kind is a typo, not a no-op');
  assert.equal((await post('/__emulator/config', { faults: {} })).status, 200);
  assert.equal((await post('/__emulator/config', { vpnTaskMs: 50, vpnConnectionQuota: 3 })).status, 200);
  const flags = await post('/__emulator/accounts/1234567890123456', { forbidden: true });
  assert.equal(flags.status, 200);
  assert.equal(flags.json.flags.forbidden, true);
  const f = await raw(emu, { path: `/?${signedQuery({ Action: 'DescribeCustomerGateways', RegionId: REGION })}` });
  assert.equal(f.json.Code, 'Forbidden');
  await post('/__emulator/accounts/1234567890123456', { forbidden: false });
  const created = await raw(emu, { path: `/?${signedQuery({ Action: 'CreateCustomerGateway', RegionId: REGION, IpAddress: '1.0.0.1', ClientToken: 'adm' })}` });
  const id = created.json.CustomerGatewayId;
  // The retired `attach` flag is gone: a real connection holds a customer gateway now.
  assert.equal((await post('/__emulator/attach', { accountId: '1234567890123456', regionId: REGION, gatewayId: id, attached: true })).status, 404);
  const state = await admin(emu, 'GET', '/__emulator/state');
  const g = state.json.accounts['1234567890123456'].regions[REGION].gateways[0];
  assert.equal(g.CustomerGatewayId, id);
  assert.deepEqual(g.ClientTokens, ['adm']);
  assert.deepEqual(state.json, JSON.parse(JSON.stringify(emu.state())));
  const stats = await admin(emu, 'GET', '/__emulator/stats');
  assert.equal(stats.json.actions.DescribeRegions.OperationConflict, 1);
  assert.ok(stats.json.total >= 4);
  assert.equal((await post('/__emulator/forget-tokens', {})).status, 200);
  const again = await raw(emu, { path: `/?${signedQuery({ Action: 'CreateCustomerGateway', RegionId: REGION, IpAddress: '1.0.0.1', ClientToken: 'adm' })}` });
  assert.equal(again.json.Code, 'InvalidIpAddress.AlreadyExist');
  assert.equal((await post('/__emulator/reset-stats', {})).status, 200);
  assert.equal(emu.stats().total, 0);
  assert.equal((await admin(emu, 'GET', '/__emulator/nothing')).status, 404);
  const bad = await raw(emu, {
    method: 'POST',
    path: '/__emulator/config',
    body: '{bad',
    headers: { authorization: `Bearer ${emu.adminToken}`, 'content-type': 'application/json' },
  });
  assert.equal(bad.status, 400);
});

test('request log names actions and outcomes but never secrets, AuthKeys or signatures', async (t) => {
  const lines: string[] = [];
  const emu = await emulator({ log: (l) => lines.push(l) });
  t.after(() => emu.close());
  const q = signedQuery({ Action: 'CreateCustomerGateway', RegionId: REGION, IpAddress: '1.2.3.4', Asn: '65000', AuthKey: 'LOG-MARKER-AUTHKEY' });
  await raw(emu, { path: `/?${q}` });
  await raw(emu, { path: `/?${signedQuery({ Action: 'DescribeRegions' }, { secret: 'wrong' })}` });
  const all = lines.join('\n');
  assert.match(all, /CreateCustomerGateway .*-> 200 ok/);
  assert.match(all, /DescribeRegions .*-> 400 SignatureDoesNotMatch/);
  assert.ok(!all.includes('LOG-MARKER-AUTHKEY'));
  assert.ok(!all.includes('Signature='));
  assert.ok(!all.includes('cgwBatchSandboxSecret'));
});
