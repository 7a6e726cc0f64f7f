// Builds the branch's view of a site from the API's own answers (DescribeVpnConnection, DescribeVpnGateway,
// DescribeCustomerGateway): mirrored addresses, subnets and identities; every problem becomes an issue value.
import { ANY, formatCidr, parseAsn, parseCidr, parseIpv4, cidrContains, formatIpv4 } from './net.js';
import { pskProblem } from './psk.js';
import {
  AUTH_ALGS,
  DH_GROUPS,
  ENC_ALGS,
  IKE_MODES,
  IKE_VERSIONS,
  PFS_VALUES,
  type BgpParams,
  type DeviceIssue,
  type Identity,
  type IkeParams,
  type IpsecParams,
  type Site,
  type Tunnel,
} from './types.js';

export interface SiteInput {
  /** The site key (manifest row key). */
  site: string;
  /** DescribeVpnConnection's answer body as parsed JSON. */
  connection: unknown;
  /** DescribeVpnGateway's answer body. */
  gateway: unknown;
  /** DescribeCustomerGateway answer bodies: the connection's customer gateway, or each tunnel's. */
  customerGateways: unknown[];
}

export type SiteResult = { ok: true; site: Site; warnings: DeviceIssue[] } | { ok: false; issues: DeviceIssue[] };

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Defaults the API applies when a create omits a field (site-to-site.md §1.1); a Describe normally returns them all. */
const IKE_DEFAULTS = { IkeVersion: 'ikev1', IkeMode: 'main', IkeEncAlg: 'aes', IkeAuthAlg: 'md5', IkePfs: 'group2', IkeLifetime: 86400 };
const IPSEC_DEFAULTS = { IpsecEncAlg: 'aes', IpsecAuthAlg: 'md5', IpsecPfs: 'group2', IpsecLifetime: 86400 };
/** The VPN gateway's default BGP ASN. */
const DEFAULT_ALIBABA_ASN = 45104;
const FQDN_ID = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,99}$/;

class Reader {
  readonly issues: DeviceIssue[] = [];
  readonly warnings: DeviceIssue[] = [];
  constructor(readonly site: string) {}

  issue(code: DeviceIssue['code'], parameter: string, message: string): void {
    this.issues.push({ severity: 'error', code, site: this.site, parameter, message });
  }

  warn(parameter: string, message: string): void {
    this.warnings.push({ severity: 'warning', code: 'Device.InvalidValue', site: this.site, parameter, message });
  }

  /** A string field; numbers are accepted as their text (the API types some fields differently per shape). */
  str(o: Obj | undefined, key: string, path: string, required: boolean): string | undefined {
    const v = o?.[key];
    if (v === undefined || v === null || v === '') {
      if (required) this.issue('Device.MissingValue', path, `${path} is missing from the API's answer`);
      return undefined;
    }
    if (typeof v === 'string') return v.trim();
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    this.issue('Device.InvalidValue', path, `${path} is not a string`);
    return undefined;
  }

  /** A boolean the API writes as true/false or "true"/"false" (dual-tunnel fields are strings). */
  bool(o: Obj | undefined, key: string, path: string, dflt: boolean): boolean {
    const v = o?.[key];
    if (v === undefined || v === null || v === '') return dflt;
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    this.issue('Device.InvalidValue', path, `${path} is ${JSON.stringify(String(v)).slice(0, 40)}, not true or false`);
    return dflt;
  }

  /** One of the documented values, matched case-insensitively (some answers write `Ikev1`). */
  oneOf<T extends string>(o: Obj | undefined, key: string, path: string, values: readonly T[], dflt: T): T {
    const s = this.str(o, key, path, false);
    if (s === undefined) return dflt;
    const hit = values.find((v) => v === s.toLowerCase());
    if (hit) return hit;
    this.issue('Device.InvalidValue', path, `${path} is ${quoteValue(s)}; the API documents ${values.join(', ')}`);
    return dflt;
  }

  lifetime(o: Obj | undefined, key: string, path: string, dflt: number): number {
    const s = this.str(o, key, path, false);
    if (s === undefined) return dflt;
    if (!/^\d{1,6}$/.test(s) || Number(s) > 86400) {
      this.issue('Device.InvalidValue', path, `${path} is ${quoteValue(s)}; the API allows 0 to 86400 seconds`);
      return dflt;
    }
    return Number(s);
  }

