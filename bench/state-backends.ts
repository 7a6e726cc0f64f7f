// `npm run bench:state`: append latency per batch (p50/p95) and rows per second for the file, PostgreSQL and OSS (emulator) backends,
// then a whole `cgw-batch apply` per backend (rows per second of its execution and of the whole command).
// Each backend takes a lease and appends batches one at a time (as the Journal's group commit does); the OSS emulator
// runs as its own process (`cgw-batch emulator --oss`), PostgreSQL is a throwaway server with fsync on.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ACCOUNT, startEmulator } from '../src/emulator/index.js';
import { DEFAULT_OSS_ACCOUNT } from '../src/emulator/oss/server.js';
import { openFileBackend } from '../src/state/backend/file.js';
import { openOssBackend } from '../src/state/backend/oss.js';
import { openPostgresBackend } from '../src/state/backend/postgres.js';
import type { StateBackend } from '../src/state/backend/types.js';
import { startPgServer } from '../test/state/backend/pg-server.js';
import { BENCH_REGIONS, benchCsv } from './lib/manifest.js';
import { EMULATOR_CLI_ENV, runCli } from './lib/spawn.js';

const ROUNDS = Number(process.env.BENCH_STATE_ROUNDS ?? 300);
const APPLY_ROWS = Number(process.env.BENCH_STATE_APPLY_ROWS ?? 600);
const BATCHES = [1, 16];
const root = fileURLToPath(new URL('../..', import.meta.url));

