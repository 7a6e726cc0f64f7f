// `npm run bench`: cgw-batch against its peers on the same emulator configuration, pacing scenarios, plan and startup figures.
// Prints tables; writes bench/results/latest.json, latest.svg, pacing.json and short-batches.svg.
// BENCH_QUICK=1 skips the slow contenders (the 50 s runs at 2/s and the sequential loop);
// BENCH_PACING_ONLY=1 runs only the pacing table (writes pacing.json and short-batches.svg);
// BENCH_PACING_IDS=id,id runs only those pacing scenarios (for iterating; the table's files are not written).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PopVpcClient } from '../src/cloud/pop-client.js';
import { DEFAULT_ACCOUNT, startEmulator, type EmulatorOptions } from '../src/emulator/index.js';
import { sequentialLoop, terraformLike, type BaselineRow } from './lib/baselines.js';
import { BENCH_REGIONS, benchCsv, benchIp, benchYaml } from './lib/manifest.js';
import { repoRoot } from './lib/paths.js';
import { EMULATOR_CLI_ENV, runCli } from './lib/spawn.js';
import { lineChart, ratioChart, type RatioSeries, type Series } from './lib/svg.js';
import { startFigures, startLines } from './start.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 1000);
const REGIONS = BENCH_REGIONS.slice(0, 4);
const RATE = 25;
const BOUND_MS = (Math.ceil(ROWS / REGIONS.length) / RATE) * 1000;
const quick = process.env.BENCH_QUICK === '1';
const pacingOnly = process.env.BENCH_PACING_ONLY === '1';

const creds = EMULATOR_CLI_ENV;

// The per-region quota (100) would stop 1,000 rows: the benchmark raises it on both sides.
const base: EmulatorOptions = { rates: { CreateCustomerGateway: RATE }, latency: { minMs: 20, maxMs: 80 }, seed: 42, quota: 100_000 };
// About 10 % of Create requests fail transiently; commit-drop and reset leave the outcome unknown.
const faulty: EmulatorOptions = {
  ...base,
  faults: { unavailable: 0.03, internal: 0.02, conflict: 0.02, 'commit-drop': 0.02, reset: 0.01 },
  faultActions: ['CreateCustomerGateway'],
};

interface Row {
  contender: string;
  scenario: string;
  wallMs: number;
  ratio: number | null;
  requests: number;
  throttled: number;
  throttledPct: number;
  created: number;
  failed: number;
  gateways: number;
  duplicates: number;
  orphans: number;
  rowsPerSec: number;
  done: number[];
  /** ms from spawn to the first request sent (the first row:start event): the CLI's start-up before pacing. */
  firstSendMs: number | null;
  /** ms from spawn to the last row's answer (the last row:done event); after it the CLI writes reports and exits. */
  lastDoneMs: number | null;
}

function countStat(stats: any, action: string, pred: (k: string) => boolean): number {
  const per = stats?.actions?.[action] ?? stats?.[action] ?? {};
  let n = 0;
  for (const [k, v] of Object.entries(per)) if (typeof v === 'number' && pred(k)) n += v;
  return n;
}

function gatewaysOf(state: any): Array<{ IpAddress: string }> {
  const out: Array<{ IpAddress: string }> = [];
  for (const acc of Object.values<any>(state.accounts ?? {})) for (const reg of Object.values<any>(acc.regions ?? {})) out.push(...(reg.gateways ?? []));
  return out;
}

