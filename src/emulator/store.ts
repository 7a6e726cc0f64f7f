// Server state per (account, region): customer gateways, VPN gateways, IPsec connections, ClientTokens, flags; atomic JSON file.
import { closeSync, constants, existsSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { TagKV } from './validate.js';
import type { IkeSettings, TunnelRecord, VpnConnectionRecord, VpnGatewayRecord } from './vpn-model.js';

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
  /** Customer gateways; insertion (creation) order is the listing order. */
  gateways: Map<string, GatewayRecord>;
  /** VPN gateways: fixtures (admin API, --vpn-gateway, the sandbox), never created through the API. */
  vpnGateways: Map<string, VpnGatewayRecord>;
  /** IPsec connections, in creation order; a deleted one stays until its task is over. */
  connections: Map<string, VpnConnectionRecord>;
  /** Keyed by `<Action>\n<ClientToken>`. */
  tokens: Map<string, TokenRecord>;
}

export interface AccountState {
  regions: Map<string, RegionState>;
  flags: AccountFlags;
}

/** A secret as the state dump shows it: a keyed fingerprint and the length, never the value. */
export interface SecretShown {
  fingerprint: string;
  length: number;
}

export type DumpedGateway = Omit<GatewayRecord, 'AuthKey'> & { AuthKey?: SecretShown };
export type DumpedIke = Omit<IkeSettings, 'Psk'> & { Psk: SecretShown };
export type DumpedConnection = Omit<VpnConnectionRecord, 'Ike' | 'Tunnels'> & {
  Ike?: DumpedIke;
  Tunnels?: Array<Omit<TunnelRecord, 'Ike'> & { Ike: DumpedIke }>;
};

export interface EmulatorStateDump {
  accounts: Record<
    string,
    {
      flags?: AccountFlags;
      regions: Record<string, { gateways: DumpedGateway[]; vpnGateways: VpnGatewayRecord[]; vpnConnections: DumpedConnection[] }>;
    }
  >;
}

interface FileShape {
  version: 1;
  accounts: Array<{
    accountId: string;
    flags: AccountFlags;
    regions: Array<{
      regionId: string;
      gateways: GatewayRecord[];
      tokens: Array<[string, TokenRecord]>;
      /** Absent in files written before VPN gateways existed. */
      vpnGateways?: VpnGatewayRecord[];
      connections?: VpnConnectionRecord[];
    }>;
  }>;
}

