// Every emulator fault kind and API error reaches PopVpcClient as the right CloudError class, with nothing secret inside.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { CloudError, toCloudError, type ErrorClass } from '../../src/cloud/errors.js';
import { PopVpcClient } from '../../src/cloud/pop-client.js';
import { CREDS, REGION, caught, emulator, pop } from '../emulator/util.js';

const ACCOUNT = '1234567890123456';
const MARKER = 'SECRET-MARKER-AK-1234';

/** Asserts the error is a CloudError of the class and leaks neither the secret, a signature, nor the AuthKey marker. */
function check(e: unknown, cls: ErrorClass, outcomeUnknown?: boolean): CloudError {
  assert.ok(e instanceof CloudError, `expected CloudError, got ${String(e)}`);
  assert.equal(e.errorClass, cls, `${e.code}: ${e.message}`);
  if (outcomeUnknown !== undefined) assert.equal(e.outcomeUnknown, outcomeUnknown, e.code);
  const text = `${JSON.stringify(e)}\n${e.message}\n${e.stack ?? ''}`;
  assert.ok(!text.includes(CREDS.accessKeySecret), 'secret leaked');
  assert.ok(!text.includes(MARKER), 'AuthKey leaked');
  assert.ok(!/Signature=[^*]/.test(text) && !/Signature%3D/.test(text), 'signature leaked');
  return e;
}

const createWithMarker = (c: PopVpcClient, ip = '20.0.0.1') =>
  c.createCustomerGateway({ regionId: REGION, ipAddress: ip, asn: '65000', authKey: MARKER, clientToken: 'err-row' });

test('each fault kind maps to its class', async (t) => {
  const emu = await emulator();
  t.after(() => emu.close());
  // The deadline only has to fail the 'hang' case: short enough to keep the test quick, long enough for a loaded machine.
  const c = pop(emu, CREDS, 1500);
  const cases: Array<[string, ErrorClass, boolean]> = [
    ['conflict', 'conflict', false],
    ['unavailable', 'transient', true],
    ['internal', 'transient', true],
    ['html', 'transient', true],
    ['empty', 'transient', true],
    ['reset', 'transient', true],
    ['hang', 'transient', true],
    ['commit-drop', 'transient', true],
    ['throttle', 'throttled', false],
  ];
  for (const [kind, cls, unknown] of cases) {
    emu.configure({ faults: { [kind]: 1 } });
    const e = check(await caught(createWithMarker(c, `20.0.1.${cases.findIndex((x) => x[0] === kind) + 1}`)), cls, unknown);
    if (kind === 'conflict') assert.equal(e.status, 409);
    if (kind === 'unavailable') assert.equal(e.status, 503);
    if (kind === 'internal') assert.equal(e.status, 500);
    if (kind === 'throttle') assert.ok((e.retryAfterMs ?? 0) > 0);
    assert.ok(e.retryable);
  }
  emu.configure({ faults: {} });
  const stats = emu.stats().actions.CreateCustomerGateway ?? {};
  for (const k of ['html', 'empty', 'reset', 'hang', 'commit-drop']) assert.equal(stats[`fault:${k}`], 1, k);
});

test('API errors map to auth, quota, forbidden, not-found, mismatch, exists, invalid, throttled', async (t) => {
  const emu = await emulator({ quota: 1 });
  t.after(() => emu.close());
  const c = pop(emu);
  await createWithMarker(c);
  check(await caught(createWithMarker(c, '20.0.0.2')), 'mismatch', false);
  check(await caught(c.createCustomerGateway({ regionId: REGION, ipAddress: '20.0.0.1', authKey: MARKER, asn: '1' })), 'exists');
  check(await caught(c.createCustomerGateway({ regionId: REGION, ipAddress: '20.0.0.3', asn: '1', authKey: MARKER })), 'quota');
  emu.setAccountFlags(ACCOUNT, { userGatewayQuotaFull: true });
  emu.configure({ quota: 100 });
  check(await caught(c.createCustomerGateway({ regionId: REGION, ipAddress: '20.0.0.3', asn: '1', authKey: MARKER })), 'quota');
  emu.setAccountFlags(ACCOUNT, { userGatewayQuotaFull: false, forbidden: true });
  check(await caught(createWithMarker(c, '20.0.0.4')), 'forbidden');
  emu.setAccountFlags(ACCOUNT, { forbidden: false, subUser: true });
  check(await caught(c.deleteCustomerGateway({ regionId: REGION, id: 'cgw-x' })), 'forbidden');
  emu.setAccountFlags(ACCOUNT, { subUser: false, noRamPermission: true });
  check(await caught(createWithMarker(c, '20.0.0.4')), 'forbidden');
  emu.setAccountFlags(ACCOUNT, { noRamPermission: false });
  check(await caught(c.describeCustomerGateway(REGION, 'cgw-missing')), 'not-found');
  // invalid input: the malformed AuthKey is never echoed back
  check(await caught(c.createCustomerGateway({ regionId: REGION, ipAddress: '20.0.0.5', asn: '1', authKey: `${MARKER} ?` })), 'invalid');
  check(await caught(c.createCustomerGateway({ regionId: REGION, ipAddress: '20.0.0.5', authKey: MARKER })), 'invalid');
  emu.configure({ rateLimits: true, rates: { DescribeCustomerGateway: 1 } });
  await caught(c.describeCustomerGateway(REGION, 'cgw-a'));
  const th = check(await caught(c.describeCustomerGateway(REGION, 'cgw-a')), 'throttled');
  assert.ok((th.retryAfterMs ?? 0) > 0);
});

