// The file backend (today's journal file and lock) passes the backend conformance suite, plus its file-only promises.
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { openFileBackend } from '../../../src/state/backend/file.js';
import { leaseTiming } from '../../../src/state/backend/types.js';
import { tempDir } from '../../helpers/tmp.js';
import { conformance, type EstateFixture } from './conformance.js';

const TTL = 2_000;

async function estate(): Promise<EstateFixture> {
  const t = tempDir();
  const path = t.path('estate.state.jsonl');
  let lose = false;
  let lost = 0;
  return {
    spec: { kind: 'file', path, ttlMs: TTL },
    open: async () =>
      openFileBackend({
        path,
        timing: leaseTiming(TTL),
        faults: {
          afterWrite: () => {
            if (!lose) return;
            lose = false;
            lost++;
            throw Object.assign(new Error('EIO: i/o error, fdatasync (injected after the bytes landed)'), { code: 'EIO' });
          },
        },
      }),
    loseNextAnswer: async () => {
      lose = true;
    },
    answersLost: () => lost,
    tear: async (fragment) => appendFileSync(path, fragment),
    cleanup: async () => t.cleanup(),
  };
}

conformance({ name: 'file', ttlMs: TTL, heartbeatMs: leaseTiming(TTL).heartbeatMs, killSeenAtOnce: true, foreignHost: `elsewhere-${process.pid}`, estate });

const me = () => ({ host: hostname(), pid: process.pid, startedAt: new Date().toISOString() });

test('file: the format is today’s journal: JSON lines, 0600, a lock file while held, .bak after compaction', async () => {
  const t = tempDir();
  try {
    const path = t.path('s.jsonl');
    const b = openFileBackend({ path });
    const lease = await b.acquire({ holder: { ...me(), runId: 'run-1' } });
    const lock = JSON.parse(readFileSync(`${path}.lock`, 'utf8')) as Record<string, unknown>;
    assert.equal(lock['pid'], process.pid);
    assert.equal(lock['runId'], 'run-1');
    await lease.append(['{"t":"header","version":1}', '{"t":"row","key":"a"}']);
    assert.equal(readFileSync(path, 'utf8'), '{"t":"header","version":1}\n{"t":"row","key":"a"}\n');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    await lease.compact(['{"t":"header","version":1}']);
    assert.equal(readFileSync(path, 'utf8'), '{"t":"header","version":1}\n');
    assert.equal(readFileSync(`${path}.bak`, 'utf8'), '{"t":"header","version":1}\n{"t":"row","key":"a"}\n');
    await lease.release();
    assert.throws(() => statSync(`${path}.lock`), /ENOENT/);
  } finally {
    t.cleanup();
  }
});

test('file: a journal readable by others is tightened to 0600 with a warning; a symlink or FIFO is refused', async () => {
  const t = tempDir();
  try {
    const path = t.path('s.jsonl');
    writeFileSync(path, '{"t":"header"}\n', { mode: 0o644 });
    const warnings: string[] = [];
    const lease = await openFileBackend({ path }).acquire({ holder: me(), onWarning: (m) => warnings.push(m) });
    assert.ok(warnings.some((w) => /mode 0644.*0600/.test(w)), warnings.join('\n'));
    await lease.release();
    const link = t.path('link.jsonl');
    symlinkSync(path, link);
    await assert.rejects(openFileBackend({ path: link }).acquire({ holder: me() }), /symbolic link/);
  } finally {
    t.cleanup();
  }
});
