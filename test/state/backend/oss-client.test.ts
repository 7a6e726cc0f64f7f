// Our OSS client's signatures equal ali-oss's own signing code; its requests are bounded against hostile servers; crc64 is ECMA-182 as OSS uses.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { crc64, crc64String, crc64Update, CRC64_EMPTY } from '../../../src/state/backend/crc64.js';
import { OssClient, OssError, signV4 } from '../../../src/state/backend/oss-client.js';

const require = createRequire(import.meta.url);

/** Bit by bit from the definition (reflected ECMA-182, init and xorout all ones): slow, obviously right. */
function crc64Reference(data: Uint8Array): bigint {
  const poly = 0xc96c5795d7870f42n;
  let crc = 0xffffffffffffffffn;
  for (const b of data) {
    crc ^= BigInt(b);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return crc ^ 0xffffffffffffffffn;
}

test('crc64: the CRC-64/XZ check value, the reference on random data, and continuation equal to one pass', () => {
  assert.equal(crc64String(crc64(Buffer.from('123456789'))), BigInt('0x995DC9BBDF1939FA').toString());
  assert.equal(crc64String(crc64(Buffer.alloc(0))), '0');
  for (let i = 0; i < 20; i++) {
    const data = Buffer.from(Array.from({ length: 1 + i * 37 }, (_, j) => (j * 131 + i * 7) & 0xff));
    assert.equal(crc64String(crc64(data)), crc64Reference(data).toString());
    const cut = Math.floor(data.length / 3);
    assert.deepEqual(crc64Update(crc64Update(CRC64_EMPTY, data.subarray(0, cut)), data.subarray(cut)), crc64(data));
  }
});

test('signV4 equals ali-oss’s own authorizationV4 for the same request (keys with spaces, +, unicode; STS header; bare sub-resources)', () => {
  const signUtils = require('ali-oss/lib/common/signUtils.js') as {
    authorizationV4: (ak: string, sk: string, region: string, method: string, req: { headers: Record<string, string>; queries: Record<string, string | null> }, bucket: string, key: string) => string;
  };
  const creds = { accessKeyId: 'LTAI5tExample', accessKeySecret: 'sk/with+odd=chars', securityToken: 'tok' };
  const cases: Array<{ method: string; key: string; query: Record<string, string | null>; headers: Record<string, string> }> = [
    { method: 'POST', key: 'a/b c/journal+1é.jsonl', query: { append: null, position: '42' }, headers: { 'content-type': 'application/octet-stream', 'content-md5': 'abc==', 'x-oss-server-side-encryption': 'AES256' } },
    { method: 'GET', key: '', query: { 'list-type': '2', prefix: 'teams/x/journal.', 'max-keys': '1000', 'continuation-token': 'dGVhbXM=' }, headers: {} },
    { method: 'PUT', key: "it's (odd)*!", query: {}, headers: { 'x-oss-forbid-overwrite': 'true', 'x-oss-security-token': 'tok' } },
  ];
  for (const c of cases) {
    const date = '20260102T030405Z';
    const headers = { ...c.headers, 'x-oss-date': date, 'x-oss-content-sha256': 'UNSIGNED-PAYLOAD' };
    const ours = signV4({ method: c.method, bucket: 'bkt', key: c.key, query: c.query, headers, region: 'cn-hangzhou', creds, date });
    const theirs = signUtils.authorizationV4(creds.accessKeyId, creds.accessKeySecret, 'cn-hangzhou', c.method, { headers, queries: c.query }, 'bkt', c.key);
    assert.equal(ours, theirs, `${c.method} ${c.key}`);
  }
});

async function hostile(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    handler?.(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return { url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, server, hits: () => hits };
}

const creds = async () => ({ accessKeyId: 'AK', accessKeySecret: 'SK' });

test('hostile OSS endpoints: a redirect is not followed, an endless or oversized body is cut, a trickle hits the deadline, a wrong crc is refused', async () => {
  const target = await hostile((_q, res) => res.end('followed'));
  const redirect = await hostile((_q, res) => {
    res.writeHead(302, { location: `${target.url}/b/k` });
    res.end();
  });
  const endless = await hostile((_q, res) => {
    res.writeHead(200);
    const t = setInterval(() => res.write(Buffer.alloc(64 * 1024, 120)), 1);
    res.on('close', () => clearInterval(t));
  });
  const huge = await hostile((_q, res) => {
    res.writeHead(200, { 'content-length': String(10 * 1024 ** 3) });
    res.write('x');
  });
  const trickle = await hostile((_q, res) => {
    res.writeHead(200, { 'content-length': '1000' });
    const t = setInterval(() => res.write('x'), 100);
    res.on('close', () => clearInterval(t));
  });
  const badCrc = await hostile((_q, res) => {
    res.writeHead(200, { 'x-oss-hash-crc64ecma': '12345' });
    res.end('{"t":"row"}\n');
  });
  const servers = [target, redirect, endless, huge, trickle, badCrc];
  try {
    const c = (url: string, extra = {}) => new OssClient({ endpoint: url, bucket: 'b', credentials: creds, timeoutMs: 1_500, maxBodyBytes: 1024 * 1024, ...extra });
    await assert.rejects(c(redirect.url).get('k'), (e: unknown) => e instanceof OssError && e.code === 'Redirect');
    assert.equal(target.hits(), 0, 'the redirect target was never asked');
    await assert.rejects(c(endless.url).get('k'), (e: unknown) => e instanceof OssError && e.code === 'BodyTooLarge');
    await assert.rejects(c(huge.url).get('k'), (e: unknown) => e instanceof OssError && e.code === 'BodyTooLarge');
    const started = performance.now();
    await assert.rejects(c(trickle.url).get('k'), (e: unknown) => e instanceof OssError && e.code === 'Timeout' && e.ambiguous);
    assert.ok(performance.now() - started < 1_500 + 3_000, 'bounded by the configured deadline');
    await assert.rejects(c(badCrc.url).get('k'), (e: unknown) => e instanceof OssError && e.code === 'Crc64Mismatch');
  } finally {
    for (const s of servers) {
      s.server.closeAllConnections();
      await new Promise((r) => s.server.close(r));
    }
  }
});

test('the secret never leaves the process: not in headers sent, not in errors', async () => {
  let seen = '';
  const spy = await hostile((req, res) => {
    seen += JSON.stringify(req.headers) + req.url;
    res.writeHead(403, { 'content-type': 'application/xml' });
    res.end('<Error><Code>AccessDenied</Code><Message>no</Message></Error>');
  });
  try {
    const c = new OssClient({ endpoint: spy.url, bucket: 'b', credentials: async () => ({ accessKeyId: 'AKID', accessKeySecret: 'super-secret-value', securityToken: 'sts-token' }) });
    await assert.rejects(c.put('k', Buffer.from('x')), (e: unknown) => {
      assert.ok(!String((e as Error).message).includes('super-secret-value'));
      return e instanceof OssError && e.code === 'AccessDenied';
    });
    assert.ok(!seen.includes('super-secret-value'));
    assert.ok(seen.includes('AKID'));
    c.close();
  } finally {
    spy.server.closeAllConnections();
    await new Promise((r) => spy.server.close(r));
  }
});
