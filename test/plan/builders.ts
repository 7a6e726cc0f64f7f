// Plain-data builders for planner tests: written rows, manifests, inventory gateways and journal rows.
import { createHash } from 'node:crypto';
import type { CustomerGateway, VpnConnection, VpnGateway, VpnTunnel } from '../../src/cloud/types.js';
import type { ConnectionFields, Field, Issue, Manifest, PriorRow, SiteField, Tag, WrittenProfile, WrittenRow } from '../../src/types.js';

export const FILE = 'sites.csv';

export interface RowOpts {
  line?: number;
  file?: string;
  tags?: Tag[] | Record<string, string>;
  issues?: Issue[];
}

/** A written row; defaults to a valid public-IP gateway in cn-hangzhou at line 2. */
export function wrow(fields: Partial<Record<Field, string>> = {}, opts: RowOpts = {}): WrittenRow {
  const line = opts.line ?? 2;
  const tags = Array.isArray(opts.tags)
    ? opts.tags
    : Object.entries(opts.tags ?? {}).map(([key, value]) => ({ key, value }));
  return {
    file: opts.file ?? FILE,
    line,
    endLine: line,
    fields: { region: 'cn-hangzhou', ip: '203.0.113.10', ...fields },
    tags,
    echo: Object.fromEntries(Object.entries(fields).filter(([k]) => k !== 'auth_key')) as Record<string, string>,
    issues: opts.issues ?? [],
  };
}

/** Rows numbered from line 2 (line 1 is the CSV header). */
export function rows(...fields: Array<Partial<Record<Field, string>>>): WrittenRow[] {
  return fields.map((f, i) => wrow(f, { line: i + 2 }));
}

export function manifest(rs: WrittenRow[], issues: Issue[] = []): Manifest {
  return { file: FILE, format: 'csv', hash: 'h'.repeat(64), columns: ['region', 'ip', 'name'], rows: rs, issues };
}

export function gw(p: Partial<CustomerGateway> & { id: string; ip: string }): CustomerGateway {
  return { regionId: 'cn-hangzhou', createTime: 1_700_000_000_000, tags: [], ...p };
}

export function prior(key: string, p: Partial<PriorRow> = {}): PriorRow {
  return { key, status: 'created', line: 2, gatewayId: `cgw-${key.replace(/[^a-z0-9]/g, '')}`, generation: 1, tags: [], ...p };
}

export function priors(...ps: PriorRow[]): Map<string, PriorRow> {
  return new Map(ps.map((p) => [p.key, p]));
}

/** A deterministic stand-in for the keyed HMAC fingerprint. */
export const fp = (k: string): string => 'fp:' + createHash('sha256').update(k).digest('hex').slice(0, 16);

/** Some number of code points made of `ch`. */
export const chars = (n: number, ch = 'a'): string => ch.repeat(n);

// ---- sites ------------------------------------------------------------------------------------------------------

/** The VPN gateway of the site builders (single tunnel unless `vpnGw({ disasterRecoveryInternetIp })`). */
export const VGW = 'vpn-hz0000000000000000001';

/** A written site row: a valid customer gateway plus `vpn_gateway_id` and both subnets, then `site` on top. */
export function srow(
  site: Partial<Record<SiteField, string>> = {},
  fields: Partial<Record<Field, string>> = {},
  opts: RowOpts & { pskValue?: string } = {},
): WrittenRow {
  const w = wrow(fields, opts);
  w.site = { vpn_gateway_id: VGW, local_subnet: '10.0.0.0/16', remote_subnet: '192.168.1.0/24', ...site };
  for (const k of Object.keys(w.site) as SiteField[]) if (w.site[k] === '') delete w.site[k];
  Object.assign(w.echo, w.site);
  if (opts.pskValue !== undefined) w.pskValue = opts.pskValue;
  return w;
}

/** Site rows numbered from line 2, each on its own IP (203.0.113.<line>) unless given. */
export function srows(...sites: Array<{ site?: Partial<Record<SiteField, string>>; fields?: Partial<Record<Field, string>>; pskValue?: string }>): WrittenRow[] {
  return sites.map((s, i) => srow(s.site, { ip: `203.0.113.${i + 2}`, ...s.fields }, { line: i + 2, ...(s.pskValue !== undefined ? { pskValue: s.pskValue } : {}) }));
}

export function profile(name: string, params: Record<string, string>, line = 1): WrittenProfile {
  return { name, file: FILE, line, params };
}

export function vpnGw(p: Partial<VpnGateway> = {}): VpnGateway {
  return { id: VGW, regionId: 'cn-hangzhou', internetIp: '47.96.0.1', ipsecVpn: 'enable', enableBgp: true, status: 'active', businessStatus: 'Normal', ...p };
}

const DEFAULT_TUNNEL = (cgwId: string): VpnTunnel => ({
  customerGatewayId: cgwId,
  ike: { version: 'ikev1', mode: 'main', encAlg: 'aes', authAlg: 'md5', pfs: 'group2', lifetime: 86400, localId: '47.96.0.1', remoteId: '203.0.113.2' },
  ipsec: { encAlg: 'aes', authAlg: 'md5', pfs: 'group2', lifetime: 86400 },
  enableDpd: true,
  enableNatTraversal: true,
});

/** A listed connection (single tunnel on `cgwId` by default, as the client returns it: never a PSK). */
export function vco(id: string, cgwId: string, p: Partial<VpnConnection> & { tunnel?: Partial<VpnTunnel> } = {}): VpnConnection {
  const { tunnel, ...rest } = p;
  return {
    id,
    regionId: 'cn-hangzhou',
    vpnGatewayId: VGW,
    customerGatewayId: cgwId,
    localSubnet: ['10.0.0.0/16'],
    remoteSubnet: ['192.168.1.0/24'],
    effectImmediately: false,
    state: 'active',
    status: 'ike_sa_not_established',
    tunnels: [{ ...DEFAULT_TUNNEL(cgwId), ...tunnel }],
    dualTunnel: false,
    tags: [],
    createTime: 1_700_000_000_000,
    ...rest,
  };
}

/** The journal's connection part of a row. */
export function conn(p: Partial<ConnectionFields> = {}): ConnectionFields {
  return { status: 'created', token: 'tok', generation: 1, connectionId: 'vco-1', vpnGatewayId: VGW, attempts: 1, requestIds: [], ...p };
}
