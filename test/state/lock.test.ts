// Locking: a second apply is refused at once (33), stale locks are taken over safely (34), --force-unlock, lost locks,
// pid reuse in containers, other hosts judged by their heartbeat on our clock (never theirs).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { StateError } from '../../src/errors.js';
import { Journal } from '../../src/state/journal.js';
import { Lock, machineIdentity, pidAlive, processStart, type LockOptions, type Timers } from '../../src/state/lock.js';
import { repoRoot } from '../helpers/paths.js';
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


test('forceUnlock removes a live lock; the displaced holder notices at its next heartbeat and stops writing', async () => {
  const s = stateDir();
  try {
    const a = await Journal.open(s.state, s.opts());
    await a.record('a/1.1.1.1', { status: 'in-flight' });
    const b = await Journal.open(s.state, s.opts({ forceUnlock: true }));
    assert.ok(s.warnings.some((w) => /removed the lock .* held by pid \d+ .*--force-unlock/.test(w)));
    await a.checkLock();
    await assert.rejects(a.record('a/1.1.1.1', { status: 'created' }), /lost the lock .* now held by pid/);
    await a.close().catch(() => undefined);
    assert.ok(existsSync(`${s.state}.lock`), "the displaced holder must not delete the new holder's lock");
    assert.equal(b.get('a/1.1.1.1')?.status, 'in-flight');
    await b.close();
  } finally {
    s.cleanup();
  }
});

/** A virtual local clock whose sleeps advance it; `onAdvance` lets a simulated remote holder beat meanwhile. */
function virtualTime(start = Date.now()) {
  const v = { t: start, onAdvance: (_t: number) => {} };
  return {
    v,
    clock: () => v.t,
    sleep: async (ms: number) => {
      v.t += ms;
      v.onAdvance(v.t);
    },
  };
}

/** Timers the test fires by hand: the heartbeat runs exactly when the test says so. */
function manualTimers(): Timers & { pending: number; fire(): void } {
  const queue = new Map<number, () => void>();
  let n = 0;
  return {
    setTimeout: (fn) => {
      queue.set(++n, fn);
      return n;
    },
    clearTimeout: (h) => void queue.delete(h as number),
    get pending() {
      return queue.size;
    },
    fire() {
      const fns = [...queue.values()];
      queue.clear();
      for (const f of fns) f();
    },
  };
}

function lockOpts(statePath: string, extra: Partial<LockOptions> = {}): LockOptions {
  return { statePath, pid: process.pid, host: hostname(), clock: Date.now, onWarning: () => undefined, ...extra };
}

/** A live process that is not us (its pid and start time are real), killed after the test. */
function liveOther(t: { after(fn: () => unknown): void }): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  return child;
}

test('same machine: a reused pid (another process, or our own pid with another nonce) is stale at once', async (t) => {
  const s = stateDir();
  t.after(() => s.cleanup());
  const me = machineIdentity();
  // pid 1 is always alive; what ran as pid 1 when the lock was written started at another time.
  for (const [pid, why] of [
    [1, /pid 1 is now another process/],
    [process.pid, /this process, which does not hold it/],
  ] as const) {
    writeLock(s.state, { pid, host: hostname(), bootId: me.bootId, pidNs: me.pidNs, pidStart: '1', startedAt: '2026-01-01T00:00:00.000Z', nonce: 'old-run' });
    const warnings: string[] = [];
    const started = performance.now();
    const lock = await Lock.acquire(lockOpts(s.state, { onWarning: (m) => warnings.push(m) }));
    assert.ok(performance.now() - started < 2000, 'judged at once, no waiting');
    assert.ok(warnings.some((w) => why.test(w)), warnings.join('\n'));
    await lock.release();
  }
});

test('same machine: a live holder (pid and start time match) is refused at once', async (t) => {
  const s = stateDir();
  t.after(() => s.cleanup());
  const child = liveOther(t);
  await new Promise((r) => child.once('spawn', r));
  const me = machineIdentity();
  writeLock(s.state, { pid: child.pid, host: hostname(), bootId: me.bootId, pidNs: me.pidNs, pidStart: processStart(child.pid!), startedAt: '2026-01-01T00:00:00.000Z', nonce: 'live' });
  await assert.rejects(Lock.acquire(lockOpts(s.state)), new RegExp(`locked by pid ${child.pid}`));
});

