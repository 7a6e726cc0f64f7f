// The IPsec-VPN wire shapes: CreateVpnConnection / ModifyVpnConnectionAttribute params (single tunnel as JSON strings,
// dual tunnel flat) and the Describe answers read into plain values with every PSK and AuthKey taken out. Pure.
import type { IkeParams, IpsecParams, Tag } from '../types.js';
import { CloudError } from './errors.js';
import type { CreateVpnConnectionInput, ModifyVpnConnectionInput, VpnConnection, VpnGateway, VpnTunnel } from './types.js';

type Params = Record<string, unknown>;
type Json = Record<string, any>;

export const CONNECTION_ID = /^vco-[a-z0-9]+$/;
export const VPN_GATEWAY_ID = /^vpn-[a-z0-9]+$/;

/** Encoded params plus the secrets they carry (the client scrubs them from any error and hands them to its sink). */
export interface Encoded {
  params: Params;
  secrets: string[];
}

function ikeJson(ike: Partial<IkeParams> | undefined, psk: string | undefined): Json | undefined {
  const o: Json = {};
  if (psk !== undefined) o.Psk = psk;
  if (ike?.version !== undefined) o.IkeVersion = ike.version;
  if (ike?.mode !== undefined) o.IkeMode = ike.mode;
  if (ike?.encAlg !== undefined) o.IkeEncAlg = ike.encAlg;
  if (ike?.authAlg !== undefined) o.IkeAuthAlg = ike.authAlg;
  if (ike?.pfs !== undefined) o.IkePfs = ike.pfs;
  if (ike?.lifetime !== undefined) o.IkeLifetime = ike.lifetime;
  if (ike?.localId !== undefined) o.LocalId = ike.localId;
  if (ike?.remoteId !== undefined) o.RemoteId = ike.remoteId;
  return Object.keys(o).length > 0 ? o : undefined;
}

function ipsecJson(ipsec: Partial<IpsecParams> | undefined): Json | undefined {
  const o: Json = {};
  if (ipsec?.encAlg !== undefined) o.IpsecEncAlg = ipsec.encAlg;
  if (ipsec?.authAlg !== undefined) o.IpsecAuthAlg = ipsec.authAlg;
  if (ipsec?.pfs !== undefined) o.IpsecPfs = ipsec.pfs;
  if (ipsec?.lifetime !== undefined) o.IpsecLifetime = ipsec.lifetime;
  return Object.keys(o).length > 0 ? o : undefined;
}

function bgpJson(bgp: { tunnelCidr?: string; localBgpIp?: string; localAsn?: string } | undefined, enable: boolean): Json | undefined {
  if (!bgp) return undefined;
  const o: Json = { EnableBgp: enable };
  if (bgp.tunnelCidr !== undefined) o.TunnelCidr = bgp.tunnelCidr;
  if (bgp.localBgpIp !== undefined) o.LocalBgpIp = bgp.localBgpIp;
  if (bgp.localAsn !== undefined) o.LocalAsn = bgp.localAsn;
  return o;
}

const json = (o: Json | undefined): string | undefined => (o === undefined ? undefined : JSON.stringify(o));
const csv = (xs: string[] | undefined): string | undefined => (xs === undefined ? undefined : xs.join(','));
const bool = (b: boolean | undefined): string | undefined => (b === undefined ? undefined : String(b));

/** `TunnelOptionsSpecification.N.Part.Field = value` for each field of a JSON part (the API's `style: flat`). */
function flat(out: Params, prefix: string, part: Json | undefined): void {
  for (const [k, v] of Object.entries(part ?? {})) out[`${prefix}.${k}`] = String(v);
}

type TunnelEdit = NonNullable<ModifyVpnConnectionInput['tunnels']>[number];
type TunnelAsk = CreateVpnConnectionInput['tunnels'][number];

