// Response shapes of the VPN gateway and IPsec connection actions, field for field and type for type as the API sends them.
import type { Body } from './action-kit.js';
import type { GatewayRecord } from './store.js';
import { peerBgpIp } from './vpn-validate.js';
import {
  NEGOTIATION_STATUSES,
  type BgpSettings,
  type IkeSettings,
  type IpsecSettings,
  type NegotiationStatus,
  type TunnelRecord,
  type VpnConnectionRecord,
  type VpnGatewayRecord,
} from './vpn-model.js';

/** Answers the negotiation status of a connection (no tunnel) or of one of its tunnels. */
export type StatusOf = (c: VpnConnectionRecord, t?: TunnelRecord) => NegotiationStatus;

/** What a view needs besides the record: its gateway, the customer gateways of the region, the status lookup. */
export interface ViewContext {
  gateway: VpnGatewayRecord;
  customerGateways: ReadonlyMap<string, GatewayRecord>;
  statusOf: StatusOf;
}

// Far in the future: pay-as-you-go gateways do not expire; the field is still sent.
const END_TIME = 4102444800000;

export function gatewayStatus(g: VpnGatewayRecord, now: number): string {
  return g.task && now < g.task.until ? 'updating' : g.Status;
}

/** DescribeVpnGateway and each DescribeVpnGateways item (the docs give Spec as "10" in one and "10M" in the other). */
export function vpnGatewayView(g: VpnGatewayRecord, now: number, listItem: boolean): Body {
  const out: Body = {
    VpnGatewayId: g.VpnGatewayId,
    VpcId: g.VpcId,
    VSwitchId: g.VSwitchId,
    Name: g.Name,
    Description: g.Description,
    InternetIp: g.InternetIp,
  };
  if (g.DisasterRecoveryInternetIp !== undefined) {
    out.DisasterRecoveryInternetIp = g.DisasterRecoveryInternetIp;
    out.DisasterRecoveryVSwitchId = g.DisasterRecoveryVSwitchId ?? '';
  }
  Object.assign(out, {
    CreateTime: g.CreateTime,
    EndTime: END_TIME,
    Spec: listItem ? `${g.Spec}M` : g.Spec,
    Status: gatewayStatus(g, now),
    BusinessStatus: g.BusinessStatus,
    ChargeType: 'POSTPAY',
    IpsecVpn: g.IpsecVpn,
    SslVpn: 'disable',
    SslMaxConnections: 5,
    EnableBgp: g.EnableBgp,
    AutoPropagate: true,
    NetworkType: 'public',
    VpnType: 'Normal',
    // The system tags, as a JSON string (not the user tags below).
    Tag: JSON.stringify({ VpnEnableBgp: String(g.EnableBgp), VisuallySsl: 'true', PbrPriority: 'true', VpnNewImage: 'true' }),
    Tags: { Tag: g.Tags.map((t) => ({ Key: t.Key, Value: t.Value })) },
    ResourceGroupId: g.ResourceGroupId,
    EniInstanceIds: { EniInstanceId: [] },
  });
  return out;
}

/** The gateway IP a tunnel negotiates from: the master uses InternetIp, the slave the second one. */
export function tunnelGatewayIp(g: VpnGatewayRecord, role: 'master' | 'slave'): string {
  return role === 'master' ? g.InternetIp : (g.DisasterRecoveryInternetIp ?? g.InternetIp);
}

/** A dual-tunnel connection's own Status: the best of its tunnels (the API does not say; see README). */
export function bestStatus(statuses: NegotiationStatus[]): NegotiationStatus {
  let best = 0;
  for (const s of statuses) best = Math.max(best, NEGOTIATION_STATUSES.indexOf(s));
  return NEGOTIATION_STATUSES[best] ?? 'ike_sa_not_established';
}

function ikeView(k: IkeSettings, asString: boolean): Body {
  return {
    IkeAuthAlg: k.IkeAuthAlg,
    IkeEncAlg: k.IkeEncAlg,
    IkeLifetime: asString ? String(k.IkeLifetime) : k.IkeLifetime,
    IkeMode: k.IkeMode,
    IkePfs: k.IkePfs,
    IkeVersion: k.IkeVersion,
    LocalId: k.LocalId,
    // In clear, as the real API returns it: scrubbing is the client's job.
    Psk: k.Psk,
    RemoteId: k.RemoteId,
  };
}

