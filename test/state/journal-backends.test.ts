// The Journal over a shared backend (the OSS emulator) and its lease: compaction only when due, a broken lease stops
// the journal at its next write, and a lease unconfirmed for ttl minus its margin fences itself.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { DEFAULT_OSS_ACCOUNT, startOssEmulator, type OssEmulator } from '../../src/emulator/oss/server.js';
import { openFileBackend } from '../../src/state/backend/file.js';
import { openOssBackend } from '../../src/state/backend/oss.js';
import { LeaseLostError, leaseTiming, type LeaseClock } from '../../src/state/backend/types.js';
import { Journal, readState } from '../../src/state/journal.js';
import { stateDir } from './setup.js';

let emu: OssEmulator;
before(async () => {
  emu = await startOssEmulator();
});
after(async () => emu?.close());

const oss = (prefix: string) => openOssBackend({ endpoint: emu.url, bucket: 'cgw-state', prefix, credentials: async () => DEFAULT_OSS_ACCOUNT, timing: leaseTiming(5_000), requestTimeoutMs: 5_000 });
const keys = (prefix: string) => [...(emu.buckets.get('cgw-state')?.keys() ?? [])].filter((k) => k.startsWith(`${prefix}/`)).map((k) => k.slice(prefix.length + 1)).sort();

test('a journal in OSS: the manifest is named by its file name; reopening compacts only when the header changed', async () => {
  const t = stateDir();
  const prefix = `estates/j-${randomBytes(3).toString('hex')}`;
  const b = oss(prefix);
  try {
    const j = await Journal.open(b, t.opts());
    assert.equal(j.header.manifest.path, 'branches.csv');
    assert.equal(j.path, `oss://cgw-state/${prefix}`);
    for (let i = 0; i < 3; i++) await j.record(`cn-hangzhou/10.0.0.${i}`, { status: 'created', gatewayId: `cgw-${i}` });
    await j.close();
    assert.deepEqual(keys(prefix), ['journal.00000001.jsonl']);
    const again = await Journal.open(b, t.opts());
    assert.equal(again.rows().size, 3);
    await again.record('cn-hangzhou/10.0.0.9', { status: 'pending' });
    await again.close();
    assert.deepEqual(keys(prefix), ['journal.00000001.jsonl'], 'same header: no compaction (it costs requests)');
    const edited = await Journal.open(b, t.opts({ manifest: { path: t.path('branches.csv'), hash: 'hash-2' } }));
    await edited.close();
    assert.deepEqual(keys(prefix), ['journal.00000001.jsonl', 'journal.00000002.jsonl'], 'a changed manifest hash is written by a compaction');
    const read = await readState(b);
    assert.equal(read?.header.manifest.hash, 'hash-2');
    assert.equal(read?.header.runId, j.header.runId);
    assert.equal(read?.rows.size, 4);
  } finally {
    await b.close();
    t.cleanup();
  }
});

test('a broken lease stops the journal: the next record is refused, assertHeld throws, nothing more is appended', async () => {
  const t = stateDir();
  const prefix = `estates/b-${randomBytes(3).toString('hex')}`;
  const b = oss(prefix);
  const admin = oss(prefix);
  try {
    const j = await Journal.open(b, t.opts());
    await j.record('cn-hangzhou/10.0.0.1', { status: 'in-flight' });
    j.assertHeld();
    assert.ok(await admin.breakLease());
    await assert.rejects(j.record('cn-hangzhou/10.0.0.1', { status: 'created' }), LeaseLostError);
    assert.throws(() => j.assertHeld(), LeaseLostError);
    await assert.rejects(j.record('cn-hangzhou/10.0.0.2', { status: 'in-flight' }), LeaseLostError);
    await j.close().catch(() => undefined);
    assert.equal((await readState(admin))?.rows.get('cn-hangzhou/10.0.0.1')?.status, 'in-flight', 'the fenced write never landed');
  } finally {
    await b.close();
    await admin.close();
    t.cleanup();
  }
});

test('a lease not confirmed for ttl minus its margin fences itself: assertHeld throws before any cloud call could go out', async () => {
  const t = stateDir();
  let now = 1_000_000;
  const clock: LeaseClock = { now: () => now, sleep: async (ms) => void (now += ms) };
  // No heartbeat runs in this test (a day apart): only the clock decides.
  const b = openFileBackend({ path: t.state, timing: leaseTiming(3_000, { heartbeatMs: 86_400_000 }), clock });
  try {
    const j = await Journal.open(b, t.opts());
    await j.record('cn-hangzhou/10.0.0.1', { status: 'in-flight' });
    now += 2_400; // under ttl - margin (2500 ms): still held
    j.assertHeld();
    now += 200;
    assert.throws(() => j.assertHeld(), /last confirmed 3 s ago, too close to its 3 s ttl/);
    await assert.rejects(j.record('cn-hangzhou/10.0.0.1', { status: 'created' }), LeaseLostError);
    await j.close().catch(() => undefined);
  } finally {
    t.cleanup();
  }
});
