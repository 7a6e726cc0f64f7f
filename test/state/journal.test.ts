// Journal behaviour: replay and merge, torn vs corrupt lines (30), modes (32), foreign state (36), no secrets (48), group commit.
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { StateError } from '../../src/errors.js';
import { fingerprint } from '../../src/secrets.js';
import { defaultStatePath, Journal, readJournal, toPriorRows } from '../../src/state/journal.js';
import { stateDir } from './setup.js';

const mode = (p: string) => statSync(p).mode & 0o777;
const lines = (p: string) => readFileSync(p, 'utf8').split('\n').filter(Boolean);

test('first open creates the journal with a header, a run id and a fingerprint key; reopening keeps them', async () => {
  const t = stateDir();
  try {
    const j = await Journal.open(t.state, t.opts());
    assert.match(j.header.runId, /^[0-9a-f-]{36}$/);
    assert.match(j.header.fingerprintKey, /^[0-9a-f]{64}$/);
    assert.equal(j.header.manifest.path, 'branches.csv');
    assert.equal(j.header.accountId, '1234567890123456');
    assert.equal(j.header.accessKeyId, undefined, 'bound to the account, not to a key');
    await j.close();
    const first = JSON.parse(lines(t.state)[0] ?? '') as Record<string, unknown>;
    assert.equal(first['t'], 'header');
    assert.equal(first['version'], 1);
    const again = await Journal.open(t.state, t.opts());
    assert.equal(again.header.runId, j.header.runId);
    assert.equal(again.header.fingerprintKey, j.header.fingerprintKey);
    await again.close();
  } finally {
    t.cleanup();
  }
});

test('records merge in order, survive a reopen, and undefined clears an optional field', async () => {
  const t = stateDir();
  try {
    const j = await Journal.open(t.state, t.opts());
    const key = 'cn-hangzhou/1.2.3.4';
    const before = await j.record(key, { token: 'cgw-abc', generation: 1, status: 'in-flight', line: 2, errorCode: 'Throttling' });
    assert.equal(before.region, 'cn-hangzhou');
    assert.equal(before.ip, '1.2.3.4');
    const after = await j.record(key, { status: 'created', gatewayId: 'cgw-123', requestIds: ['r1'], errorCode: undefined });
    assert.equal(before.status, 'in-flight', 'rows handed out earlier are not mutated');
    assert.equal(after.token, 'cgw-abc');
    assert.equal(after.errorCode, undefined);
    assert.ok(!('errorCode' in after));
    await j.close();
    await j.close(); // idempotent

    const r = await readJournal(t.state);
    assert.ok(r);
    assert.deepEqual(r.rows.get(key), after);
    assert.deepEqual(r.warnings, []);
    const j2 = await Journal.open(t.state, t.opts());
    assert.deepEqual(j2.get(key), after);
    // Compaction on open: header + one record per row.
    assert.equal(lines(t.state).length, 2);
    await j2.close();
  } finally {
    t.cleanup();
  }
});

test('readJournal: undefined when missing; never takes the lock', async () => {
  const t = stateDir();
  try {
    assert.equal(await readJournal(t.state), undefined);
    const j = await Journal.open(t.state, t.opts());
    await j.record('a/1.1.1.1', { status: 'pending' });
    const r = await readJournal(t.state); // while locked
    assert.equal(r?.rows.size, 1);
    await j.close();
  } finally {
    t.cleanup();
  }
});

test('case 30: a torn last line is dropped with a warning; everything before it loads', async () => {
  const t = stateDir();
  try {
    const j = await Journal.open(t.state, t.opts());
    for (let i = 0; i < 5; i++) await j.record(`r/10.0.0.${i}`, { status: 'created', attempts: i });
    await j.close();
    appendFileSync(t.state, '{"t":"row","key":"r/10.0.0.9","stat');
    const r = await readJournal(t.state);
    assert.equal(r?.rows.size, 5);
    assert.match(r?.warnings[0] ?? '', /incomplete last line 7/);
    // Open drops it for good, so new appends never follow half a line.
    const j2 = await Journal.open(t.state, t.opts());
    assert.equal(j2.rows().size, 5);
    assert.ok(t.warnings.some((w) => /incomplete last line/.test(w)));
    await j2.record('r/10.0.0.9', { status: 'pending' });
    await j2.close();
    const r2 = await readJournal(t.state);
    assert.equal(r2?.rows.size, 6);
    assert.deepEqual(r2?.warnings, []);
  } finally {
    t.cleanup();
  }
});

