// Every CreateCustomerGateway error code of vpc-api.md §3.3, through pop-core (and the main ones through vpc20160428).
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REGION, caught, emulator, model, rpc, vpc3 } from './util.js';

const ACCOUNT = '1234567890123456';

function tags(n: number, f: (i: number) => [string, string] = (i) => [`k${i}`, `v${i}`]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 1; i <= n; i++) {
    const [k, v] = f(i);
    out[`Tags.${i}.Key`] = k;
    out[`Tags.${i}.Value`] = v;
  }
  return out;
}

// [code, HTTP status, params] — params are merged over a valid base request.
const INPUT_CASES: Array<[string, number, Record<string, string>]> = [
  ['MissingIpAddress', 400, { IpAddress: '' }],
  ['InvalidIpAddress.WrongFormat', 400, { IpAddress: '1.2.3' }],
  ['InvalidIpAddress.WrongFormat', 400, { IpAddress: '01.2.3.4' }],
  ['InvalidIpAddress.WrongFormat', 400, { IpAddress: '256.1.1.1' }],
  ['InvalidIpAddress.WrongFormat', 400, { IpAddress: '::1' }],
  ['InvalidName', 400, { Name: 'x'.repeat(101) }],
  ['InvalidName', 400, { Name: 'http://site' }],
  ['InvalidDescription', 400, { Description: 'https://site' }],
  ['InvalidDescription', 400, { Description: 'd'.repeat(101) }],
  ['IllegalParam.Asn', 400, { Asn: '45104' }],
  ['IllegalParam.Asn', 400, { Asn: '0' }],
  ['IllegalParam.Asn', 400, { Asn: '4294967296' }],
  ['IllegalParam.Asn', 400, { Asn: '1.65536' }],
  ['IllegalParam.Asn', 400, { Asn: '0.0' }],
  ['IllegalParam.Asn', 400, { Asn: 'abc' }],
  ['InvalidAuthkey.Malformed', 400, { Asn: '65000', AuthKey: 'has space' }],
  ['InvalidAuthkey.Malformed', 400, { Asn: '65000', AuthKey: 'what?' }],
  ['InvalidAuthkey.Malformed', 400, { Asn: '65000', AuthKey: 'k'.repeat(65) }],
  ['InvalidAuthkey.Malformed', 400, { Asn: '65000', AuthKey: '密钥' }],
  ['OperationDenied.MissingAsn', 400, { AuthKey: 'goodkey' }],
  ['SizeLimitExceeded.TagNum', 400, tags(21)],
  ['InvalidParameter.TagKey', 400, tags(1, () => ['', 'v'])],
  ['InvalidParameter.TagKey', 400, tags(1, () => ['k'.repeat(65), 'v'])],
  ['InvalidParameter.TagKey', 400, tags(1, () => ['aliyun-x', 'v'])],
  ['InvalidParameter.TagKey', 400, tags(1, () => ['acs:x', 'v'])],
  ['InvalidParameter.TagKey', 400, tags(1, () => ['see http://x', 'v'])],
  ['InvalidParameter.TagValue', 400, tags(1, () => ['k', 'v'.repeat(129)])],
  ['InvalidParameter.TagValue', 400, tags(1, () => ['k', 'https://x'])],
  ['Duplicated.TagKey', 400, tags(2, () => ['same', 'v'])],
  // Our trigger for Forbidden.TagKey.Duplicated: two keys that differ only in case.
  ['Forbidden.TagKey.Duplicated', 400, tags(2, (i) => [i === 1 ? 'Env' : 'env', 'v'])],
];

