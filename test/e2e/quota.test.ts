// The quota as the plan knows it: assumed until the cloud says otherwise; a Resource.QuotaFull records the region's
// real ceiling in the journal, and the next plan counts with it (no "41 left" after the cloud said full);
// --quota takes one number for every region or region=N pairs.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const creds = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
let emu: Emulator;
before(async () => {
  emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rates: { CreateCustomerGateway: 200, DescribeCustomerGateways: 200 }, seed: 41, quota: 3 });
});
after(async () => {
  await emu.close();
});

test('assumed, then learned from Resource.QuotaFull and kept in the journal; --quota per region', async () => {
  const rows = [1, 2, 3, 4, 5].map((i) => `cn-hangzhou,198.19.130.${i},q-${i},6500${i}`).concat(['cn-shanghai,198.19.131.1,s-1,65101']);
  const t = tempDir({ 'm.csv': ['region,ip,name,asn', ...rows].join('\n') + '\n' });
  try {
    const csv = t.path('m.csv');
    const run = (...args: string[]) => runCli([...args, '--endpoint', emu.url], { env: creds });
    const before = await run('plan', csv);
    assert.equal(before.code, 0);
    assert.match(before.stdout, /cn-hangzhou +0 existing \+ 5 new of 100, assumed \(the documented default; --quota cn-hangzhou=N if yours differs\)/);

    const apply = await run('apply', csv, '--yes', '--quiet', '--concurrency', '1', '--rate', '100');
    assert.equal(apply.code, 1);
    const journal = readFileSync(`${csv}.state.jsonl`, 'utf8');
    assert.match(journal, /"errorCode":"Resource\.QuotaFull"/);
    assert.match(journal, /"quotaLimit":3/, 'the region\'s real ceiling is in the journal');

    const after = await run('plan', csv, '--retry-failed');
    assert.equal(after.code, 1, 'the creates that do not fit are refused by the plan, not by the cloud');
    assert.match(after.stdout, /cn-hangzhou +3 existing \+ 0 new of 3, learned from Resource\.QuotaFull on \d{4}-\d\d-\d\d +\(0 left after this run\)/);
    assert.match(after.stdout, /cn-shanghai +\d+ existing \+ 0 new of 100, assumed/);
    assert.match(after.stdout, /Resource\.QuotaFull +quota exceeded: cn-hangzhou already has 3 customer gateway\(s\), the quota is 3 \(learned from Resource\.QuotaFull on /);

    const json = JSON.parse((await run('plan', csv, '--retry-failed', '--quota', 'cn-hangzhou=10', '--format', 'json')).stdout);
    assert.deepEqual(json.quota.map((q: any) => [q.region, q.quota, q.basis]), [['cn-hangzhou', 10, 'given'], ['cn-shanghai', 100, 'assumed']]);
    assert.deepEqual(json.rows.filter((r: any) => r.region === 'cn-hangzhou').map((r: any) => r.action), ['skip', 'skip', 'skip', 'retry', 'create']);
    const all = JSON.parse((await run('plan', csv, '--quota', '55', '--format', 'json')).stdout);
    assert.deepEqual(all.quota.map((q: any) => [q.quota, q.basis]), [[55, 'given'], [55, 'given']]);
    const bad = await run('plan', csv, '--quota', 'cn-hangzhou=');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--quota needs a whole number from 1 to 1000000 \(customer gateways per region\) for every region, or REGION=N pairs/);
  } finally {
    t.cleanup();
  }
});
