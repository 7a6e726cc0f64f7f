// Runs the built CLI for corpus tests, bounded by the CPU time it uses (a loaded machine slows it, a hang in a loop
// burns CPU) and by a long stretch without any CPU (a blocked read), never by how fast this machine is.
import { spawn } from 'node:child_process';
import type { CliResult } from '../helpers/cli.js';
import { hermeticEnv } from '../helpers/env.js';
import { cliBin } from '../helpers/paths.js';
import { watchCpu } from '../load/cpu.js';

/** One CLI run on a bad manifest needs well under a second of CPU; 60 s means it is stuck. */
export const CLI_CPU_MS = 60_000;

export function runCliBounded(args: string[], opts: { env?: Record<string, string>; cwd?: string; cpuMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, ...args], {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...hermeticEnv, CI: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const watch = watchCpu(child, { cpuMs: opts.cpuMs ?? CLI_CPU_MS });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      watch.stop();
      if (watch.killed) reject(new Error(`cgw-batch ${args.join(' ')} was stopped: it ${watch.killed}\nstdout: ${stdout.slice(0, 2000)}\nstderr: ${stderr.slice(0, 2000)}`));
      else resolve({ code, signal, stdout, stderr });
    });
  });
}
