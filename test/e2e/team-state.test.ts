// Team state end to end through the built CLI: every command over PostgreSQL (a server this file starts) and over the
// OSS emulator, two engineers' checkouts sharing one estate; state show / unlock / migrate; a killed holder taken over.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { startOssEmulator, type OssEmulator } from '../../src/emulator/oss/server.js';
import { openBackend, parseStateLocation } from '../../src/state/backend/index.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { hermeticEnv } from '../helpers/env.js';
import { cliBin } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { startPgServer, type PgServer } from '../state/backend/pg-server.js';

const creds = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
let vpc: Emulator;
let oss: OssEmulator;
let pg: PgServer;
let db: string;
const dirs: Array<ReturnType<typeof tempDir>> = [];

before(async () => {
  vpc = await startEmulator({
    accounts: [DEFAULT_ACCOUNT],
    rates: { CreateCustomerGateway: 500, DescribeCustomerGateways: 500, DeleteCustomerGateway: 500 },
    seed: 21,
  });
  // The OSS state is reached with the same credentials as the VPC calls (one chain for both).
  oss = await startOssEmulator({ accounts: [{ accessKeyId: DEFAULT_ACCOUNT.accessKeyId, accessKeySecret: DEFAULT_ACCOUNT.accessKeySecret }] });
  pg = await startPgServer();
  db = await pg.database(`team_${process.pid}_${randomBytes(3).toString('hex')}`);
});

after(async () => {
  await vpc?.close();
  await oss?.close();
  await pg?.stop();
  for (const d of dirs) d.cleanup();
});

const csv = (rows: number, base: number) =>
  ['region,ip,name,asn', ...Array.from({ length: rows }, (_, i) => `cn-hangzhou,198.51.${base}.${i + 1},site-${base}-${i + 1},${65000 + i}`)].join('\n') + '\n';

/** A checkout of its own (another engineer's laptop): the same manifest under another path. */
function checkout(manifest: string): { dir: string; csv: string; path: (p: string) => string } {
  const t = tempDir({ 'branches.csv': manifest });
  dirs.push(t);
  return { dir: t.dir, csv: t.path('branches.csv'), path: t.path };
}

interface Gw {
  CustomerGatewayId: string;
  IpAddress: string;
}
function gateways(prefix: string): Gw[] {
  const out: Gw[] = [];
  for (const acc of Object.values<any>((vpc.state() as any).accounts ?? {})) for (const reg of Object.values<any>(acc.regions ?? {})) out.push(...reg.gateways);
  return out.filter((g) => g.IpAddress.startsWith(prefix));
}

function cli(args: string[], stateEnv: Record<string, string>, cwd?: string): Promise<CliResult> {
  const offline = ['state', 'status', 'report'].includes(args[0] ?? '');
  return runCli([...args, ...(offline ? [] : ['--endpoint', vpc.url])], { env: { ...creds, ...stateEnv }, ...(cwd ? { cwd } : {}), timeoutMs: 120_000 });
}

