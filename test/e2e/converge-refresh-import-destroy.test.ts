// Day-2 end to end: converge (update / replace / prune), refresh, import and destroy, through the built CLI against the emulator.
import '../helpers/env.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import RPCClient from '@alicloud/pop-core';
import { connect } from '../../src/cloud/connect.js';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runCli as run, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const KEY_A = 'BgpKeyAlpha1';
const KEY_B = 'BgpKeyBravo2';
const env = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret,
  BGP_A: KEY_A,
  BGP_B: KEY_B,
};

/** Every CLI output of this file, scanned for the AuthKeys at the end. */
const outputs: string[] = [];
async function runCli(...args: Parameters<typeof run>): Promise<CliResult> {
  const r = await run(...args);
  outputs.push(r.stdout, r.stderr);
  return r;
}

let emu: Emulator;
before(async () => {
  emu = await startEmulator({
    accounts: [DEFAULT_ACCOUNT],
    rates: { CreateCustomerGateway: 500, DescribeCustomerGateways: 500, DeleteCustomerGateway: 500, ModifyCustomerGatewayAttribute: 500, TagResources: 500, UnTagResources: 500 },
    seed: 11,
    // A VPN gateway for the connection that holds a customer gateway in destroy; its tasks end at once.
    vpnGateways: [{ RegionId: 'cn-hangzhou', VpnGatewayId: 'vpn-day2gateway0000000', InternetIp: '47.96.0.1' }],
    vpnTaskMs: 0,
  });
});
after(async () => {
  await emu.close();
  for (const o of outputs) assert.ok(!o.includes(KEY_A) && !o.includes(KEY_B), 'no AuthKey in any output of plan, apply, refresh, import, destroy');
});

interface Gw {
  CustomerGatewayId: string;
  IpAddress: string;
  Name?: string;
  Description?: string;
  AuthKey?: { fingerprint: string; length: number };
  Tags: Array<{ Key: string; Value: string }>;
}
function gateways(region?: string): Gw[] {
  const out: Gw[] = [];
  for (const acc of Object.values<any>((emu.state() as any).accounts ?? {})) {
    for (const [name, reg] of Object.entries<any>(acc.regions ?? {})) if (!region || name === region) out.push(...reg.gateways);
  }
  return out;
}
const byIp = (ip: string) => gateways().find((g) => g.IpAddress === ip);
const tagsOf = (g: Gw | undefined) => (g?.Tags ?? []).map((t) => `${t.Key}=${t.Value}`).sort();
function client(region: string) {
  return connect({ credentials: { accessKeyId: DEFAULT_ACCOUNT.accessKeyId, accessKeySecret: DEFAULT_ACCOUNT.accessKeySecret }, endpoint: emu.url, timeoutMs: 5000 }).clientFor(region);
}
function actions(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [a, outcomes] of Object.entries<any>(emu.stats().actions)) out[a] = Object.values<number>(outcomes).reduce((x, y) => x + y, 0);
  return out;
}

/** 20 rows in two regions, 10.20.x addresses (`base` keeps the tests' IPs apart). */
function manifest(base: number, edit: (i: number, row: string[]) => void = () => {}): string {
  const lines = ['region,ip,name,description,asn,auth_key_env,tags'];
  for (let i = 0; i < 20; i++) {
    const row = [i < 10 ? 'cn-hangzhou' : 'cn-shanghai', `198.18.${base}.${i + 1}`, `site-${base}-${i + 1}`, `branch ${i + 1}`, String(65100 + i), i % 4 === 0 ? 'BGP_A' : '', `env=prod;site=s${i + 1}`];
    edit(i, row);
    lines.push(row.join(','));
  }
  return lines.join('\n') + '\n';
}