interface Row {
  backend: string;
  batch: number;
  appends: number;
  p50Ms: number;
  p95Ms: number;
  rowsPerSec: number;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** A row as the journal writes it today (~300 bytes). */
function record(i: number, j: number): string {
  return JSON.stringify({
    t: 'row',
    key: `cn-hangzhou/10.${(i >> 8) & 255}.${i & 255}.${j}`,
    status: 'in-flight',
    token: `cgw-${i}-${j}-0123456789abcdef`,
    line: i + 2,
    attempts: 1,
    requestIds: ['5A3E7C1B-0000-4000-8000-0123456789AB'],
    startedAt: new Date().toISOString(),
    specHash: 'f'.repeat(64),
    ts: new Date().toISOString(),
  });
}

async function measure(name: string, b: StateBackend): Promise<Row[]> {
  const lease = await b.acquire({ holder: { host: hostname(), pid: process.pid, startedAt: new Date().toISOString() } });
  const out: Row[] = [];
  try {
    for (let w = 0; w < 20; w++) await lease.append([record(w, 0)]);
    for (const size of BATCHES) {
      const lat: number[] = [];
      const t0 = performance.now();
      for (let i = 0; i < ROUNDS; i++) {
        const batch = Array.from({ length: size }, (_, j) => record(i, j));
        const s = performance.now();
        await lease.append(batch);
        lat.push(performance.now() - s);
      }
      const total = performance.now() - t0;
      lat.sort((x, y) => x - y);
      out.push({ backend: name, batch: size, appends: ROUNDS, p50Ms: pct(lat, 50), p95Ms: pct(lat, 95), rowsPerSec: (ROUNDS * size) / (total / 1000) });
    }
  } finally {
    await lease.release();
    await b.close();
  }
  return out;
}

interface ApplyRow {
  backend: string;
  rows: number;
  /** Rows per second between the run's start and its last row (the executor and the journal). */
  execRowsPerSec: number;
  /** Rows per second of the whole command (start-up, lease, listing, plan, execution, reports). */
  wallRowsPerSec: number;
}

/** One `cgw-batch apply` of APPLY_ROWS new rows against an in-process VPC emulator, its journal at `state`. */
async function measureApply(name: string, stateEnv: Record<string, string>, dir: string): Promise<ApplyRow> {
  const vpc = await startEmulator({
    accounts: [DEFAULT_ACCOUNT],
    rates: { CreateCustomerGateway: 5000, DescribeCustomerGateways: 5000, DescribeRegions: 5000 },
    quota: APPLY_ROWS,
  });
  try {
    const csv = join(dir, `${name.replace(/\W+/g, '-')}.csv`);
    writeFileSync(csv, benchCsv(APPLY_ROWS, BENCH_REGIONS.slice(0, 3)));
    const r = await runCli(['apply', csv, '--endpoint', vpc.url, '--yes', '--format', 'json', '--rate', '1000', '--concurrency', '32', '--quota', String(APPLY_ROWS)], { ...EMULATOR_CLI_ENV, ...stateEnv });
    if (r.code !== 0) throw new Error(`apply over ${name} exited ${r.code}: ${r.stderr.slice(-800)}`);
    const start = r.events.findIndex((e) => e.type === 'run:start');
    const t0 = r.eventTimes[start] ?? 0;
    const t1 = r.done.at(-1)?.t ?? r.wallMs;
    const summary = r.events.find((e) => e.type === 'summary') as { counts?: Record<string, number> } | undefined;
    if ((summary?.counts?.['created'] ?? 0) !== APPLY_ROWS) throw new Error(`apply over ${name}: ${JSON.stringify(summary?.counts)}`);
    return { backend: name, rows: APPLY_ROWS, execRowsPerSec: APPLY_ROWS / ((t1 - t0) / 1000), wallRowsPerSec: APPLY_ROWS / (r.wallMs / 1000) };
  } finally {
    await vpc.close();
  }
}

async function startOssEmulatorProcess(extra: string[] = []): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [join(root, 'bin', 'cgw-batch.js'), 'emulator', '--oss', '--port', '0', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  for (let i = 0; i < 600 && !/listening on (\S+)/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
  const url = /listening on (\S+)/.exec(out)?.[1];
  if (!url) {
    child.kill('SIGKILL');
    throw new Error(`the OSS emulator did not start: ${out}`);
  }
  const exited = new Promise((r) => child.on('close', r));
  return { url, stop: async () => void (child.kill('SIGTERM'), await exited) };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const applies: ApplyRow[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'cgw-bench-state-'));
  try {
    rows.push(...(await measure('file', openFileBackend({ path: join(dir, 'bench.state.jsonl') }))));
    applies.push(await measureApply('file', {}, dir));
    const pg = await startPgServer({ fsync: true });
    try {
      rows.push(...(await measure('postgres', openPostgresBackend({ url: pg.url, estate: 'bench' }))));
      applies.push(await measureApply('postgres', { CGW_BATCH_STATE: `${pg.url}?estate=bench-apply` }, dir));
    } finally {
      await pg.stop();
    }
    // The apply reaches the OSS emulator with the VPC calls' credentials (one chain for both).
    const oss = await startOssEmulatorProcess(['--access-key', `${DEFAULT_OSS_ACCOUNT.accessKeyId}:${DEFAULT_OSS_ACCOUNT.accessKeySecret}`, '--access-key', `${DEFAULT_ACCOUNT.accessKeyId}:${DEFAULT_ACCOUNT.accessKeySecret}`]);
    try {
      rows.push(
        ...(await measure(
          'oss (emulator)',
          openOssBackend({ endpoint: oss.url, bucket: 'cgw-state', prefix: 'bench/estate', credentials: async () => DEFAULT_OSS_ACCOUNT }),
        )),
      );
      applies.push(await measureApply('oss (emulator)', { CGW_BATCH_STATE: 'oss://cgw-state/bench?estate=apply', CGW_BATCH_STATE_ENDPOINT: oss.url }, dir));
    } finally {
      await oss.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const fmt = (n: number, d = 2) => n.toFixed(d).padStart(9);
  const lines = [
    `state backends: ${ROUNDS} appends per batch size, one at a time, under a lease (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`,
    `${'backend'.padEnd(16)}${'batch'.padStart(6)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'rows/s'.padStart(9)}`,
    ...rows.map((r) => `${r.backend.padEnd(16)}${String(r.batch).padStart(6)}${fmt(r.p50Ms)}${fmt(r.p95Ms)}${fmt(r.rowsPerSec, 0)}`),
    '',
    `whole apply of ${APPLY_ROWS} new rows (3 regions, --rate 1000 --concurrency 32, emulator without faults): rows per second`,
    `${'backend'.padEnd(16)}${'execution'.padStart(11)}${'command'.padStart(9)}`,
    ...applies.map((a) => `${a.backend.padEnd(16)}${fmt(a.execRowsPerSec, 0).padStart(11)}${fmt(a.wallRowsPerSec, 0)}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const results = join(root, 'bench', 'results');
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, 'state-backends.json'), JSON.stringify({ at: new Date().toISOString(), loadavg: loadavg(), rounds: ROUNDS, rows, applies }, null, 2) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:state failed: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
