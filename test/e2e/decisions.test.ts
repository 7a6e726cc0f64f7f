// The plan is the decision, end to end (built CLI, pop-core, emulator): in every scenario the actions apply carries out
// are exactly the plan it printed, plan's exit code predicts apply's, and the cloud ends as the plan promised.
import '../helpers/env.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const OTHER_KEY = { accessKeyId: 'LTAI5tSecondKeySameAcct', accessKeySecret: 'secondKeySecret000000000000001', accountId: DEFAULT_ACCOUNT.accountId };
const OTHER_ACCOUNT = { accessKeyId: 'LTAI5tOtherAccount000001', accessKeySecret: 'otherAccountSecret00000000001', accountId: '9999999999999999' };
const creds = (a: { accessKeyId: string; accessKeySecret: string } = DEFAULT_ACCOUNT) => ({
  ALIBABA_CLOUD_ACCESS_KEY_ID: a.accessKeyId,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: a.accessKeySecret,
  // Retries back off in milliseconds here, so "gave up after 8 attempts" takes no time.
  CGW_BATCH_RETRY_BASE_MS: '1',
  CGW_BATCH_RETRY_CAP_MS: '5',
});

let emu: Emulator;
const FAST = { CreateCustomerGateway: 500, DescribeCustomerGateways: 500, DeleteCustomerGateway: 500, ModifyCustomerGatewayAttribute: 500, TagResources: 500, UnTagResources: 500 };
before(async () => {
  emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT, OTHER_KEY, OTHER_ACCOUNT], rates: FAST, seed: 5, quota: 1000 });
});
after(async () => {
  await emu.close();
});

interface Gw {
  CustomerGatewayId: string;
  IpAddress: string;
  Name?: string;
  Asn?: number;
  Description?: string;
}
function gateways(prefix: string, account = DEFAULT_ACCOUNT.accountId): Gw[] {
  const acc = (emu.state() as any).accounts?.[account];
  const out: Gw[] = [];
  for (const reg of Object.values<any>(acc?.regions ?? {})) out.push(...reg.gateways);
  return out.filter((g) => g.IpAddress.startsWith(prefix));
}
function requests(action: string): number {
  return Object.values<number>((emu.stats().actions as any)[action] ?? {}).reduce((a, b) => a + b, 0);
}

function csv(rows: Array<[string, string, string?, string?]>): string {
  return 'region,ip,name,asn,description\n' + rows.map(([region, ip, name = '', asn = '']) => `${region},${ip},${name},${asn},`).join('\n') + '\n';
}

interface Planned {
  line: number;
  key: string;
  action: string;
  in_this_run: boolean;
  needs?: string;
  existingId?: string;
  reason: string;
  issues: Array<{ code: string }>;
}

/** The rows a plan promises to carry out (in this run, executable), as `key action`. */
function promised(rows: Planned[]): string[] {
  const exec = new Set(['create', 'adopt', 'resume', 'retry', 'update', 'replace', 'delete']);
  return rows.filter((r) => r.in_this_run && exec.has(r.action)).map((r) => `${r.key} ${r.action}`).sort();
}

/** apply --format json: the printed plan (first line), what was carried out (row:done events), the summary. */
function readRun(r: CliResult): { plan: Planned[]; done: string[]; results: any[]; summary: any } {
  const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const plan = lines.find((l) => l.type === 'plan');
  const results = lines.filter((l) => l.type === 'row:done').map((l) => l.result);
  return { plan: plan?.rows ?? [], done: results.map((x) => `${x.ref.key} ${x.action}`).sort(), results, summary: lines.find((l) => l.type === 'summary') };
}

