// Where the emulator's IPsec responders run: one network namespace per emulator process (names unique per process),
// a bridge in it holding every VPN gateway address, one strongSwan daemon (charon-systemd, ESP in user space through
// kernel-libipsec), and a watchdog that removes it all if the emulator dies without closing (SIGKILL, a crash).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Vici } from './vici.js';

export const CHARON = '/usr/sbin/charon-systemd';
const LIBIPSEC = '/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so';
/** The bridge inside the namespace; its name is the namespace's own, so it needs no uniqueness. */
export const BRIDGE = 'br0';

/** Why `--ipsec` cannot run on this machine, or undefined when it can. */
export function ipsecUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux (network namespaces)';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root (it creates a network namespace)';
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun (strongSwan does ESP in user space over a TUN device)';
  for (const f of [CHARON, LIBIPSEC]) {
    if (!existsSync(f)) return `needs strongSwan (${f} is missing: apt-get install charon-systemd libcharon-extra-plugins libstrongswan-extra-plugins)`;
  }
  if (spawnSync('ip', ['netns', 'list'], { stdio: 'ignore' }).status !== 0) return 'needs iproute2 with network namespace support (`ip netns`)';
  return undefined;
}

/** Retransmissions of the responder: a peer that stopped answering is given up after 2 + 3 + 4.5 + 6.75 s. */
const RETRANSMIT = { tries: 3, timeout: 2, base: 1.5 };

function strongswanConf(dir: string): string {
  return [
    'charon-systemd {',
    '  load = random nonce openssl pem pkcs1 x509 revocation constraints pubkey kdf socket-default kernel-libipsec kernel-netlink vici',
    // Selectors of 0.0.0.0/0 would route the IKE packets of every other peer into the tunnel: no routes at all.
    '  install_routes = no',
    `  retransmit_tries = ${RETRANSMIT.tries}`,
    `  retransmit_timeout = ${RETRANSMIT.timeout}`,
    `  retransmit_base = ${RETRANSMIT.base}`,
    // The gateway accepts IKEv1 aggressive mode with a PSK (IkeMode aggressive), as Alibaba Cloud's does.
    '  i_dont_care_about_security_and_use_aggressive_mode_psk = yes',
    `  plugins { vici { socket = unix://${dir}/charon.vici } }`,
    // Level 1 logs no keys; the file stays in the 0700 folder and goes with it.
    `  filelog { f { path = ${dir}/charon.log`,
    '    default = 1',
    '    time_format = %T',
    '  } }',
    '  journal { default = -1 }',
    '}',
    '',
  ].join('\n');
}

function run(args: string[], input?: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('ip', args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', (e) => resolve({ code: -1, stderr: e.message }));
    p.on('close', (code) => resolve({ code: code ?? -1, stderr }));
    if (input !== undefined) {
      p.stdin!.on('error', () => undefined);
      p.stdin!.end(input);
    }
  });
}

async function ip(args: string[], input?: string): Promise<void> {
  const r = await run(args, input);
  if (r.code !== 0) throw new Error(`ip ${args.slice(0, 4).join(' ')} failed: ${r.stderr.trim().slice(0, 200)}`);
}

/**
 * Signals `pid` only while it is still the charon started with `conf`: charon is the watchdog shell's child, not
 * ours, and pids are reused, so its pid alone proves nothing once it has exited.
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface IpsecHost {
  /** The network namespace: attach a branch with a veth pair whose inner end joins BRIDGE there. */
  namespace: string;
  /** The daemon's folder (0700: strongswan.conf, the vici socket, charon.log). */
  dir: string;
  vici: Vici;
  /** Makes exactly these the gateway addresses on the bridge and the VPC addresses on lo (/32 each). */
  setAddresses(gateway: string[], vpc: string[]): Promise<void>;
  close(): Promise<void>;
}

interface Live {
  pid: number;
  conf: string;
  ns: string;
  dir: string;
  watchdog: ChildProcess;
}

/** Everything still alive, for the synchronous last resort on process exit. */
const live = new Set<Live>();
let exitHook = false;

function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  // An emulator that exits without close() (an uncaught error) still leaves nothing behind; SIGKILL is the watchdog's.
  process.once('exit', () => {
    for (const h of live) {
      signalCharon(h.pid, h.conf, 'SIGKILL');
      h.watchdog.kill('SIGKILL');
      spawnSync('ip', ['netns', 'del', h.ns], { stdio: 'ignore' });
      rmSync(h.dir, { recursive: true, force: true });
    }
  });
}

