// The IPsec responders' desired state, from the emulator's own records (pure): one strongSwan connection per peer
// (gateway IP, customer gateway IP) holding a child per IPsec connection or tunnel, its PSK, the gateway addresses.
// Written from the API's view of a connection alone: nothing is shared with src/device's renderers, so a renderer
// that mirrors a field wrongly meets a responder that disagrees.
import { createHash } from 'node:crypto';
import type { GatewayRecord } from './store.js';
import type { ViciMessage } from './vici.js';
import type { IkeSettings, IpsecSettings, TunnelRecord, VpnConnectionRecord, VpnGatewayRecord } from './vpn-model.js';
import { tunnelGatewayIp } from './vpn-views.js';

/** One tunnel as the VPN gateway negotiates it: a single-tunnel connection, or one tunnel of a dual-tunnel one. */
export interface ResponderTunnel {
  /** `vco-…` or `vco-…/tun-…`: what the negotiation status is asked by. */
  key: string;
  vpnConnectionId: string;
  tunnelId?: string;
  gatewayIp: string;
  customerIp: string;
  ike: IkeSettings;
  ipsec: IpsecSettings;
  dpd: boolean;
  /** The gateway's side (LocalSubnet) and the branch's (RemoteSubnet). */
  localSubnet: string[];
  remoteSubnet: string[];
}

export interface ResponderChild {
  /** The CHILD_SA config name (unique within its peer). */
  name: string;
  /** The tunnel it belongs to (ResponderTunnel.key). */
  key: string;
  localTs: string[];
  remoteTs: string[];
  espProposal: string;
  lifetime: number;
}

export interface ResponderPeer {
  /** The connection (IKE) config name, also the IKE_SA's name in list-sas and log events. */
  name: string;
  gatewayIp: string;
  customerIp: string;
  version: 1 | 2;
  aggressive: boolean;
  ikeProposal: string;
  ikeLifetime: number;
  localId: string;
  remoteId: string;
  dpd: boolean;
  psk: string;
  /**
   * The identities the PSK is filed under. strongSwan tries every key that matches either identity, so a key filed
   * under the gateway's identity too would let a branch in with another peer's key: the branch's identity alone,
   * unless another peer shares it (a dual-tunnel connection on one customer gateway), then both.
   */
  pskOwners: string[];
  children: ResponderChild[];
}

export interface ResponderPlan {
  /** Every VPN gateway address (InternetIp and DisasterRecoveryInternetIp of every fixture), sorted. */
  addresses: string[];
  /**
   * One VPC address per LocalSubnet CIDR (its first host; none for 0.0.0.0/0), sorted: strongSwan installs a CHILD_SA's
   * policies only with a local address inside its selector, as the gateway has its VPC behind it.
   */
  vpcAddresses: string[];
  peers: ResponderPeer[];
  /** Tunnels left out, and why (never a secret in the text). */
  skipped: Array<{ key: string; why: string }>;
}

const CIPHER: Readonly<Record<string, string>> = { aes: 'aes128', aes192: 'aes192', aes256: 'aes256', des: 'des', '3des': '3des' };
const HASH: Readonly<Record<string, string>> = { md5: 'md5', sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };
const MODP: Readonly<Record<string, string>> = { group1: 'modp768', group2: 'modp1024', group5: 'modp1536', group14: 'modp2048' };

function tunnelKey(vpnConnectionId: string, tunnelId?: string): string {
  return tunnelId ? `${vpnConnectionId}/${tunnelId}` : vpnConnectionId;
}