/** plan, then apply with the same flags: the executed actions are the printed plan's, plan's exit predicts apply's. */
async function planThenApply(file: string, flags: string[] = [], env = creds()): Promise<{ plan: Planned[]; planCode: number; apply: ReturnType<typeof readRun>; applyCode: number; stderr: string }> {
  const p = await runCli(['plan', file, '--endpoint', emu.url, '--format', 'json', ...flags], { env });
  assert.ok(p.code === 0 || p.code === 1, `plan: ${p.code} ${p.stderr}`);
  const planned = JSON.parse(p.stdout).rows as Planned[];
  const a = await runCli(['apply', file, '--endpoint', emu.url, '--format', 'json', '--yes', ...flags], { env });
  const run = readRun(a);
  // The same decisions: the plan apply printed is the plan `plan` printed.
  assert.deepEqual(run.plan.map((r) => [r.key, r.action, r.reason]), planned.map((r) => [r.key, r.action, r.reason]), 'plan and apply decided alike');
  if (p.code === 1) {
    assert.equal(a.code, 1, `plan exit 1 predicts that apply refuses: ${a.stderr}`);
    assert.deepEqual(run.done, [], 'a refused apply carries out nothing');
  } else {
    assert.deepEqual(run.done, promised(planned), 'apply carried out exactly the printed plan');
  }
  return { plan: planned, planCode: p.code!, apply: run, applyCode: a.code!, stderr: a.stderr };
}