/** One dual-tunnel entry, flat. */
function flatTunnel(out: Params, n: number, t: TunnelAsk | TunnelEdit, enableBgp: boolean): void {
  const p = `TunnelOptionsSpecification.${n}`;
  if ('tunnelId' in t && t.tunnelId !== undefined) out[`${p}.TunnelId`] = t.tunnelId;
  if ('customerGatewayId' in t && t.customerGatewayId !== undefined) out[`${p}.CustomerGatewayId`] = t.customerGatewayId;
  if (t.role !== undefined) out[`${p}.Role`] = t.role;
  if (t.enableDpd !== undefined) out[`${p}.EnableDpd`] = String(t.enableDpd);
  if (t.enableNatTraversal !== undefined) out[`${p}.EnableNatTraversal`] = String(t.enableNatTraversal);
  flat(out, `${p}.TunnelIkeConfig`, ikeJson(t.ike, t.psk));
  flat(out, `${p}.TunnelIpsecConfig`, ipsecJson(t.ipsec));
  if (enableBgp && t.bgp) {
    const b = bgpJson(t.bgp, true) ?? {};
    delete b.EnableBgp;
    flat(out, `${p}.TunnelBgpConfig`, b);
  }
}

const pskOf = (ts: Array<{ psk?: string }>): string[] => ts.flatMap((t) => (t.psk !== undefined && t.psk !== '' ? [t.psk] : []));

/**
 * CreateVpnConnection: one tunnel as the JSON-string parameters (IkeConfig, IpsecConfig, BgpConfig), two tunnels as
 * `TunnelOptionsSpecification.N.*` (master first). The client sends every call as a POST form body.
 */
export function encodeCreateConnection(input: CreateVpnConnectionInput): Encoded {
  const params: Params = {
    RegionId: input.regionId,
    VpnGatewayId: input.vpnGatewayId,
    LocalSubnet: csv(input.localSubnet),
    RemoteSubnet: csv(input.remoteSubnet),
    Name: input.name,
    EffectImmediately: bool(input.effectImmediately),
    ClientToken: input.clientToken,
    Tags: input.tags && input.tags.length > 0 ? input.tags.map((t) => ({ Key: t.key, Value: t.value })) : undefined,
  };
  const tunnels = input.tunnels;
  if (tunnels.length === 1) {
    const t = tunnels[0]!;
    params.CustomerGatewayId = t.customerGatewayId;
    params.IkeConfig = json(ikeJson(t.ike, t.psk));
    params.IpsecConfig = json(ipsecJson(t.ipsec));
    params.EnableDpd = bool(t.enableDpd);
    params.EnableNatTraversal = bool(t.enableNatTraversal);
    if (t.bgp) params.BgpConfig = json(bgpJson(t.bgp, true));
  } else {
    const bgp = tunnels.some((t) => t.bgp !== undefined);
    if (bgp) params.EnableTunnelsBgp = 'true';
    tunnels.forEach((t, i) => flatTunnel(params, i + 1, t, bgp));
  }
  return { params, secrets: pskOf(tunnels) };
}

/** ModifyVpnConnectionAttribute with only the parts given; dual tunnel edits name each tunnel by its TunnelId. */
export function encodeModifyConnection(input: ModifyVpnConnectionInput, dualTunnel: boolean): Encoded {
  const params: Params = {
    RegionId: input.regionId,
    VpnConnectionId: input.id,
    LocalSubnet: csv(input.localSubnet),
    RemoteSubnet: csv(input.remoteSubnet),
    Name: input.name,
    EffectImmediately: bool(input.effectImmediately),
    ClientToken: input.clientToken,
  };
  const tunnels = input.tunnels ?? [];
  if (!dualTunnel) {
    const t = tunnels[0];
    if (t) {
      params.IkeConfig = json(ikeJson(t.ike, t.psk));
      params.IpsecConfig = json(ipsecJson(t.ipsec));
      params.EnableDpd = bool(t.enableDpd);
      params.EnableNatTraversal = bool(t.enableNatTraversal);
      if (t.bgp) params.BgpConfig = json(bgpJson(t.bgp, true));
    }
  } else {
    const bgp = tunnels.some((t) => t.bgp !== undefined);
    if (bgp) params.EnableTunnelsBgp = 'true';
    tunnels.forEach((t, i) => flatTunnel(params, i + 1, t, bgp));
  }
  return { params, secrets: pskOf(tunnels) };
}

// ---- answers ----------------------------------------------------------------------------------------------------