test('case 30: a complete but unreadable last line is dropped too (e.g. zero-filled after power loss)', async () => {
  const t = stateDir();
  try {
    const j = await Journal.open(t.state, t.opts());
    await j.record('r/10.0.0.1', { status: 'created' });
    await j.close();
    appendFileSync(t.state, '\0\0\0\0\n');
    const r = await readJournal(t.state);
    assert.equal(r?.rows.size, 1);
    assert.match(r?.warnings[0] ?? '', /unreadable last line 3/);
  } finally {
    t.cleanup();
  }
});

test('case 30: a corrupt middle line or an unknown record type is a hard error naming the line and the .bak', async () => {
  const t = stateDir();
  try {
    const j = await Journal.open(t.state, t.opts());
    for (let i = 0; i < 4; i++) await j.record(`r/10.0.0.${i}`, { status: 'created' });
    await j.close();
    const good = lines(t.state);
    const bad = [...good];
    bad[2] = '{"t":"row","key":"r/10.0.0.1",'; // line 3
    writeFileSync(t.state, bad.join('\n') + '\n');
    await assert.rejects(readJournal(t.state), (e: unknown) => {
      assert.ok(e instanceof StateError);
      assert.match(e.message, /line 3 is corrupt/);
      assert.match(e.message, /cannot be trusted; restore it from .*\.bak or move it aside/);
      return true;
    });
    await assert.rejects(Journal.open(t.state, t.opts()), /line 3 is corrupt/);
    // The failed open released its lock and wrote nothing.
    assert.equal(readFileSync(t.state, 'utf8'), bad.join('\n') + '\n');

    const unknown = [...good];
    unknown[1] = '{"t":"mystery","key":"x"}';
    writeFileSync(t.state, unknown.join('\n') + '\n');
    await assert.rejects(readJournal(t.state), /line 2 is corrupt \(unknown record type "mystery"\)/);
    writeFileSync(t.state, good.join('\n') + '\n');
    const j2 = await Journal.open(t.state, t.opts());
    assert.equal(j2.rows().size, 4);
    await j2.close();
  } finally {
    t.cleanup();
  }
});

test('a header of a newer format version is refused; an empty file is refused', async () => {
  const t = stateDir();
  try {
    const j = await Journal.open(t.state, t.opts());
    await j.close();
    const [h, ...rest] = lines(t.state);
    const header = JSON.parse(h ?? '') as Record<string, unknown>;
    writeFileSync(t.state, [JSON.stringify({ ...header, version: 2 }), ...rest].join('\n') + '\n');
    await assert.rejects(Journal.open(t.state, t.opts()), (e: unknown) => e instanceof StateError && /format version 2, newer/.test(e.message));
    writeFileSync(t.state, '');
    await assert.rejects(Journal.open(t.state, t.opts()), /is empty or has no header/);
  } finally {
    t.cleanup();
  }
});

test('case 32: journal, .bak and lock are 0600; a looser existing journal is fixed with a warning', { skip: process.platform === 'win32' }, async () => {
  const t = stateDir();
  const old = process.umask(0o022);
  try {
    const j = await Journal.open(t.state, t.opts());
    assert.equal(mode(t.state), 0o600);
    assert.equal(mode(`${t.state}.lock`), 0o600);
    await j.close();
    chmodSync(t.state, 0o644);
    const j2 = await Journal.open(t.state, t.opts());
    assert.equal(mode(t.state), 0o600);
    assert.equal(mode(`${t.state}.bak`), 0o600);
    assert.ok(t.warnings.some((w) => /readable by others \(mode 0644\); changed it to 0600/.test(w)));
    await j2.close();
  } finally {
    process.umask(old);
    t.cleanup();
  }
});

