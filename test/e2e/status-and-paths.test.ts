// Where the user stands: a manifest under the working directory is named relative to it in the plan and its
// messages (the journal keys on the file itself, as before); `status` finds the one journal of the folder by itself,
// and with several it lists them.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const creds = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
let emu: Emulator;
before(async () => {
  emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rates: { CreateCustomerGateway: 200, DescribeCustomerGateways: 200 }, seed: 17 });
});
after(async () => {
  await emu.close();
});

test('a manifest under the working directory is named relative to it: plan header, row issues, apply summary', async () => {
  const t = tempDir({ 'sites/m.csv': 'region,ip,name,asn\ncn-hangzhou,198.19.70.1,p-1,65001\ncn-hangzhou,198.19.70.300,p-2,65002\n' });
  try {
    const r = await runCli(['plan', 'sites/m.csv', '--offline'], { cwd: t.dir, env: creds });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^cgw-batch plan: sites\/m\.csv \(csv, 2 row\(s\), offline/);
    assert.match(r.stdout, /^sites\/m\.csv:3 {2}ip {2}InvalidIpAddress/m);
    assert.ok(!r.stdout.includes(t.dir) && !r.stderr.includes(t.dir), 'no absolute path where a relative one says it');

    // A manifest outside the working directory keeps the path as given.
    const outside = await runCli(['plan', t.path('sites/m.csv'), '--offline'], { env: creds });
    assert.match(outside.stdout, new RegExp(`^cgw-batch plan: ${t.path('sites/m.csv').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} `));

    writeFileSync(t.path('sites/m.csv'), 'region,ip,name,asn\ncn-hangzhou,198.19.70.1,p-1,65001\n');
    const a = await runCli(['apply', 'sites/m.csv', '--endpoint', emu.url, '--yes'], { cwd: t.dir, env: creds });
    assert.equal(a.code, 0, a.stdout + a.stderr);
    assert.match(a.stdout, /^journal: sites\/m\.csv\.state\.jsonl$/m);
    assert.match(a.stdout, /^reports: sites\/m\.csv\.results\/results\.csv, /m);
    // The journal keys on what it keyed on: the manifest relative to the journal's own folder.
    const header = JSON.parse(readFileSync(t.path('sites/m.csv.state.jsonl'), 'utf8').split('\n')[0]!);
    assert.equal(header.manifest.path, 'm.csv');
  } finally {
    t.cleanup();
  }
});

test('status without an argument: the one journal of the folder; none or several: a message that names them', async () => {
  const t = tempDir({ 'a.csv': 'region,ip,name,asn\ncn-hangzhou,198.19.71.1,s-1,65001\n', 'b.csv': 'region,ip,name,asn\ncn-hangzhou,198.19.71.2,s-2,65002\n' });
  try {
    const none = await runCli(['status'], { cwd: t.dir, env: creds });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no journal \(\*\.state\.jsonl\) in this folder: give the manifest \(cgw-batch status branches\.csv\) or --state FILE/);

    const a = await runCli(['apply', 'a.csv', '--endpoint', emu.url, '--yes'], { cwd: t.dir, env: creds });
    assert.equal(a.code, 0, a.stdout + a.stderr);
    const one = await runCli(['status'], { cwd: t.dir, env: creds });
    assert.equal(one.code, 0, one.stdout + one.stderr);
    assert.match(one.stdout, /^journal a\.csv\.state\.jsonl$/m);
    assert.match(one.stdout, /198\.19\.71\.1 +created +cgw-/);
    const report = await runCli(['report'], { cwd: t.dir, env: creds });
    assert.equal(report.code, 0, report.stdout + report.stderr);
    assert.match(report.stdout, /^reports: a\.csv\.results\/results\.csv/m);

    const b = await runCli(['apply', 'b.csv', '--endpoint', emu.url, '--yes'], { cwd: t.dir, env: creds });
    assert.equal(b.code, 0, b.stdout + b.stderr);
    mkdirSync(t.path('elsewhere'));
    const two = await runCli(['status'], { cwd: t.dir, env: creds });
    assert.equal(two.code, 2);
    assert.match(two.stderr, /2 journals in this folder: a\.csv\.state\.jsonl, b\.csv\.state\.jsonl; name one: cgw-batch status a\.csv \(or --state a\.csv\.state\.jsonl\)/);
  } finally {
    t.cleanup();
  }
});
