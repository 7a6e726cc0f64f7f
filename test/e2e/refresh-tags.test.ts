// refresh and tags someone added in the console: a tag key the manifest does not manage is not drift (exit 0, named
// as unmanaged); a managed tag changed in the console is drift, and `refresh --write` records what it says it records.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { connect } from '../../src/cloud/connect.js';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const creds = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
let emu: Emulator;
before(async () => {
  emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rates: { CreateCustomerGateway: 200, DescribeCustomerGateways: 200, TagResources: 200 }, seed: 23 });
});
after(async () => {
  await emu.close();
});

function idOf(ip: string): string {
  for (const acc of Object.values<any>((emu.state() as any).accounts ?? {})) {
    for (const reg of Object.values<any>(acc.regions ?? {})) for (const g of reg.gateways) if (g.IpAddress === ip) return g.CustomerGatewayId;
  }
  throw new Error(`no gateway ${ip}`);
}

function journalRows(path: string): Map<string, any> {
  const rows = new Map<string, any>();
  for (const line of readFileSync(path, 'utf8').split('\n').filter(Boolean).slice(1)) {
    const rec = JSON.parse(line);
    rows.set(rec.key, { ...rows.get(rec.key), ...rec });
  }
  return rows;
}

test('an unmanaged console tag is information (exit 0); a managed one is drift that refresh --write really records', async () => {
  const t = tempDir({ 'm.csv': 'region,ip,name,asn,tags\ncn-hangzhou,198.19.80.1,t-1,65001,env=prod\ncn-hangzhou,198.19.80.2,t-2,65002,env=prod\n' });
  try {
    const csv = t.path('m.csv');
    const state = `${csv}.state.jsonl`;
    const run = (...args: string[]) => runCli([...args, '--endpoint', emu.url], { env: creds });
    assert.equal((await run('apply', csv, '--yes', '--quiet')).code, 0);
    const client = connect({ credentials: { accessKeyId: DEFAULT_ACCOUNT.accessKeyId, accessKeySecret: DEFAULT_ACCOUNT.accessKeySecret }, endpoint: emu.url, timeoutMs: 5000 }).clientFor('cn-hangzhou');
    await client.tagResources({ regionId: 'cn-hangzhou', resourceIds: [idOf('198.19.80.1')], tags: [{ key: 'costcenter', value: '42' }] });

    const info = await run('refresh', csv);
    assert.equal(info.code, 0, `a tag the manifest does not manage is not drift\n${info.stdout}${info.stderr}`);
    assert.match(info.stdout, /line 2 +cn-hangzhou\/198\.19\.80\.1 +cgw-\S+ +unmanaged tag added in the console \(not drift; the manifest does not manage it\): costcenter "42"/);
    assert.match(info.stdout, /no drift/);
    const json = JSON.parse((await run('refresh', csv, '--format', 'json')).stdout);
    assert.deepEqual(json.summary, { checked: 2, deleted: 0, changed: 0 });
    assert.deepEqual(json.rows.find((r: any) => r.line === 2).unmanaged_tags, [{ key: 'costcenter', value: '42' }]);
    const plan = JSON.parse((await run('plan', csv, '--format', 'json')).stdout);
    assert.deepEqual(plan.rows.map((r: any) => r.action), ['skip', 'skip']);
    assert.deepEqual(plan.rows.flatMap((r: any) => r.issues.map((i: any) => i.code)), [], 'plan warns of no drift either');

    // A managed tag changed in the console: drift, recorded by --write, then refresh is clean.
    await client.tagResources({ regionId: 'cn-hangzhou', resourceIds: [idOf('198.19.80.2')], tags: [{ key: 'env', value: 'dev' }] });
    const drift = await run('refresh', csv);
    assert.equal(drift.code, 1);
    assert.match(drift.stdout, /changed outside cgw-batch: tag:env "prod" -> "dev"/);
    const write = await run('refresh', csv, '--write');
    assert.equal(write.code, 1, 'drift was found (and recorded)');
    assert.match(write.stdout, /the journal now records what the cloud has/);
    const rows = journalRows(state);
    assert.deepEqual(rows.get('cn-hangzhou/198.19.80.2').tags, [{ key: 'env', value: 'dev' }], 'the journal holds what refresh said it recorded');
    assert.deepEqual(rows.get('cn-hangzhou/198.19.80.1').tags, [{ key: 'env', value: 'prod' }], 'an unmanaged tag stays out of the journal');
    const clean = await run('refresh', csv);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /no drift/);
  } finally {
    t.cleanup();
  }
});
