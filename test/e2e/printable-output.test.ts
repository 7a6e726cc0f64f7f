// The built CLI prints every name and value from a file or a server without control characters: a file name in an
// error, a manifest's cells in plan (text and JSON), a server's error code in apply's progress and summary, in status
// (text and JSON), and names edited in the console in refresh (text and JSON).
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PopVpcClient } from '../../src/cloud/pop-client.js';
import { DEFAULT_ACCOUNT, startEmulator } from '../../src/emulator/index.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { startHostile } from '../hostile/server.js';

const EVIL = '\x1b[2J\u009b31m\u202eevil\u200b\x1b]0;pwned\x07';
const UNPRINTABLE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]/;
const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret, CGW_BATCH_RETRY_BASE_MS: '1', CGW_BATCH_RETRY_CAP_MS: '5' };

function clean(r: CliResult, what: string): void {
  for (const [name, text] of [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
  ] as const) {
    const m = UNPRINTABLE.exec(text);
    assert.equal(m, null, `${what} ${name}: U+${m?.[0].charCodeAt(0).toString(16).padStart(4, '0')} in\n${text}`);
  }
}

test('a file name in an error, and a manifest\'s cells in plan text and JSON', async (t) => {
  const dir = tempDir({ 'm.csv': `region,ip,name,description\ncn-hangzhou${EVIL},203.0.113.5,n${EVIL},d${EVIL}\ncn-hangzhou,203.0.113.6,ok\u202e\u200b,d\u009b\n` });
  t.after(() => dir.cleanup());
  const missing = await runCli(['plan', dir.path(`no${EVIL}.csv`), '--offline'], { cwd: dir.dir });
  assert.equal(missing.code, 2);
  clean(missing, 'missing file');
  assert.match(missing.stderr, /\\x1b\[2J/);
  const text = await runCli(['plan', dir.path('m.csv'), '--offline'], { cwd: dir.dir });
  clean(text, 'plan text');
  assert.match(text.stdout, /\\u202e/);
  const json = await runCli(['plan', dir.path('m.csv'), '--offline', '--format', 'json'], { cwd: dir.dir });
  clean(json, 'plan json');
  const doc = JSON.parse(json.stdout) as { rows: Array<{ region: string }> };
  assert.ok(doc.rows.some((r) => r.region.includes('\u202e')), 'the JSON value is the cell, unchanged for a parser');
});

test('a server\'s error code: apply (text and JSON progress), status (text and JSON)', async (t) => {
  const h = await startHostile({ behaviour: 'evil-code' });
  const dir = tempDir({ 'm.csv': 'region,ip,name\ncn-hangzhou,203.0.113.7,evil\n' });
  t.after(async () => {
    await h.close();
    dir.cleanup();
  });
  const apply = await runCli(['apply', dir.path('m.csv'), '--endpoint', h.url, '--yes'], { env, cwd: dir.dir });
  assert.equal(apply.code, 1, apply.stdout + apply.stderr);
  clean(apply, 'apply');
  assert.match(apply.stdout + apply.stderr, /Bad\\x1b\[2J\\x9b31m\\u202eedoc\\u200b/);
  const applyJson = await runCli(['apply', dir.path('m.csv'), '--endpoint', h.url, '--yes', '--format', 'json', '--retry-failed'], { env, cwd: dir.dir });
  clean(applyJson, 'apply --format json');
  const status = await runCli(['status', dir.path('m.csv')], { env, cwd: dir.dir });
  clean(status, 'status');
  assert.match(status.stdout, /Bad\\x1b\[2J/);
  const statusJson = await runCli(['status', dir.path('m.csv'), '--format', 'json'], { env, cwd: dir.dir });
  clean(statusJson, 'status --format json');
  const doc = JSON.parse(statusJson.stdout) as { rows: Array<{ error_code?: string }> };
  assert.ok(doc.rows.some((r) => r.error_code?.startsWith('Bad\x1b[2J\u009b31m\u202eedoc')), statusJson.stdout);
});

test('names edited in the console: refresh (text and JSON)', async (t) => {
  const emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rateLimits: false });
  const dir = tempDir({ 'm.csv': 'region,ip,name\ncn-hangzhou,203.0.113.8,plain\n' });
  t.after(async () => {
    await emu.close();
    dir.cleanup();
  });
  const apply = await runCli(['apply', dir.path('m.csv'), '--endpoint', emu.url, '--yes'], { env, cwd: dir.dir });
  assert.equal(apply.code, 0, apply.stdout + apply.stderr);
  const gw = (emu.state() as any).accounts[DEFAULT_ACCOUNT.accountId].regions['cn-hangzhou'].gateways[0];
  const c = new PopVpcClient({ endpoint: emu.url, credentials: DEFAULT_ACCOUNT, timeoutMs: 5000 });
  await c.modifyCustomerGatewayAttribute({ regionId: 'cn-hangzhou', id: gw.CustomerGatewayId, name: `x${EVIL}` });
  c.close();
  const refresh = await runCli(['refresh', dir.path('m.csv'), '--endpoint', emu.url], { env, cwd: dir.dir });
  assert.equal(refresh.code, 1, refresh.stdout + refresh.stderr);
  clean(refresh, 'refresh');
  assert.match(refresh.stdout, /changed outside cgw-batch: name .*\\u001b\[2J\\x9b31m\\u202eevil/);
  const json = await runCli(['refresh', dir.path('m.csv'), '--endpoint', emu.url, '--format', 'json'], { env, cwd: dir.dir });
  clean(json, 'refresh --format json');
  assert.ok(JSON.stringify(JSON.parse(json.stdout)).includes(`x${EVIL}`.replace(/\x1b/g, '\\u001b').replace(/\x07/g, '\\u0007')));
});