test('another host: a live heartbeat is honoured whatever its clock says; a silent one is taken over after staleMs of OUR clock', async (t) => {
  const s = stateDir();
  t.after(() => s.cleanup());
  // The holder runs on another host whose clock is 5 minutes ahead (its startedAt and mtime say so).
  const remoteTimers = manualTimers();
  const lost: string[] = [];
  const remote = await Lock.acquire(lockOpts(s.state, { host: 'build-agent-7', clock: () => Date.now() + 300_000, timers: remoteTimers, onLost: (e) => lost.push(e.message) }));
  const ahead = new Date(Date.now() + 300_000);
  utimesSync(remote.path, ahead, ahead);
  const vt = virtualTime();
  // It beats every 5 s of (virtual) time while alive.
  let alive = true;
  let nextBeat = vt.v.t + 5_000;
  vt.v.onAdvance = (now) => {
    while (alive && now >= nextBeat) {
      remoteTimers.fire();
      nextBeat += 5_000;
    }
  };
  const warnings: string[] = [];
  const opener = () => Lock.acquire(lockOpts(s.state, { clock: vt.clock, sleep: vt.sleep, staleMs: 30_000, onWarning: (m) => warnings.push(m) }));
  const startedAt = vt.v.t;
  await assert.rejects(opener(), /locked by pid \d+ on host build-agent-7/);
  assert.ok(vt.v.t - startedAt <= 6_000, 'refused as soon as a beat was seen');
  assert.ok(warnings.some((w) => /watching its heartbeat for up to 30 s/.test(w)));
  // An old mtime changes nothing either: only a change of what the holder wrote counts.
  const past = new Date(Date.now() - 3_600_000);
  utimesSync(remote.path, past, past);
  await assert.rejects(opener(), /build-agent-7/);

  // The holder dies (no more beats): taken over once 30 s of our clock saw no change.
  alive = false;
  const before = vt.v.t;
  const mine = await opener();
  assert.ok(vt.v.t - before >= 30_000 && vt.v.t - before < 32_000, `${vt.v.t - before}`);
  assert.ok(warnings.some((w) => /took over a stale lock .*build-agent-7.*heartbeat did not change for 30 s/.test(w)), warnings.join('\n'));
  // The displaced holder learns it at its next beat, exactly once however often it beats.
  remoteTimers.fire();
  for (let i = 0; i < 5 && remoteTimers.pending === 0 && lost.length === 0; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 20));
  remoteTimers.fire();
  await remote.refresh();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(lost.length, 1);
  assert.match(lost[0] ?? '', /lost the lock .* now held by pid/);
  assert.equal(remoteTimers.pending, 0, 'no beat is scheduled after the loss');
  await remote.release();
  assert.ok(existsSync(mine.path), "the displaced holder must not delete the new holder's lock");
  await mine.release();
});

test('an unreadable lock file is watched, and taken over only when it stayed unchanged for staleMs', async (t) => {
  const s = stateDir();
  t.after(() => s.cleanup());
  writeFileSync(`${s.state}.lock`, '');
  const vt = virtualTime();
  const warnings: string[] = [];
  const lock = await Lock.acquire(lockOpts(s.state, { clock: vt.clock, sleep: vt.sleep, staleMs: 30_000, onWarning: (m) => warnings.push(m) }));
  assert.ok(warnings.some((w) => /unknown process/.test(w) && /took over/.test(w)), warnings.join('\n'));
  await lock.release();
});

test('the heartbeat rewrites the lock in place (same inode) and reports a removed lock exactly once', async (t) => {
  const s = stateDir();
  t.after(() => s.cleanup());
  const timers = manualTimers();
  const lost: string[] = [];
  const lock = await Lock.acquire(lockOpts(s.state, { timers, onLost: (e) => lost.push(e.message) }));
  const beatOf = () => JSON.parse(readFileSync(lock.path, 'utf8')).beat as string;
  assert.equal(beatOf(), '000000000000');
  for (let i = 1; i <= 3; i++) {
    timers.fire();
    while (timers.pending === 0) await new Promise((r) => setImmediate(r));
    assert.equal(beatOf(), String(i).padStart(12, '0'));
  }
  writeFileSync(lock.path, '{"pid":1,"host":"h","startedAt":"x","nonce":"other"}');
  timers.fire();
  await new Promise((r) => setTimeout(r, 20));
  // Even if the heartbeat is driven again (a late timer, a manual check), the loss is reported once.
  timers.fire();
  await lock.refresh();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(lost.length, 1);
  assert.match(lost[0] ?? '', /lost the lock/);
  assert.equal(timers.pending, 0);
  await lock.release();
  assert.ok(existsSync(lock.path), 'release leaves a foreign lock alone');
});

