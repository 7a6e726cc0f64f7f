// Site columns and IPsec profiles -> a validated SiteSpec, with the code CreateVpnConnection would answer for each
// problem (site-to-site.md §1.1, §1.5, §1.7; the emulator's src/emulator/vpn-*.ts enforce the same rules). Pure.
import { isIPv4 } from 'node:net';
import type { IkeParams, IpsecParams, IpsecProfile, PskSource, Severity, SiteField, SiteSpec, TunnelBgp, WrittenProfile, WrittenRow } from '../types.js';
import { checkIpv4, classifyIpv4, clip, codePoints } from './rules.js';

export const IKE_VERSIONS = ['ikev1', 'ikev2'] as const;
export const IKE_MODES = ['main', 'aggressive'] as const;
export const ENC_ALGS = ['aes', 'aes192', 'aes256', 'des', '3des'] as const;
export const AUTH_ALGS = ['md5', 'sha1', 'sha256', 'sha384', 'sha512'] as const;
export const IKE_PFS = ['group1', 'group2', 'group5', 'group14'] as const;
export const IPSEC_PFS = ['disabled', ...IKE_PFS] as const;
export const MAX_LIFETIME = 86400;
/** CIDR blocks per side of a connection (LocalSubnet, RemoteSubnet). */
export const MAX_SUBNETS = 5;

/** Alibaba Cloud's defaults for a connection without a profile (site-to-site.md §1.1). */
export const DEFAULT_PROFILE: IpsecProfile = {
  ike: { version: 'ikev1', mode: 'main', encAlg: 'aes', authAlg: 'md5', pfs: 'group2', lifetime: MAX_LIFETIME },
  ipsec: { encAlg: 'aes', authAlg: 'md5', pfs: 'group2', lifetime: MAX_LIFETIME },
  enableDpd: true,
  enableNatTraversal: true,
};

