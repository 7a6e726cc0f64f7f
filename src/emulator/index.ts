// Public API of the local Alibaba Cloud VPC emulator: startEmulator() and the types other parts code against.
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

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const accounts = (opts.accounts && opts.accounts.length > 0 ? opts.accounts : [DEFAULT_ACCOUNT]).map((a) => ({ ...a }));
  const server = new EmulatorServer({
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
  const { host, port } = await server.listen();
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    close: () => server.close(),
    state: () => server.state(),
    stats: () => server.stats(),
    configure: (patch) => server.configure(patch),
    setAccountFlags: (accountId, flags) => server.setAccountFlags(accountId, flags),
    setAttached: (accountId, regionId, gatewayId, attached) => server.setAttached(accountId, regionId, gatewayId, attached),
    forgetTokens: () => server.store.forgetTokens(),
    resetStats: () => server.resetStats(),
  };
}