test('converge: 5 changed rows plan exactly those actions, apply converges, refresh sees an out-of-band delete', async () => {
  const t = tempDir({ 'm.csv': manifest(1) });
  try {
    const csv = t.path('m.csv');
    const first = await runCli(['apply', csv, '--endpoint', emu.url, '--yes', '--quiet'], { env });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(gateways().filter((g) => g.IpAddress.startsWith('198.18.1.')).length, 20);
    const oldReplaced = byIp('198.18.1.5')!.CustomerGatewayId;

    // name (row 1), tags (row 2), AuthKey rotation (row 4 had BGP_A), IP (row 5), description + removed tag (row 7).
    writeFileSync(
      csv,
      manifest(1, (i, row) => {
        if (i === 1) row[2] = 'site-1-2-renamed';
        if (i === 2) row[6] = 'env=staging;site=s3;owner=neteng';
        if (i === 4) row[5] = 'BGP_B';
        if (i === 5) row[1] = '198.18.1.105';
        if (i === 7) {
          row[3] = 'branch 8 moved';
          row[6] = 'env=prod';
        }
      }),
    );
    // plan predicts apply: without --allow-replace the IP change is blocked (exit 1), with it every row runs (exit 0).
    const blocked = await runCli(['plan', csv, '--endpoint', emu.url, '--format', 'json'], { env });
    assert.equal(blocked.code, 1, blocked.stderr);
    const b = JSON.parse(blocked.stdout);
    assert.deepEqual(b.rows.filter((r: any) => r.action === 'blocked').map((r: any) => [r.line, r.needs]), [[7, '--allow-replace']]);
    const plan = await runCli(['plan', csv, '--endpoint', emu.url, '--format', 'json', '--allow-replace'], { env });
    assert.equal(plan.code, 0, plan.stderr);
    const p = JSON.parse(plan.stdout);
    const changed = p.rows.filter((r: any) => r.action !== 'skip').map((r: any) => [r.line, r.action, r.changes.map((c: any) => c.field).join('+')]);
    assert.deepEqual(changed, [
      [3, 'update', 'name'],
      [4, 'update', 'tag:env+tag:owner'],
      [6, 'update', 'auth_key'],
      [7, 'replace', 'ip'],
      [9, 'update', 'description+tag:site'],
    ]);
    assert.equal(p.summary.skip, 15);
    assert.ok(!plan.stdout.includes(KEY_A) && !plan.stdout.includes(KEY_B), 'AuthKeys never shown');

    const refused = await runCli(['apply', csv, '--endpoint', emu.url, '--yes', '--quiet'], { env });
    assert.equal(refused.code, 1, 'replace needs --allow-replace');
    assert.match(refused.stderr, /--allow-replace/);

    emu.resetStats();
    const conv = await runCli(['apply', csv, '--endpoint', emu.url, '--yes', '--allow-replace', '--quiet'], { env });
    assert.equal(conv.code, 0, conv.stderr + conv.stdout);
    const sent = actions();
    assert.equal(sent['ModifyCustomerGatewayAttribute'], 3, 'name, AuthKey and description rows only');
    assert.equal(sent['TagResources'], 1, 'only the row with new or changed tags');
    assert.equal(sent['UnTagResources'], 1, 'only the row that lost a tag');
    assert.equal(sent['DeleteCustomerGateway'], 1);
    assert.equal(sent['CreateCustomerGateway'], 1);
    assert.equal(byIp('198.18.1.2')?.Name, 'site-1-2-renamed');
    assert.deepEqual(tagsOf(byIp('198.18.1.3')), ['env=staging', 'owner=neteng', 'site=s3']);
    assert.equal(byIp('198.18.1.5')?.AuthKey?.fingerprint, emu.fingerprint(KEY_B));
    assert.equal(byIp('198.18.1.6'), undefined, 'the old IP is gone');
    assert.notEqual(byIp('198.18.1.105')?.CustomerGatewayId, undefined);
    assert.notEqual(byIp('198.18.1.105')?.CustomerGatewayId, oldReplaced);
    assert.equal(byIp('198.18.1.8')?.Description, 'branch 8 moved');
    assert.deepEqual(tagsOf(byIp('198.18.1.8')), ['env=prod']);
    const state = readFileSync(csv + '.state.jsonl', 'utf8');
    assert.ok(!state.includes(KEY_A) && !state.includes(KEY_B), 'the journal holds fingerprints only');

    const again = await runCli(['plan', csv, '--endpoint', emu.url, '--format', 'json'], { env });
    assert.equal(JSON.parse(again.stdout).summary.skip, 20, 'converged');

    // Out of band: delete one gateway and rename another in the "console".
    const goneId = byIp('198.18.1.10')!.CustomerGatewayId;
    await client('cn-hangzhou').deleteCustomerGateway({ regionId: 'cn-hangzhou', id: goneId });
    await client('cn-shanghai').modifyCustomerGatewayAttribute({ regionId: 'cn-shanghai', id: byIp('198.18.1.12')!.CustomerGatewayId, name: 'console-edit' });
    const before = readFileSync(csv + '.state.jsonl', 'utf8');
    const refresh = await runCli(['refresh', csv, '--endpoint', emu.url, '--format', 'json'], { env });
    assert.equal(refresh.code, 1, 'drift found');
    const rf = JSON.parse(refresh.stdout);
    assert.deepEqual(rf.summary, { checked: 20, deleted: 1, changed: 1 });
    assert.deepEqual(rf.rows.filter((r: any) => r.drift !== 'none').map((r: any) => [r.line, r.drift]), [[11, 'deleted'], [13, 'changed']]);
    assert.equal(readFileSync(csv + '.state.jsonl', 'utf8'), before, 'without --write the journal is untouched');
    const text = await runCli(['refresh', csv, '--endpoint', emu.url], { env });
    assert.match(text.stdout, new RegExp(`${goneId}\\s+deleted outside cgw-batch`));
    assert.match(text.stdout, /name "site-1-12" -> "console-edit"/);

    const drifted = await runCli(['plan', csv, '--endpoint', emu.url, '--format', 'json'], { env });
    const dp = JSON.parse(drifted.stdout);
    const row11 = dp.rows.find((r: any) => r.line === 11);
    const row13 = dp.rows.find((r: any) => r.line === 13);
    assert.equal(row11.action, 'create', 'a gateway deleted outside the tool is created again');
    assert.ok(row11.issues.some((i: any) => i.code === 'Cgw.Drift'));
    assert.equal(row13.action, 'update', 'a console rename is converged back');
    assert.ok(row13.issues.some((i: any) => i.code === 'Cgw.Drift'));

    const write = await runCli(['refresh', csv, '--endpoint', emu.url, '--write', '--quiet'], { env });
    assert.equal(write.code, 1);
    const status = JSON.parse((await runCli(['status', csv, '--format', 'json'], { env })).stdout);
    assert.equal(status.rows.find((r: any) => r.line === 11).status, 'deleted');

    const fix = await runCli(['apply', csv, '--endpoint', emu.url, '--yes', '--quiet'], { env });
    assert.equal(fix.code, 0, fix.stderr);
    assert.notEqual(byIp('198.18.1.10')?.CustomerGatewayId, undefined);
    assert.notEqual(byIp('198.18.1.10')?.CustomerGatewayId, goneId);
    assert.equal(byIp('198.18.1.12')?.Name, 'site-1-12');
    const clean = await runCli(['refresh', csv, '--endpoint', emu.url, '--quiet'], { env });
    assert.equal(clean.code, 0, clean.stdout);

    // A row removed from the manifest is an orphan: listed, and deleted only with --prune.
    writeFileSync(csv, manifest(1, (i, row) => {
      if (i === 1) row[2] = 'site-1-2-renamed';
      if (i === 2) row[6] = 'env=staging;site=s3;owner=neteng';
      if (i === 4) row[5] = 'BGP_B';
      if (i === 5) row[1] = '198.18.1.105';
      if (i === 7) { row[3] = 'branch 8 moved'; row[6] = 'env=prod'; }
    }).split('\n').filter((l) => !l.includes('198.18.1.20,')).join('\n'));
    const orphanPlan = JSON.parse((await runCli(['plan', csv, '--endpoint', emu.url, '--format', 'json'], { env })).stdout);
    assert.equal(orphanPlan.summary.blocked, 1);
    assert.deepEqual(orphanPlan.rows.filter((r: any) => r.orphan).map((r: any) => [r.action, r.needs]), [['blocked', '--prune']]);
    const keep = await runCli(['apply', csv, '--endpoint', emu.url, '--yes', '--quiet'], { env });
    assert.equal(keep.code, 1, 'apply refuses while the orphan is blocked');
    assert.match(keep.stderr, /--prune/);
    assert.notEqual(byIp('198.18.1.20'), undefined, 'not deleted without --prune');
    const leave = await runCli(['apply', csv, '--endpoint', emu.url, '--yes', '--quiet', '--skip-invalid'], { env });
    assert.equal(leave.code, 1, '--skip-invalid leaves it out, and the run says so');
    assert.notEqual(byIp('198.18.1.20'), undefined);
    const prune = await runCli(['apply', csv, '--endpoint', emu.url, '--yes', '--prune', '--quiet'], { env });
    assert.equal(prune.code, 0, prune.stderr);
    assert.equal(byIp('198.18.1.20'), undefined);
    for (const f of ['m.csv.state.jsonl', 'm.csv.results/results.csv', 'm.csv.results/results.json', 'm.csv.results/junit.xml']) {
      const bytes = readFileSync(t.path(f), 'utf8');
      assert.ok(!bytes.includes(KEY_A) && !bytes.includes(KEY_B), `no AuthKey in ${f}`);
    }
  } finally {
    t.cleanup();
  }
});

