// A pair of strongSwan daemons in two network namespaces joined by a veth pair (ipsec-netns.md): names unique per
// process, a watchdog per daemon that kills it and removes its namespace if this process dies, and cleanup by pid.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Vici, type ViciMessage } from './ipsec-vici.js';

export const CHARON = '/usr/sbin/charon-systemd';
export const SWANCTL = '/usr/sbin/swanctl';

/** Why the negotiation tests cannot run here, or undefined when they can. */
export function ipsecSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root (network namespaces)';
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun (kernel-libipsec does ESP over a TUN device)';
  for (const bin of [CHARON, SWANCTL, '/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so']) {
    if (!existsSync(bin)) return `needs strongSwan (${bin} missing: apt-get install strongswan-swanctl charon-systemd libcharon-extra-plugins libstrongswan-extra-plugins)`;
  }
  const ip = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (ip.status !== 0) return 'needs iproute2 with netns support';
  return undefined;
}

/** Retransmission settings of both daemons: an initiator gives up after their sum (2 + 3 + 4.5 + 6.75 s). */
export const RETRANSMIT = { tries: 3, timeout: 2, base: 1.5 };
export function giveUpSeconds(): number {
  let total = 0;
  for (let i = 0; i <= RETRANSMIT.tries; i++) total += RETRANSMIT.timeout * RETRANSMIT.base ** i;
  return total;
}

export interface LogLine {
  side: 'branch' | 'alibaba';
  ikeName?: string;
  ikeId?: string;
  msg: string;
}

export interface Daemon {
  side: 'branch' | 'alibaba';
  ns: string;
  dir: string;
  conf: string;
  pid: number;
  watchdog: number;
  vici: Vici;
}

export interface Pair {
  tag: string;
  branch: Daemon;
  alibaba: Daemon;
}

const live = { pids: new Set<number>(), namespaces: new Set<string>() };
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when after() hooks never ran: synchronous, by pid and by name only.
  process.once('exit', () => {
    for (const pid of live.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const ns of live.namespaces) spawnSync('ip', ['netns', 'del', ns]);
  });
}

export function run(cmd: string, args: string[], input?: string, env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: env ?? process.env });
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    if (input !== undefined) {
      p.stdin!.on('error', () => undefined); // the command may exit before reading all of it; its status tells
      p.stdin!.end(input);
    }
  });
}

