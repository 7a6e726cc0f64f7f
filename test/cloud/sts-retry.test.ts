// STS GetCallerIdentity, which every command calls first: a transient failure is retried with the configured backoff
// (bounded: attempts and cap), a refused key is not, and the error that ends it names the call and the endpoint.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloudError } from '../../src/cloud/errors.js';
import { getCallerIdentity, STS_ATTEMPTS } from '../../src/cloud/sts.js';
import { DEFAULT_ACCOUNT } from '../../src/emulator/index.js';
import { runCli } from '../helpers/cli.js';
import { VirtualClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';
import { startHostile } from '../hostile/server.js';
import { caught, CREDS, emulator } from '../emulator/util.js';

const RETRY = { attempts: STS_ATTEMPTS, baseMs: 200, capMs: 1000 };

test('one 503 from STS is retried after a backoff within the cap; the identity comes back', async (t) => {
  const h = await startHostile({ behaviour: 'unavailable', actions: ['GetCallerIdentity'], failFirst: 1 });
  t.after(() => h.close());
  const clock = new VirtualClock();
  const who = await getCallerIdentity({ credentials: CREDS, endpoint: h.url, timeoutMs: 5000, retry: { ...RETRY, clock, random: () => 0.99 } });
  assert.equal(who.accountId, '1234567890123456');
  assert.equal(h.hits.filter((x) => x.action === 'GetCallerIdentity').length, 2);
  assert.deepEqual(clock.sleeps, [198], 'full jitter under base * 2^0');
});

test('STS failing every time: the configured attempts, each wait within the cap, and a message naming the call and endpoint', async (t) => {
  const h = await startHostile({ behaviour: 'unavailable', actions: ['GetCallerIdentity'] });
  t.after(() => h.close());
  const clock = new VirtualClock();
  const e = await caught(getCallerIdentity({ credentials: CREDS, endpoint: h.url, timeoutMs: 5000, retry: { ...RETRY, clock, random: () => 0.99 } }));
  assert.ok(e instanceof CloudError);
  assert.equal(e.code, 'ServiceUnavailable');
  assert.equal(h.hits.length, STS_ATTEMPTS);
  assert.equal(clock.sleeps.length, STS_ATTEMPTS - 1);
  assert.ok(clock.sleeps.every((ms) => ms <= RETRY.capMs), clock.sleeps.join(','));
  assert.equal(e.message.startsWith(`STS GetCallerIdentity at ${h.url} failed after ${STS_ATTEMPTS} attempts: `), true, e.message);
});

test('a refused key is not retried, and its message names the call too', async (t) => {
  const emu = await emulator({ accounts: [DEFAULT_ACCOUNT] });
  t.after(() => emu.close());
  const clock = new VirtualClock();
  const e = await caught(getCallerIdentity({ credentials: { ...CREDS, accessKeySecret: 'wrong-secret-value' }, endpoint: emu.url, timeoutMs: 5000, retry: { ...RETRY, clock } }));
  assert.equal(e.code, 'SignatureDoesNotMatch');
  assert.equal(e.errorClass, 'auth');
  assert.deepEqual(clock.sleeps, []);
  assert.equal(emu.stats().actions.GetCallerIdentity?.SignatureDoesNotMatch, 1);
  assert.match(e.message, new RegExp(`^STS GetCallerIdentity at ${emu.url} failed: `));
});

test('the CLI: one transient STS error does not end plan; a lasting one ends it naming GetCallerIdentity and the endpoint', async (t) => {
  const dir = tempDir({ 'm.csv': 'region,ip,name\ncn-hangzhou,203.0.113.90,sts\n' });
  t.after(() => dir.cleanup());
  const env = {
    ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret,
    CGW_BATCH_RETRY_BASE_MS: '10',
    CGW_BATCH_RETRY_CAP_MS: '50',
  };
  const once = await startHostile({ behaviour: 'unavailable', actions: ['GetCallerIdentity'], failFirst: 1 });
  try {
    const r = await runCli(['plan', dir.path('m.csv'), '--endpoint', once.url], { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(once.hits.filter((x) => x.action === 'GetCallerIdentity').length, 2);
  } finally {
    await once.close();
  }
  const down = await startHostile({ behaviour: 'unavailable', actions: ['GetCallerIdentity'] });
  try {
    const r = await runCli(['plan', dir.path('m.csv'), '--endpoint', down.url], { env });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`STS GetCallerIdentity at ${down.url} failed after ${STS_ATTEMPTS} attempts`));
    assert.equal(down.hits.filter((x) => x.action === 'GetCallerIdentity').length, STS_ATTEMPTS);
    // The plan's reads go out beside the STS call (start-up): nothing but reads reaches the server.
    assert.deepEqual(down.hits.filter((x) => !/^(GetCallerIdentity|Describe)/.test(x.action ?? '')), []);
  } finally {
    await down.close();
  }
});