test('import adopts matching gateways without creating any and reports no-match and conflicts', async () => {
  const t = tempDir({ 'm.csv': manifest(2) });
  try {
    const csv = t.path('m.csv');
    // Someone created 3 of the rows by hand; one of them with another name.
    const hz = client('cn-hangzhou');
    await hz.createCustomerGateway({ regionId: 'cn-hangzhou', ipAddress: '198.18.2.1', name: 'site-2-1', asn: '65100' });
    await hz.createCustomerGateway({ regionId: 'cn-hangzhou', ipAddress: '198.18.2.2', name: 'site-2-2', asn: '65101' });
    await hz.createCustomerGateway({ regionId: 'cn-hangzhou', ipAddress: '198.18.2.3', name: 'hand-made', asn: '65102' });
    emu.resetStats();
    const r = await runCli(['import', csv, '--endpoint', emu.url, '--quiet'], { env });
    assert.equal(r.code, 1, 'a conflicting row fails the import');
    assert.equal(actions()['CreateCustomerGateway'] ?? 0, 0, 'import never creates');
    // import writes its own reports; apply's are not touched.
    assert.ok(!existsSync(join(t.path('m.csv.results'), 'results.csv')));
    const rows = parse(readFileSync(join(t.path('m.csv.results'), 'import-results.csv')), { bom: true, columns: true }) as Array<Record<string, string>>;
    const st = (ip: string) => rows.find((x) => x.ip === ip);
    assert.equal(st('198.18.2.1')?.status, 'adopted');
    assert.equal(st('198.18.2.2')?.status, 'adopted');
    assert.equal(st('198.18.2.3')?.status, 'invalid');
    assert.equal(st('198.18.2.3')?.error_code, 'InvalidIpAddress.AlreadyExist');
    assert.equal(st('198.18.2.4')?.status, 'pending');
    assert.match(st('198.18.2.4')?.run_note ?? '', /nothing to import \(apply creates it\)/);
    const status = JSON.parse((await runCli(['status', csv, '--format', 'json'], { env })).stdout);
    assert.equal(status.rows.length, 20, 'status lists every manifest row');
    assert.deepEqual(status.rows.filter((x: any) => x.status === 'adopted').map((x: any) => x.ip), ['198.18.2.1', '198.18.2.2']);
  } finally {
    t.cleanup();
  }
});