function ipsecView(s: IpsecSettings, asString: boolean): Body {
  return {
    IpsecAuthAlg: s.IpsecAuthAlg,
    IpsecEncAlg: s.IpsecEncAlg,
    IpsecLifetime: asString ? String(s.IpsecLifetime) : s.IpsecLifetime,
    IpsecPfs: s.IpsecPfs,
  };
}

const up = (s: NegotiationStatus): boolean => s === 'ipsec_sa_established';

function tunnelView(c: VpnConnectionRecord, t: TunnelRecord, index: number, v: ViewContext): Body {
  const status = v.statusOf(c, t);
  const out: Body = {
    TunnelId: t.TunnelId,
    TunnelIndex: index + 1,
    CustomerGatewayId: t.CustomerGatewayId,
    Role: t.Role,
    State: t.State,
    Status: status,
    InternetIp: tunnelGatewayIp(v.gateway, t.Role),
    ZoneNo: t.ZoneNo,
    // Strings in this list (the metadata types them so), booleans in Modify's answer.
    EnableDpd: String(t.EnableDpd),
    EnableNatTraversal: String(t.EnableNatTraversal),
    TunnelIkeConfig: ikeView(t.Ike, true),
    TunnelIpsecConfig: ipsecView(t.Ipsec, true),
  };
  if (c.EnableTunnelsBgp && t.Bgp) {
    const asn = v.customerGateways.get(t.CustomerGatewayId)?.Asn;
    out.TunnelBgpConfig = {
      BgpStatus: up(status) ? 'success' : 'false',
      LocalAsn: String(t.Bgp.LocalAsn),
      LocalBgpIp: t.Bgp.LocalBgpIp,
      PeerAsn: asn === undefined ? '' : String(asn),
      PeerBgpIp: peerBgpIp(t.Bgp.TunnelCidr, t.Bgp.LocalBgpIp),
      TunnelCidr: t.Bgp.TunnelCidr,
    };
  }
  return out;
}

function bgpView(c: VpnConnectionRecord, b: BgpSettings | undefined, status: NegotiationStatus, v: ViewContext): Body {
  if (!c.EnableBgp || !b) return { EnableBgp: 'false' };
  const cgw = v.customerGateways.get(c.CustomerGatewayId ?? '');
  const out: Body = {
    EnableBgp: 'true',
    LocalAsn: b.LocalAsn,
    TunnelCidr: b.TunnelCidr,
    LocalBgpIp: b.LocalBgpIp,
    PeerBgpIp: peerBgpIp(b.TunnelCidr, b.LocalBgpIp),
    Status: up(status) ? 'success' : 'failed',
  };
  if (cgw?.Asn !== undefined) out.PeerAsn = cgw.Asn;
  if (cgw?.AuthKey !== undefined) out.AuthKey = cgw.AuthKey;
  return out;
}

/**
 * DescribeVpnConnection (`tagKey` "Tags") and each DescribeVpnConnections item ("Tag": the API's quirk). A
 * dual-tunnel connection carries its settings per tunnel only: its top-level IkeConfig etc. are left out.
 */
export function connectionView(c: VpnConnectionRecord, v: ViewContext, tagKey: 'Tags' | 'Tag'): Body {
  const status = v.statusOf(c);
  const out: Body = {
    VpnConnectionId: c.VpnConnectionId,
    VpnGatewayId: c.VpnGatewayId,
    Name: c.Name,
    LocalSubnet: c.LocalSubnet.join(','),
    RemoteSubnet: c.RemoteSubnet.join(','),
    CreateTime: c.CreateTime,
    EffectImmediately: c.EffectImmediately,
    State: c.State,
    Status: status,
    AttachType: 'VPNGW',
    NetworkType: 'public',
    EnableTunnelsBgp: c.EnableTunnelsBgp ?? false,
    ResourceGroupId: c.ResourceGroupId,
  };
  if (c.Tunnels) {
    out.TunnelOptionsSpecification = { TunnelOptions: c.Tunnels.map((t, i) => tunnelView(c, t, i, v)) };
  } else if (c.Ike && c.Ipsec) {
    out.CustomerGatewayId = c.CustomerGatewayId ?? '';
    out.EnableDpd = c.EnableDpd ?? true;
    out.EnableNatTraversal = c.EnableNatTraversal ?? true;
    out.IkeConfig = ikeView(c.Ike, false);
    out.IpsecConfig = ipsecView(c.Ipsec, false);
    const h = c.HealthCheck;
    out.VcoHealthCheck = h?.enable
      ? { Enable: 'true', Dip: h.dip, Sip: h.sip, Interval: h.interval, Retry: h.retry, Policy: h.policy, Status: up(status) ? 'success' : 'failed' }
      : { Enable: 'false' };
    out.VpnBgpConfig = bgpView(c, c.Bgp, status, v);
    out.TunnelOptionsSpecification = { TunnelOptions: [] };
  }
  out[tagKey] = { Tag: c.Tags.map((t) => ({ Key: t.Key, Value: t.Value })) };
  return out;
}

