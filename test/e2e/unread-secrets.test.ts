// Without the `env:` AuthKey variable: status and report tell the journal's truth, a day-2 apply that changes a
// description goes ahead (the key is neither compared nor removed), and only a row that must send the key now waits.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const KEY = 'KeyAlpha1SecretMarker';
const creds = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
const outputs: string[] = [];
let emu: Emulator;
before(async () => {
  emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rates: { CreateCustomerGateway: 200, DescribeCustomerGateways: 200, ModifyCustomerGatewayAttribute: 200 }, seed: 29 });
});
after(async () => {
  await emu.close();
  for (const o of outputs) assert.ok(!o.includes(KEY), 'the AuthKey appears in no output');
});

function gateway(ip: string): any {
  for (const acc of Object.values<any>((emu.state() as any).accounts ?? {})) {
    for (const reg of Object.values<any>(acc.regions ?? {})) for (const g of reg.gateways) if (g.IpAddress === ip) return g;
  }
  return undefined;
}

const rowsOf = (lines: string[]) => ['region,ip,name,asn,description,auth_key', ...lines].join('\n') + '\n';
const R1 = 'cn-hangzhou,198.19.90.1,k-1,65001,first,env:BGP_KEY';
const R2 = 'cn-hangzhou,198.19.90.2,k-2,65002,second,';

test('status, report and a day-2 apply without BGP_KEY; a row that must send the key waits for it', async () => {
  const t = tempDir({ 'm.csv': rowsOf([R1, R2]) });
  try {
    const csv = t.path('m.csv');
    const run = async (args: string[], withKey: boolean): Promise<CliResult> => {
      const r = await runCli([...args, ...(args[0] === 'status' || args[0] === 'report' ? [] : ['--endpoint', emu.url])], { env: { ...creds, ...(withKey ? { BGP_KEY: KEY } : {}) } });
      outputs.push(r.stdout, r.stderr);
      return r;
    };
    const first = await run(['apply', csv, '--yes', '--quiet'], true);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const keyPrint = gateway('198.19.90.1').AuthKey.fingerprint;

    const status = await run(['status', csv], false);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /198\.19\.90\.1 +created +cgw-/);
    assert.ok(!/AuthKeyEnvMissing|invalid/.test(status.stdout), status.stdout);
    const json = JSON.parse((await run(['status', csv, '--format', 'json'], false)).stdout);
    assert.deepEqual(json.rows.map((r: any) => [r.status, r.error_code]), [['created', null], ['created', null]]);

    const report = await run(['report', csv], false);
    assert.equal(report.code, 0, report.stdout + report.stderr);
    const results = parse(readFileSync(t.path('m.csv.results/results.csv')), { bom: true, columns: true }) as Array<Record<string, string>>;
    assert.deepEqual(results.map((r) => [r.status, r.error_code]), [['created', ''], ['created', '']]);

    // Day 2: one description changes; the key is not exported. Only that change is sent; the key stays as it was.
    writeFileSync(csv, rowsOf([R1.replace('first', 'first-moved'), R2]));
    const plan = JSON.parse((await run(['plan', csv, '--format', 'json'], false)).stdout);
    assert.deepEqual(plan.rows.map((r: any) => r.action), ['update', 'skip']);
    assert.deepEqual(plan.rows[0].changes, [{ field: 'description', before: 'first', after: 'first-moved' }]);
    assert.deepEqual(plan.rows[0].issues.map((i: any) => i.code), ['Cgw.SecretNotCompared']);
    const day2 = await run(['apply', csv, '--yes'], false);
    assert.equal(day2.code, 0, day2.stdout + day2.stderr);
    assert.equal(gateway('198.19.90.1').Description, 'first-moved');
    assert.equal(gateway('198.19.90.1').AuthKey.fingerprint, keyPrint, 'the key in the cloud is untouched');
    const withKey = JSON.parse((await run(['plan', csv, '--format', 'json'], true)).stdout);
    assert.deepEqual(withKey.rows.map((r: any) => r.action), ['skip', 'skip'], 'the journal kept the key\'s fingerprint: nothing to change once it is exported again');

    // A new row with the key must send it: that row waits (named), the others are not held back with --skip-invalid.
    writeFileSync(csv, rowsOf([R1.replace('first', 'first-moved'), R2, 'cn-hangzhou,198.19.90.3,k-3,65003,third,env:BGP_KEY']));
    const refused = await run(['apply', csv, '--yes'], false);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /m\.csv:4 {2}auth_key {2}Cgw\.AuthKeyEnvMissing {2}environment variable BGP_KEY is not set/);
    assert.match(refused.stderr, /refusing to apply: 1 row\(s\) are invalid/);
    assert.equal(gateway('198.19.90.3'), undefined, 'nothing sent for it');
  } finally {
    t.cleanup();
  }
});