async function contender(
  name: string,
  scenario: string,
  emuOpts: EmulatorOptions,
  run: (url: string, dir: string, csv: string, rows: BaselineRow[]) => Promise<{ wallMs: number; done: Array<{ t: number; status: string }>; failedIps: string[]; firstSendMs?: number }>,
  rows = ROWS,
  bound: number | null = BOUND_MS,
  regions: string[] = REGIONS,
): Promise<Row> {
  const emu = await startEmulator({ ...emuOpts, accounts: [DEFAULT_ACCOUNT] });
  const dir = mkdtempSync(join(tmpdir(), 'cgw-bench-'));
  try {
    const csv = join(dir, 'bench.csv');
    writeFileSync(csv, benchCsv(rows, regions));
    const brows: BaselineRow[] = Array.from({ length: rows }, (_, i) => ({
      region: regions[i % regions.length]!,
      ip: benchIp(i + 1),
      name: `site-${i + 1}`,
      asn: String(64512 + ((i + 1) % 1000)),
      description: `branch office ${i + 1}`,
    }));
    const r = await run(emu.url, dir, csv, brows);
    const stats = emu.stats();
    const gws = gatewaysOf(emu.state());
    const ips = new Map<string, number>();
    for (const g of gws) ips.set(g.IpAddress, (ips.get(g.IpAddress) ?? 0) + 1);
    const failedSet = new Set(r.failedIps);
    const creates = countStat(stats, 'CreateCustomerGateway', () => true);
    const throttled = countStat(stats, 'CreateCustomerGateway', (k) => k.startsWith('Throttling'));
    const created = r.done.filter((d) => d.status === 'created' || d.status === 'adopted').length;
    const row: Row = {
      contender: name,
      scenario,
      wallMs: Math.round(r.wallMs),
      ratio: bound ? Number((r.wallMs / bound).toFixed(3)) : null,
      requests: creates,
      throttled,
      throttledPct: creates ? Number(((100 * throttled) / creates).toFixed(1)) : 0,
      created,
      failed: r.done.filter((d) => d.status === 'failed').length + (rows - r.done.length),
      gateways: gws.length,
      duplicates: [...ips.values()].reduce((a, n) => a + (n - 1), 0),
      orphans: gws.filter((g) => failedSet.has(g.IpAddress)).length,
      rowsPerSec: Number((created / (r.wallMs / 1000)).toFixed(1)),
      done: r.done.map((d) => Math.round(d.t)),
      firstSendMs: r.firstSendMs === undefined ? null : Math.round(r.firstSendMs),
      lastDoneMs: r.done.length ? Math.round(Math.max(...r.done.map((d) => d.t))) : null,
    };
    return row;
  } finally {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function cgwBatch(extra: string[]) {
  return async (url: string, dir: string, csv: string) => {
    const r = await runCli(
      ['apply', csv, '--endpoint', url, '--yes', '--format', 'json', '--state', join(dir, 'state.jsonl'), '--report-dir', join(dir, 'reports'), '--quota', '100000', ...extra],
      creds,
    );
    if (r.code !== 0 && r.code !== 1) throw new Error(`cgw-batch exited ${r.code}: ${r.stderr.slice(0, 2000)}`);
    const failedIps = r.events
      .filter((e: any) => e.type === 'row:done' && e.result?.status === 'failed')
      .map((e: any) => String(e.result.ip));
    const first = r.events.findIndex((e: any) => e.type === 'row:start');
    return { wallMs: r.wallMs, done: r.done, failedIps, ...(first >= 0 ? { firstSendMs: r.eventTimes[first] } : {}) };
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function child(mode: string, file: string): { ms: number; maxRssMB: number; rows: number } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'bench', 'lib', 'child-plan.js'), mode, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child-plan ${mode} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function planFigures(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'cgw-bench-plan-'));
  try {
    const big = join(dir, 'big.csv');
    const n = quick ? 20_000 : 100_000;
    writeFileSync(big, benchCsv(n, BENCH_REGIONS));
    const csvOnly = [child('csv-parse', big), child('csv-parse', big), child('csv-parse', big)];
    const plan = [child('plan', big), child('plan', big), child('plan', big)];
    const csvMs = median(csvOnly.map((x) => x.ms));
    const planMs = median(plan.map((x) => x.ms));
    const cliStart = performance.now();
    const cli = spawnSync(process.execPath, [join(repoRoot, 'bin', 'cgw-batch.js'), 'plan', big, '--offline', '--quota', '1000000', '--format', 'json'], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      env: { ...process.env, ...creds },
    });
    const cliMs = performance.now() - cliStart;
    const yamlFile = join(dir, 'big.yaml');
    writeFileSync(yamlFile, benchYaml(20_000, BENCH_REGIONS));
    const yaml = child('plan', yamlFile);
    const helps: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      spawnSync(process.execPath, [join(repoRoot, 'bin', 'cgw-batch.js'), '--help'], { encoding: 'utf8' });
      helps.push(performance.now() - t);
    }
    const nodeBare: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      spawnSync(process.execPath, ['-e', '0']);
      nodeBare.push(performance.now() - t);
    }
    return {
      csvRows: n,
      csvParseAloneMs: Math.round(csvMs),
      loadAndPlanMs: Math.round(planMs),
      planToCsvParseRatio: Number((planMs / csvMs).toFixed(2)),
      planPeakRssMB: Math.round(Math.max(...plan.map((x) => x.maxRssMB))),
      cliPlanWallMs: Math.round(cliMs),
      cliPlanExit: cli.status,
      yamlRows: 20_000,
      yamlLoadAndPlanMs: Math.round(yaml.ms),
      helpStartupMsMedian: Math.round(median(helps)),
      nodeBareStartupMsMedian: Math.round(median(nodeBare)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Online plan over 5 regions x 100 existing gateways: listing runs regions in parallel. */
async function onlinePlanFigures(): Promise<Record<string, unknown>> {
  const emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rateLimits: false, seed: 7 });
  const dir = mkdtempSync(join(tmpdir(), 'cgw-bench-online-'));
  try {
    const c = new PopVpcClient({ endpoint: emu.url, credentials: DEFAULT_ACCOUNT });
    let i = 0;
    await Promise.all(
      BENCH_REGIONS.map(async (region) => {
        for (let k = 0; k < 100; k++) {
          const n = 50_000 + i++;
          await c.createCustomerGateway({ regionId: region, ipAddress: benchIp(n), name: `existing-${n}` });
        }
      }),
    );
    emu.configure({ rateLimits: true, latency: { minMs: 20, maxMs: 80 } });
    const csv = join(dir, 'online.csv');
    writeFileSync(csv, benchCsv(50, BENCH_REGIONS));
    // The sum: each region listed one after the other, as a loop over regions would.
    const t0 = performance.now();
    for (const r of BENCH_REGIONS) await c.listCustomerGateways(r);
    const sequentialMs = performance.now() - t0;
    const perRegion: number[] = [];
    for (const r of BENCH_REGIONS) {
      const t = performance.now();
      await c.listCustomerGateways(r);
      perRegion.push(performance.now() - t);
    }
    const run = await runCli(['plan', csv, '--endpoint', emu.url, '--format', 'json', '--state', join(dir, 's.jsonl')], creds);
    const help = await runCli(['--help'], creds);
    return {
      regions: BENCH_REGIONS.length,
      existingPerRegion: 100,
      sequentialListingMs: Math.round(sequentialMs),
      slowestRegionListingMs: Math.round(Math.max(...perRegion)),
      cliOnlinePlanWallMs: Math.round(run.wallMs),
      cliStartupMs: Math.round(help.wallMs),
      cliOnlinePlanExit: run.code,
    };
  } finally {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function pad(s: string | number, n: number): string {
  return String(s).padEnd(n);
}

// ---- Pacing at the physical limit: short and long batches at the published and a raised limit ----

interface PacingScenario {
  id: string;
  contender: string;
  scenario: string;
  limit: number;
  regions: number;
  perRegion: number;
  target: string;
  /** About 50 s or more: skipped by BENCH_QUICK. */
  slow?: boolean;
  emulator?: Partial<EmulatorOptions>;
  run: (url: string, dir: string, csv: string, rows: BaselineRow[]) => ReturnType<ReturnType<typeof cgwBatch>>;
}

const lossy: Partial<EmulatorOptions> = { faults: { conflict: 0.03, unavailable: 0.03 }, faultActions: ['CreateCustomerGateway'] };
const tf = (url: string, _d: string, _c: string, rows: BaselineRow[]) => terraformLike(url, DEFAULT_ACCOUNT.accessKeyId, DEFAULT_ACCOUNT.accessKeySecret, rows);

const PACING: PacingScenario[] = [
  { id: 'l2-told-4x100', contender: 'cgw-batch --rate 2', scenario: 'limit 2/s, 4 x 100', limit: 2, regions: 4, perRegion: 100, target: '<= 1.05 x B, <= 2 % throttled', slow: true, run: cgwBatch(['--rate', '2']) },
  { id: 'l2-adaptive-4x100', contender: 'cgw-batch (adaptive)', scenario: 'limit 2/s, 4 x 100', limit: 2, regions: 4, perRegion: 100, target: '<= 1.05 x B, <= 2 % throttled', slow: true, run: cgwBatch([]) },
  { id: 'l2-terraform-4x100', contender: 'B: Terraform-style', scenario: 'limit 2/s, 4 x 100', limit: 2, regions: 4, perRegion: 100, target: '(baseline)', slow: true, run: tf },
  { id: 'l2-adaptive-3x20', contender: 'cgw-batch (adaptive)', scenario: 'limit 2/s, 3 x 20', limit: 2, regions: 3, perRegion: 20, target: '<= 1.10 x B, <= 5 % throttled', run: cgwBatch([]) },
  { id: 'l25-adaptive-4x20', contender: 'cgw-batch (adaptive)', scenario: 'limit 25/s, 4 x 20', limit: 25, regions: 4, perRegion: 20, target: '<= 1.5 x B', run: cgwBatch([]) },
  { id: 'l25-adaptive-4x80', contender: 'cgw-batch (adaptive)', scenario: 'limit 25/s, 4 x 80', limit: 25, regions: 4, perRegion: 80, target: '<= 1.25 x B', run: cgwBatch([]) },
  { id: 'l25-adaptive-4x250', contender: 'cgw-batch (adaptive)', scenario: 'limit 25/s, 4 x 250', limit: 25, regions: 4, perRegion: 250, target: '<= 1.12 x B', run: cgwBatch([]) },
  { id: 'l25-adaptive-4x80-faults', contender: 'cgw-batch (adaptive)', scenario: 'limit 25/s, 4 x 80, 3 % conflict + 3 % 503', limit: 25, regions: 4, perRegion: 80, target: '<= 1.30 x B', emulator: lossy, run: cgwBatch([]) },
  { id: 'l25-told-4x20', contender: 'cgw-batch --rate 25', scenario: 'limit 25/s, 4 x 20', limit: 25, regions: 4, perRegion: 20, target: '(reference)', run: cgwBatch(['--rate', '25']) },
  { id: 'l25-told-4x80', contender: 'cgw-batch --rate 25', scenario: 'limit 25/s, 4 x 80', limit: 25, regions: 4, perRegion: 80, target: '<= 1.10 x B', run: cgwBatch(['--rate', '25']) },
];

interface PacingRow extends Row {
  id: string;
  target: string;
  boundMs: number;
  total: number;
  /** (last answer - first request) / B: the scheduler's part of the ratio, without the CLI's start-up and exit. */
  pacingRatio: number | null;
}

const secs = (ms: number | null) => (ms === null ? '-' : (ms / 1000).toFixed(2));

interface InterruptRow {
  id: string;
  scenario: string;
  /** SIGINT to process exit. */
  sigintToExitMs: number;
  /** Requests that left after SIGINT (row:start events). */
  sentAfterSigint: number;
  /** Rows with a request sent and no final answer when SIGINT arrived (on the wire or backing off). */
  rowsStartedNotDoneAtSigint: number;
  exitCode: number | null;
  target: string;
}

async function pacingRow(sc: PacingScenario): Promise<PacingRow> {
  const regions = BENCH_REGIONS.slice(0, sc.regions);
  const total = sc.regions * sc.perRegion;
  const boundMs = (sc.perRegion / sc.limit) * 1000;
  const emu: EmulatorOptions = { rates: { CreateCustomerGateway: sc.limit }, latency: { minMs: 20, maxMs: 80 }, seed: 42, quota: 100_000, ...sc.emulator };
  const row = await contender(sc.contender, sc.scenario, emu, sc.run, total, boundMs, regions);
  const pacingRatio = row.firstSendMs !== null && row.lastDoneMs !== null ? Number(((row.lastDoneMs - row.firstSendMs) / boundMs).toFixed(3)) : null;
  return { ...row, id: sc.id, target: sc.target, boundMs, total, pacingRatio };
}

/**
 * Ctrl-C at 4/s in one region: after 2 s, 16 rows hold a slot (the default --concurrency) and wait for the
 * pacer; SIGINT must cancel them at once and only wait for requests already on the wire (20-80 ms).
 */
async function interruptRow(): Promise<InterruptRow> {
  const emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rates: { CreateCustomerGateway: 4 }, latency: { minMs: 20, maxMs: 80 }, seed: 42, quota: 100_000 });
  const dir = mkdtempSync(join(tmpdir(), 'cgw-bench-int-'));
  try {
    const csv = join(dir, 'bench.csv');
    writeFileSync(csv, benchCsv(200, ['cn-hangzhou']));
    const r = await runCli(
      ['apply', csv, '--endpoint', emu.url, '--yes', '--format', 'json', '--state', join(dir, 'state.jsonl'), '--report-dir', join(dir, 'reports'), '--quota', '100000', '--rate', '4'],
      creds,
      { interruptAfterMs: 2500 },
    );
    const at = r.interruptedAt ?? r.wallMs;
    const open = new Set<string>();
    let sentAfter = 0;
    r.events.forEach((e: any, i) => {
      const t = r.eventTimes[i] ?? 0;
      if (e.type === 'row:start') {
        if (t > at) sentAfter++;
        else open.add(String(e.key));
      }
      if (e.type === 'row:done' && t <= at) open.delete(String(e.result?.key));
    });
    return {
      id: 'interrupt-4ps',
      scenario: 'Ctrl-C at 4/s, 1 region, 16 rows waiting',
      sigintToExitMs: Math.round(r.wallMs - at),
      sentAfterSigint: sentAfter,
      rowsStartedNotDoneAtSigint: open.size,
      exitCode: r.code,
      target: 'under 1 s + the slowest request on the wire',
    };
  } finally {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface PacingFile {
  at: string;
  node: string;
  commit?: string;
  rows: PacingRow[];
  interrupt?: InterruptRow;
}

function readPacingFile(name: string): PacingFile | undefined {
  const f = join(repoRoot, 'bench', 'results', name);
  if (!existsSync(f)) return undefined;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as PacingFile;
  } catch {
    return undefined;
  }
}

function gitHead(): string | undefined {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

async function runPacing(log: (s: string) => void): Promise<{ file: PacingFile; lines: string[]; chart: string }> {
  const rows: PacingRow[] = [];
  const only = process.env.BENCH_PACING_IDS?.split(',').filter(Boolean);
  for (const sc of PACING) {
    if (only ? !only.includes(sc.id) : quick && sc.slow) continue;
    log(`running ${sc.contender} [${sc.scenario}] ...`);
    rows.push(await pacingRow(sc));
  }
  if (!only) log('running Ctrl-C at 4/s ...');
  const interrupt = only ? undefined : await interruptRow();
  const before = readPacingFile('pacing-before.json');
  const today = (id: string) => before?.rows.find((r) => r.id === id);
  const fmt = (r: PacingRow | undefined) => (r ? `${r.ratio}${r.pacingRatio ? ` (pacing ${r.pacingRatio})` : ''}, ${r.throttledPct} %` : '-');
  const lines = [
    `pacing: ratios x B in this run (B = rows per region / limit); emulator latency 20-80 ms${before ? `; "before" from bench/results/pacing-before.json (${before.commit ?? '?'}, ${before.at.slice(0, 10)})` : ''}`,
    '(start s: spawn to the first request; pacing x B: first request to the last answer, over B; exit s: last answer to exit)',
    `${pad('contender', 24)}${pad('scenario', 44)}${pad('wall s', 9)}${pad('x B', 7)}${pad('start s', 9)}${pad('pacing x B', 12)}${pad('exit s', 8)}${pad('req', 6)}${pad('throttled', 13)}${pad('failed', 8)}${pad('dupes', 7)}${pad('before: x B (pacing), throttled', 34)}target`,
    ...rows.map(
      (r) =>
        `${pad(r.contender, 24)}${pad(r.scenario, 44)}${pad((r.wallMs / 1000).toFixed(2), 9)}${pad(r.ratio ?? '-', 7)}${pad(secs(r.firstSendMs), 9)}${pad(r.pacingRatio ?? '-', 12)}${pad(r.lastDoneMs === null ? '-' : ((r.wallMs - r.lastDoneMs) / 1000).toFixed(2), 8)}${pad(r.requests, 6)}${pad(`${r.throttled} (${r.throttledPct}%)`, 13)}${pad(r.failed, 8)}${pad(r.duplicates, 7)}${pad(fmt(today(r.id)), 34)}${r.target}`,
    ),
    ...(interrupt
      ? [
          `${pad('cgw-batch --rate 4', 24)}${pad(interrupt.scenario, 44)}SIGINT to exit ${interrupt.sigintToExitMs} ms, ${interrupt.sentAfterSigint} requests sent after SIGINT, exit ${interrupt.exitCode}` +
            `${before?.interrupt ? ` (before: ${before.interrupt.sigintToExitMs} ms, ${before.interrupt.sentAfterSigint} sent after)` : ''}; target ${interrupt.target}`,
        ]
      : []),
  ];
  const file: PacingFile = { at: new Date().toISOString(), node: process.version, rows, ...(interrupt ? { interrupt } : {}) };
  const head = gitHead();
  if (head) file.commit = head;
  const short = ['l2-adaptive-3x20', 'l25-adaptive-4x20', 'l25-adaptive-4x80', 'l25-adaptive-4x80-faults', 'l2-told-4x100'];
  const series: RatioSeries[] = [];
  short.forEach((id, group) => {
    const now = rows.find((r) => r.id === id);
    if (!now) return;
    series.push({ label: `${now.contender.replace('cgw-batch ', '')} ${now.scenario.replace('limit ', '')}`, times: now.done, boundMs: now.boundMs, total: now.total, group });
    const was = today(id);
    if (was) series.push({ label: `  before (${was.ratio} x B)`, times: was.done, boundMs: was.boundMs, total: was.total, dashed: true, group });
  });
  const chart = ratioChart(`Short batches: rows completed vs time / B (${file.at.slice(0, 10)}; dashed: before)`, series, { maxX: 3 });
  return { file, lines, chart };
}

async function main(): Promise<void> {
  const results: Row[] = [];
  const log = (s: string) => process.stderr.write(s + '\n');
  const out = join(repoRoot, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  const pacing = await runPacing(log);
  if (process.env.BENCH_PACING_IDS) {
    process.stdout.write(pacing.lines.join('\n') + '\n');
    return;
  }
  writeFileSync(join(out, 'pacing.json'), JSON.stringify(pacing.file, null, 2) + '\n');
  writeFileSync(join(out, 'short-batches.svg'), pacing.chart);
  if (pacingOnly) {
    process.stdout.write(pacing.lines.join('\n') + '\n');
    log('wrote bench/results/pacing.json and bench/results/short-batches.svg');
    return;
  }
  const plan: Array<[string, string, EmulatorOptions, Parameters<typeof contender>[3], number?, (number | null)?]> = [
    ['cgw-batch --rate 25', 'limit 25/s, 20-80 ms', base, cgwBatch(['--rate', String(RATE)])],
    ['cgw-batch --rate 25', '+10% faults', faulty, cgwBatch(['--rate', String(RATE)])],
    ['cgw-batch (adaptive)', 'limit 25/s, 20-80 ms', base, cgwBatch([])],
    ['A: sequential pop-core loop', 'limit 25/s, 20-80 ms', base, (url, _d, _c, rows) => sequentialLoop(url, DEFAULT_ACCOUNT.accessKeyId, DEFAULT_ACCOUNT.accessKeySecret, rows)],
    ['B: Terraform-style (10 global, 3s/5s, new token)', 'limit 25/s, 20-80 ms', base, (url, _d, _c, rows) => terraformLike(url, DEFAULT_ACCOUNT.accessKeyId, DEFAULT_ACCOUNT.accessKeySecret, rows)],
    ['B: Terraform-style (10 global, 3s/5s, new token)', '+10% faults', faulty, (url, _d, _c, rows) => terraformLike(url, DEFAULT_ACCOUNT.accessKeyId, DEFAULT_ACCOUNT.accessKeySecret, rows)],
    ['cgw-batch --rate 100000', 'no limit, 0 ms, 2000 rows', { rateLimits: false, seed: 1, quota: 100_000 }, cgwBatch(['--rate', '100000', '--concurrency', '32']), 2000, null],
  ];
  for (const [name, scenario, emu, run, rows, bound] of plan) {
    if (quick && name.startsWith('A:')) continue;
    log(`running ${name} [${scenario}] ...`);
    results.push(await contender(name, scenario, emu, run, rows ?? ROWS, bound === undefined ? BOUND_MS : bound));
  }
  log('plan figures ...');
  const planFig = await planFigures();
  log('online plan figures ...');
  const online = await onlinePlanFigures();
  log('start-up figures ...');
  const start = await startFigures();

  const header = `${pad('contender', 50)}${pad('scenario', 28)}${pad('wall s', 9)}${pad('x B', 7)}${pad('req', 6)}${pad('throttled', 11)}${pad('created', 9)}${pad('failed', 8)}${pad('dupes', 7)}${pad('orphans', 9)}rows/s`;
  const lines = [
    `cgw-batch benchmark: ${ROWS} rows over ${REGIONS.length} regions; bound B = max over regions of rows/rate = ${(BOUND_MS / 1000).toFixed(1)} s`,
    header,
    ...results.map(
      (r) =>
        `${pad(r.contender, 50)}${pad(r.scenario, 28)}${pad((r.wallMs / 1000).toFixed(2), 9)}${pad(r.ratio ?? '-', 7)}${pad(r.requests, 6)}${pad(`${r.throttled} (${r.throttledPct}%)`, 11)}${pad(r.created, 9)}${pad(r.failed, 8)}${pad(r.duplicates, 7)}${pad(r.orphans, 9)}${r.rowsPerSec}`,
    ),
    '',
    `plan: ${planFig.csvRows}-row CSV load+plan ${planFig.loadAndPlanMs} ms vs csv-parse alone ${planFig.csvParseAloneMs} ms (ratio ${planFig.planToCsvParseRatio}), peak RSS ${planFig.planPeakRssMB} MB; CLI plan --offline wall ${planFig.cliPlanWallMs} ms`,
    `plan: ${planFig.yamlRows}-gateway YAML load+plan ${planFig.yamlLoadAndPlanMs} ms`,
    `startup: cgw-batch --help ${planFig.helpStartupMsMedian} ms median (bare node ${planFig.nodeBareStartupMsMedian} ms)`,
    `online plan: ${online.regions} regions x ${online.existingPerRegion} existing: CLI plan wall ${online.cliOnlinePlanWallMs} ms; listing regions one after another ${online.sequentialListingMs} ms, slowest single region ${online.slowestRegionListingMs} ms`,
    ...startLines(start),
    '',
    ...pacing.lines,
  ];
  process.stdout.write(lines.join('\n') + '\n');

  const stamp = new Date().toISOString();
  writeFileSync(
    join(out, 'latest.json'),
    JSON.stringify({ at: stamp, node: process.version, rows: ROWS, regions: REGIONS.length, rate: RATE, boundMs: BOUND_MS, contenders: results, pacing: pacing.file, plan: planFig, onlinePlan: online, start }, null, 2) + '\n',
  );
  const series: Series[] = results
    .filter((r) => r.scenario === 'limit 25/s, 20-80 ms' || (r.scenario === '+10% faults'))
    .map((r) => ({ label: `${r.contender.replace(/ \(10 global.*\)/, '')} ${r.scenario === '+10% faults' ? '(faults)' : ''}`.trim(), times: r.done }));
  writeFileSync(join(out, 'latest.svg'), lineChart(`Rows completed over time: ${ROWS} rows, 4 regions, limit ${RATE}/s per region (${stamp.slice(0, 10)})`, series, { boundMs: BOUND_MS }));
  log(`wrote bench/results/latest.json, latest.svg, pacing.json and short-batches.svg`);
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exitCode = 1;
});
