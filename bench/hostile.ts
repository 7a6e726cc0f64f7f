// `npm run bench:hostile`: the CLI against hostile endpoints (peak RSS, exit time) and a 5,000-gateway listing at
// the published Describe limit. Prints a table, writes bench/results/hostile.json; exits 1 if a target is missed.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PopVpcClient } from '../src/cloud/pop-client.js';
import { DEFAULT_ACCOUNT, DEFAULT_RATES, startEmulator } from '../src/emulator/index.js';
import { startHostile, type Behaviour } from '../test/hostile/server.js';
import { seedDataFile } from '../test/hostile/seed.js';
import { repoRoot } from './lib/paths.js';

const TIMEOUT_MS = 2000;
const RSS_LIMIT_MB = 300;
const AUTH_KEY = 'Bench-Hostile-AuthKey-01';

interface Figure {
  scenario: string;
  exit: number | null;
  wallMs: number;
  /** From the last request the endpoint saw to the CLI's exit. */
  exitAfterLastRequestMs?: number;
  peakRssMb?: number;
  requests?: number;
  note?: string;
}

async function cliAgainst(behaviour: Behaviour, rows: number): Promise<Figure> {
  const dir = mkdtempSync(join(tmpdir(), 'cgw-bench-hostile-'));
  try {
    const manifest = 'region,ip,name,asn,auth_key\n' + Array.from({ length: rows }, (_, i) => `cn-hangzhou,203.0.113.${i + 1},b-${i},65001,env:BENCH_KEY`).join('\n') + '\n';
    writeFileSync(join(dir, 'm.csv'), manifest);
    const h = await startHostile({ behaviour, trickleMs: 500 });
    const rssFile = join(dir, 'rss');
    const started = performance.now();
    const exit = await new Promise<number | null>((resolve) => {
      const child = spawn(
        process.execPath,
        [join(repoRoot, 'dist/bench/lib/rss-child.js'), 'apply', join(dir, 'm.csv'), '--endpoint', h.url, '--yes', '--timeout', String(TIMEOUT_MS), '--quiet'],
        {
          cwd: dir,
          stdio: 'ignore',
          env: {
            PATH: process.env.PATH ?? '',
            HOME: dir,
            ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI5tBenchHostile',
            ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'bench-hostile-secret-000000',
            BENCH_KEY: AUTH_KEY,
            ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
            ALIBABA_CLOUD_CLI_PROFILE_DISABLED: 'true',
            CGW_BENCH_RSS_FILE: rssFile,
            NO_COLOR: '1',
            CI: '1',
          },
        },
      );
      child.on('close', (code) => resolve(code));
    });
    const wallMs = performance.now() - started;
    const exitedAt = Date.now();
    const last = Math.max(...h.hits.map((x) => x.at));
    const requests = h.hits.length;
    await h.close();
    let peak: number | undefined;
    try {
      peak = Math.round(Number(readFileSync(rssFile, 'utf8')) / 1024);
    } catch {
      peak = undefined;
    }
    return { scenario: `apply x${rows} vs ${behaviour}`, exit, wallMs: Math.round(wallMs), exitAfterLastRequestMs: exitedAt - last, peakRssMb: peak, requests };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function listing(count: number): Promise<Figure> {
  const dir = mkdtempSync(join(tmpdir(), 'cgw-bench-list-'));
  try {
    const dataFile = join(dir, 'emu.json');
    seedDataFile(dataFile, { accountId: DEFAULT_ACCOUNT.accountId, regionId: 'cn-shanghai', count });
    // The published limit: DescribeCustomerGateways 600 per 60 s = 10/s per account and region.
    const emu = await startEmulator({ dataFile, rates: { ...DEFAULT_RATES } });
    try {
      const c = new PopVpcClient({ endpoint: emu.url, credentials: DEFAULT_ACCOUNT, timeoutMs: 10_000 });
      const started = performance.now();
      let progress = 0;
      const list = await c.listCustomerGateways('cn-shanghai', { onProgress: () => progress++ });
      const wallMs = Math.round(performance.now() - started);
      c.close();
      const s = emu.stats().actions.DescribeCustomerGateways ?? {};
      return {
        scenario: `list ${count} gateways at ${DEFAULT_RATES.DescribeCustomerGateways}/s`,
        exit: list.length === count ? 0 : 1,
        wallMs,
        requests: (s.ok ?? 0) + (s['Throttling.User'] ?? 0),
        note: `${list.length} listed, ${s.ok ?? 0} pages, ${s['Throttling.User'] ?? 0} throttled answers, ${progress} progress calls; floor ${((Math.ceil(count / 50) - DEFAULT_RATES.DescribeCustomerGateways!) / DEFAULT_RATES.DescribeCustomerGateways!).toFixed(1)} s`,
      };
    } finally {
      await emu.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const figures: Figure[] = [];
for (const [b, rows] of [['endless', 4], ['gzip-bomb', 4], ['trickle', 1]] as const) {
  process.stderr.write(`running apply against ${b}...\n`);
  figures.push(await cliAgainst(b, rows));
}
process.stderr.write('listing 5,000 gateways...\n');
figures.push(await listing(5000));

const pad = (s: string, n: number) => s.padEnd(n);
console.log(`${pad('scenario', 36)} ${pad('exit', 5)} ${pad('wall ms', 9)} ${pad('exit-after-last ms', 19)} ${pad('peak RSS MB', 12)} requests`);
for (const f of figures) {
  console.log(
    `${pad(f.scenario, 36)} ${pad(String(f.exit), 5)} ${pad(String(f.wallMs), 9)} ${pad(f.exitAfterLastRequestMs === undefined ? '-' : String(f.exitAfterLastRequestMs), 19)} ${pad(f.peakRssMb === undefined ? '-' : String(f.peakRssMb), 12)} ${f.requests ?? '-'}${f.note ? `  (${f.note})` : ''}`,
  );
}
writeFileSync(join(repoRoot, 'bench/results/hostile.json'), JSON.stringify({ at: new Date().toISOString(), node: process.version, timeoutMs: TIMEOUT_MS, figures }, null, 2) + '\n');

const misses = figures.filter(
  (f) =>
    (f.peakRssMb !== undefined && f.peakRssMb >= RSS_LIMIT_MB) ||
    (f.exitAfterLastRequestMs !== undefined && f.exitAfterLastRequestMs > TIMEOUT_MS + 5000) ||
    (f.scenario.startsWith('list') && f.exit !== 0),
);
if (misses.length > 0) {
  console.error(`targets missed: ${misses.map((m) => m.scenario).join(', ')}`);
  process.exitCode = 1;
}
