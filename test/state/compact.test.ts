// Case 31 and 37: compaction interrupted at every step leaves a complete journal; orphans are cleaned; dir fsync rules.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { writeSnapshot, type CompactStep } from '../../src/state/compact.js';
import { fsyncDir, isTolerableDirFsyncError } from '../../src/fsutil.js';
import { Journal, readJournal } from '../../src/state/journal.js';
import { headerLine, snapshotLine } from '../../src/state/records.js';
import { stateDir } from './setup.js';

async function seeded(t: ReturnType<typeof stateDir>): Promise<void> {
  const j = await Journal.open(t.state, t.opts());
  for (let i = 0; i < 20; i++) await j.record(`cn-hangzhou/10.0.0.${i}`, { status: 'in-flight', token: `tok-${i}` });
  for (let i = 0; i < 20; i += 2) await j.record(`cn-hangzhou/10.0.0.${i}`, { status: 'created', gatewayId: `cgw-${i}` });
  await j.close();
}

for (const step of ['temp-written', 'bak-written', 'renamed'] as CompactStep[]) {
  test(`case 31: a crash after compaction step "${step}" leaves a complete journal; the next open cleans up`, async () => {
    const t = stateDir();
    try {
      await seeded(t);
      const before = await readJournal(t.state);
      assert.ok(before);
      let text = headerLine({ ...before.header, updatedAt: 'later' });
      for (const r of before.rows.values()) text += snapshotLine(r, 'later');
      await assert.rejects(
        writeSnapshot(t.state, text, true, {
          onStep: (s) => {
            if (s === step) throw new Error('simulated crash');
          },
        }),
        /simulated crash/,
      );
      // Whatever is at the path now is one complete journal with every row, merged the same way.
      const mid = await readJournal(t.state);
      assert.deepEqual(mid?.rows, before.rows);
      assert.deepEqual(mid?.warnings, []);
      if (step !== 'renamed') assert.ok(readdirSync(t.dir).some((n) => n.includes('.state.jsonl.tmp-')), 'the simulated crash should leave a temp file');
      if (existsSync(`${t.state}.bak`)) assert.deepEqual((await readJournal(`${t.state}.bak`))?.rows, before.rows);

      const j = await Journal.open(t.state, t.opts());
      assert.deepEqual(new Map(j.rows()), before.rows);
      assert.equal(j.header.runId, before.header.runId);
      await j.close();
      assert.deepEqual(readdirSync(t.dir).filter((n) => n.includes('.tmp-')), []);
      assert.deepEqual((await readJournal(`${t.state}.bak`))?.rows, before.rows);
    } finally {
      t.cleanup();
    }
  });
}

test('case 29/31: orphan temp files of the journal are removed on open; unrelated files are not', async () => {
  const t = stateDir();
  try {
    await seeded(t);
    writeFileSync(`${t.state}.tmp-4242-deadbeef`, '{"t":"header"');
    writeFileSync(`${t.state}.bak.tmp-4242-deadbeef`, 'partial');
    writeFileSync(t.path('branches.csv.state.jsonl-notes.txt'), 'keep me');
    const j = await Journal.open(t.state, t.opts());
    await j.close();
    assert.ok(!existsSync(`${t.state}.tmp-4242-deadbeef`));
    assert.ok(!existsSync(`${t.state}.bak.tmp-4242-deadbeef`));
    assert.equal(readFileSync(t.path('branches.csv.state.jsonl-notes.txt'), 'utf8'), 'keep me');
  } finally {
    t.cleanup();
  }
});

test('.bak keeps exactly the previous generation', async () => {
  const t = stateDir();
  try {
    await seeded(t);
    const j = await Journal.open(t.state, t.opts());
    await j.record('cn-hangzhou/10.0.0.99', { status: 'pending' });
    await j.close();
    const lastJournal = readFileSync(t.state, 'utf8');
    const j2 = await Journal.open(t.state, t.opts());
    await j2.close();
    assert.equal(readFileSync(`${t.state}.bak`, 'utf8'), lastJournal);
    assert.equal((await readJournal(t.state))?.rows.size, 21);
  } finally {
    t.cleanup();
  }
});

test('case 37: directory fsync EPERM/EISDIR is tolerated on win32 only; elsewhere it fails loudly', async () => {
  const eperm = Object.assign(new Error('EPERM'), { code: 'EPERM' });
  const eisdir = Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
  const eio = Object.assign(new Error('EIO'), { code: 'EIO' });
  assert.equal(isTolerableDirFsyncError(eperm, 'win32'), true);
  assert.equal(isTolerableDirFsyncError(eisdir, 'win32'), true);
  assert.equal(isTolerableDirFsyncError(eio, 'win32'), false);
  assert.equal(isTolerableDirFsyncError(eperm, 'linux'), false);
  assert.equal(isTolerableDirFsyncError(eisdir, 'darwin'), false);
  const t = stateDir();
  try {
    await fsyncDir(t.dir); // works on Linux
    await assert.rejects(fsyncDir(t.path('missing-dir')), /ENOENT/);
    await assert.rejects(fsyncDir(t.path('missing-dir'), 'win32'), /ENOENT/);
  } finally {
    t.cleanup();
  }
});
