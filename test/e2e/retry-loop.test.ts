// The README's retry loop: results.xlsx (or results.csv) filtered to the rows that did not make it, saved under a
// new name, is the next manifest. It works on the journal it was written from (named in the workbook's properties,
// or the folder it sits in, or --state): no second journal, no adopts, and the rows it leaves out are "not in this
// manifest", never orphans to prune. Without the reports index the tool still recognises its own results files.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { INDEX } from '../../src/report/write.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { readBack, withPart } from '../load/workbook.js';

const creds = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
let emu: Emulator;
const VPN_GW = 'vpn-retryloop00000001';
before(async () => {
  // A region quota of 4: the first apply of 6 rows ends with 4 created, 1 failed (Resource.QuotaFull) and 1 not started.
  emu = await startEmulator({
    accounts: [DEFAULT_ACCOUNT],
    rates: { CreateCustomerGateway: 200, DescribeCustomerGateways: 200 },
    seed: 37,
    quota: 4,
    vpnTaskMs: 20,
    vpnGateways: [{ RegionId: 'cn-beijing', VpnGatewayId: VPN_GW, InternetIp: '47.96.30.1' }],
  });
});
after(async () => {
  await emu.close();
});

function ips(prefix: string): string[] {
  const out: string[] = [];
  for (const acc of Object.values<any>((emu.state() as any).accounts ?? {})) {
    for (const reg of Object.values<any>(acc.regions ?? {})) for (const g of reg.gateways) if (g.IpAddress.startsWith(prefix)) out.push(g.IpAddress);
  }
  return out.sort();
}

function manifestOf(prefix: string): string {
  return ['region,ip,name,asn,owner', ...[1, 2, 3, 4, 5, 6].map((i) => `cn-hangzhou,${prefix}${i},r-${i},6500${i},team-${i}`)].join('\n') + '\n';
}

/** The sheet's XML rows (`<row r="N" ...>`) whose status cell says `created`, by row number. */
async function createdRows(xlsx: Buffer): Promise<number[]> {
  const ws = (await readBack(xlsx)).worksheets[0]!;
  const statusCol = (ws.getRow(1).values as unknown[]).indexOf('status');
  const out: number[] = [];
  ws.eachRow((row, n) => {
    if (n > 1 && row.getCell(statusCol).value === 'created') out.push(n);
  });
  return out;
}

/** What a spreadsheet program saves: the same package (custom properties kept) with rows hidden or deleted. */
function editRows(xlsx: Buffer, rows: number[], how: 'hide' | 'delete'): Buffer {
  return withPart(xlsx, 'xl/worksheets/sheet1.xml', (xml) => {
    let out = xml;
    for (const n of rows) {
      const re = new RegExp(`<row r="${n}"([^>]*)>[\\s\\S]*?</row>`);
      assert.match(out, re);
      out = how === 'hide' ? out.replace(new RegExp(`<row r="${n}"`), `<row r="${n}" hidden="1"`) : out.replace(re, '');
    }
    return out;
  });
}

const journals = (dir: string): string[] => readdirSync(dir, { recursive: true }).map(String).filter((n) => n.endsWith('.state.jsonl'));

