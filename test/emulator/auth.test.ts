// Signature v1 and V3 verification, clock skew, nonce reuse and STS tokens, through pop-core and vpc20160428.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { v1Sign, v1StringToSign } from '../../src/emulator/auth.js';
import { CREDS, REGION, caught, emulator, isoNow, model, pop, raw, rpc, signedQuery, vpc3 } from './util.js';

test('v1 signature reproduces the published vector', () => {
  const params = new Map(
    Object.entries({
      AccessKeyId: 'testid',
      Action: 'DescribeRegions',
      Format: 'XML',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
      SignatureVersion: '1.0',
      Timestamp: '2016-02-23T12:46:24Z',
      Version: '2014-05-26',
    }),
  );
  const sts = v1StringToSign('GET', params);
  assert.ok(sts.startsWith('GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML'));
  assert.ok(sts.includes('Timestamp%3D2016-02-23T12%253A46%253A24Z'));
  assert.equal(v1Sign('testsecret', sts), 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  params.delete('Timestamp');
  params.set('TimeStamp', '2016-02-23T12:46:24Z');
  assert.equal(v1Sign('testsecret', v1StringToSign('GET', params)), 'CT9X0VtwR86fNWSnsc6v8YGOjuE=');
});

test('pop-core: unknown key, wrong secret, good call', async (t) => {
  const emu = await emulator();
  t.after(() => emu.close());
  const e1 = await caught(rpc(emu, { accessKeyId: 'LTAInope', accessKeySecret: 'x' }).request('DescribeRegions', { RegionId: REGION }, { method: 'POST' }));
  assert.equal(e1.code, 'InvalidAccessKeyId.NotFound');
  assert.equal(e1.entry.response.statusCode, 404);
  const e2 = await caught(rpc(emu, { ...CREDS, accessKeySecret: 'wrong' }).request('DescribeRegions', { RegionId: REGION }, { method: 'POST' }));
  assert.equal(e2.code, 'SignatureDoesNotMatch');
  assert.equal(e2.entry.response.statusCode, 400);
  assert.match(e2.data.Message, /server string to sign is:POST&%2F&AccessKeyId%3D/);
  const ok = await rpc(emu).request('DescribeRegions', { RegionId: REGION }, { method: 'POST' });
  assert.ok(ok.Regions.Region.length > 20);
  // GET (query-string signing) works as well
  const okGet = await rpc(emu).request('DescribeRegions', { RegionId: REGION }, { method: 'GET' });
  assert.ok(okGet.Regions.Region.length > 20);
});

test('timestamp skew and format, nonce reuse', async (t) => {
  let skew = 0;
  const emu = await emulator({ clock: () => Date.now() + skew });
  t.after(() => emu.close());
  const c = pop(emu);
  skew = 16 * 60 * 1000;
  assert.equal((await caught(c.describeRegions())).code, 'InvalidTimeStamp.Expired');
  skew = -16 * 60 * 1000;
  assert.equal((await caught(c.describeRegions())).code, 'InvalidTimeStamp.Expired');
  skew = 14 * 60 * 1000;
  await c.describeRegions();
  skew = 0;
  const r = rpc(emu);
  const badTs = await caught(r.request('DescribeRegions', { RegionId: REGION, Timestamp: '2025-01-02 03:04:05' }, { method: 'POST' }));
  assert.equal(badTs.code, 'InvalidTimeStamp.Format');
  // Fractional seconds are accepted (issue 11): Date.toISOString() gives them, and the real gateway takes them.
  await r.request('DescribeRegions', { RegionId: REGION, Timestamp: new Date().toISOString() }, { method: 'POST' });
  await r.request('DescribeRegions', { RegionId: REGION, SignatureNonce: 'fixed-nonce-1' }, { method: 'POST' });
  const again = await caught(r.request('DescribeRegions', { RegionId: REGION, SignatureNonce: 'fixed-nonce-1' }, { method: 'POST' }));
  assert.equal(again.code, 'SignatureNonceUsed');
  assert.equal(again.entry.response.statusCode, 400);
  // the same nonce is fine for another key
  const other = await emulator({ accounts: [{ ...CREDS, accountId: '1' }, { accessKeyId: 'LTAIother', accessKeySecret: 's2', accountId: '2' }] });
  t.after(() => other.close());
  await rpc(other).request('DescribeRegions', { RegionId: REGION, SignatureNonce: 'n2' }, { method: 'POST' });
  await rpc(other, { accessKeyId: 'LTAIother', accessKeySecret: 's2' }).request('DescribeRegions', { RegionId: REGION, SignatureNonce: 'n2' }, { method: 'POST' });
});

test('STS security token: required, must match (v1 and V3)', async (t) => {
  const sts = { accessKeyId: 'STS.abc', accessKeySecret: 'stsSecret', accountId: '555', securityToken: 'tok-1' };
  const emu = await emulator({ accounts: [sts] });
  t.after(() => emu.close());
  const none = await caught(pop(emu, { accessKeyId: sts.accessKeyId, accessKeySecret: sts.accessKeySecret }).describeRegions());
  assert.equal(none.code, 'InvalidSecurityToken.Malformed');
  assert.equal(none.errorClass, 'auth');
  const wrong = await caught(pop(emu, { ...sts, securityToken: 'tok-2' }).describeRegions());
  assert.equal(wrong.code, 'InvalidSecurityToken.MismatchWithAccessKey');
  assert.equal(wrong.errorClass, 'auth');
  await pop(emu, sts).describeRegions();
  const v = vpc3(emu, sts);
  const r = await v.describeRegions(model('DescribeRegionsRequest', { regionId: REGION }));
  assert.ok(r.body.regions.region.length > 20);
  const v3wrong = await caught(vpc3(emu, { ...sts, securityToken: 'nope' }).describeRegions(model('DescribeRegionsRequest', { regionId: REGION })));
  assert.equal(v3wrong.code, 'InvalidSecurityToken.MismatchWithAccessKey');
});

test('V3: wrong secret, unknown key, skew, tampered body hash', async (t) => {
  let skew = 0;
  const emu = await emulator({ clock: () => Date.now() + skew });
  t.after(() => emu.close());
  const req = () => model('DescribeCustomerGatewaysRequest', { regionId: REGION });
  const bad = await caught(vpc3(emu, { ...CREDS, accessKeySecret: 'wrong' }).describeCustomerGateways(req()));
  assert.equal(bad.code, 'SignatureDoesNotMatch');
  assert.equal(bad.statusCode, 400);
  assert.match(bad.data.Message, /server string to sign is:ACS3-HMAC-SHA256\n[0-9a-f]{64}$/);
  const unknown = await caught(vpc3(emu, { accessKeyId: 'LTAIx', accessKeySecret: 'y' }).describeCustomerGateways(req()));
  assert.equal(unknown.code, 'InvalidAccessKeyId.NotFound');
  assert.equal(unknown.statusCode, 404);
  skew = 20 * 60 * 1000;
  assert.equal((await caught(vpc3(emu).describeCustomerGateways(req()))).code, 'InvalidTimeStamp.Expired');
  skew = 0;
  // A body whose hash does not match x-acs-content-sha256 is refused.
  const res = await raw(emu, {
    method: 'POST',
    path: `/?RegionId=${REGION}`,
    body: 'Name=x',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-acs-action': 'DescribeRegions',
      'x-acs-version': '2016-04-28',
      'x-acs-date': isoNow(),
      'x-acs-signature-nonce': 'n-body-1',
      'x-acs-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      authorization: `ACS3-HMAC-SHA256 Credential=${CREDS.accessKeyId},SignedHeaders=host;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce,Signature=00`,
    },
  });
  assert.equal(res.status, 400);
  assert.equal(res.json.Code, 'IncompleteSignature');
  // Garbage authorization header
  const g = await raw(emu, { method: 'POST', path: '/', headers: { 'x-acs-action': 'DescribeRegions', 'x-acs-version': '2016-04-28', authorization: 'ACS3-HMAC-SHA256 nonsense' } });
  assert.equal(g.json.Code, 'IncompleteSignature');
});

test('raw GET with a hand-signed query; a tampered parameter breaks the signature', async (t) => {
  const emu = await emulator();
  t.after(() => emu.close());
  const q = signedQuery({ Action: 'DescribeRegions', RegionId: REGION });
  const ok = await raw(emu, { path: `/?${q}` });
  assert.equal(ok.status, 200);
  const tampered = await raw(emu, { path: `/?${q.replace('RegionId=cn-hangzhou', 'RegionId=cn-beijing')}` });
  assert.equal(tampered.status, 400);
  assert.equal(tampered.json.Code, 'SignatureDoesNotMatch');
  const noSig = await raw(emu, { path: `/?Action=DescribeRegions&Version=2016-04-28&AccessKeyId=${CREDS.accessKeyId}` });
  assert.equal(noSig.json.Code, 'MissingSignature');
  assert.equal(noSig.json.Message, 'Signature is mandatory for this action.');
});
