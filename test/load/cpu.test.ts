// The CPU-time watchdog used by the bounded tests: it stops a spinning child by its CPU time and a blocked one by a
// stretch without CPU, and leaves a child that finishes alone.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { cpuMsOf, watchCpu } from './cpu.js';

const canMeasure = cpuMsOf(process.pid) !== undefined;

async function run(code: string, limits: { cpuMs: number; idleMs?: number }): Promise<{ killed: string | undefined; signal: string | null }> {
  const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  const w = watchCpu(child, limits);
  const [, signal] = (await once(child, 'exit')) as [number | null, string | null];
  w.stop();
  return { killed: w.killed, signal };
}

test('a child spinning in a loop is stopped once it used its CPU time; a blocked child after a stretch without CPU', { skip: !canMeasure && 'no /proc' }, async () => {
  const spin = await run('for (;;) {}', { cpuMs: 1_000 });
  assert.match(spin.killed ?? '', /used more than 1000 ms of CPU/);
  assert.equal(spin.signal, 'SIGKILL');
  const blocked = await run('setTimeout(() => {}, 1e9)', { cpuMs: 60_000, idleMs: 2_000 });
  assert.match(blocked.killed ?? '', /used no CPU for 2000 ms/);
  const quick = await run('let x = 0; for (let i = 0; i < 1e6; i++) x += i;', { cpuMs: 60_000 });
  assert.equal(quick.killed, undefined);
  assert.ok((cpuMsOf(process.pid) ?? 0) > 0);
});