describe('scenario matrix', () => {
  it('fresh, then partial (rows added), then nothing to do', async () => {
    const t = tempDir({ 'm.csv': csv([['cn-hangzhou', '198.19.1.1', 'a'], ['cn-hangzhou', '198.19.1.2', 'b'], ['cn-shanghai', '198.19.1.3', 'c']]) });
    try {
      const fresh = await planThenApply(t.path('m.csv'));
      assert.equal(fresh.planCode, 0);
      assert.deepEqual(fresh.plan.map((r) => r.action), ['create', 'create', 'create']);
      assert.equal(fresh.applyCode, 0);
      assert.equal(gateways('198.19.1.').length, 3);

      writeFileSync(t.path('m.csv'), csv([['cn-hangzhou', '198.19.1.1', 'a'], ['cn-hangzhou', '198.19.1.2', 'b'], ['cn-shanghai', '198.19.1.3', 'c'], ['cn-shanghai', '198.19.1.4', 'd']]));
      const partial = await planThenApply(t.path('m.csv'));
      assert.deepEqual(partial.plan.map((r) => r.action), ['skip', 'skip', 'skip', 'create']);
      assert.equal(gateways('198.19.1.').length, 4);

      const again = await planThenApply(t.path('m.csv'));
      assert.deepEqual(promised(again.plan), []);
      assert.equal(again.applyCode, 0);
      assert.equal(gateways('198.19.1.').length, 4);
    } finally {
      t.cleanup();
    }
  });

  it('interrupted by kill -9: the rerun plans exactly what is left, and every row exists once', async () => {
    const rows: Array<[string, string, string]> = Array.from({ length: 12 }, (_, i) => ['cn-hangzhou', `198.19.2.${i + 1}`, `s${i}`]);
    const t = tempDir({ 'm.csv': csv(rows) });
    try {
      emu.configure({ rates: { ...FAST, CreateCustomerGateway: 4 } });
      let killed = false;
      const first = await runCli(['apply', t.path('m.csv'), '--endpoint', emu.url, '--format', 'json', '--yes', '--rate', '4'], {
        env: creds(),
        onStdout: (chunk, child) => {
          if (!killed && chunk.includes('"row:done"')) {
            killed = true;
            child.kill('SIGKILL');
          }
        },
      });
      assert.equal(first.signal, 'SIGKILL');
      emu.configure({ rates: FAST });
      const made = gateways('198.19.2.').length;
      assert.ok(made >= 1 && made < 12, `killed mid-run (${made} made)`);
      const rerun = await planThenApply(t.path('m.csv'));
      assert.equal(rerun.planCode, 0);
      assert.ok(rerun.plan.some((r) => r.action === 'skip'));
      assert.ok(rerun.plan.every((r) => ['skip', 'create', 'resume'].includes(r.action)), JSON.stringify(rerun.plan.map((r) => r.action)));
      assert.equal(rerun.applyCode, 0, rerun.stderr);
      const ips = gateways('198.19.2.').map((g) => g.IpAddress);
      assert.equal(ips.length, 12);
      assert.equal(new Set(ips).size, 12, 'each row exactly once');
    } finally {
      t.cleanup();
    }
  });

  it('quota-failed earlier: plan blocks it (exit 1) and apply refuses; --retry-failed retries it; the run stops the region at the first QuotaFull', async () => {
    const rows: Array<[string, string, string]> = [
      ...Array.from({ length: 10 }, (_, i): [string, string, string] => ['cn-beijing', `198.19.3.${i + 1}`, `q${i}`]),
      ...Array.from({ length: 3 }, (_, i): [string, string, string] => ['cn-qingdao', `198.19.3.${i + 101}`, `r${i}`]),
    ];
    const t = tempDir({ 'm.csv': csv(rows) });
    let full = 0;
    try {
      // The account's real quota (3, beijing already holds 0) is lower than the planner assumes (100).
      emu.configure({ quota: 3 });
      emu.resetStats();
      const first = await planThenApply(t.path('m.csv'));
      assert.equal(first.planCode, 0);
      assert.equal(first.applyCode, 1);
      const byStatus = (region: string) => first.apply.results.filter((r) => r.ref.region === region).map((r) => r.errorCode ?? r.status);
      assert.equal(byStatus('cn-beijing').filter((s) => s === 'created').length, 3);
      // After the first QuotaFull nothing more is sent in that region: only requests already on the wire may fail too.
      full = byStatus('cn-beijing').filter((s) => s === 'Resource.QuotaFull').length;
      assert.ok(full >= 1 && full <= 3, `${full} QuotaFull answers`);
      assert.equal(byStatus('cn-beijing').filter((s) => s === 'NotStarted').length, 7 - full);
      assert.deepEqual(byStatus('cn-qingdao'), ['created', 'created', 'created'], 'the other lane goes on');
      assert.equal(requests('CreateCustomerGateway'), 3 + full + 3, 'rows not started sent nothing');

      emu.configure({ quota: 1000 });
      const blocked = await planThenApply(t.path('m.csv'));
      assert.equal(blocked.planCode, 1, 'a quota failure is not "No errors"');
      const b = blocked.plan.filter((r) => r.action === 'blocked');
      assert.equal(b.length, full, 'each quota-failed row is blocked');
      assert.ok(b.every((r) => r.needs === '--retry-failed'));
      assert.match(b[0]!.reason, /Resource\.QuotaFull/);
      assert.match(blocked.stderr, /--retry-failed/);

      // The QuotaFull taught the plan beijing's ceiling (3): retried creates over it wait until --quota says it grew.
      const learned = await planThenApply(t.path('m.csv'), ['--retry-failed']);
      assert.equal(learned.planCode, 1);
      assert.equal(learned.plan.filter((r) => r.action === 'invalid' && r.issues.some((i) => i.code === 'Resource.QuotaFull')).length, 7);
      const retried = await planThenApply(t.path('m.csv'), ['--retry-failed', '--quota', 'cn-beijing=1000']);
      assert.equal(retried.planCode, 0);
      const todo = retried.plan.filter((r) => r.action !== 'skip').map((r) => r.action);
      assert.equal(todo.length, 7);
      assert.equal(todo.filter((a) => a === 'retry').length, full);
      assert.ok(todo.every((a) => a === 'create' || a === 'retry') && todo.includes('retry'), JSON.stringify(todo));
      assert.equal(retried.applyCode, 0);
      assert.equal(gateways('198.19.3.').length, 13);
    } finally {
      emu.configure({ quota: 1000 });
      t.cleanup();
    }
  });

  it('drifted: a console rename is converged back and a gateway deleted outside is created again', async () => {
    const t = tempDir({ 'm.csv': csv([['cn-hangzhou', '198.19.4.1', 'keep', '65001'], ['cn-hangzhou', '198.19.4.2', 'gone', '65002']]) });
    try {
      assert.equal((await runCli(['apply', t.path('m.csv'), '--endpoint', emu.url, '--yes', '--quiet'], { env: creds() })).code, 0);
      const acc = (emu.state() as any).accounts[DEFAULT_ACCOUNT.accountId].regions['cn-hangzhou'];
      const keep = acc.gateways.find((g: any) => g.IpAddress === '198.19.4.1');
      // Out-of-band edits through the API (as the console would).
      const { connect } = await import('../../src/cloud/connect.js');
      const c = connect({ credentials: DEFAULT_ACCOUNT, endpoint: emu.url, timeoutMs: 5000 }).clientFor('cn-hangzhou');
      await c.modifyCustomerGatewayAttribute({ regionId: 'cn-hangzhou', id: keep.CustomerGatewayId, name: 'renamed-in-console' });
      await c.deleteCustomerGateway({ regionId: 'cn-hangzhou', id: gateways('198.19.4.2')[0]!.CustomerGatewayId });
      const d = await planThenApply(t.path('m.csv'));
      assert.deepEqual(d.plan.map((r) => r.action), ['update', 'create']);
      assert.equal(d.applyCode, 0);
      assert.equal(gateways('198.19.4.1')[0]!.Name, 'keep');
      assert.equal(gateways('198.19.4.2').length, 1);
    } finally {
      t.cleanup();
    }
  });

  it('edited IP and changed ASN: blocked without --allow-replace (plan exit 1, apply refuses), replaced with it', async () => {
    const t = tempDir({ 'm.csv': csv([['cn-hangzhou', '198.19.5.1', 'moved', '65001'], ['cn-hangzhou', '198.19.5.2', 'reasn', '65002']]) });
    try {
      assert.equal((await runCli(['apply', t.path('m.csv'), '--endpoint', emu.url, '--yes', '--quiet'], { env: creds() })).code, 0);
      writeFileSync(t.path('m.csv'), csv([['cn-hangzhou', '198.19.5.11', 'moved', '65001'], ['cn-hangzhou', '198.19.5.2', 'reasn', '65020']]));
      const blocked = await planThenApply(t.path('m.csv'));
      assert.deepEqual(blocked.plan.map((r) => [r.action, r.needs]), [['blocked', '--allow-replace'], ['blocked', '--allow-replace']]);
      assert.match(blocked.stderr, /--allow-replace/);
      const replaced = await planThenApply(t.path('m.csv'), ['--allow-replace']);
      assert.deepEqual(replaced.plan.map((r) => r.action), ['replace', 'replace']);
      assert.equal(replaced.applyCode, 0);
      assert.deepEqual(gateways('198.19.5.').map((g) => [g.IpAddress, g.Asn]).sort(), [['198.19.5.11', 65001], ['198.19.5.2', 65020]]);
    } finally {
      t.cleanup();
    }
  });

  it('removed row: blocked without --prune, deleted with it; destroy deletes what the journal owns and nothing else', async () => {
    const t = tempDir({ 'm.csv': csv([['cn-hangzhou', '198.19.6.1', 'a'], ['cn-hangzhou', '198.19.6.2', 'b'], ['cn-hangzhou', '198.19.6.3', 'c']]) });
    try {
      assert.equal((await runCli(['apply', t.path('m.csv'), '--endpoint', emu.url, '--yes', '--quiet'], { env: creds() })).code, 0);
      writeFileSync(t.path('m.csv'), csv([['cn-hangzhou', '198.19.6.1', 'a'], ['cn-hangzhou', '198.19.6.2', 'b']]));
      const blocked = await planThenApply(t.path('m.csv'));
      assert.deepEqual(blocked.plan.map((r) => [r.action, r.needs ?? null]), [['skip', null], ['skip', null], ['blocked', '--prune']]);
      assert.equal(gateways('198.19.6.').length, 3);
      const pruned = await planThenApply(t.path('m.csv'), ['--prune']);
      assert.deepEqual(pruned.plan.map((r) => r.action), ['skip', 'skip', 'delete']);
      assert.equal(pruned.applyCode, 0);
      assert.deepEqual(gateways('198.19.6.').map((g) => g.IpAddress).sort(), ['198.19.6.1', '198.19.6.2']);

      const { connect } = await import('../../src/cloud/connect.js');
      await connect({ credentials: DEFAULT_ACCOUNT, endpoint: emu.url, timeoutMs: 5000 }).clientFor('cn-hangzhou').createCustomerGateway({ regionId: 'cn-hangzhou', ipAddress: '198.19.6.200', name: 'not-ours' });
      const dry = await runCli(['destroy', t.path('m.csv'), '--endpoint', emu.url, '--dry-run', '--format', 'json'], { env: creds() });
      assert.equal(dry.code, 0, dry.stderr);
      const dplan = JSON.parse(dry.stdout.split('\n')[0]!).rows as Planned[];
      const destroy = await runCli(['destroy', t.path('m.csv'), '--endpoint', emu.url, '--yes', '--format', 'json'], { env: creds() });
      assert.equal(destroy.code, 0, destroy.stderr);
      const run = readRun(destroy);
      assert.deepEqual(run.done, promised(dplan), 'destroy carried out exactly its plan');
      assert.deepEqual(gateways('198.19.6.').map((g) => g.IpAddress), ['198.19.6.200']);
    } finally {
      t.cleanup();
    }
  });
});

