// Loads a manifest in a child process under a heap cap and a CPU-time bound, and returns what the child reports:
// rows or the error, plus its CPU time and peak RSS from its own rusage. Nothing here depends on machine speed.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { watchCpu } from './cpu.js';

export interface ChildLoad {
  rows?: number;
  fields?: Array<Record<string, string>>;
  issues?: string[];
  error?: string;
  cpuMs: number;
  maxRssMb: number;
}

const entry = fileURLToPath(new URL('./child-load.js', import.meta.url));

export function loadInChild(file: string, opts: { heapMb: number; cpuMs: number; sheet?: string }): Promise<ChildLoad> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${opts.heapMb}`, entry, file, ...(opts.sheet ? [opts.sheet] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    const watch = watchCpu(child, { cpuMs: opts.cpuMs });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d.slice(0, 4000)));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      watch.stop();
      if (watch.killed) return reject(new Error(`loading ${file} was stopped: it ${watch.killed}`));
      if (code !== 0) return reject(new Error(`the loader child exited with ${code ?? signal} (out of memory under a ${opts.heapMb} MB heap?)\n${stderr.slice(-1500)}`));
      try {
        resolve(JSON.parse(stdout) as ChildLoad);
      } catch {
        reject(new Error(`unreadable child output: ${stdout.slice(0, 500)} ${stderr.slice(0, 500)}`));
      }
    });
  });
}