const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: ${r.stdout}\n${r.stderr}`);

for (const kind of ['postgres', 'oss'] as const) {
  test(`${kind}: every command over a shared estate, from two checkouts; reports stay local`, { timeout: 300_000 }, async () => {
    const base = kind === 'postgres' ? 10 : 20;
    const estate = `e2e-${kind}-${randomBytes(3).toString('hex')}`;
    const env: Record<string, string> =
      kind === 'postgres'
        ? { CGW_BATCH_STATE: `${db}?estate=${estate}` }
        : { CGW_BATCH_STATE: `oss://cgw-state/teams?estate=${estate}`, CGW_BATCH_STATE_ENDPOINT: oss.url };
    const a = checkout(csv(3, base));
    const b = checkout(csv(3, base));

    ok(await cli(['plan', a.csv], env), 'plan before anything');
    const applied = await cli(['apply', a.csv, '--yes'], env);
    ok(applied, 'apply from A');
    assert.match(applied.stdout, /this run: 3 created/);
    assert.match(applied.stdout, new RegExp(`journal: ${kind === 'postgres' ? 'postgres://postgres@127\\.0\\.0\\.1:\\d+/\\w+#' : 'oss://cgw-state/teams/'}${estate}`));
    assert.ok(existsSync(a.path('branches.csv.results/results.csv')), 'the reports are beside the manifest');
    assert.ok(!existsSync(a.path('branches.csv.state.jsonl')), 'no journal file beside the manifest');
    const cloud = new Map(gateways(`198.51.${base}.`).map((g) => [g.IpAddress, g.CustomerGatewayId]));
    assert.equal(cloud.size, 3);

    // B never ran anything, and sees A's gateways as its own: nothing to do.
    const plan = await cli(['plan', b.csv, '--format', 'json'], env);
    ok(plan, 'plan from B');
    const planned = JSON.parse(plan.stdout.trim().split('\n').at(-1) ?? '{}') as { rows: Array<{ action: string }> };
    assert.deepEqual(planned.rows.map((r) => r.action), ['skip', 'skip', 'skip']);
    const status = await cli(['status', b.csv, '--format', 'json'], env);
    ok(status, 'status from B');
    const rows = (JSON.parse(status.stdout) as { rows: Array<{ ip: string; status: string; customer_gateway_id: string }> }).rows;
    assert.deepEqual(
      rows.map((r) => [r.status, r.customer_gateway_id]),
      [...cloud.values()].map((id) => ['created', id]),
    );
    ok(await cli(['report', b.csv], env), 'report from B');
    const report = parse(readFileSync(b.path('branches.csv.results/results.csv')), { bom: true, columns: true }) as Array<Record<string, string>>;
    assert.deepEqual(report.map((r) => r['customer_gateway_id']), [...cloud.values()]);
    ok(await cli(['refresh', b.csv], env), 'refresh from B: no drift');
    ok(await cli(['refresh', b.csv, '--write'], env), 'refresh --write from B (under the lease)');

    const show = await cli(['state', 'show', b.csv, '--format', 'json'], env);
    ok(show, 'state show');
    const s = JSON.parse(show.stdout) as { backend: string; lease: { held: boolean }; journal: { rows: number; by_status: Record<string, number> } };
    assert.equal(s.backend, kind);
    assert.equal(s.lease.held, false);
    assert.deepEqual([s.journal.rows, s.journal.by_status], [3, { created: 3 }]);

    ok(await cli(['destroy', b.csv, '--yes'], env), 'destroy from B');
    assert.equal(gateways(`198.51.${base}.`).length, 0);
    const after = JSON.parse((await cli(['status', a.csv, '--format', 'json'], env)).stdout) as { rows: Array<{ status: string }> };
    assert.deepEqual(after.rows.map((r) => r.status), ['deleted', 'deleted', 'deleted'], 'A sees what B did');
  });
}

