// `npm run bench:state`: append latency per batch (p50/p95) and rows per second for the file, PostgreSQL and OSS (emulator) backends.
// Each backend takes a lease and appends batches one at a time (as the Journal's group commit does); the OSS emulator
// runs as its own process (`cgw-batch emulator --oss`), PostgreSQL is a throwaway server with fsync on.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_OSS_ACCOUNT } from '../src/emulator/oss/server.js';
import { openFileBackend } from '../src/state/backend/file.js';
import { openOssBackend } from '../src/state/backend/oss.js';
import { openPostgresBackend } from '../src/state/backend/postgres.js';
import type { StateBackend } from '../src/state/backend/types.js';
import { startPgServer } from '../test/state/backend/pg-server.js';

const ROUNDS = Number(process.env.BENCH_STATE_ROUNDS ?? 300);
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

async function startOssEmulatorProcess(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [join(root, 'bin', 'cgw-batch.js'), 'emulator', '--oss', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
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
  const dir = mkdtempSync(join(tmpdir(), 'cgw-bench-state-'));
  try {
    rows.push(...(await measure('file', openFileBackend({ path: join(dir, 'bench.state.jsonl') }))));
    const pg = await startPgServer({ fsync: true });
    try {
      rows.push(...(await measure('postgres', openPostgresBackend({ url: pg.url, estate: 'bench' }))));
    } finally {
      await pg.stop();
    }
    const oss = await startOssEmulatorProcess();
    try {
      rows.push(
        ...(await measure(
          'oss (emulator)',
          openOssBackend({ endpoint: oss.url, bucket: 'cgw-state', prefix: 'bench/estate', credentials: async () => DEFAULT_OSS_ACCOUNT }),
        )),
      );
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
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const results = join(root, 'bench', 'results');
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, 'state-backends.json'), JSON.stringify({ at: new Date().toISOString(), loadavg: loadavg(), rounds: ROUNDS, rows }, null, 2) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:state failed: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
