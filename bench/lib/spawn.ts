// Runs the built CLI as a child process and collects its NDJSON events with arrival times.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DEFAULT_ACCOUNT } from '../../src/emulator/index.js';
import { repoRoot } from './paths.js';

/** The environment every benchmarked CLI run gets: the emulator's account, the SDK pinned to env credentials, no colour. */
export const EMULATOR_CLI_ENV: Record<string, string> = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret,
  ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
  ALIBABA_CLOUD_CLI_PROFILE_DISABLED: 'true',
  NO_COLOR: '1',
  CI: '1',
};

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  wallMs: number;
  stdout: string;
  stderr: string;
  /** ms since spawn at which each row finished (from `row:done` events), and the row's status. */
  done: Array<{ t: number; status: string }>;
  events: Array<Record<string, unknown>>;
  /** ms since spawn at which each event line arrived (parallel to `events`). */
  eventTimes: number[];
  /** ms since spawn at which SIGINT was sent (with `interruptAfterMs`). */
  interruptedAt?: number;
}

export function runCli(
  args: string[],
  env: Record<string, string>,
  opts: { killAfterMs?: number; cwd?: string; interruptAfterMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'cgw-batch.js'), ...args], {
      cwd: opts.cwd ?? repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let buf = '';
    const done: CliRun['done'] = [];
    const events: CliRun['events'] = [];
    const eventTimes: number[] = [];
    let interruptedAt: number | undefined;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        try {
          const e = JSON.parse(line) as Record<string, any>;
          events.push(e);
          eventTimes.push(performance.now() - started);
          if (e.type === 'row:done') done.push({ t: performance.now() - started, status: String(e.result?.status) });
        } catch {
          // not an event line
        }
      }
    });
    child.stderr.on('data', (d: string) => (err += d));
    let timer: NodeJS.Timeout | undefined;
    if (opts.killAfterMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs);
    let interrupt: NodeJS.Timeout | undefined;
    if (opts.interruptAfterMs !== undefined) {
      interrupt = setTimeout(() => {
        interruptedAt = performance.now() - started;
        child.kill('SIGINT');
      }, opts.interruptAfterMs);
    }
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (interrupt) clearTimeout(interrupt);
      const run: CliRun = { code, signal, wallMs: performance.now() - started, stdout: out, stderr: err, done, events, eventTimes };
      if (interruptedAt !== undefined) run.interruptedAt = interruptedAt;
      resolve(run);
    });
  });
}
