// The renderer's input from the cloud client's answers: DescribeVpnConnection (PSKs withheld by the client, handed
// back here from its secret accessor), DescribeVpnGateway and DescribeCustomerGateway, written back in the API's own
// field names so src/device reads them as it reads any answer (and checks every value again).
import type { CustomerGateway, VpnConnection, VpnGateway, VpnTunnel } from '../cloud/types.js';
import type { SiteInput } from '../device/site.js';

type Obj = Record<string, unknown>;

function ikeConfig(t: VpnTunnel, psk: string): Obj {
  return {
    Psk: psk,
    IkeVersion: t.ike.version,
    IkeMode: t.ike.mode,
    IkeEncAlg: t.ike.encAlg,
    IkeAuthAlg: t.ike.authAlg,
    IkePfs: t.ike.pfs,
    IkeLifetime: t.ike.lifetime,
    ...(t.ike.localId !== undefined ? { LocalId: t.ike.localId } : {}),
    ...(t.ike.remoteId !== undefined ? { RemoteId: t.ike.remoteId } : {}),
  };
}

function ipsecConfig(t: VpnTunnel): Obj {
  return { IpsecEncAlg: t.ipsec.encAlg, IpsecAuthAlg: t.ipsec.authAlg, IpsecPfs: t.ipsec.pfs, IpsecLifetime: t.ipsec.lifetime };
}

function bgpConfig(t: VpnTunnel): Obj | undefined {
  if (!t.bgp) return undefined;
  return { TunnelCidr: t.bgp.tunnelCidr, LocalBgpIp: t.bgp.localBgpIp, ...(t.bgp.localAsn !== undefined ? { LocalAsn: t.bgp.localAsn } : {}) };
}

/**
 * One site's renderer input. `psks` are the connection's keys in tunnel order (readVpnConnectionPsks); a tunnel
 * without one gets an empty key, which the renderer reports as missing rather than writing.
 */
export function siteInputOf(site: string, c: VpnConnection, gw: VpnGateway, cgws: CustomerGateway[], psks: string[]): SiteInput {
  const connection: Obj = {
    VpnConnectionId: c.id,
    VpnGatewayId: c.vpnGatewayId,
    ...(c.name !== undefined ? { Name: c.name } : {}),
    LocalSubnet: c.localSubnet.join(','),
    RemoteSubnet: c.remoteSubnet.join(','),
  };
  if (c.dualTunnel) {
    connection['EnableTunnelsBgp'] = c.tunnels.some((t) => t.bgp !== undefined);
    connection['TunnelOptionsSpecification'] = {
      TunnelOptions: c.tunnels.map((t, i) => ({
        ...(t.tunnelId !== undefined ? { TunnelId: t.tunnelId } : {}),
        ...(t.role !== undefined ? { Role: t.role } : {}),
        CustomerGatewayId: t.customerGatewayId,
        ...(t.internetIp !== undefined ? { InternetIp: t.internetIp } : {}),
        EnableDpd: t.enableDpd,
        EnableNatTraversal: t.enableNatTraversal,
        TunnelIkeConfig: ikeConfig(t, psks[i] ?? ''),
        TunnelIpsecConfig: ipsecConfig(t),
        ...(bgpConfig(t) ? { TunnelBgpConfig: bgpConfig(t) } : {}),
      })),
    };
  } else {
    const t = c.tunnels[0];
    if (t) {
      connection['CustomerGatewayId'] = c.customerGatewayId ?? t.customerGatewayId;
      connection['IkeConfig'] = ikeConfig(t, psks[0] ?? '');
      connection['IpsecConfig'] = ipsecConfig(t);
      connection['EnableDpd'] = t.enableDpd;
      connection['EnableNatTraversal'] = t.enableNatTraversal;
      const bgp = bgpConfig(t);
      if (bgp) connection['VpnBgpConfig'] = { EnableBgp: 'true', ...bgp };
    }
  }
  const gateway: Obj = {
    VpnGatewayId: gw.id,
    InternetIp: gw.internetIp,
    ...(gw.disasterRecoveryInternetIp !== undefined ? { DisasterRecoveryInternetIp: gw.disasterRecoveryInternetIp } : {}),
  };
  const customerGateways = cgws.map((g) => ({
    CustomerGatewayId: g.id,
    IpAddress: g.ip,
    ...(g.asn !== undefined ? { Asn: g.asn } : {}),
    ...(g.authKey !== undefined ? { AuthKey: g.authKey } : {}),
  }));
  return { site, connection, gateway, customerGateways };
}

/** The customer gateways a connection names (each once, tunnel order). */
export function customerGatewayIds(c: VpnConnection): string[] {
  const ids = c.dualTunnel ? c.tunnels.map((t) => t.customerGatewayId) : [c.customerGatewayId ?? c.tunnels[0]?.customerGatewayId ?? ''];
  return [...new Set(ids.filter((id) => id !== ''))];
}