test('destroy deletes exactly the journal gateways; a dependency fails its row; an interrupted destroy resumes', async () => {
  const t = tempDir({ 'm.csv': manifest(3) });
  try {
    const csv = t.path('m.csv');
    assert.equal((await runCli(['apply', csv, '--endpoint', emu.url, '--yes', '--quiet'], { env })).code, 0);
    const foreign = await client('cn-hangzhou').createCustomerGateway({ regionId: 'cn-hangzhou', ipAddress: '198.18.3.200', name: 'not-ours' });
    const ours = new Set(gateways().filter((g) => g.IpAddress.startsWith('198.18.3.') && g.IpAddress !== '198.18.3.200').map((g) => g.CustomerGatewayId));
    assert.equal(ours.size, 20);

    // The journal belongs to this account at this endpoint: anywhere else, day-2 commands refuse before any request.
    emu.resetStats();
    const elsewhere = emu.url.replace('127.0.0.1', 'localhost');
    for (const cmd of ['destroy', 'refresh', 'plan', 'import']) {
      const r = await runCli([cmd, csv, '--endpoint', elsewhere, ...(cmd === 'destroy' ? ['--yes'] : [])], { env });
      assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
      assert.match(r.stderr, /belongs to endpoint .* not .* use another --state/);
    }
    assert.equal(emu.stats().total, 0, 'nothing reached the API');

    const dry = await runCli(['destroy', csv, '--endpoint', emu.url, '--dry-run'], { env });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /20 manifest row\(s\) in the journal/);
    assert.match(dry.stdout, /No errors\. 20 delete\./);
    assert.match(dry.stdout, new RegExp(`account ${DEFAULT_ACCOUNT.accountId} at ${emu.url}`));
    assert.match(dry.stdout, /dry run: nothing deleted/);
    assert.equal(gateways().filter((g) => ours.has(g.CustomerGatewayId)).length, 20);
    const noTty = await runCli(['destroy', csv, '--endpoint', emu.url], { env });
    assert.equal(noTty.code, 2, 'no confirmation without a terminal or --yes');

    // --only one line first.
    const one = await runCli(['destroy', csv, '--endpoint', emu.url, '--yes', '--only', '2', '--quiet'], { env });
    assert.equal(one.code, 0, one.stderr);
    assert.equal(byIp('198.18.3.1'), undefined);
    assert.equal(gateways().filter((g) => ours.has(g.CustomerGatewayId)).length, 19);

    // An IPsec connection still uses one gateway: that row fails, the rest go on.
    const attachedId = byIp('198.18.3.4')!.CustomerGatewayId;
    const Rpc = RPCClient as unknown as new (config: object) => { request(action: string, params: object, opts: object): Promise<any> };
    const rpc = new Rpc({ endpoint: emu.url, apiVersion: '2016-04-28', ...DEFAULT_ACCOUNT, opts: { timeout: 5000 } });
    const vco = await rpc.request(
      'CreateVpnConnection',
      { RegionId: 'cn-hangzhou', VpnGatewayId: 'vpn-day2gateway0000000', CustomerGatewayId: attachedId, LocalSubnet: '10.0.0.0/24', RemoteSubnet: '192.168.0.0/24' },
      { method: 'POST' },
    );
    // Slow deletes down so the kill lands mid-run.
    emu.configure({ rates: { DeleteCustomerGateway: 4 } });
    let killed = false;
    const interrupted = await runCli(['destroy', csv, '--endpoint', emu.url, '--yes', '--rate', '4', '--format', 'json'], {
      env,
      onStdout: (chunk, child) => {
        if (!killed && chunk.includes('"row:done"')) {
          killed = true;
          child.kill('SIGKILL');
        }
      },
    });
    assert.equal(interrupted.signal, 'SIGKILL');
    const left = gateways().filter((g) => ours.has(g.CustomerGatewayId)).length;
    assert.ok(left > 1 && left < 19, `the kill landed mid-run (${left} left)`);

    emu.configure({ rates: { DeleteCustomerGateway: 500 } });
    const resumed = await runCli(['destroy', csv, '--endpoint', emu.url, '--yes', '--quiet'], { env });
    assert.equal(resumed.code, 1, 'the attached row fails');
    assert.match(resumed.stdout + resumed.stderr, /IPsec connection still uses/);
    assert.deepEqual(gateways().filter((g) => ours.has(g.CustomerGatewayId)).map((g) => g.CustomerGatewayId), [attachedId]);
    assert.ok(gateways().some((g) => g.CustomerGatewayId === foreign.id), 'a gateway the journal does not own is left alone');

    await rpc.request('DeleteVpnConnection', { RegionId: 'cn-hangzhou', VpnConnectionId: vco.VpnConnectionId }, { method: 'POST' });
    const done = await runCli(['destroy', csv, '--endpoint', emu.url, '--yes', '--quiet'], { env });
    assert.equal(done.code, 0, done.stderr + done.stdout);
    assert.equal(gateways().filter((g) => ours.has(g.CustomerGatewayId)).length, 0);
    const nothing = await runCli(['destroy', csv, '--endpoint', emu.url, '--yes'], { env });
    assert.equal(nothing.code, 0);
    assert.match(nothing.stdout, /nothing to delete/);
    const status = JSON.parse((await runCli(['status', csv, '--format', 'json'], { env })).stdout);
    assert.ok(status.rows.every((x: any) => x.status === 'deleted'));
  } finally {
    t.cleanup();
  }
});
