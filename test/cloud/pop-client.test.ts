// Bounded transport under real pop-core: total deadline, body cap, no silent gunzip, no redirect or id-less success.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { CloudError } from '../../src/cloud/errors.js';
import { PopVpcClient } from '../../src/cloud/pop-client.js';
import { repoRoot } from '../helpers/paths.js';
import { quoteFive, startHostile, type Behaviour } from '../hostile/server.js';

const CREDS = { accessKeyId: 'LTAI5tHostileTest01', accessKeySecret: 'hostile-secret-value-0001' };
const AUTH_KEY = 'Hostile "Auth" Key/+ 42';

async function createWith(behaviour: Behaviour, timeoutMs = 1500, extra: { bombMb?: number } = {}) {
  const h = await startHostile({ behaviour, trickleMs: 100, ...extra });
  const c = new PopVpcClient({ endpoint: h.url, credentials: CREDS, timeoutMs });
  const started = performance.now();
  try {
    const r = await c.createCustomerGateway({ regionId: 'cn-hangzhou', ipAddress: '203.0.113.9', authKey: AUTH_KEY, asn: '65000', clientToken: 't-1' });
    return { ok: r, err: undefined as CloudError | undefined, ms: performance.now() - started, h, c };
  } catch (e) {
    assert.ok(e instanceof CloudError, `not a CloudError: ${String(e)}`);
    return { ok: undefined, err: e, ms: performance.now() - started, h, c };
  }
}

function assertClean(e: CloudError): void {
  const text = `${e.message} ${JSON.stringify(e)}`;
  for (const s of [AUTH_KEY, encodeURIComponent(AUTH_KEY), Buffer.from(AUTH_KEY).toString('base64'), CREDS.accessKeySecret, 'Hostile']) {
    assert.ok(!text.includes(s), `${s} leaked: ${text}`);
  }
}

test('a trickling body ends at the total deadline with the socket destroyed', async (t) => {
  const r = await createWith('trickle', 800);
  t.after(() => r.h.close());
  assert.equal(r.err?.code, 'RequestTimeout');
  assert.equal(r.err?.outcomeUnknown, true);
  assert.ok(r.ms < 800 + 3000, `took ${r.ms} ms`);
  // The server sees its socket closed: nothing lingers to keep the process alive.
  for (let i = 0; i < 100 && r.h.openSockets() > 0; i++) await new Promise((res) => setTimeout(res, 20));
  assert.equal(r.h.openSockets(), 0);
});

test('an endless body is cut at 1 MB: InvalidResponse.TooLarge, outcome unknown', async (t) => {
  const r = await createWith('endless', 10_000);
  t.after(() => r.h.close());
  assert.equal(r.err?.code, 'InvalidResponse.TooLarge');
  assert.equal(r.err?.outcomeUnknown, true);
  assert.ok(r.ms < 10_000, 'cut by the cap, not the deadline');
});

test('a gzip bomb is never inflated: too large on the wire, or refused as an unasked-for encoding', async (t) => {
  const big = await createWith('gzip-bomb', 10_000);
  t.after(() => big.h.close());
  assert.equal(big.err?.code, 'InvalidResponse.TooLarge');
  // 256 MB inflated from ~260 KB: under the wire cap, so only the stripped encoding keeps it small.
  const before = process.memoryUsage().rss;
  const small = await createWith('gzip-bomb', 10_000, { bombMb: 256 });
  t.after(() => small.h.close());
  assert.equal(small.err?.code, 'InvalidResponse.Encoded');
  assert.ok(process.memoryUsage().rss - before < 100 * 1024 * 1024, 'the bomb was inflated');
});