function bad(message: string, requestId?: string): CloudError {
  return new CloudError({ code: 'InvalidResponse', message, requestId, errorClass: 'transient', outcomeUnknown: true });
}

const text = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));
const truth = (v: unknown, dflt: boolean): boolean => (v === undefined || v === null || v === '' ? dflt : v === true || v === 'true');
const num = (v: unknown, dflt: number): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : dflt;
};
const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

function subnets(v: unknown): string[] {
  const s = text(v);
  return s === undefined ? [] : s.split(',').map((x) => x.trim()).filter((x) => x !== '');
}

function tagsOf(v: unknown): Tag[] {
  const list = isObj(v) ? v.Tag : undefined;
  if (!Array.isArray(list)) return [];
  return list.filter(isObj).map((t) => ({ key: String(t.Key ?? ''), value: String(t.Value ?? '') }));
}

// Values as the API spells them; an unexpected one is kept as is (typed loosely) so a diff shows it rather than hiding it.
function ikeOf(o: Json): IkeParams {
  const ike: IkeParams = {
    version: (text(o.IkeVersion) ?? 'ikev1') as IkeParams['version'],
    mode: (text(o.IkeMode) ?? 'main') as IkeParams['mode'],
    encAlg: (text(o.IkeEncAlg) ?? 'aes') as IkeParams['encAlg'],
    authAlg: (text(o.IkeAuthAlg) ?? 'md5') as IkeParams['authAlg'],
    pfs: (text(o.IkePfs) ?? 'group2') as IkeParams['pfs'],
    lifetime: num(o.IkeLifetime, 86400),
  };
  const localId = text(o.LocalId);
  const remoteId = text(o.RemoteId);
  if (localId !== undefined) ike.localId = localId;
  if (remoteId !== undefined) ike.remoteId = remoteId;
  return ike;
}

function ipsecOf(o: Json): IpsecParams {
  return {
    encAlg: (text(o.IpsecEncAlg) ?? 'aes') as IpsecParams['encAlg'],
    authAlg: (text(o.IpsecAuthAlg) ?? 'md5') as IpsecParams['authAlg'],
    pfs: (text(o.IpsecPfs) ?? 'group2') as IpsecParams['pfs'],
    lifetime: num(o.IpsecLifetime, 86400),
  };
}

function bgpOf(o: unknown, enabled: boolean): VpnTunnel['bgp'] {
  if (!enabled || !isObj(o)) return undefined;
  const tunnelCidr = text(o.TunnelCidr);
  const localBgpIp = text(o.LocalBgpIp);
  if (tunnelCidr === undefined || localBgpIp === undefined) return undefined;
  const localAsn = text(o.LocalAsn);
  return { tunnelCidr, localBgpIp, ...(localAsn !== undefined ? { localAsn } : {}) };
}

/** A connection answer and what it held that must never travel further: PSKs (tunnel order) and AuthKeys. */
export interface DecodedConnection {
  connection: VpnConnection;
  psks: string[];
  secrets: string[];
}

