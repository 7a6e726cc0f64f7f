// The emulator's data file is locked like a journal: a second process waits briefly, then refuses naming file and holder.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { StateError } from '../../src/errors.js';
import { startEmulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/cli.js';
import { cliBin } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { PopVpcClient } from '../../src/cloud/pop-client.js';
import { CREDS, REGION, pop } from './util.js';

function gatewaysIn(dataFile: string): string[] {
  const data = JSON.parse(readFileSync(dataFile, 'utf8')) as { accounts: Array<{ regions: Array<{ gateways: Array<{ IpAddress: string }> }> }> };
  return data.accounts.flatMap((a) => a.regions.flatMap((r) => r.gateways.map((g) => g.IpAddress))).sort();
}

function manifest(prefix: string, n: number): string {
  return 'region,ip,name,asn\n' + Array.from({ length: n }, (_, i) => `${REGION},${prefix}.${i + 1},gw-${prefix}-${i},65000`).join('\n') + '\n';
}

test('in one process: a second emulator on the same data file is refused after the wait, naming file and holder', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const dataFile = tmp.path('emu.json');
  const a = await startEmulator({ dataFile, rateLimits: false });
  await pop(a).createCustomerGateway({ regionId: REGION, ipAddress: '12.1.0.1', asn: '65000' });
  const started = performance.now();
  await assert.rejects(startEmulator({ dataFile, lockWaitMs: 400 }), (e: unknown) => {
    assert.ok(e instanceof StateError);
    assert.ok(e.message.includes(dataFile), e.message);
    assert.match(e.message, new RegExp(`locked by pid ${process.pid} on host`));
    assert.match(e.message, /another sandbox run or emulator is using it/);
    return true;
  });
  assert.ok(performance.now() - started >= 350, 'it waited before refusing');
  await a.close();
  assert.ok(!existsSync(`${dataFile}.lock`), 'close releases the lock');
  const b = await startEmulator({ dataFile, rateLimits: false });
  t.after(() => b.close());
  assert.equal((await pop(b).describeCustomerGateways({ regionId: REGION })).totalCount, 1);
});

test('a FIFO or a symlink as the data file is refused at once', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const { spawnSync } = await import('node:child_process');
  spawnSync('mkfifo', [tmp.path('fifo.json')]);
  await assert.rejects(startEmulator({ dataFile: tmp.path('fifo.json') }), /emulator data file .*fifo\.json is a FIFO/);
  writeFileSync(tmp.path('real.json'), '{"version":1,"accounts":[]}');
  const { symlinkSync } = await import('node:fs');
  symlinkSync(tmp.path('real.json'), tmp.path('link.json'));
  await assert.rejects(startEmulator({ dataFile: tmp.path('link.json') }), /symbolic link/);
});

test('two processes: a sandbox apply refuses while an emulator holds the data file; nothing is lost either way', async (t) => {
  const tmp = tempDir({ 'a.csv': manifest('198.51.100', 5), 'b.csv': manifest('203.0.113', 5) });
  t.after(() => tmp.cleanup());
  const dataFile = tmp.path('sandbox.json');
  // Process 1: a long-running emulator on the data file, with gateways of its own.
  const emu = spawn(process.execPath, [cliBin, 'emulator', '--data', dataFile, '--rate', 'CreateCustomerGateway=100/s'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => emu.kill('SIGKILL'));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    emu.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    emu.once('close', () => reject(new Error(`emulator exited: ${out}`)));
  });
  const c = new PopVpcClient({ endpoint: url, credentials: CREDS, timeoutMs: 5000 });
  for (let i = 1; i <= 3; i++) await c.createCustomerGateway({ regionId: REGION, ipAddress: `192.0.2.${i}`, asn: '65000' });

  // Process 2: an embedded sandbox on the same file waits briefly, then refuses, naming the file and the holder.
  const refused = await runCli(['apply', tmp.path('a.csv'), '--sandbox', '--sandbox-data', dataFile, '--yes'], { env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'x', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'y' } });
  assert.equal(refused.code, 2, refused.stderr);
  assert.ok(refused.stderr.includes(dataFile), refused.stderr);
  assert.match(refused.stderr, new RegExp(`locked by pid ${emu.pid}`));

  // The emulator stops (SIGTERM: it saves and releases); now two sandbox applies race on the file.
  emu.kill('SIGTERM');
  await new Promise((r) => emu.once('close', r));
  const [ra, rb] = await Promise.all(
    ['a.csv', 'b.csv'].map((m) => runCli(['apply', tmp.path(m), '--sandbox', '--sandbox-data', dataFile, '--yes'], { env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'x', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'y' } })),
  );
  for (const r of [ra!, rb!]) assert.ok(r.code === 0 || r.code === 2, `${r.code}: ${r.stderr}`);
  assert.ok(ra!.code === 0 || rb!.code === 0, 'at least one ran');
  // Whoever was refused runs again afterwards; then every gateway of every run is in the file.
  for (const [m, r] of [['a.csv', ra!], ['b.csv', rb!]] as const) {
    if (r.code === 2) {
      assert.match(r.stderr, /emulator data file .* is locked by pid/);
      const again = await runCli(['apply', tmp.path(m), '--sandbox', '--sandbox-data', dataFile, '--yes'], { env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'x', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'y' } });
      assert.equal(again.code, 0, again.stderr);
    }
  }
  const ips = gatewaysIn(dataFile);
  assert.equal(ips.length, 13, ips.join(' '));
  for (const p of ['192.0.2.1', '198.51.100.5', '203.0.113.5']) assert.ok(ips.includes(p), p);
  assert.ok(!existsSync(`${dataFile}.lock`));
});