test('a 302 with a JSON body claiming a gateway is an error, and its Location is never visited', async (t) => {
  let visited = 0;
  const other = createServer((_req, res) => {
    visited++;
    res.end('{}');
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  t.after(() => other.close());
  const r = await createWith('redirect');
  t.after(() => r.h.close());
  assert.equal(r.ok, undefined);
  assert.equal(r.err?.code, 'InvalidResponse.Redirect');
  assert.equal(r.err?.status, 302);
  assert.equal(r.h.hits.filter((x) => x.action === 'CreateCustomerGateway').length, 1);
  assert.equal(visited, 0);
});

test('a 200 without a well-formed CustomerGatewayId is an unknown outcome, never a created gateway', async (t) => {
  for (const b of ['missing-id', 'empty-id'] as const) {
    const r = await createWith(b);
    t.after(() => r.h.close());
    assert.equal(r.ok, undefined, b);
    assert.equal(r.err?.code, 'InvalidResponse.MissingId', b);
    assert.equal(r.err?.outcomeUnknown, true, b);
    assert.equal(r.err?.errorClass, 'transient', b);
  }
});

test('an HTML 200 is an InvalidResponse with unknown outcome', async (t) => {
  const r = await createWith('html-200');
  t.after(() => r.h.close());
  assert.equal(r.err?.code, 'InvalidResponse');
  assert.equal(r.err?.status, 200);
  assert.equal(r.err?.outcomeUnknown, true);
});

test('429 is throttling with the Retry-After hint, whatever the body', async (t) => {
  const r = await createWith('429');
  t.after(() => r.h.close());
  assert.equal(r.err?.errorClass, 'throttled');
  assert.equal(r.err?.status, 429);
  assert.equal(r.err?.retryAfterMs, 1000);
  assert.equal(r.err?.retryable, true);
});

test('an error body quoting the AuthKey in five encodings yields a message without any of them', async (t) => {
  const r = await createWith('quote-secret');
  t.after(() => r.h.close());
  assert.equal(r.err?.code, 'InvalidParameter');
  assert.ok(quoteFive(AUTH_KEY).includes(Buffer.from(AUTH_KEY).toString('base64')));
  assertClean(r.err!);
});

test('the sane path still works, and the id comes back', async (t) => {
  const r = await createWith('ok');
  t.after(() => r.h.close());
  assert.match(r.ok?.id ?? '', /^cgw-[a-z0-9]+$/);
});

test('an aborted signal abandons the request at once; many waiting requests share one abort listener', async (t) => {
  const h = await startHostile({ behaviour: 'trickle', trickleMs: 100, actions: ['DescribeRegions'] });
  t.after(() => h.close());
  const c = new PopVpcClient({ endpoint: h.url, credentials: CREDS, timeoutMs: 30_000 });
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const ac = new AbortController();
  const calls = Array.from({ length: 40 }, () => c.describeRegions({ signal: ac.signal }).catch((e: unknown) => e));
  while (h.hits.length < 40) await new Promise((res) => setTimeout(res, 10));
  const started = performance.now();
  ac.abort();
  const errs = await Promise.all(calls);
  assert.ok(performance.now() - started < 2000);
  for (const e of errs) assert.equal((e as CloudError).code, 'RequestAborted');
  await new Promise((res) => setImmediate(res));
  assert.deepEqual(warnings, []);
  c.close();
});

test('a process that called a trickling endpoint exits right after its call gives up (no socket, no timer left)', async (t) => {
  const h = await startHostile({ behaviour: 'trickle', trickleMs: 100 });
  t.after(() => h.close());
  const script = `
    import { PopVpcClient } from ${JSON.stringify(join(repoRoot, 'dist/src/cloud/pop-client.js'))};
    const c = new PopVpcClient({ endpoint: ${JSON.stringify(h.url)}, credentials: ${JSON.stringify(CREDS)}, timeoutMs: 600 });
    const calls = Array.from({ length: 8 }, (_, i) => c.createCustomerGateway({ regionId: 'cn-hangzhou', ipAddress: '203.0.113.' + i }).catch((e) => e.code));
    console.log(JSON.stringify(await Promise.all(calls)));
    console.log('done ' + Date.now());
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = await new Promise<number>((resolve) => child.on('close', () => resolve(Date.now())));
  const done = Number(/done (\d+)/.exec(out)?.[1]);
  assert.ok(done > 0, out);
  assert.deepEqual(JSON.parse(out.split('\n')[0] ?? '[]'), Array(8).fill('RequestTimeout'));
  // Generous slack for a loaded machine; before the fix the child never exited at all.
  assert.ok(exited - done < 3000, `exited ${exited - done} ms after its calls finished`);
});

test('Connection.close() destroys every pooled keep-alive socket of every client', async (t) => {
  const { connect } = await import('../../src/cloud/connect.js');
  const h = await startHostile({ behaviour: 'ok' });
  t.after(() => h.close());
  const conn = connect({ credentials: CREDS, endpoint: h.url, timeoutMs: 2000 });
  await conn.clientFor('cn-hangzhou').describeRegions();
  await conn.clientFor('cn-shanghai').createCustomerGateway({ regionId: 'cn-shanghai', ipAddress: '203.0.113.1' });
  assert.ok(h.openSockets() >= 1, 'keep-alive keeps the socket for the next call');
  conn.close();
  for (let i = 0; i < 50 && h.openSockets() > 0; i++) await new Promise((res) => setTimeout(res, 20));
  assert.equal(h.openSockets(), 0);
  // Still usable afterwards (a new socket), and closable again.
  await conn.clientFor('cn-hangzhou').describeRegions();
  conn.close();
});