  ipv4(o: Obj | undefined, key: string, path: string, required: boolean): string | undefined {
    const s = this.str(o, key, path, required);
    if (s === undefined) return undefined;
    if (parseIpv4(s) === undefined) {
      this.issue('Device.InvalidValue', path, `${path} is ${quoteValue(s)}, not an IPv4 address`);
      return undefined;
    }
    return s;
  }

  /** A JSON-object field that a create takes as a JSON string: accept both shapes. */
  object(o: Obj | undefined, key: string, path: string): Obj | undefined {
    const v = o?.[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (isObj(v)) return v;
    if (typeof v === 'string') {
      try {
        const parsed: unknown = JSON.parse(v);
        if (isObj(parsed)) return parsed;
      } catch {
        // reported below
      }
    }
    this.issue('Device.InvalidValue', path, `${path} is not an object`);
    return undefined;
  }

  subnets(o: Obj, key: string): string[] {
    const s = this.str(o, key, key, true);
    if (s === undefined) return [];
    const out: string[] = [];
    for (const part of s.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
      const c = parseCidr(part);
      if (!c) {
        this.issue('Device.InvalidValue', key, `${key} holds ${quoteValue(part)}, not an IPv4 CIDR`);
        continue;
      }
      const norm = formatCidr(c);
      if (c.hostBits) this.warn(key, `${key} holds ${part}, which has host bits set; the device config uses ${norm}`);
      if (!out.includes(norm)) out.push(norm);
    }
    if (out.length === 0 && this.issues.every((i) => i.parameter !== key)) {
      this.issue('Device.MissingValue', key, `${key} names no CIDR`);
    }
    return out;
  }

  identity(o: Obj | undefined, key: string, path: string, dflt: string): Identity {
    const s = this.str(o, key, path, false);
    if (s === undefined) return { kind: 'ip', value: dflt };
    if (parseIpv4(s) !== undefined) return { kind: 'ip', value: s };
    if (!FQDN_ID.test(s)) {
      this.issue('Device.InvalidValue', path, `${path} is ${quoteValue(s)}: an identity must be an IPv4 address or an FQDN (letters, digits, . - _ @ :)`);
    }
    return { kind: 'fqdn', value: s };
  }
}

/** A value for an error message: clipped, control characters shown as `?`. Never used for secrets. */
function quoteValue(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > 60 ? clean.slice(0, 60) + '…' : clean);
}

function ikeParams(r: Reader, ike: Obj | undefined, prefix: string, localDefault: string, remoteDefault: string): IkeParams {
  const p = (k: string) => `${prefix}.${k}`;
  const version = r.oneOf(ike, 'IkeVersion', p('IkeVersion'), IKE_VERSIONS, IKE_DEFAULTS.IkeVersion as 'ikev1');
  return {
    version,
    mode: r.oneOf(ike, 'IkeMode', p('IkeMode'), IKE_MODES, IKE_DEFAULTS.IkeMode as 'main'),
    encryption: r.oneOf(ike, 'IkeEncAlg', p('IkeEncAlg'), ENC_ALGS, IKE_DEFAULTS.IkeEncAlg as 'aes'),
    integrity: r.oneOf(ike, 'IkeAuthAlg', p('IkeAuthAlg'), AUTH_ALGS, IKE_DEFAULTS.IkeAuthAlg as 'md5'),
    dhGroup: r.oneOf(ike, 'IkePfs', p('IkePfs'), DH_GROUPS, IKE_DEFAULTS.IkePfs as 'group2'),
    lifetime: r.lifetime(ike, 'IkeLifetime', p('IkeLifetime'), IKE_DEFAULTS.IkeLifetime),
    // The mirror: the API's RemoteId names the customer gateway (this device), its LocalId the VPN gateway.
    localId: r.identity(ike, 'RemoteId', p('RemoteId'), localDefault),
    remoteId: r.identity(ike, 'LocalId', p('LocalId'), remoteDefault),
  };
}

