// Locking: a second apply is refused at once (33), stale locks are taken over safely (34), --force-unlock, lost locks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { StateError } from '../../src/errors.js';
import { Journal } from '../../src/state/journal.js';
import { Lock, pidAlive } from '../../src/state/lock.js';
import { stateDir } from './setup.js';

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(r.stdout);
  assert.ok(pid > 0 && !pidAlive(pid));
  return pid;
}

function writeLock(path: string, info: Record<string, unknown>, ageMs = 0): void {
  writeFileSync(`${path}.lock`, JSON.stringify(info) + '\n', { mode: 0o600 });
  if (ageMs) {
    const then = new Date(Date.now() - ageMs);
    utimesSync(`${path}.lock`, then, then);
  }
}

test('case 33: the first run locks fine with no state file; a second opener is refused within 1 s naming pid, host, start, run', async () => {
  const t = stateDir();
  try {
    assert.ok(!existsSync(t.state));
    const j = await Journal.open(t.state, t.opts());
    assert.ok(existsSync(`${t.state}.lock`));
    await j.record('a/1.1.1.1', { status: 'in-flight' });
    const before = readFileSync(t.state, 'utf8');
    const started = performance.now();
    await assert.rejects(Journal.open(t.state, t.opts()), (e: unknown) => {
      assert.ok(e instanceof StateError);
      assert.match(e.message, new RegExp(`is locked by pid ${process.pid} on host ${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} since \\d{4}-\\d\\d-\\d\\dT`));
      assert.match(e.message, /another apply is running \(or use --force-unlock if it is not\)/);
      return true;
    });
    assert.ok(performance.now() - started < 1000);
    assert.equal(readFileSync(t.state, 'utf8'), before, 'the refused opener wrote nothing');
    await j.close();
    assert.ok(!existsSync(`${t.state}.lock`), 'close releases the lock');
    // The lock names the run once the state exists.
    const j2 = await Journal.open(t.state, t.opts());
    const info = JSON.parse(readFileSync(`${t.state}.lock`, 'utf8')) as Record<string, unknown>;
    assert.equal(info['runId'], j2.header.runId);
    assert.equal(info['pid'], process.pid);
    await assert.rejects(Journal.open(t.state, t.opts()), new RegExp(`\\(run ${j2.header.runId}\\)`));
    await j2.close();
  } finally {
    t.cleanup();
  }
});