test('results.xlsx filtered (rows hidden or deleted) and saved under a new name finds its journal: no second journal, no orphans', async () => {
  const t = tempDir({ 'm.csv': manifestOf('198.19.120.') });
  try {
    const csv = t.path('m.csv');
    const run = (args: string[]): Promise<CliResult> => runCli([...args, '--endpoint', emu.url], { env: creds });
    emu.configure({ quota: 4 });
    const first = await run(['apply', csv, '--yes', '--quiet', '--concurrency', '1', '--rate', '100']);
    assert.equal(first.code, 1, 'a row failed on the quota, another was not started');
    assert.equal(ips('198.19.120.').length, 4);
    emu.configure({ quota: 100 });

    const results = readFileSync(t.path('m.csv.results/results.xlsx'));
    const created = await createdRows(results);
    assert.equal(created.length, 4);

    // Filtered in place (the created rows hidden) and saved beside it under a new name.
    writeFileSync(t.path('m.csv.results/retry.xlsx'), editRows(results, created, 'hide'));
    const hidden = await run(['plan', t.path('m.csv.results/retry.xlsx'), '--retry-failed', '--quota', '100', '--format', 'json']);
    assert.equal(hidden.code, 0, hidden.stdout + hidden.stderr);
    assert.match(hidden.stderr, /journal: \S*m\.csv\.state\.jsonl \(the journal \S*retry\.xlsx was written from\)/);
    const hp = JSON.parse(hidden.stdout);
    assert.deepEqual(hp.rows.map((r: any) => r.action).sort(), ['create', 'retry', 'skip', 'skip', 'skip', 'skip']);
    assert.equal(hp.summary.adopt, 0, 'the existing rows are the journal\'s: skip, never adopt');

    // Rows deleted, saved in another folder: the workbook's properties still name the journal.
    mkdirSync(t.path('elsewhere'));
    const subset = t.path('elsewhere/failed.xlsx');
    writeFileSync(subset, editRows(results, created, 'delete'));
    const sp = await run(['plan', subset, '--quota', '100']);
    assert.equal(sp.code, 1, 'the failed row is blocked without --retry-failed, as in its own manifest');
    assert.match(sp.stdout, /4 row\(s\) of the journal are not in this manifest \(it is not the journal's own\): kept as they are, never deleted\./);
    assert.ok(!/--prune|orphan|delete it/i.test(sp.stdout), `no deletion proposed for the rows it left out\n${sp.stdout}`);
    const pruned = await run(['plan', subset, '--prune']);
    assert.equal(pruned.code, 2);
    assert.match(pruned.stderr, /--prune deletes the gateways whose rows left the journal's manifest \(m\.csv\); .*run --prune with the journal's own manifest/);

    // Without the reports index (deleted, or a copied folder) the tool's own results.xlsx is still replaced.
    rmSync(t.path(`m.csv.results/${INDEX}`));
    const apply = await run(['apply', subset, '--retry-failed', '--quota', '100', '--yes']);
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    assert.deepEqual(ips('198.19.120.'), [1, 2, 3, 4, 5, 6].map((i) => `198.19.120.${i}`), 'every row exactly once');
    assert.deepEqual(journals(t.dir), ['m.csv.state.jsonl'], 'no second journal');
    const header = JSON.parse(readFileSync(t.path('m.csv.state.jsonl'), 'utf8').split('\n')[0]!);
    assert.equal(header.manifest.path, 'm.csv', 'the journal stays its manifest\'s');
    // The report beside the journal is the whole batch: the retried rows and the ones the file left out.
    const after = await createdRows(readFileSync(t.path('m.csv.results/results.xlsx')));
    assert.equal(after.length, 6);
    // `report` too rewrites the tool's own files without the index.
    rmSync(t.path(`m.csv.results/${INDEX}`));
    const report = await runCli(['report', csv]);
    assert.equal(report.code, 0, report.stdout + report.stderr);
    assert.equal((await createdRows(readFileSync(t.path('m.csv.results/results.xlsx')))).length, 6);
    assert.ok(existsSync(t.path(`m.csv.results/${INDEX}`)), 'the index is written again');

    // --state pointing at the original journal works for the same file too.
    const explicit = await run(['plan', subset, '--state', t.path('m.csv.state.jsonl'), '--format', 'json']);
    assert.equal(explicit.code, 0, explicit.stdout + explicit.stderr);
    assert.deepEqual(JSON.parse(explicit.stdout).rows.filter((r: any) => !r.outside).map((r: any) => r.action), ['skip', 'skip']);
  } finally {
    t.cleanup();
  }
});

test('results.csv saved as the next manifest: found beside its journal, refused elsewhere (no second journal) until --state names it', async () => {
  const t = tempDir({ 'm.csv': manifestOf('198.19.121.') });
  try {
    const csv = t.path('m.csv');
    const run = (args: string[]): Promise<CliResult> => runCli([...args, '--endpoint', emu.url], { env: creds });
    emu.configure({ quota: 4 + ips('').length });
    const first = await run(['apply', csv, '--yes', '--quiet', '--concurrency', '1', '--rate', '100']);
    assert.equal(first.code, 1);
    emu.configure({ quota: 100 });
    const text = readFileSync(t.path('m.csv.results/results.csv'), 'utf8');
    const records = parse(text, { bom: true, columns: true }) as Array<Record<string, string>>;
    assert.equal(records.filter((r) => r.status === 'created').length, 4);
    // Saved with the created rows deleted (as a spreadsheet writes it back: no BOM is needed to be read).
    const lines = text.split('\r\n');
    const kept = [lines[0], ...lines.slice(1).filter((l) => l !== '' && !l.includes(',"created",'))].join('\r\n') + '\r\n';
    writeFileSync(t.path('m.csv.results/retry.csv'), kept);
    const beside = await run(['plan', t.path('m.csv.results/retry.csv'), '--quota', '100', '--format', 'json']);
    assert.equal(beside.code, 1, beside.stderr);
    assert.deepEqual(JSON.parse(beside.stdout).rows.filter((r: any) => !r.outside).map((r: any) => r.action), ['blocked', 'create']);

    mkdirSync(t.path('copy'));
    copyFileSync(t.path('m.csv.results/retry.csv'), t.path('copy/retry.csv'));
    const lost = await run(['apply', t.path('copy/retry.csv'), '--yes']);
    assert.equal(lost.code, 2);
    assert.match(lost.stderr, /retry\.csv is a saved cgw-batch results file, and the journal it was written from was not found.*Pass --state with that journal/);
    assert.ok(!existsSync(t.path('copy/retry.csv.state.jsonl')), 'no second journal started');
    const named = await run(['apply', t.path('copy/retry.csv'), '--state', t.path('m.csv.state.jsonl'), '--retry-failed', '--quota', '100', '--yes']);
    assert.equal(named.code, 0, named.stdout + named.stderr);
    assert.equal(ips('198.19.121.').length, 6);
    assert.deepEqual(journals(t.dir), ['m.csv.state.jsonl']);

    // A manifest of another batch is still refused the journal.
    writeFileSync(t.path('other.csv'), 'region,ip,name,asn\ncn-hangzhou,198.19.122.1,o-1,65001\n');
    const other = await run(['plan', t.path('other.csv'), '--state', t.path('m.csv.state.jsonl')]);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /belongs to manifest m\.csv, not other\.csv .*neither a saved results file of that journal nor a manifest whose rows are all in it/);
  } finally {
    t.cleanup();
  }
});

test('a site manifest\'s results.xlsx carries its profiles (a Profiles sheet): filtered and saved, it retries with them', async () => {
  const yaml = [
    'profiles:',
    '  branch-ikev2:',
    '    ike_version: ikev2',
    '    ike_enc_alg: aes256',
    '    ipsec_pfs: group14',
    'defaults:',
    '  region: cn-beijing',
    `  vpn_gateway_id: ${VPN_GW}`,
    '  local_subnet: 10.30.0.0/16',
    '  psk: generate',
    '  ike_profile: branch-ikev2',
    'gateways:',
    '  - { ip: 198.19.124.1, name: s-1, remote_subnet: 192.168.1.0/24 }',
    '  - { ip: 198.19.124.2, name: s-2, remote_subnet: 192.168.2.0/24 }',
  ].join('\n');
  const t = tempDir({ 'sites.yaml': `${yaml}\n` });
  try {
    const run = (args: string[]): Promise<CliResult> => runCli([...args, '--endpoint', emu.url], { env: creds });
    // A region quota of 1: the first site is made whole, the second fails on its customer gateway.
    emu.configure({ quota: 1 });
    const first = await run(['apply', t.path('sites.yaml'), '--yes', '--quiet', '--concurrency', '1']);
    assert.equal(first.code, 1, first.stdout + first.stderr);
    emu.configure({ quota: 100 });

    const results = readFileSync(t.path('sites.yaml.results/results.xlsx'));
    const wb = await readBack(results);
    assert.deepEqual(wb.worksheets.map((w) => w.name), ['Results', 'Profiles'], 'the rows first: the sheet a manifest is read from');
    const profiles = wb.getWorksheet('Profiles')!;
    assert.deepEqual((profiles.getRow(1).values as unknown[]).slice(1), ['name', 'ike_version', 'ike_enc_alg', 'ipsec_pfs']);
    assert.deepEqual((profiles.getRow(2).values as unknown[]).slice(1), ['branch-ikev2', 'ikev2', 'aes256', 'group14']);

    // The created site deleted, the workbook saved under a new name: the profile comes with it.
    writeFileSync(t.path('sites.yaml.results/retry.xlsx'), editRows(results, await createdRows(results), 'delete'));
    // (--quota: the first run learned cn-beijing's quota of 1 from Resource.QuotaFull; it has been raised since.)
    const plan = await run(['plan', t.path('sites.yaml.results/retry.xlsx'), '--retry-failed', '--quota', 'cn-beijing=100', '--format', 'json']);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.ok(!plan.stdout.includes('UnknownProfile'), plan.stdout);
    const planned = JSON.parse(plan.stdout).rows;
    assert.deepEqual(planned.map((r: any) => [r.ip, r.action, r.connection?.action]), [['198.19.124.2', 'retry', 'create'], ['198.19.124.1', 'skip', 'skip']]);
    assert.ok(!/--prune/.test(plan.stdout), `the site the file left out is kept, never offered for deletion\n${plan.stdout}`);
    const retried = await run(['apply', t.path('sites.yaml.results/retry.xlsx'), '--retry-failed', '--quota', 'cn-beijing=100', '--yes', '--quiet']);
    assert.equal(retried.code, 0, retried.stdout + retried.stderr);
    assert.deepEqual(journals(t.dir), ['sites.yaml.state.jsonl'], 'no second journal');
    const region = (emu.state() as any).accounts[DEFAULT_ACCOUNT.accountId].regions['cn-beijing'];
    const conns = region.vpnConnections.filter((c: any) => c.VpnGatewayId === VPN_GW);
    assert.equal(conns.length, 2, 'one connection per site, exactly once');
    for (const c of conns) {
      assert.equal(c.Ike.IkeVersion, 'ikev2', 'the retried site negotiates with its profile, not the defaults');
      assert.equal(c.Ike.IkeEncAlg, 'aes256');
      assert.equal(c.Ipsec.IpsecPfs, 'group14');
    }
  } finally {
    t.cleanup();
  }
});

test('a file in the reports folder that a person wrote is still never replaced', async () => {
  const t = tempDir({ 'm.csv': 'region,ip,name,asn\ncn-hangzhou,198.19.123.1,p-1,65001\n' });
  try {
    mkdirSync(t.path('m.csv.results'));
    writeFileSync(join(t.path('m.csv.results'), 'results.xlsx'), readFileSync(join(t.dir, 'm.csv')));
    const r = await runCli(['apply', t.path('m.csv'), '--endpoint', emu.url, '--yes'], { env: creds });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /results\.xlsx exists and was not written by cgw-batch/);
  } finally {
    t.cleanup();
  }
});
