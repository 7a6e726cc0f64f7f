// STS GetCallerIdentity: the emulator maps keys to accounts; our client (pop-core) and the official V3 client agree.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as OpenApi from '@alicloud/openapi-core';
import { CloudError } from '../../src/cloud/errors.js';
import type { Credentials } from '../../src/cloud/pop-client.js';
import { getCallerIdentity, STS_ENDPOINT } from '../../src/cloud/sts.js';
import { DEFAULT_ACCOUNT } from '../../src/emulator/index.js';
import { startHostile } from '../hostile/server.js';
import { caught, CREDS, emulator } from '../emulator/util.js';

const STS_KEY = { accessKeyId: 'STS.NTestKey01', accessKeySecret: 'sts-secret-value-01', accountId: '5556667778889990', securityToken: 'sts-token-value-0001' };
const RAM_KEY = { accessKeyId: 'LTAI5tRamUser01', accessKeySecret: 'ram-secret-value-01', accountId: '1112223334445556', ramUser: 'deployer' };

test('pop-core: an account key, a RAM user key and an STS token each get their identity', async (t) => {
  const emu = await emulator({ accounts: [DEFAULT_ACCOUNT, STS_KEY, RAM_KEY] });
  t.after(() => emu.close());
  const root = await getCallerIdentity({ credentials: CREDS, endpoint: emu.url, timeoutMs: 2000 });
  assert.deepEqual(root, {
    accountId: DEFAULT_ACCOUNT.accountId,
    userId: DEFAULT_ACCOUNT.accountId,
    arn: `acs:ram::${DEFAULT_ACCOUNT.accountId}:root`,
    identityType: 'Account',
    principalId: DEFAULT_ACCOUNT.accountId,
  });
  const role = await getCallerIdentity({ credentials: STS_KEY, endpoint: emu.url, timeoutMs: 2000 });
  assert.equal(role.accountId, STS_KEY.accountId);
  assert.equal(role.identityType, 'AssumedRoleUser');
  assert.equal(role.userId, undefined);
  assert.match(role.arn, /^acs:ram::5556667778889990:assumed-role\//);
  const user = await getCallerIdentity({ credentials: RAM_KEY, endpoint: emu.url, timeoutMs: 2000 });
  assert.equal(user.identityType, 'RAMUser');
  assert.equal(user.arn, 'acs:ram::1112223334445556:user/deployer');
  assert.match(user.userId ?? '', /^\d{16}$/);
  assert.equal(emu.stats().actions.GetCallerIdentity?.ok, 3);
  assert.equal(STS_ENDPOINT, 'https://sts.aliyuncs.com');
});

test('bad keys are auth errors, a skewed clock is a clock error, and no secret is in any of them', async (t) => {
  let skew = 0;
  const emu = await emulator({ accounts: [DEFAULT_ACCOUNT, STS_KEY], clock: () => Date.now() + skew });
  t.after(() => emu.close());
  const cases: Array<[Credentials, string]> = [
    [{ ...CREDS, accessKeySecret: 'wrong-secret-value' }, 'SignatureDoesNotMatch'],
    [{ accessKeyId: 'LTAInobody', accessKeySecret: 'whatever-secret' }, 'InvalidAccessKeyId.NotFound'],
    [{ ...STS_KEY, securityToken: 'forged-token-value' }, 'InvalidSecurityToken.MismatchWithAccessKey'],
  ];
  for (const [credentials, code] of cases) {
    const e = await caught(getCallerIdentity({ credentials, endpoint: emu.url, timeoutMs: 2000 }));
    assert.ok(e instanceof CloudError);
    assert.equal(e.code, code);
    assert.equal(e.errorClass, 'auth');
    const text = JSON.stringify(e) + e.message;
    for (const s of [credentials.accessKeySecret, credentials.securityToken ?? '\0']) assert.ok(!text.includes(s));
  }
  skew = 40 * 60 * 1000;
  const e = await caught(getCallerIdentity({ credentials: CREDS, endpoint: emu.url, timeoutMs: 2000 }));
  assert.equal(e.errorClass, 'clock');
});

test('the official @alicloud/openapi-core client (V3 signature) reads the same identity from the emulator', async (t) => {
  const emu = await emulator({ accounts: [DEFAULT_ACCOUNT, STS_KEY] });
  t.after(() => emu.close());
  const oa: any = OpenApi;
  const util = oa.$OpenApiUtil ?? oa.default?.$OpenApiUtil;
  const Client = typeof oa.default === 'function' ? oa.default : oa.default.default;
  const params = new util.Params({
    action: 'GetCallerIdentity', version: '2015-04-01', protocol: 'HTTP', pathname: '/', method: 'POST',
    authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json',
  });
  for (const key of [DEFAULT_ACCOUNT, STS_KEY]) {
    const client = new Client(
      new util.Config({ ...key, endpoint: `127.0.0.1:${emu.port}`, protocol: 'http', readTimeout: 2000, connectTimeout: 2000 }),
    );
    const r = await client.callApi(params, new util.OpenApiRequest({}), {});
    const ours = await getCallerIdentity({ credentials: key, endpoint: emu.url, timeoutMs: 2000 });
    assert.equal(r.statusCode, 200);
    assert.equal(r.body.AccountId, ours.accountId);
    assert.equal(r.body.IdentityType, ours.identityType);
    assert.equal(r.body.Arn, ours.arn);
  }
});

test('an endpoint that is not STS, or that hangs, fails bounded and typed', async (t) => {
  const emu = await emulator();
  t.after(() => emu.close());
  // An answer without AccountId (a VPC-only endpoint, a proxy) is not an identity.
  const vpcOnly = await startHostile({ behaviour: 'missing-id', actions: ['GetCallerIdentity'] });
  t.after(() => vpcOnly.close());
  const e = await caught(getCallerIdentity({ credentials: CREDS, endpoint: vpcOnly.url, timeoutMs: 2000 }));
  assert.equal(e.code, 'InvalidResponse.MissingAccount');
  const hung = await startHostile({ behaviour: 'trickle', trickleMs: 100, actions: ['GetCallerIdentity'] });
  t.after(() => hung.close());
  const started = performance.now();
  const h = await caught(getCallerIdentity({ credentials: CREDS, endpoint: hung.url, timeoutMs: 500 }));
  assert.equal(h.code, 'RequestTimeout');
  assert.ok(performance.now() - started < 3500);
});