describe('no outcome is forgotten', () => {
  it('a create whose answer was lost on every attempt: status says unknown, destroy finds and deletes it', async () => {
    const t = tempDir({ 'm.csv': csv([['cn-hangzhou', '198.19.7.1', 'lost', '65007']]) });
    try {
      emu.configure({ faults: { 'commit-drop': 1 }, faultActions: ['CreateCustomerGateway'] });
      const r = await runCli(['apply', t.path('m.csv'), '--endpoint', emu.url, '--yes', '--quiet'], { env: creds() });
      emu.configure({ faults: {}, faultActions: undefined });
      assert.equal(r.code, 1);
      assert.equal(gateways('198.19.7.').length, 1, 'the server did create it');
      const st = await runCli(['status', t.path('m.csv')], { env: creds() });
      // One word for the state everywhere (report/outcome.ts); the line under the table says what it means.
      assert.match(st.stdout, /198\.19\.7\.1\s+unknown\s/);
      assert.match(st.stdout, /unknown: the outcome of a create is unknown; the next run lists the region and settles it/);
      assert.doesNotMatch(st.stdout, /\bfailed\b/);
      const results = parse(readFileSync(t.path('m.csv.results/results.csv')), { bom: true, columns: true }) as Array<Record<string, string>>;
      assert.equal(results[0]!.status, 'unknown');
      const d = await runCli(['destroy', t.path('m.csv'), '--endpoint', emu.url, '--yes', '--quiet'], { env: creds() });
      assert.equal(d.code, 0, d.stderr + d.stdout);
      assert.equal(gateways('198.19.7.').length, 0, 'destroy deleted the gateway the lost create made');
    } finally {
      emu.configure({ faults: {}, faultActions: undefined });
      t.cleanup();
    }
  });

  it('fixing the IP typo of such a row replaces the gateway it made instead of leaving it behind', async () => {
    const t = tempDir({ 'm.csv': csv([['cn-hangzhou', '198.19.8.1', 'typo', '65008']]) });
    try {
      emu.configure({ faults: { 'commit-drop': 1 }, faultActions: ['CreateCustomerGateway'] });
      await runCli(['apply', t.path('m.csv'), '--endpoint', emu.url, '--yes', '--quiet'], { env: creds() });
      emu.configure({ faults: {}, faultActions: undefined });
      writeFileSync(t.path('m.csv'), csv([['cn-hangzhou', '198.19.8.100', 'typo', '65008']]));
      const fixed = await planThenApply(t.path('m.csv'), ['--allow-replace']);
      assert.deepEqual(fixed.plan.map((r) => r.action), ['replace']);
      assert.equal(fixed.applyCode, 0, fixed.stderr);
      assert.deepEqual(gateways('198.19.8.').map((g) => g.IpAddress), ['198.19.8.100']);
    } finally {
      emu.configure({ faults: {}, faultActions: undefined });
      t.cleanup();
    }
  });
});

