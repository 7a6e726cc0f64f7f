// Special files and symlinks at our paths: refused at once, naming the path; never followed for chmod, rename or write.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { StateError } from '../../src/errors.js';
import { assertRegularOrAbsent, readRegularFile } from '../../src/fsutil.js';
import { Journal, readJournal } from '../../src/state/journal.js';
import { runCli } from '../helpers/cli.js';
import { stateDir } from './setup.js';

const fast = async (p: Promise<unknown>, re: RegExp) => {
  const started = performance.now();
  await assert.rejects(p, (e: unknown) => e instanceof StateError && re.test(e.message));
  assert.ok(performance.now() - started < 2000, 'without blocking');
};

test('assertRegularOrAbsent and readRegularFile: FIFO, device, socket, directory and symlink are refused by name', async (t) => {
  const s = stateDir();
  t.after(() => s.cleanup());
  assert.equal(await assertRegularOrAbsent(s.path('nothing'), 'state file'), 'absent');
  writeFileSync(s.path('plain'), 'x');
  assert.equal(await assertRegularOrAbsent(s.path('plain'), 'state file'), 'file');
  spawnSync('mkfifo', [s.path('fifo')]);
  mkdirSync(s.path('dir'));
  symlinkSync(s.path('plain'), s.path('link'));
  const sock = createServer();
  await new Promise<void>((r) => sock.listen(s.path('sock'), r));
  t.after(() => sock.close());
  const cases: Array<[string, RegExp]> = [
    [s.path('fifo'), /FIFO/],
    ['/dev/null', /device/],
    [s.path('sock'), /socket/],
    [s.path('dir'), /directory/],
    [s.path('link'), /symbolic link/],
  ];
  for (const [p, kind] of cases) {
    const named = new RegExp(`${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is`);
    await fast(assertRegularOrAbsent(p, 'state file'), kind);
    await fast(assertRegularOrAbsent(p, 'state file'), named);
    await fast(readRegularFile(p, 'state file', 1000), kind);
  }
  // A symlinked manifest may be read when the caller allows it; the target must still be a regular file.
  assert.equal((await readRegularFile(s.path('link'), 'manifest', 10, { followSymlinks: true }))?.toString(), 'x');
  assert.equal(await readRegularFile(s.path('nothing'), 'state file', 10), undefined);
  // Size limit, without reading the whole file.
  writeFileSync(s.path('big'), Buffer.alloc(5000));
  await assert.rejects(readRegularFile(s.path('big'), 'manifest', 4096), /5000 bytes, more than the 4096 allowed/);
  // A caller's own error type.
  class ManifestProblem extends Error {}
  await assert.rejects(assertRegularOrAbsent(s.path('fifo'), 'manifest', (m) => new ManifestProblem(m)), ManifestProblem);
});

test('a FIFO at the journal path: open, readJournal and `status` fail at once naming it (they used to hang)', async (t) => {
  const s = stateDir();
  t.after(() => s.cleanup());
  spawnSync('mkfifo', [s.state]);
  await fast(Journal.open(s.state, s.opts()), /is a FIFO/);
  await fast(readJournal(s.state), /is a FIFO/);
  assert.ok(!existsSync(`${s.state}.lock`), 'nothing was created');
  const r = await runCli(['status', '--state', s.state], { timeoutMs: 20_000 });
  assert.equal(r.code, 2);
  assert.ok(r.stderr.includes(s.state) && /FIFO/.test(r.stderr), r.stderr);
});

test('a .bak symlinked elsewhere is refused and its target is never chmod-ed (it was: .bak -> /etc/passwd)', async (t) => {
  const s = stateDir();
  t.after(() => s.cleanup());
  const j = await Journal.open(s.state, s.opts());
  await j.record('cn-hangzhou/1.2.3.4', { status: 'pending' });
  await j.close();
  const victim = s.path('victim.txt');
  writeFileSync(victim, 'root:x:0:0\n');
  chmodSync(victim, 0o644);
  spawnSync('rm', ['-f', `${s.state}.bak`]);
  symlinkSync(victim, `${s.state}.bak`);
  await fast(Journal.open(s.state, s.opts()), /state backup file .*\.bak is a symbolic link/);
  assert.equal(statSync(victim).mode & 0o777, 0o644, 'the link target kept its mode');
  assert.equal(readFileSync(victim, 'utf8'), 'root:x:0:0\n');
  assert.ok(lstatSync(`${s.state}.bak`).isSymbolicLink(), 'the link itself is left for the user');
});

test('a symlinked journal is refused; the target is not read, rewritten or chmod-ed', async (t) => {
  const s = stateDir();
  t.after(() => s.cleanup());
  const real = s.path('elsewhere.jsonl');
  writeFileSync(real, 'not ours\n');
  chmodSync(real, 0o644);
  symlinkSync(real, s.state);
  await fast(Journal.open(s.state, s.opts()), /state file .* is a symbolic link/);
  await fast(readJournal(s.state), /symbolic link/);
  assert.equal(readFileSync(real, 'utf8'), 'not ours\n');
  assert.equal(statSync(real).mode & 0o777, 0o644);
});

test('a directory at the journal path is refused with a clear message', async (t) => {
  const s = stateDir();
  t.after(() => s.cleanup());
  mkdirSync(s.state);
  await fast(Journal.open(s.state, s.opts()), /is a directory, not a regular file/);
});
