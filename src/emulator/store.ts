// Server state per (account, region): gateways, remembered ClientTokens, flags; optional atomic JSON persistence.
import { closeSync, constants, existsSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { TagKV } from './validate.js';

export interface GatewayRecord {
  CustomerGatewayId: string;
  IpAddress: string;
  Name: string;
  Description: string;
  Asn?: number;
  AuthKey?: string;
  CreateTime: number;
  ResourceGroupId: string;
  Tags: TagKV[];
  /** ClientTokens of the Create calls that produced this gateway (one, or none if created without a token). */
  ClientTokens: string[];
  /** An IPsec connection still uses it (set through the admin API): Delete answers DependencyViolation.VpnConnection. */
  Attached?: boolean;
}

export interface TokenRecord {
  action: string;
  /** sha256 of the normalised parameters the token was first used with. */
  paramsHash: string;
  /** The response body fields (without RequestId) to replay. */
  response: Record<string, unknown>;
  at: number;
}

export interface AccountFlags {
  forbidden: boolean;
  subUser: boolean;
  noRamPermission: boolean;
  userGatewayQuotaFull: boolean;
  financialLocked: boolean;
  vpnConfiguring: boolean;
}

export const NO_FLAGS: AccountFlags = {
  forbidden: false,
  subUser: false,
  noRamPermission: false,
  userGatewayQuotaFull: false,
  financialLocked: false,
  vpnConfiguring: false,
};

export interface RegionState {
  /** Insertion (creation) order is the listing order. */
  gateways: Map<string, GatewayRecord>;
  /** Keyed by `<Action>\n<ClientToken>`. */
  tokens: Map<string, TokenRecord>;
}

export interface AccountState {
  regions: Map<string, RegionState>;
  flags: AccountFlags;
}

export interface EmulatorStateDump {
  accounts: Record<
    string,
    { flags?: AccountFlags; regions: Record<string, { gateways: Array<Omit<GatewayRecord, 'Attached'> & { Attached?: boolean }> }> }
  >;
}

interface FileShape {
  version: 1;
  accounts: Array<{
    accountId: string;
    flags: AccountFlags;
    regions: Array<{ regionId: string; gateways: GatewayRecord[]; tokens: Array<[string, TokenRecord]> }>;
  }>;
}

export function hashParams(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex');
}

export class Store {
  private readonly accounts = new Map<string, AccountState>();
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;

  private warned = false;
  private readOnly: string | undefined;

  constructor(private readonly dataFile?: string) {
    if (dataFile && existsSync(dataFile)) this.load(dataFile);
  }

  account(accountId: string): AccountState {
    let a = this.accounts.get(accountId);
    if (!a) {
      a = { regions: new Map(), flags: { ...NO_FLAGS } };
      this.accounts.set(accountId, a);
    }
    return a;
  }

  region(accountId: string, regionId: string): RegionState {
    const a = this.account(accountId);
    let r = a.regions.get(regionId);
    if (!r) {
      r = { gateways: new Map(), tokens: new Map() };
      a.regions.set(regionId, r);
    }
    return r;
  }

  /** Every gateway id in use anywhere, so generated ids never collide (seeded ids repeat across restarts). */
  hasGatewayId(id: string): boolean {
    for (const a of this.accounts.values()) for (const r of a.regions.values()) if (r.gateways.has(id)) return true;
    return false;
  }

  /** Drops tokens older than the retention window. */
  expireTokens(now: number, retentionMs: number): void {
    for (const a of this.accounts.values())
      for (const r of a.regions.values())
        for (const [k, t] of r.tokens) if (now - t.at > retentionMs) r.tokens.delete(k);
  }

  forgetTokens(): void {
    for (const a of this.accounts.values()) for (const r of a.regions.values()) r.tokens.clear();
    this.changed();
  }

  dump(): EmulatorStateDump {
    const out: EmulatorStateDump = { accounts: {} };
    for (const [accountId, a] of [...this.accounts.entries()].sort((x, y) => x[0].localeCompare(y[0]))) {
      const regions: EmulatorStateDump['accounts'][string]['regions'] = {};
      for (const [regionId, r] of [...a.regions.entries()].sort((x, y) => x[0].localeCompare(y[0]))) {
        regions[regionId] = { gateways: [...r.gateways.values()].map((g) => structuredClone(g)) };
      }
      out.accounts[accountId] = { flags: { ...a.flags }, regions };
    }
    return out;
  }

  /** Marks state as changed; the file is rewritten shortly after (coalescing bursts) and always on flush(). */
  changed(): void {
    if (!this.dataFile) return;
    this.dirty = true;
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        // A background write must never take the server down (disk full, data dir removed): keep the state
        // dirty, say so once, and try again on the next change or on close.
        try {
          this.flush();
        } catch (e) {
          this.dirty = true;
          if (!this.warned) {
            this.warned = true;
            process.stderr.write(`emulator: cannot save state to ${this.dataFile}: ${(e as Error)?.message ?? String(e)} (will retry)\n`);
          }
        }
      }, 20);
      this.timer.unref();
    }
  }

  /** The data file's lock was lost: another process may own the file now, so nothing more is written to it. */
  stopWriting(reason: string): void {
    if (this.readOnly) return;
    this.readOnly = reason;
    process.stderr.write(`emulator: ${reason}; no further changes are saved to ${this.dataFile}\n`);
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.dataFile || !this.dirty || this.readOnly) return;
    this.dirty = false;
    writeAtomic(this.dataFile, JSON.stringify(this.toFile()) + '\n');
  }

  private toFile(): FileShape {
    return {
      version: 1,
      accounts: [...this.accounts.entries()].map(([accountId, a]) => ({
        accountId,
        flags: a.flags,
        regions: [...a.regions.entries()].map(([regionId, r]) => ({
          regionId,
          gateways: [...r.gateways.values()],
          tokens: [...r.tokens.entries()],
        })),
      })),
    };
  }

  private load(file: string): void {
    let data: FileShape;
    try {
      data = JSON.parse(readFileSync(file, 'utf8')) as FileShape;
    } catch (e) {
      // V8's message quotes the text around the error, which holds stored AuthKeys: keep only the position.
      const pos = /position (\d+)/.exec((e as Error).message ?? '');
      throw new Error(`emulator data file ${file} is not valid JSON${pos ? ` (at position ${pos[1]})` : ''}`);
    }
    if (!data || data.version !== 1 || !Array.isArray(data.accounts))
      throw new Error(`emulator data file ${file} has an unknown format (expected version 1)`);
    for (const a of data.accounts) {
      const acc = this.account(String(a.accountId));
      acc.flags = { ...NO_FLAGS, ...(a.flags ?? {}) };
      for (const r of a.regions ?? []) {
        const reg = this.region(String(a.accountId), String(r.regionId));
        for (const g of r.gateways ?? []) reg.gateways.set(g.CustomerGatewayId, g);
        for (const [k, t] of r.tokens ?? []) reg.tokens.set(k, t);
      }
    }
  }
}

/** temp file (0600) + fsync + rename, so a crash leaves either the old or the new file, never half of one. */
export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  // O_EXCL | O_NOFOLLOW: never write through something planted at the temp name.
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // gone already
    }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, file);
}
