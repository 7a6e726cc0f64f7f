// Public API of the local Alibaba Cloud VPC emulator: startEmulator() and the types other parts code against.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { assertRegularOrAbsent } from '../fsutil.js';
import { Lock } from '../state/lock.js';
import type { NegotiationQuery, NegotiationSource } from './action-kit.js';
import { EmulatorServer, type ConfigPatch, type EmulatorStats } from './server.js';
import { DEFAULT_RATES } from './ratelimit.js';
import type { AccountFlags, DumpedConnection, DumpedGateway, EmulatorStateDump, SecretShown } from './store.js';
import type { FaultConfig } from './faults.js';
import { checkVpnGatewaySpec, sandboxGatewayId, sandboxGatewaySpecs, type VpnGatewaySpec } from './vpn-fixtures.js';
import type { NegotiationStatus, VpnGatewayRecord } from './vpn-model.js';
import type { StsOptions } from './sts.js';
import type { IpsecInfo, IpsecResponder, IpsecView } from './ipsec-responder.js';

export type {
  AccountFlags,
  ConfigPatch,
  DumpedConnection,
  DumpedGateway,
  EmulatorStateDump,
  EmulatorStats,
  FaultConfig,
  IpsecInfo,
  IpsecView,
  NegotiationQuery,
  NegotiationSource,
  NegotiationStatus,
  SecretShown,
  VpnGatewayRecord,
  VpnGatewaySpec,
};
export { DEFAULT_RATES, sandboxGatewayId, sandboxGatewaySpecs };
export { FAULT_KINDS, type FaultKind } from './faults.js';
export { NEGOTIATION_STATUSES } from './vpn-model.js';

export interface EmulatorAccount {
  accessKeyId: string;
  accessKeySecret: string;
  accountId: string;
  /** If set, every request must carry it (SecurityToken / x-acs-security-token); GetCallerIdentity says AssumedRoleUser. */
  securityToken?: string;
  /** GetCallerIdentity answers RAMUser with this user name (default: the account itself). */
  ramUser?: string;
  /** GetCallerIdentity: the role an STS token belongs to (default cgw-batch-role). */
  roleName?: string;
}

export interface EmulatorOptions {
  host?: string;
  port?: number;
  accounts?: EmulatorAccount[];
  dataFile?: string;
  rates?: Record<string, number>;
  rateLimits?: boolean;
  retryAfterHeader?: boolean;
  faults?: FaultConfig;
  faultActions?: string[];
  latency?: { minMs: number; maxMs: number };
  seed?: number;
  quota?: number;
  tokenRetentionMs?: number;
  duplicateIpCheckBeforeToken?: boolean;
  /** How long a VPN gateway stays `updating` after each connection write (default 2000 ms; 100 with `sandbox`). */
  vpnTaskMs?: number;
  /** IPsec connections per VPN gateway (default 10). */
  vpnConnectionQuota?: number;
  /** VPN gateway fixtures (the first account's unless a spec names another). */
  vpnGateways?: VpnGatewaySpec[];
  /** The `--sandbox` emulator: one dual-tunnel VPN gateway per region (README), a short gateway task. */
  sandbox?: boolean;
  /**
   * Where negotiation statuses come from (a later issue asks strongSwan responders). Undefined answers, throws and
   * unknown values fall back to the status set through the admin API, else `ike_sa_not_established`.
   */
  negotiationStatus?: NegotiationSource;
  /**
   * Run the Alibaba side of every IPsec connection as a real strongSwan responder (Linux, root, /dev/net/tun,
   * strongSwan): in a network namespace of its own whose bridge holds every VPN gateway address; the negotiation
   * status is then read from the responder's SAs (before `negotiationStatus`). See README "emulator --ipsec".
   */
  ipsec?: boolean;
  /** The admin API's bearer token (at least 16 characters); default: 32 random characters, see Emulator.adminToken. */
  adminToken?: string;
  /** The emulator's clock (ms): signatures' timestamps, token retention, rate limits and VPN tasks all read it. */
  clock?: () => number;
  log?: (line: string) => void;
  /**
   * How long a second process waits for the data file's lock before refusing (default 3000 ms). The data file is
   * locked like a journal: two sandboxes on one file would otherwise overwrite each other's gateways.
   */
  lockWaitMs?: number;
  /** STS AssumeRole / AssumeRoleWithOIDC settings (token lifetime, OIDC providers). */
  sts?: StsOptions;
}

export interface Emulator {
  url: string;
  host: string;
  port: number;
  /** Bearer token of the admin API (`Authorization: Bearer <token>` on every `/__emulator/*` request). */
  adminToken: string;
  close(): Promise<void>;
  /** The state, AuthKeys and PSKs shown as `{fingerprint, length}` (compare with fingerprint()). */
  state(): EmulatorStateDump;
  stats(): EmulatorStats;
  configure(patch: ConfigPatch): void;
  setAccountFlags(accountId: string, flags: Partial<AccountFlags>): void;
  /** Adds or updates a VPN gateway fixture; throws on a bad spec. */
  addVpnGateway(spec: VpnGatewaySpec): VpnGatewayRecord;
  /** Sets (null clears) a connection's negotiation status, or one tunnel's; throws for an unknown id. */
  setConnectionStatus(vpnConnectionId: string, status: NegotiationStatus | null, tunnelId?: string): void;
  /** The fingerprint state() shows for a secret. */
  fingerprint(secret: string): string;
  /** With `ipsec`: the responders' namespace, bridge and addresses. */
  ipsec?: IpsecInfo;
  forgetTokens(): void;
  resetStats(): void;
}

