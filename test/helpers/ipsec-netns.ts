// A pair of strongSwan daemons in two network namespaces joined by a veth pair (ipsec-netns.md): names unique per
// process, a watchdog per daemon that kills it and removes its namespace if this process dies, and cleanup by pid.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  watchdog: ChildProcess;
  vici: Vici;
}

export interface Pair {
  tag: string;
  branch: Daemon;
  alibaba: Daemon;
}

/** Our charon daemons (pid -> their strongswan.conf), watchdog shells and namespaces still alive. */
const live = { charons: new Map<number, string>(), watchdogs: new Set<ChildProcess>(), namespaces: new Set<string>() };
let exitHookInstalled = false;

/**
 * Signals `pid` only while it is still the charon started with `conf`: pids are reused (pid_max may be 32768 on a
 * busy machine), and charon is not our child, so its pid alone proves nothing once it has exited.
 */
function signalCharon(pid: number, conf: string, signal: NodeJS.Signals | 0): boolean {
  try {
    if (!readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`STRONGSWAN_CONF=${conf}`)) return false;
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when after() hooks never ran: synchronous, each daemon checked before it is signalled.
  process.once('exit', () => {
    for (const [pid, conf] of live.charons) signalCharon(pid, conf, 'SIGKILL');
    for (const w of live.watchdogs) w.kill('SIGKILL');
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
    if (!existsSync(`/proc/${pid}`)) throw new Error(`charon (pid ${pid}) exited before opening ${path}`);
    if (Date.now() - start > boundMs) throw new Error(`charon did not open ${path} within ${boundMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startDaemon(side: 'branch' | 'alibaba', ns: string, dir: string, includes: string[], orphanDir: string): Promise<Daemon> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const conf = join(dir, 'strongswan.conf');
  writeFileSync(conf, strongswanConf(dir, side, includes), { mode: 0o600 });
  // The watchdog shell prints charon's pid, then polls this process: if it dies (even by SIGKILL), the shell kills
  // charon and removes the namespace's name. It signals charon only while charon is still its own child.
  const script = [
    `STRONGSWAN_CONF='${conf}' ${CHARON} >/dev/null 2>&1 & c=$!`,
    'echo $c',
    'ours() { [ "$(cut -d" " -f4 /proc/$c/stat 2>/dev/null)" = "$$" ]; }',
    'trap \'ours && kill $c 2>/dev/null; exit 0\' TERM INT',
    `while kill -0 ${process.pid} 2>/dev/null && ours; do sleep 1; done`,
    'if ours; then kill $c 2>/dev/null; sleep 2; ours && kill -9 $c 2>/dev/null; fi',
    `ip netns del ${ns} 2>/dev/null`,
    // Only when this process died: its temp folder (rendered configs, logs) goes too.
    `kill -0 ${process.pid} 2>/dev/null || rm -rf '${orphanDir}'`,
  ].join('\n');
  const sh = spawn('ip', ['netns', 'exec', ns, 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  sh.unref();
  if (sh.pid === undefined) throw new Error('could not start the watchdog shell');
  live.watchdogs.add(sh);
  sh.once('exit', () => live.watchdogs.delete(sh));
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
  live.charons.set(pid, conf);
  const vici = await waitForVici(join(dir, 'charon.vici'), pid, 30_000);
  return { side, ns, dir, conf, pid, watchdog: sh, vici };
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

function mustBeTempDir(dir: string): string {
  if (!/^\/[A-Za-z0-9_./-]*\/cgw-ipsec-[A-Za-z0-9]{6}$/.test(dir)) throw new Error(`not a test temp folder: ${dir}`);
  return dir;
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
    startDaemon('branch', brNs, join(dir, `pair${index}-branch`), spec.branchIncludes, mustBeTempDir(dir)),
    startDaemon('alibaba', aliNs, join(dir, `pair${index}-alibaba`), [], mustBeTempDir(dir)),
  ]);
  // kernel-libipsec installs its own routes into table 220 (a default route for 0.0.0.0/0 selectors, whatever
  // install_routes says), which would swallow the IKE packets of every other set in the namespace. Without the rule
  // that consults table 220, only the test's own /32 routes send traffic into ipsec0.
  for (const ns of [brNs, aliNs]) await run('ip', ['-n', ns, 'rule', 'del', 'table', '220']);
  return { tag, branch, alibaba };
}

export interface BranchSpec {
  /** The customer gateway addresses this branch owns (on its veth end, /32 each). */
  customerIps: string[];
  /** The VPN gateway addresses to reach over the veth (on-link /32 routes). */
  gatewayIps: string[];
  /** Branch LAN hosts (/32 on lo). */
  inner: string[];
  /** strongswan.conf snippets to include (rendered files). */
  includes: string[];
}

/**
 * A branch strongSwan in a namespace of its own, attached to an `emulator --ipsec` namespace as README says: a veth
 * pair whose inner end joins the emulator's bridge. Stopped with stopBranch (the veth goes with the namespaces).
 */
export async function attachBranch(dir: string, emulator: { namespace: string; bridge: string }, spec: BranchSpec): Promise<Daemon> {
  installExitHook();
  const tag = uniqueTag();
  const ns = `cgwd-${tag}-br`;
  const outer = `cb${tag}`.slice(0, 15);
  const inner = `cg${tag}`.slice(0, 15);
  await must('ip', ['netns', 'add', ns]);
  live.namespaces.add(ns);
  await must('ip', ['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner, 'netns', emulator.namespace]);
  await must('ip', ['-n', emulator.namespace, 'link', 'set', inner, 'master', emulator.bridge, 'up']);
  await must('ip', ['link', 'set', outer, 'netns', ns]);
  await must(
    'ip',
    ['-n', ns, '-batch', '-'],
    [
      'link set lo up',
      `link set ${outer} up`,
      ...spec.customerIps.map((a) => `addr add ${a}/32 dev ${outer}`),
      ...spec.gatewayIps.map((a) => `route add ${a}/32 dev ${outer}`),
      ...spec.inner.map((a) => `addr add ${a}/32 dev lo`),
    ].join('\n') + '\n',
  );
  const d = await startDaemon('branch', ns, join(dir, `branch-${tag}`), spec.includes, mustBeTempDir(dir));
  await run('ip', ['-n', ns, 'rule', 'del', 'table', '220']);
  return d;
}

/** Stops a branch daemon and removes its namespace (its veth pair with it). Safe to call twice. */
export async function stopBranch(d: Daemon): Promise<void> {
  d.vici.close();
  signalCharon(d.pid, d.conf, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (signalCharon(d.pid, d.conf, 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  signalCharon(d.pid, d.conf, 'SIGKILL');
  live.charons.delete(d.pid);
  d.watchdog.kill('SIGTERM');
  await run('ip', ['netns', 'del', d.ns]);
  live.namespaces.delete(d.ns);
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

/** Stops the daemons (SIGTERM, then SIGKILL), their watchdogs, and removes the namespaces. Safe to call twice. */
export async function stopPair(p: Pair): Promise<void> {
  const daemons = [p.branch, p.alibaba];
  for (const d of daemons) {
    d.vici.close();
    signalCharon(d.pid, d.conf, 'SIGTERM');
  }
  // A graceful stop deletes the SAs; bounded, then forced.
  const deadline = Date.now() + 5000;
  while (daemons.some((d) => signalCharon(d.pid, d.conf, 0)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const d of daemons) {
    signalCharon(d.pid, d.conf, 'SIGKILL');
    live.charons.delete(d.pid);
    d.watchdog.kill('SIGTERM');
    await run('ip', ['netns', 'del', d.ns]);
    live.namespaces.delete(d.ns);
  }
}

/** Kills and removes what startPair left behind when it failed half-way. */
export async function stopLeftovers(): Promise<void> {
  for (const [pid, conf] of live.charons) signalCharon(pid, conf, 'SIGKILL');
  live.charons.clear();
  for (const w of live.watchdogs) w.kill('SIGKILL');
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