test('every Create input error code via pop-core, with its HTTP status', async (t) => {
  const emu = await emulator();
  t.after(() => emu.close());
  const c = rpc(emu);
  for (const [code, status, p] of INPUT_CASES) {
    const e = await caught(c.request('CreateCustomerGateway', { RegionId: REGION, IpAddress: '9.9.9.9', ...p }, { method: 'POST' }));
    assert.equal(e.code, code, JSON.stringify(p).slice(0, 80));
    assert.equal(e.entry.response.statusCode, status);
    assert.match(e.data.RequestId, /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    assert.equal(e.data.HostId, 'vpc.aliyuncs.com');
    assert.ok(e.data.Recommend.includes(code));
  }
  assert.deepEqual(emu.state().accounts[ACCOUNT]?.regions, {});
  // Valid edge cases are accepted
  for (const [i, p] of [
    { Asn: '1' },
    { Asn: '4294967295' },
    { Asn: '123.456' },
    { Asn: '65000', AuthKey: '!~'.repeat(32) },
    tags(20),
    { Name: 'n'.repeat(100), Description: '描述'.repeat(50) },
    tags(1, () => ['k', '']),
  ].entries()) {
    await c.request('CreateCustomerGateway', { RegionId: REGION, IpAddress: `10.0.0.${i + 1}`, ...p }, { method: 'POST' });
  }
  const gws = emu.state().accounts[ACCOUNT]?.regions[REGION]?.gateways ?? [];
  assert.equal(gws.length, 7);
  assert.equal(gws[2]?.Asn, 8061384);
  assert.equal(gws[1]?.Asn, 4294967295);
  assert.match(gws[0]?.CustomerGatewayId ?? '', /^cgw-[a-z0-9]{21}$/);
});

test('state-dependent Create codes: AlreadyExist, quotas, permissions, conflict', async (t) => {
  const emu = await emulator({ quota: 2 });
  t.after(() => emu.close());
  const c = rpc(emu);
  const create = (ip: string) => c.request('CreateCustomerGateway', { RegionId: REGION, IpAddress: ip }, { method: 'POST' });
  const expect = async (ip: string, code: string, status: number) => {
    const e = await caught(create(ip));
    assert.equal(e.code, code);
    assert.equal(e.entry.response.statusCode, status);
  };
  await create('1.1.1.1');
  await expect('1.1.1.1', 'InvalidIpAddress.AlreadyExist', 400);
  // the same IP in another region is fine
  await c.request('CreateCustomerGateway', { RegionId: 'cn-beijing', IpAddress: '1.1.1.1' }, { method: 'POST' });
  await create('1.1.1.2');
  await expect('1.1.1.3', 'Resource.QuotaFull', 400);
  emu.configure({ quota: 100 });
  emu.setAccountFlags(ACCOUNT, { userGatewayQuotaFull: true });
  await expect('1.1.1.3', 'CreateVpnUserGatewayQuotaFull.QuotaFull', 400);
  emu.setAccountFlags(ACCOUNT, { userGatewayQuotaFull: false, noRamPermission: true });
  await expect('1.1.1.3', 'OperationFailed.NoRamPermission', 400);
  emu.setAccountFlags(ACCOUNT, { noRamPermission: false, subUser: true });
  await expect('1.1.1.3', 'Forbidden.SubUser', 403);
  emu.setAccountFlags(ACCOUNT, { subUser: false, forbidden: true });
  await expect('1.1.1.3', 'Forbidden', 403);
  emu.setAccountFlags(ACCOUNT, { forbidden: false });
  emu.configure({ faults: { conflict: 1 } });
  await expect('1.1.1.3', 'OperationConflict', 409);
  emu.configure({ faults: {} });
  await create('1.1.1.3');
});

test('main Create codes via vpc20160428 (V3)', async (t) => {
  const emu = await emulator();
  t.after(() => emu.close());
  const v = vpc3(emu);
  const create = (f: Record<string, unknown>) => v.createCustomerGateway(model('CreateCustomerGatewayRequest', { regionId: REGION, ...f }));
  const cases: Array<[string, number, Record<string, unknown>]> = [
    ['InvalidIpAddress.WrongFormat', 400, { ipAddress: '300.1.1.1' }],
    ['InvalidName', 400, { ipAddress: '2.2.2.2', name: 'http://x' }],
    ['IllegalParam.Asn', 400, { ipAddress: '2.2.2.2', asn: '45104' }],
    ['OperationDenied.MissingAsn', 400, { ipAddress: '2.2.2.2', authKey: 'k' }],
    ['Duplicated.TagKey', 400, { ipAddress: '2.2.2.2', tags: [model('CreateCustomerGatewayRequestTags', { key: 'a', value: '1' }), model('CreateCustomerGatewayRequestTags', { key: 'a', value: '2' })] }],
    ['MissingIpAddress', 400, {}],
  ];
  for (const [code, status, f] of cases) {
    const e = await caught(create(f));
    assert.equal(e.code, code);
    assert.equal(e.statusCode, status);
  }
  await create({ ipAddress: '2.2.2.2', asn: '64512', authKey: 'k' });
  const dup = await caught(create({ ipAddress: '2.2.2.2' }));
  assert.equal(dup.code, 'InvalidIpAddress.AlreadyExist');
  emu.setAccountFlags('1234567890123456', { forbidden: true });
  const f = await caught(create({ ipAddress: '2.2.2.3' }));
  assert.equal(f.code, 'Forbidden');
  assert.equal(f.statusCode, 403);
  emu.setAccountFlags('1234567890123456', { forbidden: false });
  emu.configure({ faults: { conflict: 1 } });
  const cf = await caught(create({ ipAddress: '2.2.2.3' }));
  assert.equal(cf.code, 'OperationConflict');
  assert.equal(cf.statusCode, 409);
});
