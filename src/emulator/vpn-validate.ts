// Pure IPsec-connection input rules (site-to-site.md §1.1, §1.5, §1.7): parameters in, a normalised input or ApiError out.
import { err, invalidParam, type ApiError } from './api-error.js';
import { isIpv4, isValidLabel, validateCreateTags, type Params, type TagKV } from './validate.js';
import {
  AUTH_ALGS,
  ENC_ALGS,
  HEALTH_POLICIES,
  IKE_MODES,
  IKE_PFS,
  IKE_VERSIONS,
  IPSEC_PFS,
  PSK_RE,
  type HealthCheckSettings,
  type IkeSettings,
  type IpsecSettings,
} from './vpn-model.js';

export const MAX_SUBNETS = 5;

export interface BgpInput {
  EnableBgp?: boolean;
  LocalAsn?: number;
  TunnelCidr?: string;
  LocalBgpIp?: string;
}

export interface TunnelInput {
  /** N of `TunnelOptionsSpecification.N`. */
  index: number;
  TunnelId?: string;
  Role?: 'master' | 'slave';
  CustomerGatewayId?: string;
  EnableDpd?: boolean;
  EnableNatTraversal?: boolean;
  RemoteCaCertificate?: string;
  Ike: Partial<IkeSettings>;
  Ipsec: Partial<IpsecSettings>;
  Bgp: BgpInput;
}

/** What Modify may change; every field absent = unchanged. */
export interface ConnectionChanges {
  Name?: string;
  LocalSubnet?: string[];
  RemoteSubnet?: string[];
  EffectImmediately?: boolean;
  AutoConfigRoute?: boolean;
  // single tunnel
  CustomerGatewayId?: string;
  EnableDpd?: boolean;
  EnableNatTraversal?: boolean;
  IkeConfig?: Partial<IkeSettings>;
  IpsecConfig?: Partial<IpsecSettings>;
  HealthCheckConfig?: Partial<HealthCheckSettings>;
  BgpConfig?: BgpInput;
  RemoteCaCertificate?: string;
  // dual tunnel
  Tunnels?: TunnelInput[];
  EnableTunnelsBgp?: boolean;
}

export interface ConnectionInput extends ConnectionChanges {
  VpnGatewayId: string;
  LocalSubnet: string[];
  RemoteSubnet: string[];
  Tags: TagKV[];
  ResourceGroupId?: string;
}

/** Parameters only a single-tunnel connection takes, and only a dual-tunnel one (their wire names). */
export const SINGLE_ONLY = ['CustomerGatewayId', 'IkeConfig', 'IpsecConfig', 'HealthCheckConfig', 'BgpConfig', 'EnableDpd', 'EnableNatTraversal'] as const;
export const DUAL_ONLY = ['Tunnels', 'EnableTunnelsBgp'] as const;

const present = (p: Params, k: string): string | undefined => {
  const v = p.get(k);
  return v === undefined || v === '' ? undefined : v;
};

export function parseBool(p: Params, name: string): boolean | undefined {
  const v = present(p, name);
  if (v === undefined) return undefined;
  const l = v.toLowerCase();
  if (l === 'true') return true;
  if (l === 'false') return false;
  throw invalidParam(name);
}

// ---- addresses -------------------------------------------------------------------------------------------------

export interface Cidr {
  base: number;
  bits: number;
}

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

