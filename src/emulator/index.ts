// Public API of the local Alibaba Cloud VPC emulator: startEmulator() and the types other parts code against.
import { hostname } from 'node:os';
import { assertRegularOrAbsent } from '../fsutil.js';
import { Lock } from '../state/lock.js';
import { EmulatorServer, type ConfigPatch, type EmulatorStats } from './server.js';
import { DEFAULT_RATES } from './ratelimit.js';
import type { AccountFlags, EmulatorStateDump } from './store.js';
import type { FaultConfig } from './faults.js';

export type { AccountFlags, EmulatorStateDump, EmulatorStats, FaultConfig };
export { DEFAULT_RATES };
export { FAULT_KINDS, type FaultKind } from './faults.js';

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
  clock?: () => number;
  log?: (line: string) => void;
  /**
   * How long a second process waits for the data file's lock before refusing (default 3000 ms). The data file is
   * locked like a journal: two sandboxes on one file would otherwise overwrite each other's gateways.
   */
  lockWaitMs?: number;
}

export interface Emulator {
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
  state(): EmulatorStateDump;
  stats(): EmulatorStats;
  configure(patch: ConfigPatch): void;
  setAccountFlags(accountId: string, flags: Partial<AccountFlags>): void;
  setAttached(accountId: string, regionId: string, gatewayId: string, attached: boolean): void;
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

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const accounts = (opts.accounts && opts.accounts.length > 0 ? opts.accounts : [DEFAULT_ACCOUNT]).map((a) => ({ ...a }));
  let server: EmulatorServer | undefined;
  // Before the data file is read: what we load must be what nobody else is writing.
  const lock = opts.dataFile ? await lockDataFile(opts.dataFile, opts, (m) => server?.store.stopWriting(m)) : undefined;
  try {
    server = createServer(opts, accounts);
    return await started(server, lock);
  } catch (e) {
    await lock?.release();
    throw e;
  }
}

function createServer(opts: EmulatorOptions, accounts: EmulatorAccount[]): EmulatorServer {
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
    clock: opts.clock ?? Date.now,
    log: opts.log,
  });
}

async function started(server: EmulatorServer, lock: Lock | undefined): Promise<Emulator> {
  const { host, port } = await server.listen();
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    close: async () => {
      try {
        await server.close();
      } finally {
        await lock?.release();
      }
    },
    state: () => server.state(),
    stats: () => server.stats(),
    configure: (patch) => server.configure(patch),
    setAccountFlags: (accountId, flags) => server.setAccountFlags(accountId, flags),
    setAttached: (accountId, regionId, gatewayId, attached) => server.setAttached(accountId, regionId, gatewayId, attached),
    forgetTokens: () => server.store.forgetTokens(),
    resetStats: () => server.resetStats(),
  };
}