/** DescribeVpnConnection or a DescribeVpnConnections item (`Tags` on the one, `Tag` on the other: both read). */
export function decodeConnection(regionId: string, o: unknown, requestId?: string): DecodedConnection {
  if (!isObj(o) || typeof o.VpnConnectionId !== 'string' || !CONNECTION_ID.test(o.VpnConnectionId)) {
    throw bad('a VPN connection answer without a well-formed VpnConnectionId', requestId);
  }
  const psks: string[] = [];
  const secrets: string[] = [];
  const keep = (ike: unknown): void => {
    const psk = isObj(ike) ? text(ike.Psk) : undefined;
    psks.push(psk ?? '');
    if (psk !== undefined) secrets.push(psk);
  };
  const rawTunnels = isObj(o.TunnelOptionsSpecification) && Array.isArray(o.TunnelOptionsSpecification.TunnelOptions) ? o.TunnelOptionsSpecification.TunnelOptions.filter(isObj) : [];
  const dualTunnel = rawTunnels.length > 0;
  let tunnels: VpnTunnel[];
  if (dualTunnel) {
    const tunnelsBgp = truth(o.EnableTunnelsBgp, false);
    tunnels = rawTunnels.map((t: Json): VpnTunnel => {
      keep(t.TunnelIkeConfig);
      const role = t.Role === 'master' || t.Role === 'slave' ? t.Role : undefined;
      const bgp = bgpOf(t.TunnelBgpConfig, tunnelsBgp);
      return {
        ...(text(t.TunnelId) !== undefined ? { tunnelId: String(t.TunnelId) } : {}),
        ...(role ? { role } : {}),
        customerGatewayId: String(t.CustomerGatewayId ?? ''),
        ike: ikeOf(isObj(t.TunnelIkeConfig) ? t.TunnelIkeConfig : {}),
        ipsec: ipsecOf(isObj(t.TunnelIpsecConfig) ? t.TunnelIpsecConfig : {}),
        enableDpd: truth(t.EnableDpd, true),
        enableNatTraversal: truth(t.EnableNatTraversal, true),
        ...(bgp ? { bgp } : {}),
        ...(text(t.InternetIp) !== undefined ? { internetIp: String(t.InternetIp) } : {}),
        ...(text(t.State) !== undefined ? { state: String(t.State) } : {}),
        ...(text(t.Status) !== undefined ? { status: String(t.Status) } : {}),
      };
    });
  } else {
    keep(o.IkeConfig);
    const vb = isObj(o.VpnBgpConfig) ? o.VpnBgpConfig : undefined;
    const authKey = vb ? text(vb.AuthKey) : undefined;
    if (authKey !== undefined) secrets.push(authKey);
    const bgp = bgpOf(vb, truth(vb?.EnableBgp, false));
    tunnels = [
      {
        customerGatewayId: String(o.CustomerGatewayId ?? ''),
        ike: ikeOf(isObj(o.IkeConfig) ? o.IkeConfig : {}),
        ipsec: ipsecOf(isObj(o.IpsecConfig) ? o.IpsecConfig : {}),
        enableDpd: truth(o.EnableDpd, true),
        enableNatTraversal: truth(o.EnableNatTraversal, true),
        ...(bgp ? { bgp } : {}),
      },
    ];
  }
  const cgw = text(o.CustomerGatewayId);
  const name = text(o.Name);
  const connection: VpnConnection = {
    id: o.VpnConnectionId,
    regionId,
    vpnGatewayId: String(o.VpnGatewayId ?? ''),
    ...(!dualTunnel && cgw !== undefined ? { customerGatewayId: cgw } : {}),
    ...(name !== undefined ? { name } : {}),
    localSubnet: subnets(o.LocalSubnet),
    remoteSubnet: subnets(o.RemoteSubnet),
    effectImmediately: truth(o.EffectImmediately, false),
    state: String(o.State ?? ''),
    status: String(o.Status ?? ''),
    tunnels,
    dualTunnel,
    tags: tagsOf(o.Tags ?? o.Tag),
    createTime: num(o.CreateTime, 0),
  };
  return { connection, psks, secrets };
}

/** DescribeVpnGateway or a DescribeVpnGateways item. */
export function decodeGateway(regionId: string, o: unknown, requestId?: string): VpnGateway {
  if (!isObj(o) || typeof o.VpnGatewayId !== 'string' || !VPN_GATEWAY_ID.test(o.VpnGatewayId)) {
    throw bad('a VPN gateway answer without a well-formed VpnGatewayId', requestId);
  }
  const dr = text(o.DisasterRecoveryInternetIp);
  const business = text(o.BusinessStatus);
  const vpc = text(o.VpcId);
  const name = text(o.Name);
  return {
    id: o.VpnGatewayId,
    regionId,
    internetIp: String(o.InternetIp ?? ''),
    ...(dr !== undefined ? { disasterRecoveryInternetIp: dr } : {}),
    ipsecVpn: String(o.IpsecVpn ?? ''),
    enableBgp: truth(o.EnableBgp, false),
    status: String(o.Status ?? ''),
    ...(business !== undefined ? { businessStatus: business } : {}),
    ...(vpc !== undefined ? { vpcId: vpc } : {}),
    ...(name !== undefined ? { name } : {}),
  };
}