test('auth failures map to auth and never carry the string to sign', async (t) => {
  let skew = 0;
  const emu = await emulator({ clock: () => Date.now() + skew });
  t.after(() => emu.close());
  check(await caught(createWithMarker(pop(emu, { ...CREDS, accessKeySecret: 'wrong-secret' }))), 'auth');
  const unknown = check(await caught(createWithMarker(pop(emu, { accessKeyId: 'LTAIunknown', accessKeySecret: CREDS.accessKeySecret }))), 'auth');
  assert.equal(unknown.status, 404);
  skew = 30 * 60 * 1000;
  assert.match(check(await caught(createWithMarker(pop(emu))), 'clock').message, /check the system clock/);
  skew = 0;
  const sts = await emulator({ accounts: [{ ...CREDS, accountId: '9', securityToken: 'tok' }] });
  t.after(() => sts.close());
  check(await caught(createWithMarker(pop(sts, { ...CREDS, securityToken: 'bad' }))), 'auth');
});

test('a closed port is transient with outcomeUnknown false', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const p = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(p));
    });
  });
  const c = new PopVpcClient({ endpoint: `http://127.0.0.1:${port}`, credentials: CREDS, timeoutMs: 300 });
  const e = check(await caught(createWithMarker(c)), 'transient', false);
  assert.equal(e.code, 'ECONNREFUSED');
});

test('InvalidAuthkey.Malformed: the key the real API quotes in the message is dropped', () => {
  const e = Object.assign(new Error('x'), {
    data: { Code: 'InvalidAuthkey.Malformed', Message: 'The specified BGP authentication key (SECRET-MARKER) x) is malformed.', RequestId: 'R1' },
  });
  const c = toCloudError(e);
  assert.equal(c.code, 'InvalidAuthkey.Malformed');
  assert.equal(c.requestId, 'R1');
  assert.ok(!JSON.stringify(c.toJSON()).includes('SECRET-MARKER'));
});

test('sanitizeMessage drops AuthKeys quoted as JSON, escaped JSON, URL-encoded query, brackets and prose', async () => {
  const { sanitizeMessage } = await import('../../src/cloud/errors.js');
  const K = 'SeCrEt-Xyz9';
  const cases = [
    `The AuthKey ${K} contains invalid characters.`,
    `bad request {"AuthKey":"${K}","IpAddress":"1.2.3.4"}`,
    `bad request {"AuthKey": "Se\\"Cr\\\\Et-Xyz9"}`,
    `echo: {\\"AuthKey\\":\\"${K}\\"}`,
    `query Action%3DCreate%26AuthKey%3D${K}%26RegionId%3Dcn`,
    `query AuthKey%253D${K}%2526x`,
    `The specified BGP authentication key (${K} with spaces) is malformed.`,
    `auth_key: "${K} two words"`,
    `Authorization: Bearer ${K}`,
    `SecurityToken=${K}&x=1`,
  ];
  for (const c of cases) {
    const out = sanitizeMessage(c);
    assert.ok(!/SeCrEt|Xyz9|Cr\\/.test(out), `${c}\n-> ${out}`);
    assert.ok(!out.includes('two words') && !out.includes('with spaces'), out);
  }
  // Server wording without a value stays readable.
  for (const ok of [
    'Specified signature is not matched with our calculation.',
    'MissingAuthKey: AuthKey is mandatory for this action.',
    'Specified signature method is not valid.',
    'The specified AuthKey is malformed.',
  ]) {
    assert.equal(sanitizeMessage(ok), ok);
  }
});

test('toCloudError scrubs the message by value when the caller knows what the request carried', () => {
  const K = 'per-call-secret-99';
  const e = Object.assign(new Error('x'), {
    data: { Code: 'InvalidParameter', Message: `value ${Buffer.from(K).toString('base64')} and ${encodeURIComponent(K)} rejected`, RequestId: 'R2' },
  });
  const plain = toCloudError(e);
  assert.ok(plain.message.includes(Buffer.from(K).toString('base64')), 'name-based sanitizing alone cannot know the value');
  const r = new (class {
    redact(s: string) {
      return s.split(Buffer.from(K).toString('base64')).join('***').split(encodeURIComponent(K)).join('***');
    }
  })();
  const c = toCloudError(e, (s) => r.redact(s));
  assert.equal(c.message, 'value *** and *** rejected');
  assert.equal(c.requestId, 'R2');
});

test('InvalidTimeStamp.* is the clock class, and its message says to check the system clock', () => {
  for (const code of ['InvalidTimeStamp.Expired', 'InvalidTimeStamp.Format']) {
    const c = toCloudError(Object.assign(new Error('x'), { data: { Code: code, Message: 'Specified time stamp or date value is expired.' } }));
    assert.equal(c.errorClass, 'clock');
    assert.match(c.message, /check the system clock/);
    assert.equal(c.retryable, false);
  }
});
