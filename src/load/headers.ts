// CSV header names -> canonical columns: normalisation, aliases, `tag:<Key>` columns, duplicates and unknown names.
import { SITE_FIELDS, type Field, type SiteField } from '../types.js';
import { closest } from './suggest.js';

export type ColumnKind =
  | { kind: 'field'; field: Exclude<Field, 'tags'> }
  | { kind: 'tags' }
  /** An optional site column (vpn_gateway_id, local_subnet, psk, ...). */
  | { kind: 'site'; field: SiteField }
  | { kind: 'tag'; key: string }
  | { kind: 'auth_key_env' }
  | { kind: 'unknown' }
  /** A column cgw-batch writes into results files (status, error_code...): ignored, so a saved results file loads. */
  | { kind: 'result' }
  | { kind: 'blank' };

export type Column = ColumnKind & { index: number; header: string };

// Keys are normalised names (see normaliseHeader): lower case, no spaces, `_` or `-`.
const ALIASES: Record<string, Exclude<Field, 'tags'> | 'tags' | 'auth_key_env' | SiteField> = {
  region: 'region',
  regionid: 'region',
  ip: 'ip',
  ipaddress: 'ip',
  publicip: 'ip',
  publicipaddress: 'ip',
  gatewayip: 'ip',
  customergatewayip: 'ip',
  customergatewayipaddress: 'ip',
  name: 'name',
  gatewayname: 'name',
  customergatewayname: 'name',
  description: 'description',
  desc: 'description',
  asn: 'asn',
  bgpasn: 'asn',
  asnumber: 'asn',
  authkey: 'auth_key',
  bgpauthkey: 'auth_key',
  authkeyenv: 'auth_key_env',
  bgpauthkeyenv: 'auth_key_env',
  resourcegroupid: 'resource_group_id',
  resourcegroup: 'resource_group_id',
  tags: 'tags',
  // Site columns, as people write them (`VPN Gateway ID`, `vpn_gateway`, `local subnets`, `Pre-shared key`).
  vpngatewayid: 'vpn_gateway_id',
  vpngateway: 'vpn_gateway_id',
  vpngw: 'vpn_gateway_id',
  vpngwid: 'vpn_gateway_id',
  localsubnet: 'local_subnet',
  localsubnets: 'local_subnet',
  localcidr: 'local_subnet',
  localcidrs: 'local_subnet',
  vpcsubnet: 'local_subnet',
  vpcsubnets: 'local_subnet',
  remotesubnet: 'remote_subnet',
  remotesubnets: 'remote_subnet',
  remotecidr: 'remote_subnet',
  remotecidrs: 'remote_subnet',
  branchsubnet: 'remote_subnet',
  branchsubnets: 'remote_subnet',
  psk: 'psk',
  presharedkey: 'psk',
  ipsecpsk: 'psk',
  ikeprofile: 'ike_profile',
  ipsecprofile: 'ike_profile',
  tunnelcidr: 'tunnel_cidr',
  bgptunnelcidr: 'tunnel_cidr',
  localbgpip: 'local_bgp_ip',
  connectionname: 'connection_name',
  vpnconnectionname: 'connection_name',
  effectimmediately: 'effect_immediately',
  ip2: 'ip_2',
  ipaddress2: 'ip_2',
  publicip2: 'ip_2',
  secondip: 'ip_2',
  tunnelcidr2: 'tunnel_cidr_2',
  bgptunnelcidr2: 'tunnel_cidr_2',
  localbgpip2: 'local_bgp_ip_2',
  device: 'device',
  devicetype: 'device',
};

const SITE: ReadonlySet<string> = new Set(SITE_FIELDS);

/** Names accepted for each canonical column, for error messages and the README. */
export const EXPECTED_HEADERS = 'region, ip (or "IP Address"), and optionally name, description, asn, auth_key, auth_key_env, resource_group_id, tags, tag:<Key>';

/**
 * Columns of results.csv / results.xlsx after the input columns (and `line` before them), normalised. A results file
 * filtered to its failed rows and saved is meant to be the next manifest, so these are recognised and skipped.
 */
export const RESULT_HEADERS: ReadonlySet<string> = new Set([
  'line', 'status', 'customergatewayid', 'errorcode', 'errormessage', 'errorclass', 'requestid', 'requestids', 'attempts', 'durationms', 'planaction', 'inthisrun', 'runnote',
  // A site row's result columns (the second customer gateway and the connection).
  'customergatewayid2', 'vpnconnectionid', 'connectionstatus', 'connectionstate', 'negotiation',
]);

