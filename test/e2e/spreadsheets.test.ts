// Spreadsheets end to end (built CLI, emulator): init -> plan; export -> import -> plan with nothing to do (AuthKeys as
// env references); results.xlsx with every cell text, whose failed rows, filtered and saved, plan as the next manifest.
import '../helpers/env.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { connect } from '../../src/cloud/connect.js';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
const KEY = 'BgpKeyExported77';
let emu: Emulator;
before(async () => {
  emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rates: { CreateCustomerGateway: 500, DescribeCustomerGateways: 500 }, seed: 9, quota: 1000 });
});
after(async () => {
  await emu.close();
});

test('init writes templates that plan cleanly, and never overwrites a file', async () => {
  const t = tempDir();
  try {
    for (const name of ['t.csv', 't.yaml', 't.xlsx']) {
      const w = await runCli(['init', t.path(name)]);
      assert.equal(w.code, 0, w.stderr);
      const p = await runCli(['plan', t.path(name), '--offline']);
      assert.equal(p.code, 0, `${name}: ${p.stdout}${p.stderr}`);
      // Two customer gateways and a site (its customer gateway and connection) since the templates show a site row.
      assert.match(p.stdout, /No errors\. 3 create\. Connections: 1 create\./);
    }
    const again = await runCli(['init', t.path('t.csv')]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists; cgw-batch never overwrites it/);
    const stdout = await runCli(['init', '--format', 'yaml']);
    assert.match(stdout.stdout, /yaml-language-server: \$schema=/);
    const sheet = await runCli(['plan', t.path('t.csv'), '--sheet', 'X', '--offline']);
    assert.equal(sheet.code, 2);
    assert.match(sheet.stderr, /--sheet picks a sheet of an \.xlsx workbook/);
  } finally {
    t.cleanup();
  }
});

test('export -> import -> plan: every existing gateway is adopted and then nothing is left to do; AuthKeys only as env references', async () => {
  const c = connect({ credentials: DEFAULT_ACCOUNT, endpoint: emu.url, timeoutMs: 5000 }).clientFor('cn-chengdu');
  await c.createCustomerGateway({ regionId: 'cn-chengdu', ipAddress: '198.20.1.1', name: 'cd-1', asn: '65546', description: '=not a formula', tags: [{ key: 'env', value: '0123' }] });
  await c.createCustomerGateway({ regionId: 'cn-chengdu', ipAddress: '198.20.1.2', name: 'cd-2', asn: '65001', authKey: KEY });
  await c.createCustomerGateway({ regionId: 'cn-chengdu', ipAddress: '198.20.1.3' });
  const t = tempDir();
  try {
    for (const format of ['csv', 'yaml', 'xlsx'] as const) {
      const file = t.path(`exported.${format}`);
      const ex = await runCli(['export', '--region', 'cn-chengdu', '-o', file, '--endpoint', emu.url], { env });
      assert.equal(ex.code, 0, ex.stderr);
      assert.match(ex.stderr, /exported 3 gateway\(s\)/);
      assert.match(ex.stderr, /CGW_AUTHKEY_CN_CHENGDU_198_20_1_2/);
      assert.ok(!readFileSync(file).includes(KEY), `${format}: the AuthKey is never written`);
      const withKey = { ...env, CGW_AUTHKEY_CN_CHENGDU_198_20_1_2: KEY };
      const imp = await runCli(['import', file, '--endpoint', emu.url, '--quiet'], { env: withKey });
      assert.equal(imp.code, 0, imp.stdout + imp.stderr);
      const plan = await runCli(['plan', file, '--endpoint', emu.url, '--format', 'json'], { env: withKey });
      assert.equal(plan.code, 0, plan.stderr);
      const rows = JSON.parse(plan.stdout).rows as Array<{ action: string }>;
      assert.deepEqual(rows.map((r) => r.action), ['skip', 'skip', 'skip'], `${format}: nothing to do after import`);
      assert.ok(!plan.stdout.includes(KEY) && !imp.stdout.includes(KEY));
    }
    const refused = await runCli(['export', '--region', 'cn-nowhere', '--endpoint', emu.url], { env });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /unknown region\(s\) cn-nowhere/);
  } finally {
    t.cleanup();
  }
});

test('results.xlsx: every cell text and exact; its failed rows, filtered and saved, plan as the next manifest', async () => {
  const t = tempDir({
    'sites.csv': 'region,ip,name,asn,tag:site\ncn-wuhan-lr,198.20.2.1,w1,1.10,0123\ncn-wuhan-lr,198.20.2.2,w2,65002,=1+1\ncn-wuhan-lr,198.20.2.3,w3,65003,x\n',
  });
  try {
    emu.configure({ quota: 2 });
    const r = await runCli(['apply', t.path('sites.csv'), '--endpoint', emu.url, '--yes', '--quiet'], { env });
    emu.configure({ quota: 1000 });
    assert.equal(r.code, 1);
    const file = t.path('sites.csv.results/results.xlsx');
    assert.ok(existsSync(file));
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(readFileSync(file) as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    const header = (ws.getRow(1).values as unknown[]).slice(1);
    assert.deepEqual(header.slice(0, 5), ['region', 'ip', 'name', 'asn', 'tag:site'], 'input columns first');
    const at = (row: number, name: string) => ws.getRow(row).getCell(header.indexOf(name) + 1);
    assert.equal(at(2, 'asn').value, '1.10');
    assert.equal(at(2, 'tag:site').value, '0123');
    assert.equal(at(3, 'tag:site').value, '=1+1', 'text, never a formula');
    assert.equal(typeof at(3, 'tag:site').value, 'string');
    assert.deepEqual([2, 3, 4].map((i) => at(i, 'status').value), ['created', 'created', 'failed']);

    // The user filters to the failed rows and saves the sheet as the next manifest.
    for (let i = ws.rowCount; i >= 2; i--) if (at(i, 'status').value !== 'failed') ws.spliceRows(i, 1);
    const retry = t.path('retry.xlsx');
    writeFileSync(retry, Buffer.from(await wb.xlsx.writeBuffer()));
    const plan = await runCli(['plan', retry, '--endpoint', emu.url, '--format', 'json'], { env });
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    const doc = JSON.parse(plan.stdout);
    assert.deepEqual(doc.rows.map((x: any) => [x.ip, x.action]), [['198.20.2.3', 'create']]);
    assert.ok(doc.issues.some((i: any) => i.code === 'Cgw.ResultColumns'), 'the result columns are recognised and left out');
  } finally {
    emu.configure({ quota: 1000 });
    t.cleanup();
  }
});
