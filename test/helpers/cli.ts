// Spawns the built CLI (bin/cgw-batch.js -> dist/src/cli.js) with a hermetic environment; returns its output and exit code.
import { spawn } from 'node:child_process';
import { cliBin } from './paths.js';
import { hermeticEnv } from './env.js';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  opts: {
    env?: Record<string, string>;
    cwd?: string;
    input?: string;
    onStdout?: (chunk: string, child: import('node:child_process').ChildProcess) => void;
    timeoutMs?: number;
    /** Polled every 10 ms while the process runs: true kills it with SIGKILL (a crash at a chosen moment). */
    killWhen?: () => boolean;
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, ...args], {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...hermeticEnv, CI: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      stdout += d;
      opts.onStdout?.(d, child);
    });
    child.stderr.on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cgw-batch ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    const poll = opts.killWhen
      ? setInterval(() => {
          if (opts.killWhen?.()) child.kill('SIGKILL');
        }, 10)
      : undefined;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      resolve({ code, signal, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}