/**
 * A header of a results file cgw-batch wrote (results.csv or results.xlsx, in any column order): our row status and
 * gateway id columns. `line` alone is not enough: a person's manifest may number its rows.
 */
export function isResultsHeader(columns: readonly Column[]): boolean {
  const ours = new Set(columns.filter((c) => c.kind === 'result').map((c) => normaliseHeader(c.header)));
  return ours.has('status') && ours.has('customergatewayid');
}

const TAG_PREFIX = /^tag\s*:/i;

/**
 * Case-insensitive, NFKC (full-width letters in a header are a spreadsheet accident, not meaning), trims every
 * Unicode space incl. NBSP and BOM, and drops spaces, `_` and `-` so `IP Address`, `ip_address` and `ipaddress` meet.
 */
export function normaliseHeader(h: string): string {
  return h.normalize('NFKC').toLowerCase().replace(/[\s_\-\uFEFF]+/g, '');
}

/** Classifies one header cell. `tag:<Key>` keeps the key as written (only trimmed): tag keys are data. */
export function classifyHeader(raw: string, index: number): Column {
  const header = raw.replace(/^[\s\uFEFF]+|[\s\uFEFF]+$/g, '');
  if (header === '') return { kind: 'blank', index, header };
  const nf = header.normalize('NFKC');
  if (TAG_PREFIX.test(nf)) return { kind: 'tag', key: header.slice(header.indexOf(':') + 1).trim(), index, header };
  const norm = normaliseHeader(header);
  // hasOwn: a header such as `constructor` must not find Object.prototype members.
  const canon = Object.hasOwn(ALIASES, norm) ? ALIASES[norm] : undefined;
  if (canon === undefined) return RESULT_HEADERS.has(norm) ? { kind: 'result', index, header } : { kind: 'unknown', index, header };
  if (canon === 'tags') return { kind: 'tags', index, header };
  if (canon === 'auth_key_env') return { kind: 'auth_key_env', index, header };
  if (SITE.has(canon)) return { kind: 'site', field: canon as SiteField, index, header };
  return { kind: 'field', field: canon as Exclude<Field, 'tags'>, index, header };
}

/** A stable identity for duplicate detection: two headers that land on the same column. */
export function columnIdentity(c: Column): string | undefined {
  switch (c.kind) {
    case 'field':
    case 'site':
      return c.field;
    case 'tags':
      return 'tags';
    case 'auth_key_env':
      return 'auth_key_env';
    case 'tag':
      return `tag:${c.key}`;
    case 'unknown':
      return `?${normaliseHeader(c.header)}`;
    case 'result':
    case 'blank':
      return undefined;
  }
}

export interface HeaderProblem {
  duplicate?: [string, string];
  emptyTagKey?: string;
}

/** Maps header cells to columns; reports the first duplicate pair (by original names) or an empty `tag:` key. */
export function mapHeaders(cells: readonly string[]): { columns: Column[]; problem?: HeaderProblem } {
  const columns = cells.map((c, i) => classifyHeader(c, i));
  const seen = new Map<string, Column>();
  for (const c of columns) {
    if (c.kind === 'tag' && c.key === '') return { columns, problem: { emptyTagKey: c.header } };
    const id = columnIdentity(c);
    if (id === undefined) continue;
    const first = seen.get(id);
    if (first) return { columns, problem: { duplicate: [first.header, c.header] } };
    seen.set(id, c);
  }
  return { columns };
}

/** True when the header cells name both required columns. */
export function hasRequired(cells: readonly string[]): boolean {
  let region = false;
  let ip = false;
  for (const c of cells) {
    const k = classifyHeader(stripQuotes(c), 0);
    if (k.kind === 'field' && k.field === 'region') region = true;
    if (k.kind === 'field' && k.field === 'ip') ip = true;
  }
  return region && ip;
}

/** Removes one level of surrounding double quotes from a header cell split naively (delimiter sniffing only). */
export function stripQuotes(s: string): string {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : t;
}

const ALIAS_KEYS = Object.keys(ALIASES);

/**
 * The field an unknown header most likely misspells (`nmae` -> name, `IP Adress` -> ip, `regoin` -> region), or
 * undefined when it is not close to any accepted header name (an extra column of the user's own).
 */
export function likelyField(header: string): string | undefined {
  const norm = normaliseHeader(header);
  if (norm === '' || RESULT_HEADERS.has(norm)) return undefined;
  const key = closest(norm, ALIAS_KEYS);
  return key === undefined ? undefined : ALIASES[key];
}