test('case 34: a lock left by a dead pid on this host is taken over with a warning', async () => {
  const t = stateDir();
  try {
    const pid = deadPid();
    writeLock(t.state, { pid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', nonce: 'x' });
    const j = await Journal.open(t.state, t.opts());
    assert.ok(t.warnings.some((w) => w.includes(`took over a stale lock`) && w.includes(`pid ${pid} is not running`)), t.warnings.join('\n'));
    const info = JSON.parse(readFileSync(`${t.state}.lock`, 'utf8')) as Record<string, unknown>;
    assert.equal(info['pid'], process.pid);
    await j.close();
  } finally {
    t.cleanup();
  }
});

test('case 34: racing takeovers of one stale lock: exactly one wins', async () => {
  const t = stateDir();
  try {
    const first = await Journal.open(t.state, t.opts());
    await first.close();
    for (let round = 0; round < 10; round++) {
      writeLock(t.state, { pid: deadPid(), host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', nonce: `n${round}` });
      const results = await Promise.allSettled(Array.from({ length: 12 }, () => Journal.open(t.state, t.opts())));
      const won = results.filter((r): r is PromiseFulfilledResult<Journal> => r.status === 'fulfilled');
      assert.equal(won.length, 1, `round ${round}: ${won.length} winners`);
      for (const r of results) if (r.status === 'rejected') assert.match(String(r.reason), /is locked by pid/);
      await won[0]?.value.close();
    }
  } finally {
    t.cleanup();
  }
});

test('a lock from another host is honoured until its heartbeat is older than the stale window', async () => {
  const t = stateDir();
  try {
    const other = { pid: 1, host: 'build-agent-7', startedAt: '2026-01-01T00:00:00.000Z', nonce: 'y' };
    writeLock(t.state, other, 5_000);
    await assert.rejects(Journal.open(t.state, t.opts()), /locked by pid 1 on host build-agent-7 since 2026-01-01/);
    writeLock(t.state, other, 120_000);
    const j = await Journal.open(t.state, t.opts());
    assert.ok(t.warnings.some((w) => /took over a stale lock .* host build-agent-7 .*not refreshed for 120 s/.test(w)), t.warnings.join('\n'));
    await j.close();
  } finally {
    t.cleanup();
  }
});

test('an unreadable lock file is refused while fresh and taken over once stale', async () => {
  const t = stateDir();
  try {
    writeFileSync(`${t.state}.lock`, '');
    await assert.rejects(Journal.open(t.state, t.opts()), /locked by an unknown process/);
    const then = new Date(Date.now() - 120_000);
    utimesSync(`${t.state}.lock`, then, then);
    const j = await Journal.open(t.state, t.opts());
    await j.close();
  } finally {
    t.cleanup();
  }
});

test('forceUnlock removes a live lock; the displaced holder notices at its next heartbeat and stops writing', async () => {
  const t = stateDir();
  try {
    const a = await Journal.open(t.state, t.opts());
    await a.record('a/1.1.1.1', { status: 'in-flight' });
    const b = await Journal.open(t.state, t.opts({ forceUnlock: true }));
    assert.ok(t.warnings.some((w) => /removed the lock .* held by pid \d+ .*--force-unlock/.test(w)));
    await a.checkLock();
    await assert.rejects(a.record('a/1.1.1.1', { status: 'created' }), /lost the lock .* now held by pid/);
    await a.close().catch(() => undefined);
    assert.ok(existsSync(`${t.state}.lock`), "the displaced holder must not delete the new holder's lock");
    assert.equal(b.get('a/1.1.1.1')?.status, 'in-flight');
    await b.close();
  } finally {
    t.cleanup();
  }
});

test('the heartbeat refreshes the lock mtime and reports a removed lock', async () => {
  const t = stateDir();
  try {
    const lost: string[] = [];
    const lock = await Lock.acquire({
      statePath: t.state,
      pid: process.pid,
      host: hostname(),
      clock: Date.now,
      onWarning: () => undefined,
      refreshMs: 20,
      onLost: (e) => lost.push(e.message),
    });
    const then = new Date(Date.now() - 300_000);
    utimesSync(lock.path, then, then);
    await new Promise((r) => setTimeout(r, 120));
    assert.ok(Date.now() - statSync(lock.path).mtimeMs < 5_000, 'mtime was not refreshed');
    writeFileSync(lock.path, '{"pid":1,"host":"h","startedAt":"x"}');
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(lost.length, 1);
    assert.match(lost[0] ?? '', /lost the lock/);
    await lock.release();
    assert.ok(existsSync(lock.path), 'release leaves a foreign lock alone');
  } finally {
    t.cleanup();
  }
});

test('a takeover mutex left by a process killed mid-takeover does not block the next opener', async () => {
  const t = stateDir();
  try {
    writeLock(t.state, { pid: deadPid(), host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', nonce: 'a' });
    writeFileSync(`${t.state}.lock.takeover`, JSON.stringify({ pid: deadPid(), host: hostname(), startedAt: 'x', nonce: 'b' }));
    const j = await Journal.open(t.state, t.opts());
    await j.close();
    assert.ok(!existsSync(`${t.state}.lock.takeover`));
    // A live takeover in progress elsewhere: refused quickly, never two holders.
    writeLock(t.state, { pid: deadPid(), host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', nonce: 'c' });
    writeFileSync(`${t.state}.lock.takeover`, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: 'x', nonce: 'd' }));
    const started = performance.now();
    await assert.rejects(Journal.open(t.state, t.opts()), /another process is taking over its stale lock/);
    assert.ok(performance.now() - started < 3000, "bounded by the 800 ms takeover deadline, with slack for a busy machine");
  } finally {
    t.cleanup();
  }
});