async function must(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await run(cmd, args, input);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** A short unique tag per process and call: namespace and interface names stay within IFNAMSIZ. */
export function uniqueTag(): string {
  return `${(process.pid % 46656).toString(36)}${randomBytes(2).toString('hex')}`;
}

function strongswanConf(dir: string, side: 'branch' | 'alibaba', includes: string[]): string {
  return [
    'charon-systemd {',
    '  load = random nonce openssl pem pkcs1 x509 revocation constraints pubkey kdf socket-default kernel-libipsec kernel-netlink vici updown',
    // The test routes each inner address into ipsec0 itself: installed routes for 0.0.0.0/0 would capture IKE.
    '  install_routes = no',
    `  retransmit_tries = ${RETRANSMIT.tries}`,
    `  retransmit_timeout = ${RETRANSMIT.timeout}`,
    `  retransmit_base = ${RETRANSMIT.base}`,
    ...(side === 'alibaba' ? ['  i_dont_care_about_security_and_use_aggressive_mode_psk = yes'] : []),
    `  plugins { vici { socket = unix://${dir}/charon.vici } }`,
    `  filelog { f { path = ${dir}/charon.log`,
    '    default = 1',
    '    time_format = %T',
    '  } }',
    '  journal { default = -1 }',
    '}',
    `swanctl { socket = unix://${dir}/charon.vici }`,
    ...includes.map((f) => `include ${f}`),
    '',
  ].join('\n');
}

async function waitForVici(path: string, pid: number, boundMs: number): Promise<Vici> {
  const start = Date.now();
  for (;;) {
    if (existsSync(path)) {
      try {
        return await Vici.open(path);
      } catch {
        // not listening yet
      }
    }
    try {
      process.kill(pid, 0);
    } catch {
      throw new Error(`charon (pid ${pid}) exited before opening ${path}`);
    }
    if (Date.now() - start > boundMs) throw new Error(`charon did not open ${path} within ${boundMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startDaemon(side: 'branch' | 'alibaba', ns: string, dir: string, includes: string[]): Promise<Daemon> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const conf = join(dir, 'strongswan.conf');
  writeFileSync(conf, strongswanConf(dir, side, includes), { mode: 0o600 });
  // The watchdog shell prints charon's pid, then polls this process: if it dies (even by SIGKILL), the shell kills
  // charon and removes the namespace's name.
  const script = [
    `STRONGSWAN_CONF='${conf}' ${CHARON} >/dev/null 2>&1 & c=$!`,
    'echo $c',
    'trap \'kill $c 2>/dev/null; exit 0\' TERM INT',
    `while kill -0 ${process.pid} 2>/dev/null && kill -0 $c 2>/dev/null; do sleep 1; done`,
    'kill $c 2>/dev/null; sleep 2; kill -9 $c 2>/dev/null',
    `ip netns del ${ns} 2>/dev/null`,
  ].join('\n');
  const sh = spawn('ip', ['netns', 'exec', ns, 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  sh.unref();
  if (sh.pid === undefined) throw new Error('could not start the watchdog shell');
  live.pids.add(sh.pid);
  const pid = await new Promise<number>((resolve, reject) => {
    let out = '';
    sh.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    sh.once('exit', () => reject(new Error('the watchdog shell exited before starting charon')));
  });
  sh.stdout!.destroy();
  live.pids.add(pid);
  const vici = await waitForVici(join(dir, 'charon.vici'), pid, 30_000);
  return { side, ns, dir, conf, pid, watchdog: sh.pid, vici };
}

export interface PairSpec {
  /** Public addresses on each veth end (a shared /15 keeps them on-link). */
  branchPublic: string[];
  alibabaPublic: string[];
  /** Inner hosts (/32 on lo): branch LAN and VPC addresses, BGP tunnel addresses. */
  branchInner: string[];
  alibabaInner: string[];
  /** strongswan.conf snippets to include in the branch daemon's configuration (rendered files). */
  branchIncludes: string[];
}

/** Two namespaces, a veth pair with every address, and a daemon in each. */
export async function startPair(dir: string, index: number, spec: PairSpec): Promise<Pair> {
  installExitHook();
  const tag = `${uniqueTag()}${index}`;
  const brNs = `cgwd-${tag}-br`;
  const aliNs = `cgwd-${tag}-ali`;
  const vb = `cb${tag}`.slice(0, 15);
  const va = `ca${tag}`.slice(0, 15);
  for (const ns of [brNs, aliNs]) {
    await must('ip', ['netns', 'add', ns]);
    live.namespaces.add(ns);
  }
  await must('ip', ['link', 'add', vb, 'type', 'veth', 'peer', 'name', va]);
  await must('ip', ['link', 'set', vb, 'netns', brNs]);
  await must('ip', ['link', 'set', va, 'netns', aliNs]);
  const batch = (dev: string, pub: string[], inner: string[]) =>
    ['link set lo up', `link set ${dev} up`, ...pub.map((a) => `addr add ${a}/15 dev ${dev}`), ...inner.map((a) => `addr add ${a}/32 dev lo`)].join('\n') + '\n';
  await must('ip', ['-n', brNs, '-batch', '-'], batch(vb, spec.branchPublic, spec.branchInner));
  await must('ip', ['-n', aliNs, '-batch', '-'], batch(va, spec.alibabaPublic, spec.alibabaInner));
  const [branch, alibaba] = await Promise.all([
    startDaemon('branch', brNs, join(dir, `pair${index}-branch`), spec.branchIncludes),
    startDaemon('alibaba', aliNs, join(dir, `pair${index}-alibaba`), []),
  ]);
  // kernel-libipsec installs its own routes into table 220 (a default route for 0.0.0.0/0 selectors, whatever
  // install_routes says), which would swallow the IKE packets of every other set in the namespace. Without the rule
  // that consults table 220, only the test's own /32 routes send traffic into ipsec0.
  for (const ns of [brNs, aliNs]) await run('ip', ['-n', ns, 'rule', 'del', 'table', '220']);
  return { tag, branch, alibaba };
}

/** swanctl --load-all of one file into a daemon (the real parser of the rendered syntax). */
export async function loadAll(d: Daemon, file: string): Promise<string> {
  const r = await run(SWANCTL, ['--load-all', '--noprompt', '--file', file], undefined, { ...process.env, STRONGSWAN_CONF: d.conf });
  if (r.code !== 0) throw new Error(`swanctl --load-all --file ${file} failed (${r.code}): ${r.stdout.trim()} ${r.stderr.trim()}`);
  return r.stdout;
}

/** Subscribes to a daemon's log events; each line carries the IKE_SA it concerns. */
export async function collectLogs(d: Daemon, sink: LogLine[]): Promise<void> {
  await d.vici.subscribe('log', (m: ViciMessage) => {
    const line: LogLine = { side: d.side, msg: String(m['msg'] ?? '') };
    if (typeof m['ikesa-name'] === 'string') line.ikeName = m['ikesa-name'];
    if (typeof m['ikesa-uniqueid'] === 'string') line.ikeId = m['ikesa-uniqueid'];
    sink.push(line);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops the daemons (SIGTERM, then SIGKILL), their watchdogs, and removes the namespaces. Safe to call twice. */
export async function stopPair(p: Pair): Promise<void> {
  for (const d of [p.branch, p.alibaba]) {
    d.vici.close();
    for (const pid of [d.pid, d.watchdog]) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone
      }
    }
  }
  const deadline = Date.now() + 5000;
  while ([p.branch.pid, p.alibaba.pid].some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const d of [p.branch, p.alibaba]) {
    for (const pid of [d.pid, d.watchdog]) {
      if (alive(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      live.pids.delete(pid);
    }
    await run('ip', ['netns', 'del', d.ns]);
    live.namespaces.delete(d.ns);
  }
}

/** Kills and removes what startPair left behind when it failed half-way. */
export async function stopLeftovers(): Promise<void> {
  for (const pid of live.pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  live.pids.clear();
  for (const ns of live.namespaces) await run('ip', ['netns', 'del', ns]);
  live.namespaces.clear();
}

/** `ip -n ns -batch -` with the given lines. */
export function ipBatch(ns: string, lines: string[]): Promise<string> {
  return must('ip', ['-n', ns, '-batch', '-'], lines.join('\n') + '\n');
}

/** One ping from `src` to `dst` inside a namespace; true when a reply came back. */
export async function ping(ns: string, src: string, dst: string): Promise<boolean> {
  const r = await run('ip', ['netns', 'exec', ns, 'ping', '-n', '-q', '-c', '2', '-i', '0.2', '-W', '5', '-I', src, dst]);
  return r.code === 0;
}