function ipsecParams(r: Reader, ipsec: Obj | undefined, prefix: string): IpsecParams {
  const p = (k: string) => `${prefix}.${k}`;
  return {
    encryption: r.oneOf(ipsec, 'IpsecEncAlg', p('IpsecEncAlg'), ENC_ALGS, IPSEC_DEFAULTS.IpsecEncAlg as 'aes'),
    integrity: r.oneOf(ipsec, 'IpsecAuthAlg', p('IpsecAuthAlg'), AUTH_ALGS, IPSEC_DEFAULTS.IpsecAuthAlg as 'md5'),
    pfs: r.oneOf(ipsec, 'IpsecPfs', p('IpsecPfs'), PFS_VALUES, IPSEC_DEFAULTS.IpsecPfs as 'group2'),
    lifetime: r.lifetime(ipsec, 'IpsecLifetime', p('IpsecLifetime'), IPSEC_DEFAULTS.IpsecLifetime),
  };
}

function psk(r: Reader, ike: Obj | undefined, path: string): string {
  const v = ike?.['Psk'];
  if (typeof v !== 'string' || v === '') {
    r.issue('Device.MissingValue', path, `${path} is missing: read the connection with DescribeVpnConnection, which returns the key`);
    return '';
  }
  const problem = pskProblem(v);
  if (problem) r.issue('Device.InvalidValue', path, `${path} ${problem}`);
  return v;
}

/**
 * BGP from the branch's side. `cfg` is VpnBgpConfig (single tunnel) or TunnelBgpConfig (dual); the local ASN comes from
 * the customer gateway (PeerAsn in the answer when present).
 */
function bgpParams(r: Reader, cfg: Obj, prefix: string, cgw: Obj | undefined, cgwPath: string): BgpParams | undefined {
  const p = (k: string) => `${prefix}.${k}`;
  const cidrText = r.str(cfg, 'TunnelCidr', p('TunnelCidr'), true);
  const remoteIp = r.ipv4(cfg, 'LocalBgpIp', p('LocalBgpIp'), true);
  const remoteAsnRaw = cfg['LocalAsn'];
  const remoteAsn = remoteAsnRaw === undefined || remoteAsnRaw === '' ? DEFAULT_ALIBABA_ASN : parseAsn(remoteAsnRaw);
  if (remoteAsn === undefined) r.issue('Device.InvalidValue', p('LocalAsn'), `${p('LocalAsn')} is not an ASN`);
  const peerAsnRaw = cfg['PeerAsn'] ?? cgw?.['Asn'];
  const localAsn = peerAsnRaw === undefined || peerAsnRaw === '' ? undefined : parseAsn(peerAsnRaw);
  if (localAsn === undefined) {
    r.issue('Device.MissingValue', `${cgwPath}.Asn`, `BGP is enabled but the customer gateway has no ASN (${cgwPath}.Asn); the API answers MissingParam.CustomerGatewayAsn`);
  }
  if (cidrText === undefined || remoteIp === undefined) return undefined;
  const cidr = parseCidr(cidrText);
  if (cidr?.prefix !== 30 || cidr.hostBits || !cidrContains('169.254.0.0/16', formatIpv4(cidr.network))) {
    r.issue('Device.InvalidValue', p('TunnelCidr'), `${p('TunnelCidr')} is ${quoteValue(cidrText)}, not a /30 in 169.254.0.0/16`);
    return undefined;
  }
  const first = formatIpv4(cidr.network + 1);
  const second = formatIpv4(cidr.network + 2);
  if (remoteIp !== first && remoteIp !== second) {
    r.issue('Device.InvalidValue', p('LocalBgpIp'), `${p('LocalBgpIp')} ${remoteIp} is not a usable address of ${cidrText}`);
    return undefined;
  }
  let localIp = r.ipv4(cfg, 'PeerBgpIp', p('PeerBgpIp'), false);
  if (localIp === undefined) localIp = remoteIp === first ? second : first;
  else if (localIp === remoteIp || (localIp !== first && localIp !== second)) {
    r.issue('Device.InvalidValue', p('PeerBgpIp'), `${p('PeerBgpIp')} ${localIp} is not the other usable address of ${cidrText}`);
    return undefined;
  }
  const keyRaw = cfg['AuthKey'] ?? cgw?.['AuthKey'];
  const authKey = typeof keyRaw === 'string' && keyRaw !== '' ? keyRaw : undefined;
  if (authKey !== undefined && !/^[\x21-\x7e]{1,64}$/.test(authKey)) {
    r.issue('Device.InvalidValue', p('AuthKey'), `${p('AuthKey')} must be 1 to 64 printable characters without spaces`);
  }
  if (localAsn === undefined || remoteAsn === undefined) return undefined;
  return { localAsn, remoteAsn, tunnelCidr: formatCidr(cidr), localIp, remoteIp, ...(authKey ? { authKey } : {}) };
}