test('case 36: a state file of another manifest, endpoint or access key is refused; a changed manifest hash is normal', async () => {
  const t = stateDir();
  try {
    const j = await Journal.open(t.state, t.opts());
    await j.record('a/1.1.1.1', { status: 'created' });
    await j.close();
    await assert.rejects(Journal.open(t.state, t.opts({ manifest: { path: t.path('other.csv'), hash: 'hash-1' } })), (e: unknown) => {
      assert.ok(e instanceof StateError);
      assert.match(e.message, /belongs to manifest branches\.csv, not other\.csv/);
      assert.match(e.message, /--state/);
      return true;
    });
    await assert.rejects(Journal.open(t.state, t.opts({ endpoint: 'https://vpc.cn-hangzhou.aliyuncs.com' })), /belongs to endpoint http:\/\/127\.0\.0\.1:18080.*use another --state/);
    await assert.rejects(
      Journal.open(t.state, t.opts({ caller: { accountId: '999', accessKeyId: 'LTAIother' } })),
      /belongs to account 1234567890123456, but these credentials are of account 999/,
    );
    // Another key (rotation, a colleague's RAM user, an STS session) of the same account resumes.
    const other = await Journal.open(t.state, t.opts({ caller: { accountId: '1234567890123456', accessKeyId: 'STS.session' } }));
    await other.close();
    // Refusals released the lock; a trailing slash on the endpoint is the same endpoint.
    const j2 = await Journal.open(t.state, t.opts({ endpoint: 'http://127.0.0.1:18080/', manifest: { path: t.path('branches.csv'), hash: 'hash-2' } }));
    assert.equal(j2.header.manifest.hash, 'hash-2');
    assert.equal(j2.header.runId, j.header.runId);
    await j2.close();
    assert.equal((await readJournal(t.state))?.header.manifest.hash, 'hash-2');
  } finally {
    t.cleanup();
  }
});

test('case 48: no AuthKey-like field survives a record, on disk or in memory; the fingerprint does', async () => {
  const t = stateDir();
  const marker = 'SECRET-MARKER-1234';
  try {
    const j = await Journal.open(t.state, t.opts());
    const fp = fingerprint(j.header.fingerprintKey, marker);
    const patch = {
      status: 'in-flight',
      authKeyFingerprint: fp,
      auth_key: marker,
      authKey: marker,
      AuthKey: marker,
      accessKeySecret: marker,
      'BGP Auth Key': marker,
      echo: { Region: 'cn-hangzhou', auth_key: marker, 'Auth-Key': marker, 'BGP password': marker },
    } as unknown as Parameters<Journal['record']>[1];
    const row = await j.record('cn-hangzhou/1.2.3.4', patch);
    assert.equal(row.authKeyFingerprint, fp);
    assert.deepEqual(row.echo, { Region: 'cn-hangzhou' });
    assert.ok(!JSON.stringify(row).includes(marker));
    await j.close();
    const j2 = await Journal.open(t.state, t.opts());
    await j2.close();
    for (const f of [t.state, `${t.state}.bak`]) assert.ok(!readFileSync(f, 'utf8').includes(marker), `${f} holds the AuthKey`);
    const r = await readJournal(t.state);
    assert.equal(r?.rows.get('cn-hangzhou/1.2.3.4')?.authKeyFingerprint, fp);
    // A changed AuthKey is detected through the fingerprint alone.
    assert.notEqual(fingerprint(j.header.fingerprintKey, 'another-key'), fp);
  } finally {
    t.cleanup();
  }
});

test('group commit: 1000 concurrent records need far fewer fsyncs, all durable and in call order', async (ctx) => {
  const t = stateDir();
  try {
    const j = await Journal.open(t.state, t.opts());
    const n = 1000;
    const t0 = performance.now();
    const done = await Promise.all(Array.from({ length: n }, (_, i) => j.record(`cn-hangzhou/10.1.${i >> 8}.${i & 255}`, { status: 'in-flight', attempts: i })));
    const concurrentMs = performance.now() - t0;
    assert.equal(done.length, n);
    assert.equal(j.stats.records, n);
    const concurrentFsyncs = j.stats.fsyncs;
    assert.ok(j.stats.fsyncs <= 10, `${j.stats.fsyncs} fsyncs for ${n} records`);
    // Same key hammered concurrently: the last call wins, because records are appended in call order.
    await Promise.all(Array.from({ length: 100 }, (_, i) => j.record('hot/1.1.1.1', { attempts: i })));
    assert.equal(j.get('hot/1.1.1.1')?.attempts, 99);

    // Executor shape: 64 lanes each awaiting its own intent before the next one.
    const before = j.stats.fsyncs;
    const t1 = performance.now();
    let seq = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (seq < 2000) {
          const i = seq++;
          await j.record(`cn-shanghai/10.2.${i >> 8}.${i & 255}`, { status: 'in-flight', attempts: i });
        }
      }),
    );
    const laneMs = performance.now() - t1;
    const laneRate = Math.round(2000 / (laneMs / 1000));
    ctx.diagnostic(
      `1000 concurrent: ${concurrentMs.toFixed(1)} ms (${Math.round(n / (concurrentMs / 1000))} records/s), ${concurrentFsyncs} fsyncs; ` +
        `64 awaiting writers: ${laneRate} records/s durable with ${j.stats.fsyncs - before} fsyncs for 2000 records`,
    );
    assert.ok(j.stats.fsyncs - before < 2000 / 4, 'awaiting writers must share fsyncs');
    await j.close();
    const r = await readJournal(t.state);
    assert.equal(r?.rows.size, n + 1 + 2000);
    assert.equal(r?.rows.get('hot/1.1.1.1')?.attempts, 99);
  } finally {
    t.cleanup();
  }
});

