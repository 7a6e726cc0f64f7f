// `cgw-batch state migrate/show/unlock` through the built CLI, for what test/e2e/team-state.test.ts leaves out:
// migrate file -> OSS and PostgreSQL -> file (the journal keeps its id and rows, the source keeps a `moved` record and
// refuses a second migrate), show over a file, a free lease and an empty estate, and unlock: nothing to do when free,
// refused while held without --yes (the lease stays), with --yes it names the holder it removed and fences it.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { after, before, test } from 'node:test';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { startOssEmulator, type OssEmulator } from '../../src/emulator/oss/server.js';
import { openBackend, parseStateLocation } from '../../src/state/backend/index.js';
import { LeaseLostError } from '../../src/state/backend/types.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { pgBinDir, startPgServer, type PgServer } from '../state/backend/pg-server.js';

const NO_PG = pgBinDir() ? false : 'PostgreSQL binaries not found under /usr/lib/postgresql (apt-get install -y postgresql; .ci/run does)';
const creds = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
const ossCreds = { accessKeyId: DEFAULT_ACCOUNT.accessKeyId, accessKeySecret: DEFAULT_ACCOUNT.accessKeySecret };
let vpc: Emulator;
let oss: OssEmulator;
let pg: PgServer | undefined;
let db = '';
const dirs: Array<ReturnType<typeof tempDir>> = [];

before(async () => {
  vpc = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rates: { CreateCustomerGateway: 500, DescribeCustomerGateways: 500 }, seed: 9 });
  oss = await startOssEmulator({ accounts: [ossCreds] });
  if (!NO_PG) {
    pg = await startPgServer();
    db = await pg.database(`admin_${process.pid}_${randomBytes(3).toString('hex')}`);
  }
});

after(async () => {
  await vpc?.close();
  await oss?.close();
  await pg?.stop();
  for (const d of dirs) d.cleanup();
});

const ossEnv = () => ({ CGW_BATCH_STATE_ENDPOINT: oss.url });

function checkout(subnet: number, rows = 2): { dir: string; csv: string; path: (p: string) => string } {
  const body = ['region,ip,name', ...Array.from({ length: rows }, (_, i) => `cn-hangzhou,198.51.${subnet}.${i + 1},admin-${subnet}-${i + 1}`)].join('\n') + '\n';
  const t = tempDir({ 'branches.csv': body });
  dirs.push(t);
  return { dir: t.dir, csv: t.path('branches.csv'), path: t.path };
}

function cli(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<CliResult> {
  const offline = ['state', 'status', 'report'].includes(args[0] ?? '');
  return runCli([...args, ...(offline ? [] : ['--endpoint', vpc.url])], { env: { ...creds, ...env }, ...(cwd ? { cwd } : {}), timeoutMs: 120_000 });
}

const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: ${r.stdout}\n${r.stderr}`);

function header(file: string): { runId: string } {
  return JSON.parse(readFileSync(file, 'utf8').split('\n')[0] ?? '{}') as { runId: string };
}

async function statusRows(csv: string, env: Record<string, string>): Promise<string[]> {
  const r = await cli(['status', csv, '--format', 'json'], env);
  ok(r, 'status');
  return (JSON.parse(r.stdout) as { rows: Array<{ ip: string; status: string; customer_gateway_id: string }> }).rows.map((x) => `${x.ip} ${x.status} ${x.customer_gateway_id}`);
}

test('state migrate file -> oss: same journal id and rows, the file keeps a moved record, a second migrate is refused', { timeout: 300_000 }, async () => {
  const a = checkout(61);
  const estate = `mig-${randomBytes(3).toString('hex')}`;
  const to = `oss://cgw-state/admin?estate=${estate}`;
  ok(await cli(['apply', a.csv, '--yes'], {}), 'apply with a file journal');
  const file = a.path('branches.csv.state.jsonl');
  const id = header(file).runId;
  const before = await statusRows(a.csv, {});

  const m = await cli(['state', 'migrate', '--from', file, '--to', to, '--format', 'json'], ossEnv());
  ok(m, 'migrate file -> oss');
  const out = JSON.parse(m.stdout) as { type: string; from: string; to: string; rows: number; journal_id: string };
  assert.deepEqual([out.type, out.from, out.to, out.rows, out.journal_id], ['migrate', file, `oss://cgw-state/admin/${estate}`, 2, id]);
  const last = JSON.parse(readFileSync(file, 'utf8').trimEnd().split('\n').at(-1) ?? '{}') as { t: string; to: string };
  assert.deepEqual([last.t, last.to], ['moved', to], 'the source ends with a moved record naming the target');
  assert.deepEqual(await statusRows(a.csv, { CGW_BATCH_STATE: to, ...ossEnv() }), before, 'the target reads as the source did');

  // The moved file: every command pointed at it says where the journal went; a second migrate copies nothing.
  const again = await cli(['state', 'migrate', '--from', file, '--to', `oss://cgw-state/admin?estate=${estate}-2`], ossEnv());
  assert.equal(again.code, 2);
  assert.match(again.stderr, new RegExp(`state ${file} was moved to oss://cgw-state/admin\\?estate=${estate} on .*; use --state oss://cgw-state/admin\\?estate=${estate}`));
  const empty = await cli(['state', 'show', a.csv, '--state', `oss://cgw-state/admin?estate=${estate}-2`], ossEnv());
  ok(empty, 'show an estate nothing was written to');
  assert.match(empty.stdout, /^journal: none yet \(nothing has been applied to this estate\)$/m, 'the refused migrate wrote nothing');
  const show = await cli(['state', 'show', a.csv], {});
  assert.equal(show.code, 2, 'show on the moved file names the target');
  assert.match(show.stderr, /was moved to oss:/);

  // The shared journal is the estate's now: a plan through it has nothing to do.
  const plan = await cli(['plan', a.csv, '--format', 'json', '--state', to], ossEnv());
  ok(plan, 'plan over oss');
  assert.deepEqual((JSON.parse(plan.stdout) as { rows: Array<{ action: string }> }).rows.map((r) => r.action), ['skip', 'skip']);
});

