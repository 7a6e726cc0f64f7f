// `cgw-batch emulator`: flags -> EmulatorOptions, start, print URL and credentials, stop cleanly on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { FAULT_KINDS, type FaultConfig, type FaultKind } from './faults.js';
import { ACTIONS } from './actions.js';
import { DEFAULT_ACCOUNT, startEmulator, type EmulatorAccount, type EmulatorOptions } from './index.js';
import { FixtureError, parseVpnGatewayFlag } from './vpn-fixtures.js';

export interface EmulatorIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  onSignal: (handler: () => void) => void;
}

export const EMULATOR_USAGE = `usage: cgw-batch emulator [options]

Runs a local Alibaba Cloud VPC API emulator (customer gateways, VPN gateways, IPsec connections) for tests and
sandbox runs. It prints its URL, the access keys and the admin token (the /__emulator/* API needs
"Authorization: Bearer <token>").

  --host HOST              listen address (default 127.0.0.1)
  --port N                 port, 0 = any free port (default 0)
  --data FILE              keep state in FILE (written atomically; reloaded on start)
  --account AK:SECRET[:ACCOUNT_ID]
                           an access key to accept (repeatable; default: the built-in sandbox key)
  --rate Action=N/s        requests per second per account and region (repeatable; N/m for per minute)
  --faults kind=p,...      fault probabilities 0..1: ${FAULT_KINDS.join(', ')}
  --latency MIN-MAX        added latency in ms, e.g. 5-50
  --seed N                 seed for faults, latency and ids (reproducible runs)
  --quota N                customer gateways per account and region (default 100)
  --vpn-gateway REGION:ID:INTERNET_IP[:DR_IP]
                           a VPN gateway (repeatable); a second IP makes it dual-tunnel
  --vpn-task-ms N          how long a VPN gateway stays updating after a connection write (default 2000)
  --quota-vpn-connections N
                           IPsec connections per VPN gateway (default 10)
  --ipsec                  run the Alibaba side of every IPsec connection as a real strongSwan responder (root,
                           /dev/net/tun, strongSwan): the negotiation Status comes from its SAs (README)
  --oss                    run the OSS emulator instead (for --state oss://...; see --oss --help)
  -h, --help               show this help
`;

class UsageError extends Error {}

function parseAccount(s: string, i: number): EmulatorAccount {
  const parts = s.split(':');
  const [ak, secret, accountId] = parts;
  if (parts.length < 2 || parts.length > 3 || !ak || !secret) throw new UsageError(`--account must be AK:SECRET[:ACCOUNT_ID], got an invalid value`);
  if (accountId !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(accountId)) throw new UsageError('--account: ACCOUNT_ID must be 1-64 letters, digits, _ . -');
  // Without an explicit id, each key gets its own account so data stays isolated per key.
  return { accessKeyId: ak, accessKeySecret: secret, accountId: accountId ?? String(1234567890123456 + i + 1) };
}

function parseRate(s: string): [string, number] {
  const m = /^([A-Za-z]+)=(\d+(?:\.\d+)?)(?:\/(s|m|min))?$/.exec(s);
  if (!m) throw new UsageError(`--rate must be Action=N/s, got ${JSON.stringify(s)}`);
  const action = m[1] ?? '';
  if (!ACTIONS.has(action)) throw new UsageError(`--rate: unknown action ${action}`);
  const n = Number(m[2]);
  return [action, m[3] === 'm' || m[3] === 'min' ? n / 60 : n];
}

function parseFaults(s: string): FaultConfig {
  const out: FaultConfig = {};
  for (const part of s.split(',').filter((x) => x !== '')) {
    const m = /^([a-z0-9-]+)=(\d*\.?\d+)$/.exec(part);
    const kind = m?.[1] as FaultKind | undefined;
    if (!m || !kind || !(FAULT_KINDS as readonly string[]).includes(kind))
      throw new UsageError(`--faults: expected kind=probability with kind one of ${FAULT_KINDS.join(', ')}`);
    const p = Number(m[2]);
    if (!(p >= 0 && p <= 1)) throw new UsageError(`--faults: probability for ${kind} must be between 0 and 1`);
    out[kind] = p;
  }
  return out;
}

