// `cgw-batch emulator --ipsec` as a child process: its banner read (URL, admin token, namespace, bridge), stopped by a
// signal, and what it leaves behind (namespace, daemon, folder) checked by name.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { hermeticEnv } from './env.js';
import { cliBin } from './paths.js';

export interface IpsecEmulator {
  child: ChildProcess;
  url: string;
  port: number;
  adminToken: string;
  namespace: string;
  bridge: string;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the emulator CLI with `--ipsec` and these flags; resolves once its banner names the namespace. */
export async function startIpsecEmulator(flags: string[], boundMs = 60_000): Promise<IpsecEmulator> {
  const child = spawn(process.execPath, [cliBin, 'emulator', '--ipsec', '--port', '0', ...flags], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...hermeticEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + boundMs;
  let gone = false;
  void exited.then(() => (gone = true));
  while (!/ipsec: attach a branch/.test(out)) {
    if (gone) throw new Error(`emulator --ipsec exited: ${err.trim()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`emulator --ipsec printed no banner within ${boundMs} ms: ${out} ${err}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const url = /^emulator listening on (http:\/\/\S+)$/m.exec(out)?.[1] ?? '';
  const adminToken = /^admin token: (\S+)$/m.exec(out)?.[1] ?? '';
  const ns = /^ipsec: responders in network namespace (\S+), VPN gateway addresses on its bridge (\S+):/m.exec(out);
  return {
    child,
    url,
    port: Number(new URL(url).port),
    adminToken,
    namespace: ns?.[1] ?? '',
    bridge: ns?.[2] ?? '',
    stdout: () => out,
    stderr: () => err,
    exited,
  };
}

/** GET /__emulator/ipsec: the responder's peers, SAs and statuses. */
export async function ipsecView(emu: IpsecEmulator): Promise<any> {
  const r = await fetch(`${emu.url}/__emulator/ipsec`, { headers: { authorization: `Bearer ${emu.adminToken}` } });
  return r.json();
}

export function namespaceExists(ns: string): boolean {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout.split('\n').some((l) => l.split(' ')[0] === ns);
}

/** The pids of processes started with this STRONGSWAN_CONF (the emulator's daemon; its folder is in GET /__emulator/ipsec). */
export function processesWithConf(conf: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`STRONGSWAN_CONF=${conf}`)) out.push(Number(pid));
    } catch {
      // gone, or not readable
    }
  }
  return out;
}

/** Polls until `done` holds or `boundMs` passes; returns whether it held. */
export async function eventually(done: () => boolean | Promise<boolean>, boundMs: number, everyMs = 200): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