test('state migrate: a file journal to PostgreSQL, then to OSS; each source refuses to be used again and says where the journal went', { timeout: 300_000 }, async () => {
  const a = checkout(csv(2, 30));
  const estate = `moved-${randomBytes(3).toString('hex')}`;
  ok(await cli(['apply', a.csv, '--yes'], {}), 'apply with a file journal');
  const ids = gateways('198.51.30.').map((g) => g.CustomerGatewayId).sort();
  const actions = async (env: Record<string, string>) => {
    const r = await cli(['plan', a.csv, '--format', 'json'], env);
    ok(r, 'plan');
    return (JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { rows: Array<{ action: string }> }).rows.map((x) => x.action);
  };

  const pgA = `${db}?estate=${estate}`;
  const m1 = await cli(['state', 'migrate', '--from', a.path('branches.csv.state.jsonl'), '--to', pgA], {}, a.dir);
  ok(m1, 'migrate file -> postgres');
  assert.match(m1.stdout, /copied \d+ record\(s\) \(2 row\(s\)/);
  assert.deepEqual(await actions({ CGW_BATCH_STATE: pgA }), ['skip', 'skip'], 'the migrated journal owns the gateways');
  const old = await cli(['plan', a.csv], {});
  assert.equal(old.code, 2);
  assert.match(old.stderr, new RegExp(`was moved to postgres://postgres@127\\.0\\.0\\.1:\\d+/\\w+\\?estate=${estate} on .*use --state`));

  // postgres -> postgres (another estate) -> OSS; a moved source cannot be migrated again.
  const ossEnv = { CGW_BATCH_STATE_ENDPOINT: oss.url };
  const pgB = `${db}?estate=${estate}-b`;
  const toOss = `oss://cgw-state/moved?estate=${estate}`;
  ok(await cli(['state', 'migrate', '--from', pgA, '--to', pgB], ossEnv), 'migrate postgres -> postgres');
  const again = await cli(['state', 'migrate', '--from', pgA, '--to', toOss], ossEnv);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /was moved to/);
  ok(await cli(['state', 'migrate', '--from', pgB, '--to', toOss, '--format', 'json'], ossEnv), 'migrate postgres -> oss');
  // The target must hold no journal: refused, and nothing changes.
  const onto = await cli(['state', 'migrate', '--from', toOss, '--to', `${db}?estate=${estate}`], ossEnv);
  assert.equal(onto.code, 2);
  assert.match(onto.stderr, /already holds a journal/);
  const status = await cli(['status', a.csv, '--format', 'json'], { CGW_BATCH_STATE: toOss, ...ossEnv });
  ok(status, 'status over oss');
  assert.deepEqual((JSON.parse(status.stdout) as { rows: Array<{ customer_gateway_id: string }> }).rows.map((r) => r.customer_gateway_id).sort(), ids);
  assert.deepEqual(await actions({ CGW_BATCH_STATE: toOss, ...ossEnv }), ['skip', 'skip']);
});

/** A spawned apply whose stderr lines are timestamped as they arrive (on our clock). */
function spawnApply(args: string[], env: Record<string, string>): { lines: Array<{ at: number; text: string }>; pid: number; exited: Promise<number | null>; kill: () => void } {
  const child = spawn(process.execPath, [cliBin, ...args, '--endpoint', vpc.url], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...hermeticEnv, CI: '1', ...creds, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: Array<{ at: number; text: string }> = [];
  let buf = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    for (const text of parts) lines.push({ at: performance.now(), text });
  });
  const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  return { lines, pid: child.pid ?? 0, exited, kill: () => child.kill('SIGKILL') };
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms: number): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('oss: a SIGKILLed holder is taken over by a waiting runner within ttl + 5 s; every row is created exactly once', { timeout: 300_000 }, async (t) => {
  const ttlMs = 3_000;
  const estate = `takeover-${randomBytes(3).toString('hex')}`;
  const env = { CGW_BATCH_STATE: `oss://cgw-state/teams?estate=${estate}&ttl=${ttlMs}ms`, CGW_BATCH_STATE_ENDPOINT: oss.url };
  const spec = parseStateLocation(env.CGW_BATCH_STATE, undefined, oss.url);
  const backend = await openBackend(spec, { ossCredentials: async () => ({ accessKeyId: creds.ALIBABA_CLOUD_ACCESS_KEY_ID, accessKeySecret: creds.ALIBABA_CLOUD_ACCESS_KEY_SECRET }) });
  const rows = 12;
  const a = checkout(csv(rows, 40));
  const b = checkout(csv(rows, 40));
  // Slow creates keep the holder busy long enough to be killed holding the lease.
  await vpc.configure({ rates: { CreateCustomerGateway: 3 } });
  try {
    const first = spawnApply(['apply', a.csv, '--yes', '--quiet', '--concurrency', '2'], env);
    await until('A to hold the lease', async () => ((await backend.status()).holder?.pid === first.pid ? true : undefined), 60_000);
    await until('A to create a gateway', () => (gateways('198.51.40.').length > 0 ? true : undefined), 60_000);
    const second = spawnApply(['apply', b.csv, '--yes', '--quiet', '--lock-timeout', '120s'], env);
    await until('B to watch the holder', () => (second.lines.some((l) => /is leased by .*watching it/.test(l.text)) ? true : undefined), 60_000);
    first.kill();
    const killedAt = performance.now();
    await first.exited;
    const took = await until('B to take over', () => second.lines.find((l) => /took over the lease/.test(l.text)), 60_000);
    const waited = took.at - killedAt;
    t.diagnostic(`takeover ${Math.round(waited)} ms after the SIGKILL (ttl ${ttlMs} ms)`);
    assert.ok(waited <= ttlMs + 5_000, `taken over ${Math.round(waited)} ms after the kill (ttl ${ttlMs} ms + 5 s)`);
    assert.ok(waited >= ttlMs - ttlMs / 3, `taken over ${Math.round(waited)} ms after the kill: before the holder could be judged dead`);
    assert.equal(await second.exited, 0, second.lines.map((l) => l.text).join('\n'));
    const cloud = gateways('198.51.40.');
    assert.equal(cloud.length, rows, 'one gateway per row: no duplicate, none lost');
    assert.equal(new Set(cloud.map((g) => g.IpAddress)).size, rows);
    const status = JSON.parse((await cli(['status', b.csv, '--format', 'json'], env)).stdout) as { rows: Array<{ ip: string; status: string; customer_gateway_id: string }> };
    const ids = new Map(cloud.map((g) => [g.IpAddress, g.CustomerGatewayId]));
    for (const r of status.rows) assert.deepEqual([r.status, r.customer_gateway_id], ['created', ids.get(r.ip)], r.ip);
  } finally {
    await vpc.configure({ rates: { CreateCustomerGateway: 500 } });
    await backend.close();
  }
});