function findCgw(r: Reader, cgws: unknown[], id: string | undefined, path: string): Obj | undefined {
  const list = cgws.filter(isObj);
  const hit = id === undefined ? (list.length === 1 ? list[0] : undefined) : list.find((c) => c['CustomerGatewayId'] === id);
  if (!hit) r.issue('Device.MissingValue', path, `no DescribeCustomerGateway answer for ${path} ${id ?? ''}`.trim());
  return hit;
}

/** The branch's view of one connection, or every issue found. Pure. */
export function buildSite(input: SiteInput): SiteResult {
  const r = new Reader(input.site);
  const vco = isObj(input.connection) ? input.connection : undefined;
  const gw = isObj(input.gateway) ? input.gateway : undefined;
  if (!vco) r.issue('Device.MissingValue', 'VpnConnection', 'the DescribeVpnConnection answer is not an object');
  if (!gw) r.issue('Device.MissingValue', 'VpnGateway', 'the DescribeVpnGateway answer is not an object');
  if (!vco || !gw) return { ok: false, issues: r.issues };

  const connectionId = r.str(vco, 'VpnConnectionId', 'VpnConnectionId', true) ?? '';
  const remoteSubnets = r.subnets(vco, 'LocalSubnet');
  const localSubnets = r.subnets(vco, 'RemoteSubnet');
  const routing = localSubnets.length === 1 && localSubnets[0] === ANY && remoteSubnets.length === 1 && remoteSubnets[0] === ANY ? 'destination' : 'protected';

  const options = isObj(vco['TunnelOptionsSpecification']) ? (vco['TunnelOptionsSpecification'] as Obj)['TunnelOptions'] : undefined;
  const tunnels: Tunnel[] = [];
  if (Array.isArray(options) && options.length > 0) {
    if (options.length !== 2 || !options.every(isObj)) {
      r.issue('Device.InvalidValue', 'TunnelOptionsSpecification.TunnelOptions', `a dual-tunnel connection has exactly two tunnels; the answer holds ${options.length}`);
      return { ok: false, issues: r.issues };
    }
    const tunnelsBgp = r.bool(vco, 'EnableTunnelsBgp', 'EnableTunnelsBgp', false);
    const roles = (options as Obj[]).map((t) => t['Role']);
    if (roles[0] !== undefined && roles[0] === roles[1]) {
      r.issue('Device.InvalidValue', 'TunnelOptionsSpecification.TunnelOptions', `both tunnels have Role ${quoteValue(String(roles[0]))}; a dual-tunnel connection has one master and one slave`);
    }
    // Master first: by Role, else TunnelIndex, else the answer's order.
    const ordered = [...(options as Obj[])].map((t, i) => ({ t, i })).sort((a, b) => rank(a.t, a.i) - rank(b.t, b.i));
    ordered.forEach(({ t }, k) => {
      const index = (k + 1) as 1 | 2;
      const prefix = `TunnelOptionsSpecification.TunnelOptions[${index}]`;
      const role = typeof t['Role'] === 'string' && (t['Role'] === 'master' || t['Role'] === 'slave') ? t['Role'] : undefined;
      const cgwId = r.str(t, 'CustomerGatewayId', `${prefix}.CustomerGatewayId`, true);
      const cgw = findCgw(r, input.customerGateways, cgwId, `${prefix}.CustomerGatewayId`);
      const localAddress = r.ipv4(cgw, 'IpAddress', `CustomerGateway(${cgwId ?? '?'}).IpAddress`, true) ?? '';
      const fallback = (role ?? (index === 1 ? 'master' : 'slave')) === 'master' ? 'InternetIp' : 'DisasterRecoveryInternetIp';
      const remoteAddress = r.ipv4(t, 'InternetIp', `${prefix}.InternetIp`, false) ?? r.ipv4(gw, fallback, `VpnGateway.${fallback}`, true) ?? '';
      const ike = r.object(t, 'TunnelIkeConfig', `${prefix}.TunnelIkeConfig`);
      const ipsec = r.object(t, 'TunnelIpsecConfig', `${prefix}.TunnelIpsecConfig`);
      const bgpCfg = r.object(t, 'TunnelBgpConfig', `${prefix}.TunnelBgpConfig`);
      const tunnelId = r.str(t, 'TunnelId', `${prefix}.TunnelId`, false);
      const tunnel: Tunnel = {
        index,
        ...(tunnelId ? { tunnelId } : {}),
        ...(role ? { role } : {}),
        localAddress,
        remoteAddress,
        psk: psk(r, ike, `${prefix}.TunnelIkeConfig.Psk`),
        ike: ikeParams(r, ike, `${prefix}.TunnelIkeConfig`, localAddress, remoteAddress),
        ipsec: ipsecParams(r, ipsec, `${prefix}.TunnelIpsecConfig`),
        dpd: r.bool(t, 'EnableDpd', `${prefix}.EnableDpd`, true),
        natTraversal: r.bool(t, 'EnableNatTraversal', `${prefix}.EnableNatTraversal`, true),
      };
      if (tunnelsBgp && bgpCfg && bgpCfg['TunnelCidr'] !== undefined && bgpCfg['TunnelCidr'] !== '') {
        const bgp = bgpParams(r, bgpCfg, `${prefix}.TunnelBgpConfig`, cgw, `CustomerGateway(${cgwId ?? '?'})`);
        if (bgp) tunnel.bgp = bgp;
      }
      tunnels.push(tunnel);
    });
  } else {
    const cgwId = r.str(vco, 'CustomerGatewayId', 'CustomerGatewayId', false);
    const cgw = findCgw(r, input.customerGateways, cgwId, 'CustomerGatewayId');
    const localAddress = r.ipv4(cgw, 'IpAddress', 'CustomerGateway.IpAddress', true) ?? '';
    const remoteAddress = r.ipv4(gw, 'InternetIp', 'VpnGateway.InternetIp', true) ?? '';
    const ike = r.object(vco, 'IkeConfig', 'IkeConfig');
    const ipsec = r.object(vco, 'IpsecConfig', 'IpsecConfig');
    const bgpCfg = r.object(vco, 'VpnBgpConfig', 'VpnBgpConfig');
    const tunnel: Tunnel = {
      index: 1,
      localAddress,
      remoteAddress,
      psk: psk(r, ike, 'IkeConfig.Psk'),
      ike: ikeParams(r, ike, 'IkeConfig', localAddress, remoteAddress),
      ipsec: ipsecParams(r, ipsec, 'IpsecConfig'),
      dpd: r.bool(vco, 'EnableDpd', 'EnableDpd', true),
      natTraversal: r.bool(vco, 'EnableNatTraversal', 'EnableNatTraversal', true),
    };
    if (bgpCfg && r.bool(bgpCfg, 'EnableBgp', 'VpnBgpConfig.EnableBgp', false)) {
      const bgp = bgpParams(r, bgpCfg, 'VpnBgpConfig', cgw, 'CustomerGateway');
      if (bgp) tunnel.bgp = bgp;
    }
    tunnels.push(tunnel);
  }

  if (r.issues.length > 0) return { ok: false, issues: r.issues };
  const name = r.str(vco, 'Name', 'Name', false);
  const gatewayId = r.str(vco, 'VpnGatewayId', 'VpnGatewayId', false);
  const site: Site = {
    site: input.site,
    connectionId,
    ...(name ? { connectionName: name } : {}),
    ...(gatewayId ? { vpnGatewayId: gatewayId } : {}),
    routing,
    localSubnets,
    remoteSubnets,
    dual: tunnels.length === 2,
    tunnels,
  };
  return { ok: true, site, warnings: r.warnings };
}

function rank(t: Obj, i: number): number {
  if (t['Role'] === 'master') return 0;
  if (t['Role'] === 'slave') return 10;
  const idx = Number(t['TunnelIndex']);
  return Number.isFinite(idx) ? idx : 20 + i;
}
