// `npm run bench:start`: the fixed cost a user waits for, as whole processes: `--help`, an online `plan` and an
// `apply --yes` of 4 rows (one per region) against a local emulator without latency. Medians of 5 runs (3 with
// BENCH_QUICK=1), against the targets; bare `node -e 0` beside them says how busy the machine was. Writes
// bench/results/start.json. `npm run bench` records the same figures.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_ACCOUNT, startEmulator } from '../src/emulator/index.js';
import { BENCH_REGIONS, benchCsv } from './lib/manifest.js';
import { repoRoot } from './lib/paths.js';
import { EMULATOR_CLI_ENV } from './lib/spawn.js';

/** Issue 20's targets, whole-process wall time on an idle machine. */
export const START_TARGETS_MS = { help: 80, plan: 250, apply: 350 } as const;

export interface StartFigures {
  runs: number;
  /** Medians, ms. */
  helpMs: number;
  planMs: number;
  applyMs: number;
  nodeBareMs: number;
  samples: { help: number[]; plan: number[]; apply: number[]; nodeBare: number[] };
  targetsMs: typeof START_TARGETS_MS;
  meets: { help: boolean; plan: boolean; apply: boolean };
  /** The 1-minute load average when the runs started (the machine is shared: read the figures against it). */
  loadAverage: number;
}

/** Wall time of one child process, spawn to exit; a non-zero exit fails the benchmark (its stderr says why). */
function timed(args: string[], env: Record<string, string> = EMULATOR_CLI_ENV, cwd = repoRoot): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve(ms);
      else reject(new Error(`${args.slice(1).join(' ')} exited ${code}: ${err.trim()}`));
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

const cli = join(repoRoot, 'bin', 'cgw-batch.js');

/** One round: bare node, --help, then plan and apply of a fresh 4-row manifest against a fresh emulator. */
async function round(samples: StartFigures['samples']): Promise<void> {
  samples.nodeBare.push(await timed(['-e', '0']));
  samples.help.push(await timed([cli, '--help']));
  const emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], port: 0, seed: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'cgw-bench-start-'));
  try {
    const csv = join(dir, 'sites.csv');
    writeFileSync(csv, benchCsv(4, BENCH_REGIONS.slice(0, 4)));
    samples.plan.push(await timed([cli, 'plan', csv, '--endpoint', emu.url], EMULATOR_CLI_ENV, dir));
    samples.apply.push(await timed([cli, 'apply', csv, '--endpoint', emu.url, '--yes', '--quiet'], EMULATOR_CLI_ENV, dir));
  } finally {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startFigures(runs = process.env.BENCH_QUICK === '1' ? 3 : 5): Promise<StartFigures> {
  const loadAverage = Number(loadavg()[0]!.toFixed(2));
  const samples: StartFigures['samples'] = { help: [], plan: [], apply: [], nodeBare: [] };
  // Rounds interleave the three commands, so a burst of load on the machine touches all of them alike.
  for (let i = 0; i < runs; i++) await round(samples);
  const helpMs = Math.round(median(samples.help));
  const planMs = Math.round(median(samples.plan));
  const applyMs = Math.round(median(samples.apply));
  const rounded = (xs: number[]) => xs.map((x) => Math.round(x));
  return {
    runs,
    helpMs,
    planMs,
    applyMs,
    nodeBareMs: Math.round(median(samples.nodeBare)),
    samples: { help: rounded(samples.help), plan: rounded(samples.plan), apply: rounded(samples.apply), nodeBare: rounded(samples.nodeBare) },
    targetsMs: START_TARGETS_MS,
    meets: { help: helpMs <= START_TARGETS_MS.help, plan: planMs <= START_TARGETS_MS.plan, apply: applyMs <= START_TARGETS_MS.apply },
    loadAverage,
  };
}

export function startLines(f: StartFigures): string[] {
  const row = (name: string, ms: number, target: number) => `  ${name.padEnd(34)} ${String(ms).padStart(6)} ms   target <= ${target} ms ${ms <= target ? 'ok' : 'OVER'}`;
  return [
    `start-up (whole process, median of ${f.runs}; bare node ${f.nodeBareMs} ms; load average ${f.loadAverage}):`,
    row('cgw-batch --help', f.helpMs, f.targetsMs.help),
    row('plan (online, 4 regions)', f.planMs, f.targetsMs.plan),
    row('apply --yes (4 rows, 4 regions)', f.applyMs, f.targetsMs.apply),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const f = await startFigures();
  for (const line of startLines(f)) console.log(line);
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'start.json'), JSON.stringify({ at: new Date().toISOString(), node: process.version, ...f }, null, 2) + '\n');
}