test('state migrate postgres -> file: the file beside the manifest takes the journal; the database keeps a moved record', { timeout: 300_000, skip: NO_PG }, async () => {
  const a = checkout(62);
  const estate = `back-${randomBytes(3).toString('hex')}`;
  const from = `${db}?estate=${estate}`;
  ok(await cli(['apply', a.csv, '--yes'], { CGW_BATCH_STATE: from }), 'apply over postgres');
  const before = await statusRows(a.csv, { CGW_BATCH_STATE: from });
  const file = a.path('branches.csv.state.jsonl');
  assert.ok(!existsSync(file));

  const m = await cli(['state', 'migrate', '--from', from, '--to', file]);
  ok(m, 'migrate postgres -> file');
  assert.match(m.stdout, new RegExp(`^copied \\d+ record\\(s\\) \\(2 row\\(s\\), journal [0-9a-f-]{36}\\) from postgres://postgres@127\\.0\\.0\\.1:\\d+/\\w+#${estate} to ${file}$`, 'm'));
  assert.match(m.stdout, /is marked as moved: commands that use it now say where the journal went/);
  const h = JSON.parse(readFileSync(file, 'utf8').split('\n')[0] ?? '{}') as { manifest: { path: string } };
  assert.equal(h.manifest.path, 'branches.csv', 'the manifest named relative to the journal file, as a file journal does');
  assert.deepEqual(await statusRows(a.csv, {}), before, 'the file reads as the database did');
  const plan = await cli(['plan', a.csv, '--format', 'json']);
  ok(plan, 'plan over the file');
  assert.deepEqual((JSON.parse(plan.stdout) as { rows: Array<{ action: string }> }).rows.map((r) => r.action), ['skip', 'skip']);

  // The database estate is spent: a second migrate and an apply through it are refused with the new place.
  const again = await cli(['state', 'migrate', '--from', from, '--to', a.path('other.state.jsonl'), 'branches.csv'], {}, a.dir);
  assert.equal(again.code, 2);
  assert.match(again.stderr, new RegExp(`was moved to ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} on .*; use --state`));
  assert.ok(!existsSync(a.path('other.state.jsonl')));
  const apply = await cli(['apply', a.csv, '--yes'], { CGW_BATCH_STATE: from });
  assert.equal(apply.code, 2);
  assert.match(apply.stderr, /was moved to/);
});

/** Holds an estate's lease from this process, as a running apply would. */
async function holdLease(location: string, endpoint?: string): Promise<{ status: () => Promise<boolean>; append: () => Promise<void>; release: () => Promise<void> }> {
  const backend = await openBackend(parseStateLocation(location, undefined, endpoint), { ossCredentials: async () => ossCreds });
  const lease = await backend.acquire({ holder: { host: hostname(), pid: process.pid, runId: 'held-by-test', startedAt: '2026-01-02T03:04:05.000Z' } });
  return {
    status: async () => (await backend.status()).held,
    // Never lands (the test calls it only once the lease is broken), so its shape does not matter.
    append: () => lease.append(['{"t":"probe"}']),
    release: async () => {
      await lease.release();
      await backend.close();
    },
  };
}