/** A short tag unique per process and call: namespace names stay readable and well within limits. */
function uniqueTag(): string {
  return `${process.pid.toString(36)}${randomBytes(3).toString('hex')}`;
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
    if (!existsSync(`/proc/${pid}`)) throw new Error('the strongSwan daemon exited at start (see its log)');
    if (Date.now() - start > boundMs) throw new Error(`the strongSwan daemon did not open its vici socket within ${boundMs / 1000} s`);
    await sleep(50);
  }
}

/** Creates the namespace and its bridge, starts the daemon under a watchdog, and opens its vici socket. */
export async function startIpsecHost(opts: { startTimeoutMs?: number } = {}): Promise<IpsecHost> {
  const why = ipsecUnavailable();
  if (why) throw new Error(`--ipsec ${why}`);
  installExitHook();
  const ns = `cgw-emu-${uniqueTag()}`;
  const dir = mkdtempSync(join(tmpdir(), 'cgw-emu-ipsec-'));
  const conf = join(dir, 'strongswan.conf');
  writeFileSync(conf, strongswanConf(dir), { mode: 0o600 });
  let watchdog: ChildProcess | undefined;
  let entry: Live | undefined;
  const held = { [BRIDGE]: new Set<string>(), lo: new Set<string>() };
  const cleanup = async (): Promise<void> => {
    if (entry) {
      signalCharon(entry.pid, conf, 'SIGTERM');
      const deadline = Date.now() + 3000;
      while (signalCharon(entry.pid, conf, 0) && Date.now() < deadline) await sleep(50);
      signalCharon(entry.pid, conf, 'SIGKILL');
      live.delete(entry);
    }
    watchdog?.kill('SIGTERM');
    await run(['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await ip(['netns', 'add', ns]);
    // The bridge holds the gateway addresses; every attached branch is on it. Anything not local goes out over it
    // (on-link: a branch answers ARP for its customer gateway address).
    await ip(['-n', ns, '-batch', '-'], ['link set lo up', `link add ${BRIDGE} type bridge`, `link set ${BRIDGE} up`, `route add default dev ${BRIDGE}`].join('\n') + '\n');
    // The watchdog shell starts charon, prints its pid, then polls this process: when it is gone (even by SIGKILL) it
    // stops charon, removes the namespace and the folder. It signals charon only while charon is still its child.
    const script = [
      `STRONGSWAN_CONF='${conf}' ${CHARON} >/dev/null 2>&1 & c=$!`,
      'echo $c',
      'ours() { [ "$(cut -d" " -f4 /proc/$c/stat 2>/dev/null)" = "$$" ]; }',
      'trap \'ours && kill $c 2>/dev/null; exit 0\' TERM INT',
      `while kill -0 ${process.pid} 2>/dev/null && ours; do sleep 1; done`,
      'if ours; then kill $c 2>/dev/null; sleep 2; ours && kill -9 $c 2>/dev/null; fi',
      `kill -0 ${process.pid} 2>/dev/null || { ip netns del ${ns} 2>/dev/null; rm -rf '${dir}'; }`,
    ].join('\n');
    const sh = spawn('ip', ['netns', 'exec', ns, 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    watchdog = sh;
    sh.unref();
    const pid = await new Promise<number>((resolve, reject) => {
      let out = '';
      sh.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^(\d+)\n/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      sh.once('error', reject);
      sh.once('exit', () => reject(new Error('the watchdog exited before starting strongSwan')));
    });
    sh.stdout!.destroy();
    entry = { pid, conf, ns, dir, watchdog: sh };
    live.add(entry);
    const vici = await waitForVici(join(dir, 'charon.vici'), pid, opts.startTimeoutMs ?? 30_000);
    // kernel-netlink added its rule for table 220 at start; kernel-libipsec puts routes there (a default route for
    // 0.0.0.0/0 selectors, whatever install_routes says) that would swallow the IKE packets of every other peer.
    await run(['-n', ns, 'rule', 'del', 'table', '220']);
    let closed = false;
    return {
      namespace: ns,
      dir,
      vici,
      async setAddresses(gateway, vpc) {
        const lines: string[] = [];
        const wanted = { [BRIDGE]: new Set(gateway), lo: new Set(vpc) };
        for (const dev of [BRIDGE, 'lo'] as const) {
          const have = held[dev];
          const want = wanted[dev];
          lines.push(...[...have].filter((a) => !want.has(a)).map((a) => `addr del ${a}/32 dev ${dev}`));
          lines.push(...[...want].filter((a) => !have.has(a)).map((a) => `addr add ${a}/32 dev ${dev}`));
        }
        if (lines.length === 0) return;
        await ip(['-n', ns, '-batch', '-'], lines.join('\n') + '\n');
        held[BRIDGE] = wanted[BRIDGE];
        held.lo = wanted.lo;
      },
      async close() {
        if (closed) return;
        closed = true;
        vici.close();
        await cleanup();
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