/** The tunnels of one connection (a connection whose customer gateway is gone has none). */
export function tunnelsOf(c: VpnConnectionRecord, g: VpnGatewayRecord, cgws: ReadonlyMap<string, GatewayRecord>): ResponderTunnel[] {
  const base = { vpnConnectionId: c.VpnConnectionId, localSubnet: [...c.LocalSubnet], remoteSubnet: [...c.RemoteSubnet] };
  const one = (t: TunnelRecord): ResponderTunnel[] => {
    const cgw = cgws.get(t.CustomerGatewayId);
    if (!cgw) return [];
    return [{ ...base, key: tunnelKey(c.VpnConnectionId, t.TunnelId), tunnelId: t.TunnelId, gatewayIp: tunnelGatewayIp(g, t.Role), customerIp: cgw.IpAddress, ike: t.Ike, ipsec: t.Ipsec, dpd: t.EnableDpd }];
  };
  if (c.Tunnels) return c.Tunnels.flatMap(one);
  const cgw = cgws.get(c.CustomerGatewayId ?? '');
  if (!cgw || !c.Ike || !c.Ipsec) return [];
  return [{ ...base, key: tunnelKey(c.VpnConnectionId), gatewayIp: g.InternetIp, customerIp: cgw.IpAddress, ike: c.Ike, ipsec: c.Ipsec, dpd: c.EnableDpd ?? true }];
}

function pick(table: Readonly<Record<string, string>>, v: string): string | undefined {
  return table[v.toLowerCase()];
}

/** strongSwan's identity: an IP as it is, anything else an FQDN (`@` keeps strongSwan from parsing it as a DN). */
function identity(id: string): string {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(id) ? id : `@${id}`;
}

/** The IKE fields a peer shares (the API demands the same PSK and IKE settings for one gateway IP and customer gateway). */
function ikeOf(t: ResponderTunnel): Omit<ResponderPeer, 'name' | 'children' | 'dpd' | 'pskOwners'> | string {
  const enc = pick(CIPHER, t.ike.IkeEncAlg);
  const integ = pick(HASH, t.ike.IkeAuthAlg);
  const dh = pick(MODP, t.ike.IkePfs);
  if (!enc || !integ || !dh) return 'IkeConfig names an algorithm strongSwan has no name for';
  return {
    gatewayIp: t.gatewayIp,
    customerIp: t.customerIp,
    version: t.ike.IkeVersion.toLowerCase() === 'ikev2' ? 2 : 1,
    aggressive: t.ike.IkeMode.toLowerCase() === 'aggressive',
    ikeProposal: `${enc}-${integ}-${dh}`,
    ikeLifetime: t.ike.IkeLifetime,
    localId: identity(t.ike.LocalId || t.gatewayIp),
    remoteId: identity(t.ike.RemoteId || t.customerIp),
    psk: t.ike.Psk,
  };
}

function childrenOf(t: ResponderTunnel, version: 1 | 2): ResponderChild[] | string {
  const enc = pick(CIPHER, t.ipsec.IpsecEncAlg);
  const integ = pick(HASH, t.ipsec.IpsecAuthAlg);
  const pfs = t.ipsec.IpsecPfs.toLowerCase();
  const dh = pfs === 'disabled' ? '' : pick(MODP, pfs);
  if (!enc || !integ || dh === undefined) return 'IpsecConfig names an algorithm strongSwan has no name for';
  const espProposal = dh ? `${enc}-${integ}-${dh}` : `${enc}-${integ}`;
  const base = t.key.replace('/', '_');
  // IKEv1 negotiates one pair of selectors per CHILD_SA: one child per (local, remote) pair, as the gateway does.
  const pairs: Array<[string[], string[]]> =
    version === 1 && (t.localSubnet.length > 1 || t.remoteSubnet.length > 1)
      ? t.localSubnet.flatMap((l) => t.remoteSubnet.map((r): [string[], string[]] => [[l], [r]]))
      : [[t.localSubnet, t.remoteSubnet]];
  return pairs.map(([l, r], i) => ({
    name: pairs.length > 1 ? `${base}-${i + 1}` : base,
    key: t.key,
    localTs: l,
    remoteTs: r,
    espProposal,
    lifetime: t.ipsec.IpsecLifetime,
  }));
}

export function peerName(gatewayIp: string, customerIp: string): string {
  return `peer-${gatewayIp}-${customerIp}`;
}