/** ModifyVpnConnectionAttribute's answer: the settings after the change (no State, Status or tags). */
export function modifyView(c: VpnConnectionRecord, v: ViewContext): Body {
  const full = connectionView(c, v, 'Tags');
  const out: Body = {
    VpnConnectionId: c.VpnConnectionId,
    VpnGatewayId: c.VpnGatewayId,
    Name: c.Name,
    Description: '',
    LocalSubnet: full.LocalSubnet,
    RemoteSubnet: full.RemoteSubnet,
    CreateTime: c.CreateTime,
    EffectImmediately: c.EffectImmediately,
    EnableTunnelsBgp: c.EnableTunnelsBgp ?? false,
    ResourceGroupId: c.ResourceGroupId,
  };
  if (c.Tunnels) {
    out.TunnelOptionsSpecification = {
      TunnelOptions: c.Tunnels.map((t) => {
        const o: Body = {
          TunnelId: t.TunnelId,
          CustomerGatewayId: t.CustomerGatewayId,
          Role: t.Role,
          State: t.State,
          InternetIp: tunnelGatewayIp(v.gateway, t.Role),
          ZoneNo: t.ZoneNo,
          EnableDpd: t.EnableDpd,
          EnableNatTraversal: t.EnableNatTraversal,
          TunnelIkeConfig: ikeView(t.Ike, false),
          TunnelIpsecConfig: ipsecView(t.Ipsec, false),
        };
        if (c.EnableTunnelsBgp && t.Bgp) {
          const asn = v.customerGateways.get(t.CustomerGatewayId)?.Asn;
          o.TunnelBgpConfig = {
            LocalAsn: t.Bgp.LocalAsn,
            LocalBgpIp: t.Bgp.LocalBgpIp,
            PeerBgpIp: peerBgpIp(t.Bgp.TunnelCidr, t.Bgp.LocalBgpIp),
            TunnelCidr: t.Bgp.TunnelCidr,
            ...(asn === undefined ? {} : { PeerAsn: asn }),
          };
        }
        return o;
      }),
    };
  } else {
    for (const k of ['CustomerGatewayId', 'EnableDpd', 'EnableNatTraversal', 'IkeConfig', 'IpsecConfig', 'VpnBgpConfig'])
      out[k] = full[k];
    const h = c.HealthCheck;
    out.VcoHealthCheck = h?.enable ? { Enable: 'true', Dip: h.dip, Sip: h.sip, Interval: h.interval, Retry: h.retry } : { Enable: 'false' };
    const bgp = out.VpnBgpConfig as Body;
    delete bgp.AuthKey;
  }
  return out;
}

/** The IKE settings seen from the branch: its LocalId is the connection's RemoteId and the other way round. */
function mirroredIke(k: IkeSettings): Body {
  return { ...ikeView(k, false), LocalId: k.RemoteId, RemoteId: k.LocalId };
}

/**
 * DownloadVpnConnectionConfig: the same parameters mirrored to the branch's point of view (Local = the customer
 * gateway, Remote = the VPN gateway, subnets swapped), with no BGP fields (site-to-site.md §1.3).
 */
export function downloadView(c: VpnConnectionRecord, v: ViewContext): Body {
  const cfg: Body = { LocalSubnet: c.RemoteSubnet.join(','), RemoteSubnet: c.LocalSubnet.join(',') };
  if (c.Tunnels) {
    cfg.TunnelsConfig = {
      TunnelConfig: c.Tunnels.map((t) => ({
        TunnelId: t.TunnelId,
        Local: v.customerGateways.get(t.CustomerGatewayId)?.IpAddress ?? '',
        Remote: tunnelGatewayIp(v.gateway, t.Role),
        IkeConfig: mirroredIke(t.Ike),
        IpsecConfig: ipsecView(t.Ipsec, false),
      })),
    };
  } else if (c.Ike && c.Ipsec) {
    cfg.Local = v.customerGateways.get(c.CustomerGatewayId ?? '')?.IpAddress ?? '';
    cfg.Remote = v.gateway.InternetIp;
    cfg.IkeConfig = mirroredIke(c.Ike);
    cfg.IpsecConfig = ipsecView(c.Ipsec, false);
  }
  return { VpnConnectionConfig: cfg };
}