test('a takeover mutex left by a killed process does not block; a live one elsewhere refuses quickly', async (t) => {
  const s = stateDir();
  t.after(() => s.cleanup());
  writeLock(s.state, { pid: deadPid(), host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', nonce: 'a' });
  writeFileSync(`${s.state}.lock.takeover`, JSON.stringify({ pid: deadPid(), host: hostname(), startedAt: 'x', nonce: 'b' }));
  const j = await Journal.open(s.state, s.opts());
  await j.close();
  assert.ok(!existsSync(`${s.state}.lock.takeover`));
  // A live takeover in progress in another process: refused quickly, never two holders.
  const child = liveOther(t);
  await new Promise((r) => child.once('spawn', r));
  const me = machineIdentity();
  writeLock(s.state, { pid: deadPid(), host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', nonce: 'c' });
  writeFileSync(`${s.state}.lock.takeover`, JSON.stringify({ pid: child.pid, host: hostname(), bootId: me.bootId, pidNs: me.pidNs, pidStart: processStart(child.pid!), startedAt: 'x', nonce: 'd' }));
  const started = performance.now();
  await assert.rejects(Journal.open(s.state, s.opts()), /another process is taking over its stale lock/);
  assert.ok(performance.now() - started < 3000, 'bounded by the 800 ms takeover deadline, with slack for a busy machine');
});

test('a FIFO, a directory or a symlink at the lock path is refused at once, naming it', async (t) => {
  const s = stateDir();
  t.after(() => s.cleanup());
  spawnSync('mkfifo', [`${s.state}.lock`]);
  const started = performance.now();
  await assert.rejects(Lock.acquire(lockOpts(s.state)), (e: unknown) => e instanceof StateError && e.message.includes(`${s.state}.lock`) && /FIFO/.test(e.message));
  assert.ok(performance.now() - started < 2000);
});

test('pid namespaces (root only): a lock left by a SIGKILLed pid 1 in one container does not block the next container', async (t) => {
  const probe = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']);
  if (process.getuid?.() !== 0 || probe.status !== 0) {
    t.skip('needs root and unshare(1) to make pid namespaces');
    return;
  }
  const s = stateDir();
  t.after(() => s.cleanup());
  const lockJs = join(repoRoot, 'dist/src/state/lock.js');
  const holder = `
    import { Lock } from ${JSON.stringify(lockJs)};
    await Lock.acquire({ statePath: ${JSON.stringify(s.state)}, pid: process.pid, host: 'ci', clock: Date.now, onWarning: () => {} });
    console.log('locked ' + process.pid);
    setInterval(() => {}, 1000);
  `;
  // Container 1: the holder is pid 1 of its namespace; SIGKILL it (as an OOM kill or a cancelled CI job would).
  // --kill-child: SIGKILL to unshare reaches the namespace's pid 1 (our holder) as well.
  const c1 = spawn('unshare', ['--pid', '--fork', '--kill-child', '--mount-proc', process.execPath, '--input-type=module', '-e', holder], { stdio: ['ignore', 'pipe', 'inherit'] });
  const said = await new Promise<string>((resolve) => c1.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
  assert.match(said, /locked 1\b/);
  t.after(() => c1.kill('SIGKILL'));
  c1.kill('SIGKILL');
  await new Promise((r) => c1.once('close', r));
  // Container 2: also pid 1, same host name. Old rule: "pid 1 is alive" -> locked forever. Now: another namespace,
  // so the heartbeat decides, and a dead holder's does not change.
  const taker = `
    import { Lock } from ${JSON.stringify(lockJs)};
    const warnings = [];
    const l = await Lock.acquire({ statePath: ${JSON.stringify(s.state)}, pid: process.pid, host: 'ci', clock: Date.now, staleMs: 1500, onWarning: (m) => warnings.push(m) });
    console.log(JSON.stringify({ pid: process.pid, warnings }));
    await l.release();
  `;
  const c2 = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, '--input-type=module', '-e', taker], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(c2.status, 0, c2.stderr);
  const out = JSON.parse(c2.stdout) as { pid: number; warnings: string[] };
  assert.equal(out.pid, 1);
  assert.ok(out.warnings.some((w) => /took over a stale lock .*heartbeat did not change/.test(w)), out.warnings.join('\n'));
});

test('releaseSync on the way out finishes a release() still under way: the lock file is gone before the process could leave', async (t) => {
  const s = stateDir();
  t.after(() => s.cleanup());
  const lock = await Lock.acquire(lockOpts(s.state, { timers: manualTimers() }));
  assert.ok(existsSync(lock.path));
  const releasing = lock.release(); // marked released, its unlink still to come
  lock.releaseSync();
  assert.ok(!existsSync(lock.path), 'removed synchronously');
  await releasing;
  // A lock someone else took meanwhile is never removed by the late one.
  const other = await Lock.acquire(lockOpts(s.state, { timers: manualTimers() }));
  lock.releaseSync();
  assert.ok(existsSync(other.path));
  await other.release();
});
