// The OSS backend against the in-repo OSS emulator: the conformance suite, plus OSS-only promises (seals, SSE, faults).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { after, before, test } from 'node:test';
import { DEFAULT_OSS_ACCOUNT, startOssEmulator, type OssEmulator } from '../../../src/emulator/oss/server.js';
import { openOssBackend, type OssBackendOptions } from '../../../src/state/backend/oss.js';
import { OssClient } from '../../../src/state/backend/oss-client.js';
import { LeaseLostError, leaseTiming } from '../../../src/state/backend/types.js';
import { conformance, type EstateFixture } from './conformance.js';

const TTL = 1_500;
const BUCKET = 'cgw-state';
let emu: OssEmulator;
const creds = { accessKeyId: DEFAULT_OSS_ACCOUNT.accessKeyId, accessKeySecret: DEFAULT_OSS_ACCOUNT.accessKeySecret };

before(async () => {
  emu = await startOssEmulator({ buckets: [BUCKET] });
});
after(async () => emu?.close());

const backendOpts = (prefix: string, extra: Partial<OssBackendOptions> = {}): OssBackendOptions => ({
  endpoint: emu.url,
  bucket: BUCKET,
  prefix,
  credentials: async () => creds,
  timing: leaseTiming(TTL),
  requestTimeoutMs: 2_000,
  ...extra,
});

const client = () => new OssClient({ endpoint: emu.url, bucket: BUCKET, credentials: async () => creds });

async function estate(): Promise<EstateFixture> {
  const prefix = `teams/estate-${randomBytes(4).toString('hex')}`;
  let lost = 0;
  return {
    spec: { kind: 'oss', endpoint: emu.url, bucket: BUCKET, prefix, credentials: creds, ttlMs: TTL, requestTimeoutMs: 2_000 },
    open: async () => openOssBackend(backendOpts(prefix)),
    loseNextAnswer: async () => {
      emu.injectNext('append', 'lost-answer');
      const before = emu.stats.faults;
      emu.onCommit = () => {
        emu.onCommit = undefined;
        if (emu.stats.faults > before) lost++;
      };
    },
    answersLost: () => lost,
    tear: async (fragment) => {
      const c = client();
      const keys = (await c.listAll(`${prefix}/`)).map((k) => k.key).sort();
      const key = keys.at(-1) ?? `${prefix}/journal.00000001.jsonl`;
      const head = await c.head(key);
      await c.append(key, head?.length ?? 0, Buffer.from(fragment));
      c.close();
    },
    cleanup: async () => undefined,
  };
}

conformance({ name: 'oss', ttlMs: TTL, heartbeatMs: leaseTiming(TTL).heartbeatMs, killSeenAtOnce: false, foreignHost: 'elsewhere', estate });

const me = (runId: string) => ({ host: hostname(), pid: process.pid, startedAt: new Date().toISOString(), runId });

test('oss: the journal is an appendable, AES256-encrypted object holding lease records; compaction seals into the next generation', async () => {
  const prefix = `teams/layout-${randomBytes(3).toString('hex')}`;
  const b = openOssBackend(backendOpts(prefix));
  try {
    const lease = await b.acquire({ holder: me('layout') });
    await lease.append(['{"t":"header","version":1}', '{"t":"row","key":"a"}']);
    const c = client();
    const first = await c.head(`${prefix}/journal.00000001.jsonl`);
    assert.equal(first?.type, 'Appendable');
    const raw = emu.object(BUCKET, `${prefix}/journal.00000001.jsonl`)?.toString('utf8') ?? '';
    const lines = raw.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines[0]?.['t'], 'lease');
    assert.equal(lines[0]?.['epoch'], 1);
    assert.deepEqual((lines[0]?.['holder'] as Record<string, unknown> | undefined)?.['runId'], 'layout');
    const got = await fetch(`${emu.url}/${BUCKET}/${prefix}/journal.00000001.jsonl`, { method: 'HEAD' });
    assert.equal(got.status, 403, 'unsigned requests are refused');
    const sse = emu.buckets.get(BUCKET)?.get(`${prefix}/journal.00000001.jsonl`)?.sse;
    assert.equal(sse, 'AES256');
    await lease.compact(['{"t":"header","version":1}', '{"t":"row","key":"a","snap":true}']);
    const gen1 = emu.object(BUCKET, `${prefix}/journal.00000001.jsonl`)?.toString('utf8') ?? '';
    assert.match(gen1.trimEnd().split('\n').at(-1) ?? '', /^\{"t":"seal","next":2,/);
    assert.equal(emu.buckets.get(BUCKET)?.get(`${prefix}/journal.00000002.jsonl`)?.sse, 'AES256');
    await lease.append(['{"t":"row","key":"b"}']);
    assert.deepEqual((await b.read())?.records, ['{"t":"header","version":1}', '{"t":"row","key":"a","snap":true}', '{"t":"row","key":"b"}']);
    // Two more compactions: generations older than the previous one are deleted.
    await lease.compact(['{"t":"header","version":1}']);
    await lease.compact(['{"t":"header","version":1}']);
    assert.deepEqual((await c.listAll(`${prefix}/`)).map((k) => k.key.split('/').at(-1)), ['journal.00000003.jsonl', 'journal.00000004.jsonl']);
    await assert.rejects(lease.append(['{"t":"lease","epoch":9}']), /record types/);
    await lease.release();
    c.close();
  } finally {
    await b.close();
  }
});