test('postgres: state unlock fences a live holder: it stops at its next journal write, and the next apply finishes the estate exactly once', { timeout: 300_000 }, async () => {
  const estate = `unlock-${randomBytes(3).toString('hex')}`;
  const env = { CGW_BATCH_STATE: `${db}?estate=${estate}` };
  const rows = 12;
  const a = checkout(csv(rows, 50));
  await vpc.configure({ rates: { CreateCustomerGateway: 2 } });
  try {
    const holder = spawnApply(['apply', a.csv, '--yes', '--concurrency', '1'], env);
    await until('A to create a gateway', () => (gateways('198.51.50.').length > 0 ? true : undefined), 60_000);
    const shown = await cli(['state', 'show', a.csv], env);
    assert.match(shown.stdout, new RegExp(`lease: held by pid ${holder.pid} `));
    const unlock = await cli(['state', 'unlock', a.csv], env);
    assert.equal(unlock.code, 2, 'no terminal, no --yes: refused');
    const unlocked = await cli(['state', 'unlock', a.csv, '--yes'], env);
    ok(unlocked, 'state unlock --yes');
    assert.match(unlocked.stdout, new RegExp(`removed the lease on .*held by pid ${holder.pid} `));
    const code = await holder.exited;
    assert.notEqual(code, 0, 'the fenced holder did not finish');
    assert.ok(holder.lines.some((l) => /lost the lease/.test(l.text)), holder.lines.map((l) => l.text).join('\n'));
    const sentByHolder = gateways('198.51.50.').length;
    assert.ok(sentByHolder < rows, 'the holder stopped before the end');
  } finally {
    await vpc.configure({ rates: { CreateCustomerGateway: 500 } });
  }
  ok(await cli(['apply', a.csv, '--yes'], env), 'the next apply');
  const cloud = gateways('198.51.50.');
  assert.equal(cloud.length, rows);
  assert.equal(new Set(cloud.map((g) => g.IpAddress)).size, rows, 'no duplicate');
});