function maskOf(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

const CIDR_SYNTAX = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/;

/** `a.b.c.d/n` with no host bits set; undefined otherwise. */
export function parseCidr(s: string): Cidr | undefined {
  const m = CIDR_SYNTAX.exec(s);
  if (!m || !isIpv4(m[1] ?? '')) return undefined;
  const bits = Number(m[2]);
  if (bits > 32) return undefined;
  const base = ipToInt(m[1] ?? '');
  if (((base & maskOf(bits)) >>> 0) !== base) return undefined;
  return { base, bits };
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const mask = maskOf(Math.min(a.bits, b.bits));
  return ((a.base & mask) >>> 0) === ((b.base & mask) >>> 0);
}

/** Whether any CIDR of one list overlaps any of the other. */
export function listsOverlap(a: string[], b: string[]): boolean {
  const pa = a.map(parseCidr).filter((x): x is Cidr => x !== undefined);
  const pb = b.map(parseCidr).filter((x): x is Cidr => x !== undefined);
  return pa.some((x) => pb.some((y) => cidrsOverlap(x, y)));
}

/** LocalSubnet / RemoteSubnet: 1-5 comma-separated IPv4 CIDRs, no duplicates; 0.0.0.0/0 only alone. */
export function parseSubnets(raw: string, name: 'LocalSubnet' | 'RemoteSubnet'): string[] {
  const bad = (why: string): ApiError => err(400, `IllegalParam.${name}`, `The specified "${name}" is invalid: ${why}.`);
  const items = raw.split(',').map((s) => s.trim());
  if (items.some((x) => x === '')) throw bad('an empty CIDR block');
  if (items.length > MAX_SUBNETS) throw bad(`at most ${MAX_SUBNETS} CIDR blocks`);
  const seen = new Set<string>();
  for (const x of items) {
    if (!parseCidr(x)) throw bad('not an IPv4 CIDR block (a.b.c.d/n without host bits)');
    if (seen.has(x)) throw bad('a CIDR block given twice');
    seen.add(x);
  }
  if (items.length > 1 && items.includes('0.0.0.0/0')) throw bad('0.0.0.0/0 must be the only CIDR block');
  return items;
}

/** TunnelCidr: the syntax is Malformed, the rest (a /30 inside 169.254.0.0/16) IllegalParam. */
export function checkTunnelCidr(s: string): Cidr {
  const m = CIDR_SYNTAX.exec(s);
  if (!m || !isIpv4(m[1] ?? '') || Number(m[2]) > 32)
    throw err(400, 'InvalidTunnelCidr.Malformed', 'The specified TunnelCidr is malformed.');
  const c = parseCidr(s);
  const linkLocal = parseCidr('169.254.0.0/16') as Cidr;
  if (!c || c.bits !== 30 || !cidrsOverlap(c, linkLocal)) throw err(400, 'IllegalParam.TunnelCidr', 'The specified TunnelCidr is invalid.');
  return c;
}

/** LocalBgpIp: an IPv4 address, one of the two host addresses of the TunnelCidr. */
export function checkLocalBgpIp(ip: string, cidr: Cidr): void {
  if (!isIpv4(ip)) throw err(400, 'InvalidLocalBgpIp.Malformed', 'The specified LocalBgpIp is malformed.');
  const n = ipToInt(ip);
  if (n !== cidr.base + 1 && n !== cidr.base + 2) throw err(400, 'IllegalParam.LocalBgpIp', 'The specified LocalBgpIp is invalid.');
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** The other host address of a /30: the peer's BGP IP. */
export function peerBgpIp(tunnelCidr: string, localBgpIp: string): string {
  const c = parseCidr(tunnelCidr);
  if (!c) return '';
  return intToIp(ipToInt(localBgpIp) === c.base + 1 ? c.base + 2 : c.base + 1);
}

/** LocalAsn: 1..4294967295 (45104, Alibaba's own, is the default), as a number, digits or asdot `hi.lo`. */
export function parseLocalAsn(v: unknown): number | undefined {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\d{1,10}$/.test(v)) n = Number(v);
  else if (typeof v === 'string' && /^\d{1,5}\.\d{1,5}$/.test(v)) {
    const [hi, lo] = v.split('.').map(Number) as [number, number];
    if (hi > 65535 || lo > 65535) return undefined;
    n = hi * 65536 + lo;
  } else return undefined;
  return Number.isInteger(n) && n >= 1 && n <= 4294967295 ? n : undefined;
}

// ---- the JSON-string parameters and their flat twins -------------------------------------------------------------

type Json = Record<string, unknown>;

/** A JSON-string parameter; the code for a malformed one is undocumented except for BgpConfig. */
function jsonObject(raw: string, name: string, code = 'InvalidParameter'): Json {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw err(400, code, `The specified parameter ${name} is not a valid JSON object.`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw err(400, code, `The specified parameter ${name} is not a valid JSON object.`);
  return v as Json;
}

const has = (o: Json, k: string): boolean => o[k] !== undefined && o[k] !== null && o[k] !== '';

function strField(o: Json, k: string, where: string): string | undefined {
  if (!has(o, k)) return undefined;
  if (typeof o[k] !== 'string') throw invalidParam(`${where}.${k}`);
  return o[k] as string;
}

function enumField(o: Json, k: string, where: string, allowed: readonly string[], code?: string): string | undefined {
  const v = has(o, k) ? o[k] : undefined;
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !allowed.includes(v)) {
    if (code) throw err(400, code, `The specified vpn connection parameter ${k} is not supported.`);
    throw invalidParam(`${where}.${k}`, `must be one of ${allowed.join(', ')}`);
  }
  return v;
}

function intField(o: Json, k: string, where: string, min: number, max: number): number | undefined {
  if (!has(o, k)) return undefined;
  const v = o[k];
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw invalidParam(`${where}.${k}`, `must be a whole number from ${min} to ${max}`);
  return n;
}

function boolField(o: Json, k: string, where: string, code?: string): boolean | undefined {
  if (!has(o, k)) return undefined;
  const v = o[k];
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  if (code) throw err(400, code, `The specified ${where} is invalid.`);
  throw invalidParam(`${where}.${k}`);
}

function idField(o: Json, k: string, where: string): string | undefined {
  const v = strField(o, k, where);
  if (v !== undefined && [...v].length > 100) throw invalidParam(`${where}.${k}`, 'must be at most 100 characters');
  return v;
}

/** IKE phase-1 settings; the PSK is checked against the documented alphabet and never echoed. */
export function parseIke(o: Json, where: string): Partial<IkeSettings> {
  const out: Partial<IkeSettings> = {};
  if (has(o, 'Psk')) {
    const psk = o.Psk;
    if (typeof psk !== 'string' || !PSK_RE.test(psk))
      throw invalidParam(`${where}.Psk`, 'must be 1-100 letters, digits or ~!`@#$%^&*()_-+={}[]|;:\',.<>/? (no space, " or \\)');
    out.Psk = psk;
  }
  const set = <K extends keyof IkeSettings>(k: K, v: IkeSettings[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('IkeVersion', enumField(o, 'IkeVersion', where, IKE_VERSIONS));
  set('IkeMode', enumField(o, 'IkeMode', where, IKE_MODES));
  set('IkeEncAlg', enumField(o, 'IkeEncAlg', where, ENC_ALGS));
  set('IkeAuthAlg', enumField(o, 'IkeAuthAlg', where, AUTH_ALGS));
  set('IkePfs', enumField(o, 'IkePfs', where, IKE_PFS));
  set('IkeLifetime', intField(o, 'IkeLifetime', where, 0, 86400));
  set('LocalId', idField(o, 'LocalId', where));
  set('RemoteId', idField(o, 'RemoteId', where));
  return out;
}

/** IPsec phase-2 settings; the two algorithm codes are documented, the rest are InvalidParameter. */
export function parseIpsec(o: Json, where: string): Partial<IpsecSettings> {
  const out: Partial<IpsecSettings> = {};
  const enc = enumField(o, 'IpsecEncAlg', where, ENC_ALGS);
  const auth = enumField(o, 'IpsecAuthAlg', where, AUTH_ALGS, 'NotSupportVpnConnectionParameter.IpsecAuthAlg');
  const pfs = enumField(o, 'IpsecPfs', where, IPSEC_PFS, 'NotSupportVpnConnectionParameter.IpsecPfs');
  const life = intField(o, 'IpsecLifetime', where, 0, 86400);
  if (enc !== undefined) out.IpsecEncAlg = enc;
  if (auth !== undefined) out.IpsecAuthAlg = auth;
  if (pfs !== undefined) out.IpsecPfs = pfs;
  if (life !== undefined) out.IpsecLifetime = life;
  return out;
}

/** HealthCheckConfig (lower-case keys, as documented). */
export function parseHealth(o: Json): Partial<HealthCheckSettings> {
  const where = 'HealthCheckConfig';
  const out: Partial<HealthCheckSettings> = {};
  const enable = boolField(o, 'enable', where);
  if (enable !== undefined) out.enable = enable;
  for (const k of ['dip', 'sip'] as const) {
    const v = strField(o, k, where);
    if (v !== undefined) {
      if (!isIpv4(v)) throw invalidParam(`${where}.${k}`, 'must be an IPv4 address');
      out[k] = v;
    }
  }
  const interval = intField(o, 'interval', where, 1, 60);
  const retry = intField(o, 'retry', where, 1, 100);
  if (interval !== undefined) out.interval = interval;
  if (retry !== undefined) out.retry = retry;
  const policy = enumField(o, 'Policy', where, HEALTH_POLICIES) ?? enumField(o, 'policy', where, HEALTH_POLICIES);
  if (policy !== undefined) out.policy = policy;
  return out;
}

/** BgpConfig / TunnelBgpConfig field syntax; which fields are required depends on the merged result (bgpRules). */
export function parseBgp(o: Json, where: string): BgpInput {
  const out: BgpInput = {};
  const enable = boolField(o, 'EnableBgp', where, 'IllegalParam.BgpConfig');
  if (enable !== undefined) out.EnableBgp = enable;
  if (has(o, 'LocalAsn')) {
    const asn = parseLocalAsn(o.LocalAsn);
    if (asn === undefined) throw err(400, 'IllegalParam.LocalAsn', 'The specified LocalAsn is invalid.');
    out.LocalAsn = asn;
  }
  if (has(o, 'TunnelCidr')) {
    if (typeof o.TunnelCidr !== 'string') throw err(400, 'InvalidTunnelCidr.Malformed', 'The specified TunnelCidr is malformed.');
    checkTunnelCidr(o.TunnelCidr);
    out.TunnelCidr = o.TunnelCidr;
  }
  if (has(o, 'LocalBgpIp')) {
    if (typeof o.LocalBgpIp !== 'string' || !isIpv4(o.LocalBgpIp))
      throw err(400, 'InvalidLocalBgpIp.Malformed', 'The specified LocalBgpIp is malformed.');
    out.LocalBgpIp = o.LocalBgpIp;
  }
  return out;
}

const TUNNEL_KEY = /^TunnelOptionsSpecification\.(\d{1,3})\.([A-Za-z]+)(?:\.([A-Za-z]+))?$/;

/**
 * `TunnelOptionsSpecification.N.Field` and `.N.TunnelIkeConfig.Field` (style flat, usually in the POST body) into
 * one input per N, in N order; undefined when the request has none. Unknown fields are ignored, as the API does.
 */
export function parseTunnels(p: Params): TunnelInput[] | undefined {
  const byIndex = new Map<number, { top: Json; ike: Json; ipsec: Json; bgp: Json }>();
  for (const [k, v] of p) {
    if (k === 'TunnelOptionsSpecification')
      throw invalidParam('TunnelOptionsSpecification', 'must be sent in flat form (TunnelOptionsSpecification.N.Field)');
    const m = TUNNEL_KEY.exec(k);
    if (!m) continue;
    const n = Number(m[1]);
    const e = byIndex.get(n) ?? { top: {}, ike: {}, ipsec: {}, bgp: {} };
    byIndex.set(n, e);
    const [field, sub] = [m[2] ?? '', m[3]];
    if (sub === undefined) e.top[field] = v;
    else if (field === 'TunnelIkeConfig') e.ike[sub] = v;
    else if (field === 'TunnelIpsecConfig') e.ipsec[sub] = v;
    else if (field === 'TunnelBgpConfig') e.bgp[sub] = v;
  }
  if (byIndex.size === 0) return undefined;
  return [...byIndex.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([index, e]) => {
      const where = `TunnelOptionsSpecification.${index}`;
      const t: TunnelInput = {
        index,
        Ike: parseIke(e.ike, `${where}.TunnelIkeConfig`),
        Ipsec: parseIpsec(e.ipsec, `${where}.TunnelIpsecConfig`),
        Bgp: parseBgp(e.bgp, `${where}.TunnelBgpConfig`),
      };
      const id = strField(e.top, 'TunnelId', where);
      if (id !== undefined) t.TunnelId = id;
      const role = strField(e.top, 'Role', where);
      if (role !== undefined) {
        if (role !== 'master' && role !== 'slave') throw err(400, 'IllegalParam.Role', 'The specified Role is invalid.');
        t.Role = role;
      }
      const cgw = strField(e.top, 'CustomerGatewayId', where);
      if (cgw !== undefined) t.CustomerGatewayId = cgw;
      const dpd = boolField(e.top, 'EnableDpd', where);
      if (dpd !== undefined) t.EnableDpd = dpd;
      const nat = boolField(e.top, 'EnableNatTraversal', where);
      if (nat !== undefined) t.EnableNatTraversal = nat;
      const ca = strField(e.top, 'RemoteCaCertificate', where);
      if (ca !== undefined) t.RemoteCaCertificate = ca;
      return t;
    });
}

/** Everything Create and Modify share; `nameCode` differs (Create documents its own code, Modify InvalidName). */
function parseChanges(p: Params, nameCode: string): ConnectionChanges {
  const out: ConnectionChanges = {};
  const name = present(p, 'Name');
  if (name !== undefined) {
    if (!isValidLabel(name)) throw err(400, nameCode, nameCode === 'InvalidName' ? 'The name is not valid' : 'The specified vpn connection name is invalid.');
    out.Name = name;
  }
  const local = present(p, 'LocalSubnet');
  if (local !== undefined) out.LocalSubnet = parseSubnets(local, 'LocalSubnet');
  const remote = present(p, 'RemoteSubnet');
  if (remote !== undefined) out.RemoteSubnet = parseSubnets(remote, 'RemoteSubnet');
  const bools = ['EffectImmediately', 'AutoConfigRoute', 'EnableDpd', 'EnableNatTraversal', 'EnableTunnelsBgp'] as const;
  for (const k of bools) {
    const v = parseBool(p, k);
    if (v !== undefined) out[k] = v;
  }
  const cgw = present(p, 'CustomerGatewayId');
  if (cgw !== undefined) out.CustomerGatewayId = cgw;
  const ike = present(p, 'IkeConfig');
  if (ike !== undefined) out.IkeConfig = parseIke(jsonObject(ike, 'IkeConfig'), 'IkeConfig');
  const ipsec = present(p, 'IpsecConfig');
  if (ipsec !== undefined) out.IpsecConfig = parseIpsec(jsonObject(ipsec, 'IpsecConfig'), 'IpsecConfig');
  const health = present(p, 'HealthCheckConfig');
  if (health !== undefined) out.HealthCheckConfig = parseHealth(jsonObject(health, 'HealthCheckConfig'));
  const bgp = present(p, 'BgpConfig');
  if (bgp !== undefined) out.BgpConfig = parseBgp(jsonObject(bgp, 'BgpConfig', 'IllegalParam.BgpConfig'), 'BgpConfig');
  const ca = present(p, 'RemoteCaCertificate');
  if (ca !== undefined) out.RemoteCaCertificate = ca;
  const tunnels = parseTunnels(p);
  if (tunnels !== undefined) out.Tunnels = tunnels;
  return out;
}

/** CreateVpnConnection's input, before the rules that need the gateway and the customer gateways. */
export function validateCreateConnection(p: Params): ConnectionInput {
  const changes = parseChanges(p, 'InvalidParameter.VpnConnectionName');
  const out: ConnectionInput = {
    ...changes,
    VpnGatewayId: present(p, 'VpnGatewayId') ?? '',
    LocalSubnet: parseSubnets(present(p, 'LocalSubnet') ?? '', 'LocalSubnet'),
    RemoteSubnet: parseSubnets(present(p, 'RemoteSubnet') ?? '', 'RemoteSubnet'),
    Tags: validateCreateTags(p),
  };
  const rg = present(p, 'ResourceGroupId');
  if (rg !== undefined) out.ResourceGroupId = rg;
  return out;
}

/** ModifyVpnConnectionAttribute's input: the same fields minus gateway, tags and (single-tunnel) customer gateway. */
export function validateModifyConnection(p: Params): ConnectionChanges {
  const out = parseChanges(p, 'InvalidName');
  // The customer gateway of a connection cannot change (Terraform: ForceNew); Modify does not take it.
  delete out.CustomerGatewayId;
  for (const t of out.Tunnels ?? []) delete t.CustomerGatewayId;
  return out;
}