/** The desired responder state for these tunnels and gateway addresses. Deterministic: the same input, the same plan. */
export function planResponder(tunnels: ResponderTunnel[], addresses: Iterable<string>): ResponderPlan {
  const peers = new Map<string, ResponderPeer>();
  const skipped: ResponderPlan['skipped'] = [];
  const sorted = [...tunnels].sort((a, b) => cmp(a.gatewayIp, b.gatewayIp) || cmp(a.customerIp, b.customerIp) || cmp(a.key, b.key));
  for (const t of sorted) {
    const ike = ikeOf(t);
    if (typeof ike === 'string') {
      skipped.push({ key: t.key, why: ike });
      continue;
    }
    const name = peerName(t.gatewayIp, t.customerIp);
    const known = peers.get(name);
    if (known && ikeHash({ ...known, children: [] }) !== ikeHash({ ...ike, name, dpd: known.dpd, pskOwners: [], children: [] })) {
      // Only two fixtures sharing an IP can get here: the API refuses different IKE settings for one peer.
      skipped.push({ key: t.key, why: `its IKE settings differ from another connection's between ${t.gatewayIp} and ${t.customerIp}` });
      continue;
    }
    const children = childrenOf(t, ike.version);
    if (typeof children === 'string') {
      skipped.push({ key: t.key, why: children });
      continue;
    }
    const peer = known ?? { ...ike, name, dpd: false, pskOwners: [], children: [] };
    peer.dpd ||= t.dpd;
    peer.children.push(...children);
    peers.set(name, peer);
  }
  const remoteIds = new Map<string, number>();
  for (const p of peers.values()) remoteIds.set(p.remoteId, (remoteIds.get(p.remoteId) ?? 0) + 1);
  for (const p of peers.values()) p.pskOwners = remoteIds.get(p.remoteId) === 1 ? [p.remoteId] : [p.localId, p.remoteId];
  const vpc = new Set<string>();
  for (const p of peers.values()) for (const c of p.children) for (const cidr of c.localTs) for (const a of firstHost(cidr)) vpc.add(a);
  return { addresses: [...new Set(addresses)].sort(cmp), vpcAddresses: [...vpc].sort(cmp), peers: [...peers.values()], skipped };
}

/** The first usable address of an IPv4 CIDR (the address itself for a /32); nothing for 0.0.0.0/0 or a malformed one. */
function firstHost(cidr: string): string[] {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return [];
  const prefix = Number(m[5]);
  if (prefix === 0 || prefix > 32) return [];
  const n = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const host = prefix >= 31 ? n : (n + 1) >>> 0;
  return [[host >>> 24, (host >>> 16) & 255, (host >>> 8) & 255, host & 255].join('.')];
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function digest(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex');
}

/** Tells "the IKE side of this peer changed" (PSK included): its IKE_SA must be negotiated again. */
export function ikeHash(p: ResponderPeer): string {
  const { children: _children, ...ike } = p;
  return digest(ike);
}

export function childHash(c: ResponderChild): string {
  return digest(c);
}

const seconds = (n: number): string => `${n}s`;

/** vici `load-conn`: the gateway answers (start_action none) and never rekeys first; the branch does. */
export function loadConnMessage(p: ResponderPeer): ViciMessage {
  const children: ViciMessage = {};
  for (const c of p.children) {
    children[c.name] = {
      local_ts: c.localTs,
      remote_ts: c.remoteTs,
      esp_proposals: [c.espProposal],
      // 0 in the API is "no limit"; strongSwan's 0 is the same.
      life_time: seconds(c.lifetime),
      rekey_time: '0s',
      start_action: 'none',
      dpd_action: 'clear',
    };
  }
  return {
    [p.name]: {
      version: String(p.version),
      ...(p.version === 1 ? { aggressive: p.aggressive ? 'yes' : 'no' } : {}),
      local_addrs: [p.gatewayIp],
      remote_addrs: [p.customerIp],
      proposals: [p.ikeProposal],
      rekey_time: seconds(p.ikeLifetime),
      dpd_delay: p.dpd ? '10s' : '0s',
      mobike: 'no',
      local: { auth: 'psk', id: p.localId },
      remote: { auth: 'psk', id: p.remoteId },
      children,
    },
  };
}

/** vici `load-shared`: the peer's PSK, owned by both identities (sent over the socket, never written to a file). */
export function sharedSecretMessage(p: ResponderPeer): ViciMessage {
  return { id: `psk-${p.name}`, type: 'IKE', data: p.psk, owners: p.pskOwners };
}
