// Bounds for child processes by the CPU time they use, not the wall clock: a loaded machine slows a child down but
// does not make it burn more CPU, while a quadratic scan or a hang in a loop burns CPU whatever the load.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Linux reports CPU time in clock ticks of 1/100 s (USER_HZ) in /proc/<pid>/stat. */
const TICK_MS = 10;

/** User + system CPU time of a live process in ms, or undefined when /proc cannot tell (not Linux, or it exited). */
export function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    return Number.isFinite(ticks) ? ticks * TICK_MS : undefined;
  } catch {
    return undefined;
  }
}

export interface Watch {
  /** Why the child was killed, if it was. */
  readonly killed: string | undefined;
  stop(): void;
}

/**
 * Kills `child` (SIGKILL) once it has used more than `cpuMs` of CPU, or has used none at all for `idleMs` of wall
 * clock (blocked: a runnable process gets some CPU within seconds even on a loaded machine). Where /proc is missing,
 * only the idle rule's wall clock applies, scaled up by 10.
 */
export function watchCpu(child: ChildProcess, opts: { cpuMs: number; idleMs?: number }): Watch {
  const idleMs = opts.idleMs ?? 120_000;
  let killed: string | undefined;
  let last = -1;
  let lastChange = Date.now();
  const started = Date.now();
  const kill = (why: string) => {
    if (killed !== undefined) return;
    killed = why;
    child.kill('SIGKILL');
  };
  const timer = setInterval(() => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const cpu = cpuMsOf(child.pid);
    const now = Date.now();
    if (cpu === undefined) {
      if (now - started > idleMs * 10) kill(`no /proc and still running after ${idleMs * 10} ms`);
      return;
    }
    if (cpu > opts.cpuMs) kill(`used more than ${opts.cpuMs} ms of CPU`);
    else if (cpu !== last) {
      last = cpu;
      lastChange = now;
    } else if (now - lastChange > idleMs) kill(`used no CPU for ${idleMs} ms (blocked)`);
  }, 200);
  timer.unref();
  child.once('exit', () => clearInterval(timer));
  return {
    get killed() {
      return killed;
    },
    stop: () => clearInterval(timer),
  };
}