test('close flushes; abandon releases the lock at once and rejects later records; the file stays consistent', async () => {
  const t = stateDir();
  try {
    const j = await Journal.open(t.state, t.opts());
    const p = j.record('a/1.1.1.1', { status: 'in-flight' });
    await p;
    j.abandon();
    j.abandon();
    await assert.rejects(j.record('a/1.1.1.1', { status: 'created' }), /abandoned/);
    // Lock is free right away: another run can open.
    const j2 = await Journal.open(t.state, t.opts());
    assert.equal(j2.get('a/1.1.1.1')?.status, 'in-flight');
    await j2.close();
    await j.close();
    await assert.rejects(j2.record('a/1.1.1.1', {}), /closed/);
  } finally {
    t.cleanup();
  }
});

test('toPriorRows carries what the planner needs; defaultStatePath sits beside the manifest', async () => {
  const t = stateDir();
  try {
    const j = await Journal.open(t.state, t.opts());
    await j.record('cn-hangzhou/1.2.3.4', {
      status: 'failed',
      generation: 2,
      line: 7,
      gatewayId: 'cgw-1',
      errorCode: 'IllegalParam.Asn',
      errorMessage: 'bad ASN',
      errorClass: 'validation',
      specHash: 'sh',
      name: 'branch',
      tags: [{ key: 'env', value: 'prod' }],
      token: 'cgw-x',
    });
    const prior = toPriorRows(j.rows());
    assert.deepEqual(prior.get('cn-hangzhou/1.2.3.4'), {
      key: 'cn-hangzhou/1.2.3.4',
      status: 'failed',
      generation: 2,
      line: 7,
      gatewayId: 'cgw-1',
      name: 'branch',
      tags: [{ key: 'env', value: 'prod' }],
      errorCode: 'IllegalParam.Asn',
      errorMessage: 'bad ASN',
      errorClass: 'validation',
      specHash: 'sh',
    });
    await j.close();
    assert.equal(defaultStatePath('/data/branches.csv'), '/data/branches.csv.state.jsonl');
    assert.equal(defaultStatePath('sites.yaml'), 'sites.yaml.state.jsonl');
  } finally {
    t.cleanup();
  }
});

test('a journal of an earlier version, bound to a key, opens for that key only and is bound to its account on the next write', async () => {
  const t = stateDir();
  try {
    const header = { t: 'header', version: 1, runId: '11111111-2222-3333-4444-555555555555', manifest: { path: 'branches.csv', hash: 'h' }, endpoint: 'http://127.0.0.1:18080', accessKeyId: 'LTAIold', fingerprintKey: 'ab'.repeat(32), createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' };
    writeFileSync(t.state, JSON.stringify(header) + '\n', { mode: 0o600 });
    await assert.rejects(
      Journal.open(t.state, t.opts({ caller: { accountId: '1234567890123456', accessKeyId: 'LTAInew' } })),
      /written by an earlier cgw-batch for access key LTAIold; run cgw-batch apply once with that key/,
    );
    const j = await Journal.open(t.state, t.opts({ caller: { accountId: '1234567890123456', accessKeyId: 'LTAIold' } }));
    assert.equal(j.header.accountId, '1234567890123456');
    assert.equal(j.header.runId, header.runId, 'the run id (seed of every ClientToken) is kept');
    await j.close();
    const upgraded = JSON.parse(lines(t.state)[0]!) as Record<string, unknown>;
    assert.equal(upgraded['accountId'], '1234567890123456');
    const later = await Journal.open(t.state, t.opts({ caller: { accountId: '1234567890123456', accessKeyId: 'LTAInew' } }));
    await later.close();
  } finally {
    t.cleanup();
  }
});