for (const kind of ['oss', 'postgres'] as const) {
  test(`${kind}: state unlock does nothing on a free lease, is refused while held without --yes, and with --yes fences the holder`, { timeout: 300_000, skip: kind === 'postgres' ? NO_PG : false }, async () => {
    const a = checkout(kind === 'oss' ? 63 : 64, 1);
    const estate = `unlock-${randomBytes(3).toString('hex')}`;
    const location = kind === 'oss' ? `oss://cgw-state/admin?estate=${estate}` : `${db}?estate=${estate}`;
    const env = kind === 'oss' ? { CGW_BATCH_STATE: location, ...ossEnv() } : { CGW_BATCH_STATE: location };
    const shown = kind === 'oss' ? `oss://cgw-state/admin/${estate}` : `postgres://postgres@127.0.0.1:${pg?.port}/`;

    const free = await cli(['state', 'unlock', a.csv], env);
    ok(free, 'unlock of a free lease');
    assert.match(free.stdout, /^nobody holds the lease on \S+; nothing to unlock$/m);

    const held = await holdLease(location, oss.url);
    try {
      const show = await cli(['state', 'show', a.csv], env);
      ok(show, 'show while held');
      assert.match(show.stdout, new RegExp(`^state ${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\S* \\(${kind}\\)$`, 'm'));
      assert.match(show.stdout, new RegExp(`^lease: held by pid ${process.pid} on host ${hostname()} since 2026-01-02T03:04:05.000Z \\(run held-by-test\\) \\(epoch 1\\)$`, 'm'));

      const refused = await cli(['state', 'unlock', a.csv], env);
      assert.equal(refused.code, 2, 'no terminal to ask on and no --yes');
      assert.match(refused.stderr, /needs --yes when there is no terminal to confirm on/);
      assert.equal(refused.stdout, '');
      assert.equal(await held.status(), true, 'still held: nothing was broken');

      const unlocked = await cli(['state', 'unlock', a.csv, '--yes'], env);
      ok(unlocked, 'unlock --yes');
      assert.match(unlocked.stdout, new RegExp(`^removed the lease on \\S+ held by pid ${process.pid} on host ${hostname()} since 2026-01-02T03:04:05.000Z \\(run held-by-test\\)$`, 'm'));
      await assert.rejects(held.append(), LeaseLostError, 'the holder is fenced: its next write is refused');

      const after = await cli(['state', 'show', a.csv, '--format', 'json'], env);
      ok(after, 'show after unlock');
      const s = JSON.parse(after.stdout) as { lease: { held: boolean; epoch: number } };
      assert.equal(s.lease.held, false);
      const twice = await cli(['state', 'unlock', a.csv, '--yes'], env);
      ok(twice, 'a second unlock');
      assert.match(twice.stdout, /nothing to unlock/);
    } finally {
      await held.release().catch(() => undefined);
    }
  });
}

test('state show over a file journal: its path, a free lock, the journal and its rows by status', { timeout: 120_000 }, async () => {
  const a = checkout(65);
  const none = await cli(['state', 'show', a.csv]);
  ok(none, 'show before any apply');
  assert.match(none.stdout, /^journal: none yet/m);
  ok(await cli(['apply', a.csv, '--yes']), 'apply');
  const show = await cli(['state', 'show', a.csv]);
  ok(show, 'show');
  const file = a.path('branches.csv.state.jsonl');
  const id = header(file).runId;
  const lines = show.stdout.trimEnd().split('\n');
  assert.equal(lines[0], `state ${file} (file)`);
  assert.equal(lines[1], 'lease: free');
  assert.match(lines[2] ?? '', new RegExp(`^journal ${id}: manifest branches.csv, account ${DEFAULT_ACCOUNT.accountId} at ${vpc.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; updated \\S+Z$`));
  assert.equal(lines[3], 'rows: 2 (2 created)');
  const json = JSON.parse((await cli(['state', 'show', a.csv, '--format', 'json'])).stdout) as Record<string, unknown>;
  assert.deepEqual([json['backend'], json['location'], (json['journal'] as { rows: number }).rows], ['file', file, 2]);
});

test('oss: a first apply that refuses its plan leaves the estate readable: plan, status and show see no journal yet', { timeout: 120_000 }, async () => {
  const t = tempDir({ 'branches.csv': 'region,ip,name\ncn-hangzhou,300.0.0.1,not-an-ip\n' });
  dirs.push(t);
  const env = { CGW_BATCH_STATE: `oss://cgw-state/admin?estate=refused-${randomBytes(3).toString('hex')}`, ...ossEnv() };
  const apply = await cli(['apply', t.path('branches.csv'), '--yes'], env);
  assert.equal(apply.code, 1, `${apply.stdout}\n${apply.stderr}`);
  assert.match(apply.stderr, /refusing to apply: 1 row\(s\) are invalid/);
  // The apply took the lease and gave it back without a record: that is no journal, not a corrupt one.
  const show = await cli(['state', 'show', t.path('branches.csv')], env);
  ok(show, 'state show');
  assert.match(show.stdout, /^lease: free \(epoch 1\); last held by pid \d+ /m);
  assert.match(show.stdout, /^journal: none yet/m);
  const plan = await cli(['plan', t.path('branches.csv')], env);
  assert.equal(plan.code, 1, `${plan.stdout}\n${plan.stderr}`);
  assert.doesNotMatch(plan.stderr, /no header|corrupt/);
  const status = await cli(['status', t.path('branches.csv')], env);
  assert.equal(status.code, 2);
  assert.match(status.stderr, /no journal at oss:\/\/cgw-state\/admin\/refused-\w+: nothing has been applied with this manifest yet/);
});
