// loadManifest: format by extension or sniffing, fs errors, size cap before reading, permission warning.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadManifest } from '../../src/load/index.js';
import { ManifestError } from '../../src/errors.js';
import { tempDir } from '../helpers/tmp.js';
import { MARKER } from './helpers.js';

const CSV = 'region,ip\ncn-hangzhou,203.0.113.1\n';
const YAML = '- region: cn-hangzhou\n  ip: 203.0.113.1\n';

test('format by extension, else sniffed', async () => {
  const t = tempDir({ 'a.csv': CSV, 'a.tsv': 'region\tip\ncn-hangzhou\t203.0.113.1\n', 'a.yml': YAML, 'a.manifest': YAML, 'b.manifest': CSV });
  try {
    assert.equal((await loadManifest(t.path('a.csv'), { env: {} })).format, 'csv');
    assert.equal((await loadManifest(t.path('a.tsv'), { env: {} })).format, 'csv');
    assert.equal((await loadManifest(t.path('a.yml'), { env: {} })).format, 'yaml');
    assert.equal((await loadManifest(t.path('a.manifest'), { env: {} })).format, 'yaml');
    assert.equal((await loadManifest(t.path('b.manifest'), { env: {} })).format, 'csv');
  } finally {
    t.cleanup();
  }
});

test('missing file and oversize file are ManifestErrors', async () => {
  const t = tempDir({ 'big.csv': 'x'.repeat(4096) });
  try {
    await assert.rejects(loadManifest(t.path('nope.csv'), { env: {} }), (e) => e instanceof ManifestError && /no such file/.test(e.message));
    await assert.rejects(loadManifest(t.path('big.csv'), { env: {}, maxBytes: 1024 }), (e) => e instanceof ManifestError && /over the 1024-byte limit/.test(e.message));
    await assert.rejects(loadManifest(t.dir, { env: {} }), (e) => e instanceof ManifestError);
  } finally {
    t.cleanup();
  }
});

test('a group/other-readable manifest with literal AuthKeys warns; env: references or 0600 do not', { skip: process.platform === 'win32' }, async () => {
  const t = tempDir({
    'lit.csv': `region,ip,auth_key\ncn-hangzhou,203.0.113.1,${MARKER}\n`,
    'env.yaml': '- region: cn-hangzhou\n  ip: 203.0.113.1\n  auth_key: env:K\n',
  });
  try {
    chmodSync(t.path('lit.csv'), 0o644);
    chmodSync(t.path('env.yaml'), 0o644);
    const lit = await loadManifest(t.path('lit.csv'), { env: {} });
    const w = lit.issues.find((i) => i.code === 'Cgw.ManifestReadable');
    assert.ok(w);
    assert.match(w.message, /chmod 600/);
    assert.ok(!w.message.includes(MARKER));
    assert.ok(!(await loadManifest(t.path('env.yaml'), { env: { K: 'abcd' } })).issues.some((i) => i.code === 'Cgw.ManifestReadable'));
    chmodSync(t.path('lit.csv'), 0o600);
    assert.ok(!(await loadManifest(t.path('lit.csv'), { env: {} })).issues.some((i) => i.code === 'Cgw.ManifestReadable'));
  } finally {
    t.cleanup();
  }
});

test('a FIFO (or a device) as the manifest is refused at once, without blocking; a symlink to a file is read', async () => {
  const t = tempDir({ 'real.csv': CSV });
  try {
    execFileSync('mkfifo', [t.path('pipe.csv')]);
    // Nothing ever writes to the FIFO: a read would wait forever, so a refusal that resolves is the proof.
    await assert.rejects(loadManifest(t.path('pipe.csv'), { env: {} }), (e) => e instanceof ManifestError && /is not a regular file \(a FIFO/.test(e.message));
    await assert.rejects(loadManifest('/dev/zero', { env: {} }), (e) => e instanceof ManifestError && /not a regular file/.test(e.message));
    symlinkSync(t.path('real.csv'), t.path('link.csv'));
    assert.equal((await loadManifest(t.path('link.csv'), { env: {} })).rows.length, 1);
  } finally {
    t.cleanup();
  }
});

test('with the caller\'s cwd, messages, issues and rows name a file under it by its relative path; Manifest.file stays as given', async () => {
  const t = tempDir({ 'sites/a.csv': 'region,ip,Site Code\ncn-hangzhou,203.0.113.1,x\n', 'sites/bad.csv': 'region,ip,nmae\n', 'sites/w.yaml': '- region: cn-hangzhou\n  ipp: 1\n' });
  try {
    const m = await loadManifest(t.path('sites/a.csv'), { env: {}, cwd: t.dir });
    assert.equal(m.file, t.path('sites/a.csv'));
    assert.deepEqual([m.rows[0]!.file, m.issues[0]!.file], ['sites/a.csv', 'sites/a.csv']);
    await assert.rejects(loadManifest(t.path('sites/bad.csv'), { env: {}, cwd: t.dir }), (e) => e instanceof ManifestError && e.message.startsWith('sites/bad.csv:1: column 3 "nmae"'));
    await assert.rejects(loadManifest(t.path('sites/w.yaml'), { env: {}, cwd: t.path('sites') }), (e) => e instanceof ManifestError && e.message.startsWith("w.yaml:2: unknown field 'ipp'"));
    await assert.rejects(loadManifest(t.path('sites/none.csv'), { env: {}, cwd: t.dir }), (e) => e instanceof ManifestError && e.message === 'sites/none.csv: cannot read the file (no such file)');
    // Outside the working directory (or without one): the path as given.
    const outside = await loadManifest(t.path('sites/a.csv'), { env: {}, cwd: join(t.dir, 'elsewhere') });
    assert.equal(outside.rows[0]!.file, t.path('sites/a.csv'));
    assert.equal((await loadManifest(t.path('sites/a.csv'), { env: {} })).rows[0]!.file, t.path('sites/a.csv'));
  } finally {
    t.cleanup();
  }
});