/** The PSK alphabet (site-to-site.md §1.7): 1-100 of letters, digits and these marks; no space, `"` or `\`. */
export const PSK_RE = /^[0-9A-Za-z~!`@#$%^&*()_\-+={}[\]|;:',.<>/?]{1,100}$/;

const VPN_GATEWAY_ID = /^vpn-[a-z0-9]{1,40}$/;

// ---- addresses --------------------------------------------------------------------------------------------------

export interface Cidr {
  base: number;
  bits: number;
}

const CIDR_SYNTAX = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/;
// Dotted quad without leading zeros, as the API (and the emulator) accept it.
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

const maskOf = (bits: number): number => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);

/** `a.b.c.d/n` with no host bits set; undefined otherwise. */
export function parseCidr(s: string): Cidr | undefined {
  const m = CIDR_SYNTAX.exec(s);
  if (!m || !IPV4.test(m[1]!)) return undefined;
  const bits = Number(m[2]);
  if (bits > 32) return undefined;
  const base = ipToInt(m[1]!);
  if (((base & maskOf(bits)) >>> 0) !== base) return undefined;
  return { base, bits };
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const mask = maskOf(Math.min(a.bits, b.bits));
  return ((a.base & mask) >>> 0) === ((b.base & mask) >>> 0);
}

/** Whether a CIDR of one list overlaps one of the other (traffic selectors of two connections). */
export function listsOverlap(a: readonly string[], b: readonly string[]): boolean {
  const pa = a.map(parseCidr).filter((x): x is Cidr => x !== undefined);
  const pb = b.map(parseCidr).filter((x): x is Cidr => x !== undefined);
  return pa.some((x) => pb.some((y) => cidrsOverlap(x, y)));
}

/** A problem with one value: the API's code and what to do. */
export interface SiteProblem {
  code: string;
  message: string;
}

/** `local_subnet` / `remote_subnet`: 1-5 comma-separated IPv4 CIDR blocks without host bits, no repeats, 0.0.0.0/0 only alone. */
export function checkSubnets(raw: string, field: 'local_subnet' | 'remote_subnet'): { list?: string[]; problem?: SiteProblem } {
  const code = field === 'local_subnet' ? 'IllegalParam.LocalSubnet' : 'IllegalParam.RemoteSubnet';
  const side = field === 'local_subnet' ? 'VPC-side' : 'branch-side';
  const bad = (why: string) => ({ problem: { code, message: `the ${side} CIDR blocks: ${why}` } });
  const items = raw.split(',').map((s) => s.trim());
  if (items.some((x) => x === '')) return bad('an empty entry (a comma too many?); write CIDR blocks separated by commas, e.g. 10.0.0.0/16,10.1.0.0/16');
  if (items.length > MAX_SUBNETS) return bad(`${items.length} CIDR blocks given; a connection takes at most ${MAX_SUBNETS} per side`);
  const seen = new Set<string>();
  for (const x of items) {
    if (!parseCidr(x)) {
      const m = CIDR_SYNTAX.exec(x);
      const host = m && IPV4.test(m[1]!) && Number(m[2]) <= 32;
      return bad(host ? `"${clip(x)}" has host bits set; write the network address (e.g. ${networkOf(x)})` : `"${clip(x)}" is not an IPv4 CIDR block (a.b.c.d/n)`);
    }
    if (seen.has(x)) return bad(`"${x}" is given twice`);
    seen.add(x);
  }
  if (items.length > 1 && items.includes('0.0.0.0/0')) return bad('0.0.0.0/0 (destination routing) must be the only CIDR block');
  return { list: items };
}

function networkOf(cidr: string): string {
  const [ip, bits] = cidr.split('/');
  const n = (ipToInt(ip!) & maskOf(Number(bits))) >>> 0;
  return `${[24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.')}/${bits}`;
}

const LINK_LOCAL = parseCidr('169.254.0.0/16')!;

/** `tunnel_cidr`: syntax -> InvalidTunnelCidr.Malformed; not a /30 inside 169.254.0.0/16 -> IllegalParam.TunnelCidr. */
export function checkTunnelCidr(s: string): SiteProblem | undefined {
  const m = CIDR_SYNTAX.exec(s);
  if (!m || !IPV4.test(m[1]!) || Number(m[2]) > 32) return { code: 'InvalidTunnelCidr.Malformed', message: `"${clip(s)}" is not a CIDR block; write a /30 inside 169.254.0.0/16, e.g. 169.254.10.0/30` };
  const c = parseCidr(s);
  if (c === undefined || c.bits !== 30 || !cidrsOverlap(c, LINK_LOCAL)) return { code: 'IllegalParam.TunnelCidr', message: `${s} must be a /30 network inside 169.254.0.0/16 (e.g. 169.254.10.0/30)` };
  return undefined;
}

/** `local_bgp_ip`: an IPv4 address, one of the two host addresses of the tunnel CIDR. */
export function checkLocalBgpIp(ip: string, tunnelCidr: string): SiteProblem | undefined {
  if (!IPV4.test(ip)) return { code: 'InvalidLocalBgpIp.Malformed', message: `"${clip(ip)}" is not an IPv4 address` };
  const c = parseCidr(tunnelCidr);
  if (!c) return undefined;
  const n = ipToInt(ip);
  if (n !== c.base + 1 && n !== c.base + 2) return { code: 'IllegalParam.LocalBgpIp', message: `${ip} is not one of the two host addresses of ${tunnelCidr}` };
  return undefined;
}

/** The VPN gateway side's BGP address when the row gives none: the tunnel CIDR's first host (the API's default). */
export function defaultLocalBgpIp(tunnelCidr: string): string {
  const n = parseCidr(tunnelCidr)!.base + 1;
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

// ---- profiles ----------------------------------------------------------------------------------------------------

/** A profile checked: its parameters (defaults where absent) and what is wrong with it. */
export interface ResolvedProfile {
  written: WrittenProfile;
  profile: IpsecProfile;
  problems: Array<SiteProblem & { severity: Severity; param: string }>;
}

/** Where a profile is defined, for messages: `profiles.yaml:12` or `sites.xlsx:Profiles!A3`. */
export function profilePlace(p: WrittenProfile, param?: string): string {
  const cell = (param !== undefined ? p.cells?.[param] : undefined) ?? p.cells?.name;
  return cell !== undefined ? `${p.file}:${cell}` : `${p.file}:${p.line}`;
}

export function resolveProfile(written: WrittenProfile): ResolvedProfile {
  const problems: ResolvedProfile['problems'] = [];
  const ike: IkeParams = { ...DEFAULT_PROFILE.ike };
  const ipsec: IpsecParams = { ...DEFAULT_PROFILE.ipsec };
  const out: IpsecProfile = { ike, ipsec, enableDpd: DEFAULT_PROFILE.enableDpd, enableNatTraversal: DEFAULT_PROFILE.enableNatTraversal };
  const bad = (param: string, message: string, code = 'InvalidParameter'): void => {
    problems.push({ severity: 'error', code, param, message: `${param} ${message}` });
  };
  const oneOf = <T extends string>(param: string, allowed: readonly T[], code?: string): T | undefined => {
    const raw = written.params[param];
    if (raw === undefined) return undefined;
    const v = raw.trim().toLowerCase();
    if ((allowed as readonly string[]).includes(v)) return v as T;
    bad(param, `"${clip(raw)}" is not one of ${allowed.join(', ')}`, code);
    return undefined;
  };
  const lifetime = (param: string): number | undefined => {
    const raw = written.params[param];
    if (raw === undefined) return undefined;
    const v = raw.trim();
    if (/^\d{1,6}$/.test(v) && Number(v) <= MAX_LIFETIME) return Number(v);
    bad(param, `"${clip(raw)}" must be a whole number of seconds from 0 to ${MAX_LIFETIME}`);
    return undefined;
  };
  const flag = (param: string): boolean | undefined => {
    const raw = written.params[param];
    if (raw === undefined) return undefined;
    const v = parseFlag(raw);
    if (v === undefined) bad(param, `"${clip(raw)}" must be true or false`);
    return v;
  };
  const identity = (param: string): string | undefined => {
    const raw = written.params[param];
    if (raw === undefined) return undefined;
    const v = raw.trim();
    if (v === '' || codePoints(v) > 100) {
      bad(param, `must be 1-100 characters (an IPv4 address or an FQDN)`);
      return undefined;
    }
    return v;
  };
  const set = <T>(v: T | undefined, put: (v: T) => void): void => {
    if (v !== undefined) put(v);
  };
  set(oneOf('ike_version', IKE_VERSIONS), (v) => (ike.version = v));
  set(oneOf('ike_mode', IKE_MODES), (v) => (ike.mode = v));
  set(oneOf('ike_enc_alg', ENC_ALGS), (v) => (ike.encAlg = v));
  set(oneOf('ike_auth_alg', AUTH_ALGS), (v) => (ike.authAlg = v));
  set(oneOf('ike_pfs', IKE_PFS), (v) => (ike.pfs = v));
  set(lifetime('ike_lifetime'), (v) => (ike.lifetime = v));
  set(identity('local_id'), (v) => (ike.localId = v));
  set(identity('remote_id'), (v) => (ike.remoteId = v));
  set(oneOf('ipsec_enc_alg', ENC_ALGS), (v) => (ipsec.encAlg = v));
  set(oneOf('ipsec_auth_alg', AUTH_ALGS, 'NotSupportVpnConnectionParameter.IpsecAuthAlg'), (v) => (ipsec.authAlg = v));
  set(oneOf('ipsec_pfs', IPSEC_PFS, 'NotSupportVpnConnectionParameter.IpsecPfs'), (v) => (ipsec.pfs = v));
  set(lifetime('ipsec_lifetime'), (v) => (ipsec.lifetime = v));
  set(flag('enable_dpd'), (v) => (out.enableDpd = v));
  set(flag('enable_nat_traversal'), (v) => (out.enableNatTraversal = v));
  // An FQDN identity is only carried by IKEv1's aggressive mode (main mode identifies peers by address).
  const fqdn = [ike.localId, ike.remoteId].some((id) => id !== undefined && !isIPv4(id));
  if (fqdn && ike.version === 'ikev1' && ike.mode === 'main') {
    problems.push({
      severity: 'warning',
      code: 'Cgw.IdentityMode',
      param: 'ike_mode',
      message: 'an FQDN local_id or remote_id with IKEv1 main mode: most devices need ike_mode: aggressive for it (or ike_version: ikev2)',
    });
  }
  return { written, profile: out, problems };
}

/** `true` / `false` in any letter case (a workbook's logical cell reads TRUE / FALSE). */
export function parseFlag(raw: string): boolean | undefined {
  const v = raw.trim().toLowerCase();
  return v === 'true' ? true : v === 'false' ? false : undefined;
}

// ---- the row ----------------------------------------------------------------------------------------------------

export interface SiteRuleOptions {
  /** Profiles by name (the manifest's and `--profiles`'). */
  profiles?: ReadonlyMap<string, ResolvedProfile>;
  /** Device types `cgw-batch configs` renders (src/device's DEVICE_TYPES); absent: the device column is not checked. */
  deviceTypes?: ReadonlySet<string>;
}

/** What a manifest's site rows are checked against: its profiles (resolved once) and the device types. */
export function siteRuleOptions(profiles: readonly WrittenProfile[] | undefined, deviceTypes?: ReadonlySet<string>): SiteRuleOptions {
  const out: SiteRuleOptions = { profiles: new Map((profiles ?? []).map((p) => [p.name, resolveProfile(p)])) };
  if (deviceTypes) out.deviceTypes = deviceTypes;
  return out;
}

type Add = (severity: Severity, code: string, field: string, message: string) => void;

/** Whether a written row is a site row: a site column other than `device` holds a value. */
export function isSiteRow(w: WrittenRow): boolean {
  return w.site !== undefined && Object.entries(w.site).some(([k, v]) => k !== 'device' && v !== undefined && v.trim() !== '');
}

const siteValue = (w: WrittenRow, f: SiteField): string | undefined => {
  const v = w.site?.[f]?.trim();
  return v === undefined || v === '' ? undefined : v;
};

/**
 * A row's site columns -> its SiteSpec (undefined when the row has none, or cannot be a site), every problem through
 * `add` with the code the API would answer. `ip` / `asn` are the row's validated customer-gateway values.
 */
export function validateSite(w: WrittenRow, ip: string | undefined, asn: string | undefined, opts: SiteRuleOptions, add: Add, suggest: (word: string, names: Iterable<string>) => string | undefined): SiteSpec | undefined {
  if (w.site === undefined) return undefined;
  const gatewayId = siteValue(w, 'vpn_gateway_id');
  if (gatewayId === undefined) {
    // `device` alone is not a site (a column of that name may be the user's own inventory note).
    const given = Object.keys(w.site).filter((k) => k !== 'device' && siteValue(w, k as SiteField) !== undefined);
    if (given.length === 0) return undefined;
    add('error', 'MissingVpnGatewayId', 'vpn_gateway_id', `the row has site columns (${given.join(', ')}) but no vpn_gateway_id: name the VPN gateway the branch connects to, or clear them`);
    return undefined;
  }
  let ok = true;
  const fail: Add = (severity, code, field, message) => {
    if (severity === 'error') ok = false;
    add(severity, code, field, message);
  };
  if (!VPN_GATEWAY_ID.test(gatewayId)) fail('error', 'InvalidVpnGatewayInstanceId.NotFound', 'vpn_gateway_id', `"${clip(gatewayId)}" is not a VPN gateway id (vpn- followed by lower-case letters and digits); copy it from the console`);

  const subnets = (field: 'local_subnet' | 'remote_subnet', code: string): string[] => {
    const raw = siteValue(w, field);
    if (raw === undefined) {
      fail('error', code, field, `${field} is empty: a connection needs the ${field === 'local_subnet' ? 'VPC-side' : 'branch-side'} CIDR blocks (0.0.0.0/0 on both sides for destination routing)`);
      return [];
    }
    const r = checkSubnets(raw, field);
    if (r.problem) fail('error', r.problem.code, field, r.problem.message);
    return r.list ?? [];
  };
  const localSubnet = subnets('local_subnet', 'MissingLocalSubnet');
  const remoteSubnet = subnets('remote_subnet', 'MissingRemoteSubnet');
  const destination = (l: string[]) => l.length === 1 && l[0] === '0.0.0.0/0';
  if (localSubnet.length > 0 && remoteSubnet.length > 0 && destination(localSubnet) !== destination(remoteSubnet)) {
    fail('warning', 'Cgw.HalfDestinationRouting', destination(localSubnet) ? 'local_subnet' : 'remote_subnet', 'only one side is 0.0.0.0/0: destination routing needs 0.0.0.0/0 on both sides; with specific CIDR blocks on one side the connection uses protected data flows');
  }

  // PSK: the loader kept the reference; its value is checked here, never quoted.
  let psk: PskSource | undefined;
  const pskText = siteValue(w, 'psk');
  if (pskText === 'generate') psk = { kind: 'generate' };
  else if (pskText?.startsWith('env:') && w.pskValue !== undefined) {
    if (!PSK_RE.test(w.pskValue)) {
      const n = codePoints(w.pskValue);
      fail('error', 'InvalidParameter', 'psk', `the pre-shared key in ${pskText.slice(4)} ${n > 100 ? `is ${n} characters long` : 'holds a character the API refuses'}: use 1-100 letters, digits or ~!\`@#$%^&*()_-+={}[]|;:',.<>/? (no space, " or \\)`);
    } else psk = { kind: 'ref', ref: pskText, value: w.pskValue };
    // The key pasted into another cell would be sent, stored and reported there as plain text.
    if (w.pskValue.length >= 4) {
      const where = new Set<string>();
      for (const [column, value] of Object.entries(w.echo)) if (value.includes(w.pskValue)) where.add(column);
      for (const [f, value] of Object.entries(w.fields)) if (value.includes(w.pskValue)) where.add(f);
      for (const t of w.tags) if (t.key.includes(w.pskValue) || t.value.includes(w.pskValue)) where.add('tags');
      for (const column of where) fail('error', 'Cgw.PskElsewhere', column, `the pre-shared key of this row also appears in ${column}; remove it there (it would be sent and stored as plain text)`);
    }
  }

  let profile = DEFAULT_PROFILE;
  const profileName = siteValue(w, 'ike_profile');
  if (profileName !== undefined) {
    const p = opts.profiles?.get(profileName);
    if (p === undefined) {
      const names = [...(opts.profiles?.keys() ?? [])];
      const guess = suggest(profileName, names);
      const known = names.length > 0 ? `; profiles: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''}` : '; define it under profiles: (YAML), in the Profiles sheet (xlsx) or in a --profiles FILE';
      fail('error', 'Cgw.UnknownProfile', 'ike_profile', `profile "${clip(profileName)}" is not defined${guess ? ` (did you mean "${guess}"?)` : ''}${known}`);
    } else {
      profile = p.profile;
      for (const pr of p.problems) fail(pr.severity, pr.code, 'ike_profile', `profile "${clip(profileName)}" (${profilePlace(p.written, pr.param)}): ${pr.message}`);
    }
  }

  const name = siteValue(w, 'connection_name');
  if (name !== undefined && (codePoints(name) > 100 || /^https?:\/\//i.test(name))) {
    fail('error', 'InvalidParameter.VpnConnectionName', 'connection_name', 'the connection name must be 1-100 characters and must not start with http:// or https://');
  }
  let effectImmediately: boolean | undefined;
  const effect = siteValue(w, 'effect_immediately');
  if (effect !== undefined) {
    effectImmediately = parseFlag(effect);
    if (effectImmediately === undefined) fail('error', 'InvalidParameter', 'effect_immediately', `"${clip(effect)}" must be true (negotiate at once) or false (when traffic arrives)`);
  }

  // The second customer gateway (dual tunnel).
  const ip2 = siteValue(w, 'ip_2');
  if (ip2 !== undefined) {
    const bad = checkIpv4(ip2);
    if (bad) fail('error', 'InvalidIpAddress.WrongFormat', 'ip_2', bad.message);
    else if (ip2 === ip) fail('error', 'InvalidIpAddress.AlreadyExist', 'ip_2', 'ip_2 is the row\'s own ip: the second customer gateway needs the branch\'s second public IP (or leave ip_2 empty to run both tunnels from one)');
    else {
      const range = classifyIpv4(ip2);
      if (range?.kind === 'unsupported') fail('warning', 'Cgw.UnsupportedIpRange', 'ip_2', `IPsec-VPN connections cannot be established to ${range.label} addresses; use the device's public IP`);
    }
  }

  // BGP per tunnel: the CIDR, then the address inside it.
  const bgpOf = (cidrField: 'tunnel_cidr' | 'tunnel_cidr_2', ipField: 'local_bgp_ip' | 'local_bgp_ip_2'): TunnelBgp | undefined => {
    const cidr = siteValue(w, cidrField);
    const local = siteValue(w, ipField);
    if (cidr === undefined) {
      if (local !== undefined) fail('error', 'MissingParameter.TunnelCidr', cidrField, `${ipField} is set but ${cidrField} is empty: BGP needs the tunnel's /30 inside 169.254.0.0/16`);
      return undefined;
    }
    const bad = checkTunnelCidr(cidr);
    if (bad) {
      fail('error', bad.code, cidrField, bad.message);
      return undefined;
    }
    if (local !== undefined) {
      const badIp = checkLocalBgpIp(local, cidr);
      if (badIp) {
        fail('error', badIp.code, ipField, badIp.message);
        return undefined;
      }
    }
    return { tunnelCidr: cidr, localBgpIp: local ?? defaultLocalBgpIp(cidr) };
  };
  const bgp = bgpOf('tunnel_cidr', 'local_bgp_ip');
  const bgp2 = bgpOf('tunnel_cidr_2', 'local_bgp_ip_2');
  const anyBgp = siteValue(w, 'tunnel_cidr') !== undefined || siteValue(w, 'tunnel_cidr_2') !== undefined;
  if (siteValue(w, 'tunnel_cidr_2') !== undefined && siteValue(w, 'tunnel_cidr') === undefined) {
    fail('error', 'MissingParameter.TunnelCidr', 'tunnel_cidr', 'tunnel_cidr_2 is set but tunnel_cidr is empty: BGP runs over both tunnels of a dual-tunnel gateway, each with its own /30');
  }
  if (siteValue(w, 'tunnel_cidr') !== undefined && siteValue(w, 'tunnel_cidr_2') === undefined && ip2 !== undefined) {
    fail('error', 'MissingParameter.TunnelCidr', 'tunnel_cidr_2', 'a dual-tunnel site (ip_2 given) with BGP needs tunnel_cidr_2 too: a /30 inside 169.254.0.0/16 for the second tunnel');
  }
  if (bgp && bgp2 && parseCidr(bgp.tunnelCidr)!.base === parseCidr(bgp2.tunnelCidr)!.base) {
    fail('error', 'IllegalParam.TunnelCidr', 'tunnel_cidr_2', 'both tunnels use the same tunnel CIDR; give each its own /30');
  }
  if (anyBgp && asn === undefined) {
    fail('error', 'MissingParam.CustomerGatewayAsn', 'asn', 'BGP over the tunnel (tunnel_cidr) needs the customer gateway\'s ASN: fill asn');
  }

  const device = siteValue(w, 'device');
  if (device !== undefined && opts.deviceTypes !== undefined && !opts.deviceTypes.has(device)) {
    const guess = suggest(device, opts.deviceTypes);
    fail('error', 'Cgw.UnknownDevice', 'device', `"${clip(device)}" is not a device type${guess ? ` (did you mean ${guess}?)` : ''}; types: ${[...opts.deviceTypes].join(', ')}`);
  }

  if (!ok) return undefined;
  const site: SiteSpec = { vpnGatewayId: gatewayId, localSubnet, remoteSubnet, profile };
  if (psk) site.psk = psk;
  if (profileName !== undefined) site.profileName = profileName;
  if (name !== undefined) site.name = name;
  if (effectImmediately !== undefined) site.effectImmediately = effectImmediately;
  if (bgp) site.bgp = bgp;
  if (ip2 !== undefined) site.ip2 = ip2;
  if (bgp2) site.bgp2 = bgp2;
  if (device !== undefined) site.device = device;
  return site;
}
