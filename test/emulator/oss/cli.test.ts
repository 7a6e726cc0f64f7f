// `cgw-batch emulator --oss` through the real CLI: prints URL, bucket and key; serves signed requests; SIGTERM stops it; bad flags exit 2.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseOssEmulatorArgs } from '../../../src/emulator/oss/cli.js';
import { OssClient } from '../../../src/state/backend/oss-client.js';
import { repoRoot } from '../../helpers/paths.js';

const bin = join(repoRoot, 'bin', 'cgw-batch.js');

test('cgw-batch emulator --oss prints its URL, bucket and key, serves them, and stops on SIGTERM', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, [bin, 'emulator', '--oss', '--port', '0', '--bucket', 'team-bucket'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  try {
    for (let i = 0; i < 600 && !/^state: /m.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    const url = /^oss emulator listening on (http:\/\/127\.0\.0\.1:\d+) \(region cn-hangzhou\)$/m.exec(out)?.[1];
    assert.ok(url, out);
    assert.match(out, /^bucket: team-bucket$/m);
    const key = /^access key: (\S+) secret: (\S+)$/m.exec(out);
    assert.ok(key, out);
    assert.match(out, new RegExp(`^state: --state oss://team-bucket/estates --state-endpoint ${url}$`, 'm'));
    const c = new OssClient({ endpoint: url, bucket: 'team-bucket', credentials: async () => ({ accessKeyId: key[1] ?? '', accessKeySecret: key[2] ?? '' }) });
    assert.equal((await c.append('estates/x/journal.00000001.jsonl', 0, Buffer.from('{"a":1}\n'))).nextPosition, 8);
    c.close();
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0);
});

test('cgw-batch emulator --oss: bad flags exit 2 with a message, no stack; a given secret is never printed', () => {
  for (const argv of [['--port', 'x'], ['--faults', 'boom=1'], ['--bucket', 'Bad_Bucket'], ['--access-key', 'nokey'], ['--nope']]) {
    const r = spawnSync(process.execPath, [bin, 'emulator', '--oss', ...argv], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(r.status, 2, argv.join(' '));
    assert.match(r.stderr, /^cgw-batch emulator --oss: /);
    assert.ok(!/\n\s+at /.test(r.stderr));
  }
  const o = parseOssEmulatorArgs(['--access-key', 'AK1:my-private-secret', '--faults', 'lost-answer=0.1,conflict=0.2', '--seed', '5']);
  assert.notEqual(o, 'help');
  if (o !== 'help') {
    assert.deepEqual(o.faults, { 'lost-answer': 0.1, conflict: 0.2 });
    assert.equal(o.accounts?.[0]?.accessKeySecret, 'my-private-secret');
  }
  const help = spawnSync(process.execPath, [bin, 'emulator', '--help'], { cwd: repoRoot, encoding: 'utf8' });
  assert.match(help.stdout, /--oss\s+run the OSS emulator/);
});