export const DEFAULT_ACCOUNT: EmulatorAccount = {
  accessKeyId: 'LTAI5tCgwBatchSandbox01',
  accessKeySecret: 'cgwBatchSandboxSecret0000000001',
  accountId: '1234567890123456',
};

export const DEFAULT_TOKEN_RETENTION_MS = 24 * 60 * 60 * 1000;

/** Locks `<dataFile>.lock` (waiting up to `waitMs` for a live holder), or throws a StateError naming file and holder. */
async function lockDataFile(dataFile: string, opts: EmulatorOptions, onLost: (message: string) => void): Promise<Lock> {
  await assertRegularOrAbsent(dataFile, 'emulator data file');
  const warn = (m: string) => (opts.log ? opts.log(m) : process.stderr.write(`emulator: ${m}\n`));
  return Lock.acquire({
    statePath: dataFile,
    pid: process.pid,
    host: hostname(),
    clock: Date.now,
    what: 'emulator data file',
    hint: 'another sandbox run or emulator is using it; wait for it to finish, or use another data file (--sandbox-data / --data)',
    waitMs: opts.lockWaitMs ?? 3000,
    onWarning: warn,
    onLost: (e) => onLost(e.message),
  });
}

/** Flags and embedders make mistakes; a bad fixture or token stops the start with a message. */
function checkOptions(opts: EmulatorOptions): void {
  if (opts.adminToken !== undefined && !/^[\x21-\x7e]{16,200}$/.test(opts.adminToken))
    throw new Error('adminToken must be 16-200 printable ASCII characters without spaces');
  for (const [k, v] of [['vpnTaskMs', opts.vpnTaskMs], ['vpnConnectionQuota', opts.vpnConnectionQuota]] as const)
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new Error(`${k} must be a whole number >= 0`);
  for (const spec of opts.vpnGateways ?? []) checkVpnGatewaySpec(spec);
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  checkOptions(opts);
  const accounts = (opts.accounts && opts.accounts.length > 0 ? opts.accounts : [DEFAULT_ACCOUNT]).map((a) => ({ ...a }));
  let server: EmulatorServer | undefined;
  let responder: IpsecResponder | undefined;
  // Before the data file is read: what we load must be what nobody else is writing.
  const lock = opts.dataFile ? await lockDataFile(opts.dataFile, opts, (m) => server?.store.stopWriting(m)) : undefined;
  try {
    const given = opts.negotiationStatus;
    // The responder needs the store, which the server makes: the source asks it once it is there.
    const negotiation: NegotiationSource | undefined = opts.ipsec ? (q) => responder?.status(q) ?? given?.(q) : given;
    server = createServer(opts, accounts, negotiation);
    if (opts.ipsec) {
      const { IpsecResponder } = await import('./ipsec-responder.js');
      const clock = opts.clock ?? Date.now;
      const log = opts.log ?? ((line: string) => process.stderr.write(`emulator: ${line}\n`));
      responder = await IpsecResponder.start(server.store, clock, log);
      const info = responder.info();
      server.ipsecViewOf = () => info.view();
    }
    return await started(server, lock, responder);
  } catch (e) {
    await responder?.close();
    await lock?.release();
    throw e;
  }
}

function createServer(opts: EmulatorOptions, accounts: EmulatorAccount[], negotiation: NegotiationSource | undefined): EmulatorServer {
  return new EmulatorServer({
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    accounts,
    dataFile: opts.dataFile,
    rates: { ...DEFAULT_RATES, ...(opts.rates ?? {}) },
    rateLimits: opts.rateLimits ?? true,
    retryAfterHeader: opts.retryAfterHeader ?? true,
    faults: { ...(opts.faults ?? {}) },
    faultActions: opts.faultActions,
    latency: opts.latency,
    seed: opts.seed,
    quota: opts.quota ?? 100,
    tokenRetentionMs: opts.tokenRetentionMs ?? DEFAULT_TOKEN_RETENTION_MS,
    duplicateIpCheckBeforeToken: opts.duplicateIpCheckBeforeToken ?? false,
    vpnTaskMs: opts.vpnTaskMs ?? (opts.sandbox ? 100 : 2000),
    vpnConnectionQuota: opts.vpnConnectionQuota ?? 10,
    vpnGateways: (opts.vpnGateways ?? []).map(checkVpnGatewaySpec),
    sandbox: opts.sandbox ?? false,
    negotiation,
    adminToken: opts.adminToken ?? randomBytes(24).toString('base64url'),
    clock: opts.clock ?? Date.now,
    log: opts.log,
    sts: opts.sts,
  });
}

async function started(server: EmulatorServer, lock: Lock | undefined, responder: IpsecResponder | undefined): Promise<Emulator> {
  const { host, port } = await server.listen();
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    adminToken: server.adminToken,
    close: async () => {
      try {
        await server.close();
      } finally {
        await responder?.close();
        await lock?.release();
      }
    },
    state: () => server.state(),
    stats: () => server.stats(),
    configure: (patch) => server.configure(patch),
    setAccountFlags: (accountId, flags) => server.setAccountFlags(accountId, flags),
    addVpnGateway: (spec) => server.addVpnGateway(checkVpnGatewaySpec(spec)),
    setConnectionStatus: (id, status, tunnelId) => server.setConnectionStatus(id, status, tunnelId),
    fingerprint: (secret) => server.fingerprint(secret),
    forgetTokens: () => server.forgetTokens(),
    resetStats: () => server.resetStats(),
    ...(responder ? { ipsec: responder.info() } : {}),
  };
}