function parseIntFlag(name: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}`);
  return n;
}

/** Flags to options; throws UsageError with a one-line message for anything wrong. */
export function parseEmulatorArgs(argv: string[]): EmulatorOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        data: { type: 'string' },
        account: { type: 'string', multiple: true },
        rate: { type: 'string', multiple: true },
        faults: { type: 'string' },
        latency: { type: 'string' },
        seed: { type: 'string' },
        quota: { type: 'string' },
        'vpn-gateway': { type: 'string', multiple: true },
        'vpn-task-ms': { type: 'string' },
        'quota-vpn-connections': { type: 'string' },
        ipsec: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : 'invalid arguments');
  }
  if (values.help) return 'help';
  const opts: EmulatorOptions = {};
  if (values.host !== undefined) {
    if (values.host === '') throw new UsageError('--host must not be empty');
    opts.host = values.host;
  }
  if (values.port !== undefined) opts.port = parseIntFlag('port', values.port, 0, 65535);
  if (values.data !== undefined) {
    if (values.data === '') throw new UsageError('--data must not be empty');
    opts.dataFile = values.data;
  }
  if (values.account) opts.accounts = values.account.map(parseAccount);
  if (values.rate) opts.rates = Object.fromEntries(values.rate.map(parseRate));
  if (values.faults !== undefined) opts.faults = parseFaults(values.faults);
  if (values.latency !== undefined) {
    const m = /^(\d+)-(\d+)$/.exec(values.latency);
    if (!m || Number(m[1]) > Number(m[2])) throw new UsageError('--latency must be MIN-MAX in ms with MIN <= MAX, e.g. 5-50');
    opts.latency = { minMs: Number(m[1]), maxMs: Number(m[2]) };
  }
  if (values.seed !== undefined) opts.seed = parseIntFlag('seed', values.seed, 0, 2 ** 32 - 1);
  if (values.quota !== undefined) opts.quota = parseIntFlag('quota', values.quota, 0, 1_000_000);
  if (values['vpn-gateway']) {
    try {
      opts.vpnGateways = values['vpn-gateway'].map(parseVpnGatewayFlag);
    } catch (e) {
      throw new UsageError(e instanceof FixtureError ? `--vpn-gateway: ${e.message}` : 'invalid --vpn-gateway');
    }
    const ids = opts.vpnGateways.map((g) => g.VpnGatewayId);
    if (new Set(ids).size !== ids.length) throw new UsageError('--vpn-gateway: the same id twice');
  }
  if (values.ipsec) opts.ipsec = true;
  if (values['vpn-task-ms'] !== undefined) opts.vpnTaskMs = parseIntFlag('vpn-task-ms', values['vpn-task-ms'], 0, 3_600_000);
  if (values['quota-vpn-connections'] !== undefined)
    opts.vpnConnectionQuota = parseIntFlag('quota-vpn-connections', values['quota-vpn-connections'], 0, 1000);
  return opts;
}

export async function runEmulatorCommand(argv: string[], io: EmulatorIo): Promise<number> {
  if (argv.includes('--oss')) {
    const { runOssEmulatorCommand } = await import('./oss/cli.js');
    return runOssEmulatorCommand(argv.filter((a) => a !== '--oss'), io);
  }
  let opts: EmulatorOptions | 'help';
  try {
    opts = parseEmulatorArgs(argv);
  } catch (e) {
    io.stderr(`cgw-batch emulator: ${e instanceof Error ? e.message : String(e)}\n${EMULATOR_USAGE}`);
    return 2;
  }
  if (opts === 'help') {
    io.stdout(EMULATOR_USAGE);
    return 0;
  }
  let emu;
  try {
    emu = await startEmulator(opts);
  } catch (e) {
    // Port in use, bad host, unreadable data file: a message, not a stack.
    io.stderr(`cgw-batch emulator: cannot start: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const running = emu;
  // The handler is in place before the banner: whoever reads the banner may stop us at once.
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    io.onSignal(() => {
      if (stopping) return;
      stopping = true;
      running.close().then(resolve, resolve);
    });
  });
  io.stdout(`emulator listening on ${running.url}\n`);
  // Only the built-in sandbox secret is public; a secret given with --account is never echoed (logs, CI output).
  for (const a of opts.accounts ?? [DEFAULT_ACCOUNT]) {
    const shown = a.accessKeySecret === DEFAULT_ACCOUNT.accessKeySecret ? a.accessKeySecret : '(as given with --account)';
    io.stdout(`access key: ${a.accessKeyId} secret: ${shown}\n`);
  }
  // Whoever reads this output may drive the admin API; anyone else (a web page, another host name) may not.
  io.stdout(`admin token: ${running.adminToken}\n`);
  if (running.ipsec) {
    const { namespace, bridge } = running.ipsec;
    const addrs = running.ipsec.addresses();
    io.stdout(`ipsec: responders in network namespace ${namespace}, VPN gateway addresses on its bridge ${bridge}: ${addrs.length ? addrs.join(' ') : '(none yet)'}\n`);
    io.stdout(`ipsec: attach a branch: ip link add BRANCH type veth peer name GW netns ${namespace} && ip -n ${namespace} link set GW master ${bridge} up\n`);
  }
  await stopped;
  return 0;
}