/** Where a connection or VPN gateway lives (ids are unique across accounts and regions, as in the cloud). */
export interface Located<T> {
  accountId: string;
  regionId: string;
  region: RegionState;
  item: T;
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
      r = { gateways: new Map(), vpnGateways: new Map(), connections: new Map(), tokens: new Map() };
      a.regions.set(regionId, r);
    }
    return r;
  }

  /** Every (account, region) with its state (the IPsec responders read every connection). */
  *allRegions(): Generator<{ accountId: string; regionId: string; region: RegionState }> {
    for (const [accountId, a] of this.accounts) for (const [regionId, region] of a.regions) yield { accountId, regionId, region };
  }

  /** Every resource id in use anywhere, so generated ids never collide (seeded ids repeat across restarts). */
  hasId(id: string): boolean {
    for (const { region: r } of this.allRegions()) {
      if (r.gateways.has(id) || r.vpnGateways.has(id) || r.connections.has(id)) return true;
      for (const c of r.connections.values()) if (c.Tunnels?.some((t) => t.TunnelId === id)) return true;
    }
    return false;
  }

  findVpnGateway(id: string): Located<VpnGatewayRecord> | undefined {
    for (const { accountId, regionId, region } of this.allRegions()) {
      const item = region.vpnGateways.get(id);
      if (item) return { accountId, regionId, region, item };
    }
    return undefined;
  }

  findConnection(id: string): Located<VpnConnectionRecord> | undefined {
    for (const { accountId, regionId, region } of this.allRegions()) {
      const item = region.connections.get(id);
      if (item) return { accountId, regionId, region, item };
    }
    return undefined;
  }

  /** The earliest moment a running task ends (Infinity when none runs): settle() is free until then. */
  private nextDue = Infinity;

  /** A task was started: settle() must look again at `until`. */
  taskStarted(until: number): void {
    if (until < this.nextDue) this.nextDue = until;
  }

  /**
   * Finishes every task whose time has come: created and modified connections become active, deleted ones disappear
   * (their tags with them), and their VPN gateways are active again. Called before each request and each dump, so
   * the emulator's clock alone decides what a client sees: tests move that clock instead of sleeping.
   */
  settle(now: number): void {
    if (now < this.nextDue) return;
    let next = Infinity;
    let changed = false;
    for (const { region } of this.allRegions()) {
      for (const [id, c] of region.connections) {
        if (!c.task) continue;
        if (c.task.until > now) {
          next = Math.min(next, c.task.until);
          continue;
        }
        changed = true;
        if (c.task.kind === 'delete') {
          region.connections.delete(id);
          continue;
        }
        c.State = 'active';
        for (const t of c.Tunnels ?? []) t.State = 'active';
        delete c.task;
      }
      for (const g of region.vpnGateways.values()) {
        if (!g.task) continue;
        if (g.task.until > now) {
          next = Math.min(next, g.task.until);
          continue;
        }
        changed = true;
        delete g.task;
      }
    }
    this.nextDue = next;
    if (changed) this.changed();
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

  /**
   * Everything, for tests and the admin API, with every AuthKey and PSK replaced by `{fingerprint, length}`: the dump
   * is reachable over HTTP, and sandbox users try their real keys.
   */
  dump(fingerprint: (secret: string) => string): EmulatorStateDump {
    const shown = (s: string): SecretShown => ({ fingerprint: fingerprint(s), length: [...s].length });
    const out: EmulatorStateDump = { accounts: {} };
    for (const [accountId, a] of [...this.accounts.entries()].sort((x, y) => x[0].localeCompare(y[0]))) {
      const regions: EmulatorStateDump['accounts'][string]['regions'] = {};
      for (const [regionId, r] of [...a.regions.entries()].sort((x, y) => x[0].localeCompare(y[0]))) {
        regions[regionId] = {
          gateways: [...r.gateways.values()].map((g) => {
            const { AuthKey, ...rest } = structuredClone(g);
            return AuthKey === undefined ? rest : { ...rest, AuthKey: shown(AuthKey) };
          }),
          vpnGateways: [...r.vpnGateways.values()].map((g) => structuredClone(g)),
          vpnConnections: [...r.connections.values()].map((c) => hidePsks(structuredClone(c), shown)),
        };
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
          vpnGateways: [...r.vpnGateways.values()],
          connections: [...r.connections.values()],
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
        for (const g of r.gateways ?? []) {
          // Files of older versions may carry the retired admin `Attached` flag: a real connection replaces it.
          delete (g as GatewayRecord & { Attached?: unknown }).Attached;
          reg.gateways.set(g.CustomerGatewayId, g);
        }
        for (const [k, t] of r.tokens ?? []) reg.tokens.set(k, t);
        for (const g of r.vpnGateways ?? []) {
          reg.vpnGateways.set(g.VpnGatewayId, g);
          if (g.task) this.taskStarted(g.task.until);
        }
        for (const c of r.connections ?? []) {
          reg.connections.set(c.VpnConnectionId, c);
          if (c.task) this.taskStarted(c.task.until);
        }
      }
    }
  }
}

/** A connection with its PSKs shown as fingerprints. */
function hidePsks(c: VpnConnectionRecord, shown: (s: string) => SecretShown): DumpedConnection {
  const ike = (x: IkeSettings): DumpedIke => ({ ...x, Psk: shown(x.Psk) });
  const { Ike, Tunnels, ...rest } = c;
  const out: DumpedConnection = { ...rest };
  if (Ike) out.Ike = ike(Ike);
  if (Tunnels) out.Tunnels = Tunnels.map((t) => ({ ...t, Ike: ike(t.Ike) }));
  return out;
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