describe('flags, reports and the account', () => {
  it('apply --dry-run creates nothing and prints the plan; flags a command does not take are refused naming who takes them', async () => {
    const t = tempDir({ 'm.csv': csv([['cn-hangzhou', '198.19.9.1', 'dry']]) });
    try {
      const dry = await runCli(['apply', t.path('m.csv'), '--endpoint', emu.url, '--dry-run', '--yes', '--format', 'json'], { env: creds() });
      const plan = await runCli(['plan', t.path('m.csv'), '--endpoint', emu.url, '--format', 'json'], { env: creds() });
      assert.equal(dry.code, plan.code);
      assert.deepEqual(JSON.parse(dry.stdout).rows, JSON.parse(plan.stdout).rows);
      assert.equal(gateways('198.19.9.').length, 0);
      const bad = await runCli(['status', t.path('m.csv'), '--prune', '--rate', '5']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /status does not take --prune \(plan, apply take it\)/);
      const help = await runCli(['destroy', '--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /--dry-run/);
      assert.doesNotMatch(help.stdout, /--allow-replace/);
      const offline = await runCli(['plan', t.path('m.csv')], { env: {} });
      assert.equal(offline.code, 0);
      assert.match(offline.stderr, /planning offline: no credentials found/);
    } finally {
      t.cleanup();
    }
  });

  it('--only keeps every other row\'s real state in the reports; exit code from the rows in the run; request ids accumulate', async () => {
    const rows: Array<[string, string, string]> = Array.from({ length: 4 }, (_, i) => ['cn-shenzhen', `198.19.10.${i + 1}`, `o${i}`]);
    const t = tempDir({ 'm.csv': csv(rows) });
    try {
      emu.configure({ quota: 2 });
      await runCli(['apply', t.path('m.csv'), '--endpoint', emu.url, '--yes', '--quiet'], { env: creds() });
      emu.configure({ quota: 1000 });
      const first = parse(readFileSync(t.path('m.csv.results/results.csv')), { bom: true, columns: true }) as Array<Record<string, string>>;
      assert.deepEqual(first.map((r) => r.status), ['created', 'created', 'failed', 'pending']);
      // The quota was raised (the QuotaFull taught the plan 2 for the region: --quota says it grew).
      const only = await runCli(['apply', t.path('m.csv'), '--endpoint', emu.url, '--yes', '--quiet', '--only', '5', '--quota', 'cn-shenzhen=1000'], { env: creds() });
      assert.equal(only.code, 0, `only line 5 was asked for, and it was created: ${only.stdout}`);
      const after = parse(readFileSync(t.path('m.csv.results/results.csv')), { bom: true, columns: true }) as Array<Record<string, string>>;
      assert.deepEqual(after.map((r) => [r.status, r.error_code, r.in_this_run]), [
        ['created', '', 'no'],
        ['created', '', 'no'],
        ['failed', 'Resource.QuotaFull', 'no'],
        ['created', '', 'yes'],
      ]);
      assert.equal(after[0]!.request_ids, first[0]!.request_ids, 'earlier request ids are kept');
      assert.ok(after[0]!.request_ids!.length > 10);
      const destroyOne = await runCli(['destroy', t.path('m.csv'), '--endpoint', emu.url, '--yes', '--quiet', '--only', '2'], { env: creds() });
      assert.equal(destroyOne.code, 0);
      assert.equal((parse(readFileSync(t.path('m.csv.results/results.csv')), { bom: true, columns: true }) as unknown[]).length, 4, "destroy never replaces apply's report");
      const dr = parse(readFileSync(t.path('m.csv.results/destroy-results.csv')), { bom: true, columns: true }) as Array<Record<string, string>>;
      assert.deepEqual(dr.filter((r) => r.in_this_run === 'yes').map((r) => r.status), ['deleted']);
    } finally {
      emu.configure({ quota: 1000 });
      t.cleanup();
    }
  });

  it('a report that would overwrite the manifest is refused before any request; an unwritable report dir after the run warns and keeps the exit code', async () => {
    const t = tempDir({ 'results.csv': csv([['cn-hangzhou', '198.19.11.1', 'r']]) });
    try {
      emu.resetStats();
      const r = await runCli(['apply', t.path('results.csv'), '--endpoint', emu.url, '--yes', '--report-dir', t.dir], { env: creds() });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /would overwrite the manifest/);
      assert.equal(emu.stats().total, 0, 'no request at all');
      assert.match(readFileSync(t.path('results.csv'), 'utf8'), /^region,ip/);
      const w = await runCli(['apply', t.path('results.csv'), '--endpoint', emu.url, '--yes', '--report-dir', '/proc/cgw-batch-no-such-dir'], { env: creds() });
      assert.equal(w.code, 0, w.stderr);
      assert.match(w.stderr, /warning: could not create the report directory \/proc\/cgw-batch-no-such-dir/);
      assert.match(w.stdout, /this run: 1 created/);
      assert.equal(gateways('198.19.11.').length, 1);
    } finally {
      t.cleanup();
    }
  });

  it('the journal belongs to the account: another key of it resumes, another account is refused naming both ids', async () => {
    const t = tempDir({ 'm.csv': csv([['cn-hangzhou', '198.19.12.1', 'acct']]) });
    try {
      assert.equal((await runCli(['apply', t.path('m.csv'), '--endpoint', emu.url, '--yes', '--quiet'], { env: creds() })).code, 0);
      const second = await planThenApply(t.path('m.csv'), [], creds(OTHER_KEY));
      assert.deepEqual(second.plan.map((r) => r.action), ['skip']);
      assert.equal(second.applyCode, 0);
      const other = await runCli(['apply', t.path('m.csv'), '--endpoint', emu.url, '--yes'], { env: creds(OTHER_ACCOUNT) });
      assert.equal(other.code, 2);
      assert.match(other.stderr, new RegExp(`belongs to account ${DEFAULT_ACCOUNT.accountId}, but these credentials are of account ${OTHER_ACCOUNT.accountId}`));
      const text = await runCli(['plan', t.path('m.csv'), '--endpoint', emu.url], { env: creds() });
      assert.match(text.stdout, new RegExp(`account ${DEFAULT_ACCOUNT.accountId} at ${emu.url.replace(/[.]/g, '\\.')}`));
    } finally {
      t.cleanup();
    }
  });
});

describe('large inventories', () => {
  it('a long listing shows its progress on stderr (one line per thousand gateways) and plans against all of it', async () => {
    const { seedDataFile } = await import('../hostile/seed.js');
    const t = tempDir({ 'm.csv': csv([['cn-hangzhou', '198.19.13.1', 'big']]) });
    try {
      seedDataFile(t.path('data.json'), { accountId: DEFAULT_ACCOUNT.accountId, regionId: 'cn-hangzhou', count: 2400 });
      const big = await startEmulator({ accounts: [DEFAULT_ACCOUNT], dataFile: t.path('data.json'), rates: { DescribeCustomerGateways: 500 }, quota: 5000, seed: 2 });
      try {
        const r = await runCli(['plan', t.path('m.csv'), '--endpoint', big.url, '--quota', '5000', '--format', 'json'], { env: creds() });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(r.stderr.split('\n').filter((l) => l.startsWith('listing')), [
          'listing cn-hangzhou: 1000 of 2400 gateways',
          'listing cn-hangzhou: 2000 of 2400 gateways',
          'listing cn-hangzhou: 2400 of 2400 gateways',
        ]);
        assert.deepEqual(JSON.parse(r.stdout).quota, [{ region: 'cn-hangzhou', creates: 1, deletes: 0, quota: 5000, basis: 'given', existing: 2400 }]);
      } finally {
        await big.close();
      }
    } finally {
      t.cleanup();
    }
  });
});
