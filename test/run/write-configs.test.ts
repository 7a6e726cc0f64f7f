// writeConfigFiles: 0600 files in a 0700 folder, replaced atomically; symlinks, FIFOs and folders planted where a
// file or the folder belongs are never followed or opened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { writeConfigFiles } from '../../src/run/write-configs.js';
import { tempDir } from '../helpers/tmp.js';

const FILES = [
  { name: 'swanctl.conf', text: 'secret = "Sp1ke#;$"\n' },
  { name: 'frr.conf', text: 'router bgp 65000\n' },
];

function mode(p: string): number {
  return statSync(p).mode & 0o777;
}

test('creates the folder 0700 and the files 0600, whatever the umask', () => {
  const tmp = tempDir();
  const old = process.umask(0o000);
  try {
    const dir = tmp.path('out/site-1/strongswan');
    const r = writeConfigFiles(dir, FILES);
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(mode(dir), 0o700);
    for (const f of FILES) {
      assert.equal(mode(join(dir, f.name)), 0o600, f.name);
      assert.equal(readFileSync(join(dir, f.name), 'utf8'), f.text);
    }
    assert.deepEqual(readdirSync(dir).sort(), ['frr.conf', 'swanctl.conf'], 'no temp files left');
  } finally {
    process.umask(old);
    tmp.cleanup();
  }
});

test('an existing folder of ours is tightened to 0700; an existing file is replaced whole', () => {
  const tmp = tempDir();
  try {
    const dir = tmp.path('site');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'swanctl.conf'), 'old content that is longer than the new one\n', { mode: 0o644 });
    const r = writeConfigFiles(dir, FILES);
    assert.ok(r.ok);
    assert.equal(mode(dir), 0o700);
    assert.equal(mode(join(dir, 'swanctl.conf')), 0o600);
    assert.equal(readFileSync(join(dir, 'swanctl.conf'), 'utf8'), FILES[0]!.text);
  } finally {
    tmp.cleanup();
  }
});

test('a symlink planted at a file name is replaced, its target untouched', () => {
  const tmp = tempDir();
  try {
    const dir = tmp.path('site');
    mkdirSync(dir, { mode: 0o700 });
    const victim = tmp.path('victim.txt');
    writeFileSync(victim, 'do not touch\n');
    symlinkSync(victim, join(dir, 'swanctl.conf'));
    const r = writeConfigFiles(dir, FILES);
    assert.ok(r.ok);
    assert.equal(readFileSync(victim, 'utf8'), 'do not touch\n');
    assert.ok(lstatSync(join(dir, 'swanctl.conf')).isFile());
    assert.equal(mode(join(dir, 'swanctl.conf')), 0o600);
  } finally {
    tmp.cleanup();
  }
});

test('a FIFO planted at a file name is replaced without blocking', () => {
  const tmp = tempDir();
  try {
    const dir = tmp.path('site');
    mkdirSync(dir, { mode: 0o700 });
    execFileSync('mkfifo', [join(dir, 'frr.conf')]);
    const r = writeConfigFiles(dir, FILES);
    assert.ok(r.ok);
    assert.ok(lstatSync(join(dir, 'frr.conf')).isFile());
  } finally {
    tmp.cleanup();
  }
});

test('the folder as a symlink is refused; a folder at a file name is an error value without content', () => {
  const tmp = tempDir();
  try {
    const real = tmp.path('real');
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, tmp.path('link'));
    const r = writeConfigFiles(tmp.path('link'), FILES);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.message, /symbolic link/);
    assert.deepEqual(readdirSync(real), [], 'nothing written through the link');

    const dir = tmp.path('site');
    mkdirSync(join(dir, 'frr.conf'), { recursive: true });
    const r2 = writeConfigFiles(dir, FILES);
    assert.equal(r2.ok, false);
    assert.ok(!JSON.stringify(r2).includes('Sp1ke'), 'no content in the error');
    assert.match(r2.ok ? '' : r2.path, /frr\.conf$/);
    assert.ok(readdirSync(dir).every((n) => !n.endsWith('.tmp')), 'the temp file is removed');
  } finally {
    tmp.cleanup();
  }
});

test('file names are plain names: no folders, no dot files, no traversal', () => {
  const tmp = tempDir();
  try {
    for (const name of ['../escape.conf', 'sub/dir.conf', '.hidden', '', 'a\nb']) {
      const r = writeConfigFiles(tmp.path('site'), [{ name, text: 'x' }]);
      assert.equal(r.ok, false, name);
    }
    assert.equal(existsSync(tmp.path('escape.conf')), false);
  } finally {
    tmp.cleanup();
  }
});