test('oss: an unsealed next generation (a compaction that lost its race) is ignored by readers and replaced by the next compaction', async () => {
  const prefix = `teams/orphan-${randomBytes(3).toString('hex')}`;
  const b = openOssBackend(backendOpts(prefix));
  try {
    const lease = await b.acquire({ holder: me('o') });
    await lease.append(['{"t":"row","n":1}']);
    const c = client();
    await c.append(`${prefix}/journal.00000002.jsonl`, 0, Buffer.from('{"t":"row","n":"orphan"}\n'));
    assert.deepEqual((await b.read())?.records, ['{"t":"row","n":1}']);
    await lease.compact(['{"t":"row","upto":1}']);
    assert.deepEqual((await b.read())?.records, ['{"t":"row","upto":1}']);
    await lease.release();
    c.close();
  } finally {
    await b.close();
  }
});

test('oss: spurious conflicts, 5xx and an answer lost after commit are absorbed without duplicates; a slow body hits the deadline', async () => {
  const prefix = `teams/faults-${randomBytes(3).toString('hex')}`;
  const b = openOssBackend(backendOpts(prefix, { requestTimeoutMs: 600 }));
  try {
    const lease = await b.acquire({ holder: me('f') });
    emu.injectNext('append', 'conflict');
    await lease.append(['{"t":"row","n":1}']);
    emu.injectNext('append', 'unavailable');
    await lease.append(['{"t":"row","n":2}']);
    emu.injectNext('append', 'lost-answer');
    await lease.append(['{"t":"row","n":3}']);
    emu.injectNext('append', 'internal');
    emu.injectNext('append', 'lost-answer');
    await lease.append(['{"t":"row","n":4}']);
    emu.injectNext('get', 'slow-body');
    assert.deepEqual((await b.read())?.records, ['{"t":"row","n":1}', '{"t":"row","n":2}', '{"t":"row","n":3}', '{"t":"row","n":4}']);
    // A slow answer to an append: the deadline fires, the retry finds the batch landed.
    emu.injectNext('append', 'slow-body');
    await lease.append(['{"t":"row","n":5}']);
    assert.equal((await b.read())?.records.length, 5);
    lease.assertHeld();
    await lease.release();
  } finally {
    await b.close();
  }
});

test('oss: a holder that finds someone else at its position is fenced even when its own batch had landed first', async () => {
  const prefix = `teams/landed-${randomBytes(3).toString('hex')}`;
  const a = openOssBackend(backendOpts(prefix));
  try {
    const la = await a.acquire({ holder: me('a') });
    await la.append(['{"t":"row","n":1}']);
    // The answer to A's next append is lost, and a force-unlock lands right after it, before A retries.
    emu.injectNext('append', 'lost-answer');
    emu.onCommit = (_op, bucket, key) => {
      emu.onCommit = undefined;
      emu.appendDirect(bucket, key, Buffer.from(JSON.stringify({ t: 'release', epoch: la.epoch, forced: true }) + '\n'));
    };
    await assert.rejects(la.append(['{"t":"row","n":2}']), (e: unknown) => e instanceof LeaseLostError && e.landed === true);
    assert.equal(la.signal.aborted, true);
    const admin = openOssBackend(backendOpts(prefix));
    assert.equal((await admin.status()).held, false);
    assert.deepEqual((await admin.read())?.records, ['{"t":"row","n":1}', '{"t":"row","n":2}']);
    await admin.close();
  } finally {
    await a.close();
  }
});
