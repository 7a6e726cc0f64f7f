// Plain data of the device-config stage: the site as the branch sees it, render options, issues and results.

/** Values the API documents for IkeConfig / IpsecConfig (site-to-site.md §1.1), lower-cased. */
export const IKE_VERSIONS = ['ikev1', 'ikev2'] as const;
export const IKE_MODES = ['main', 'aggressive'] as const;
export const ENC_ALGS = ['aes', 'aes192', 'aes256', 'des', '3des'] as const;
export const AUTH_ALGS = ['md5', 'sha1', 'sha256', 'sha384', 'sha512'] as const;
export const DH_GROUPS = ['group1', 'group2', 'group5', 'group14'] as const;
export const PFS_VALUES = ['disabled', ...DH_GROUPS] as const;

export type IkeVersion = (typeof IKE_VERSIONS)[number];
export type IkeMode = (typeof IKE_MODES)[number];
export type EncAlg = (typeof ENC_ALGS)[number];
export type AuthAlg = (typeof AUTH_ALGS)[number];
export type DhGroup = (typeof DH_GROUPS)[number];
export type Pfs = (typeof PFS_VALUES)[number];

/** An IKE identity: the API takes an IPv4 address or an FQDN (LocalId / RemoteId). */
export interface Identity {
  kind: 'ip' | 'fqdn';
  value: string;
}

export interface IkeParams {
  version: IkeVersion;
  mode: IkeMode;
  encryption: EncAlg;
  integrity: AuthAlg;
  dhGroup: DhGroup;
  /** Seconds (API IkeLifetime). */
  lifetime: number;
  /** This branch's identity: the API's RemoteId (default: the customer gateway's IP). */
  localId: Identity;
  /** The VPN gateway's identity: the API's LocalId (default: the tunnel's gateway IP). */
  remoteId: Identity;
}

export interface IpsecParams {
  encryption: EncAlg;
  integrity: AuthAlg;
  pfs: Pfs;
  /** Seconds (API IpsecLifetime). */
  lifetime: number;
}

/** BGP over the tunnel, from the branch's side. */
export interface BgpParams {
  /** The customer gateway's ASN (asplain). */
  localAsn: number;
  /** The VPN gateway's LocalAsn (asplain; the API also writes `hi.lo`). */
  remoteAsn: number;
  /** The /30 inside 169.254.0.0/16. */
  tunnelCidr: string;
  /** The branch's address in the tunnel CIDR (the API's PeerBgpIp). */
  localIp: string;
  /** The VPN gateway's address in the tunnel CIDR (the API's LocalBgpIp). */
  remoteIp: string;
  /** BGP MD5 key (VpnBgpConfig.AuthKey or the customer gateway's AuthKey): a secret like the PSK. */
  authKey?: string;
}

export interface Tunnel {
  /** 1 = the master tunnel (or the only one), 2 = the slave. */
  index: 1 | 2;
  /** `tun-…` in dual-tunnel mode. */
  tunnelId?: string;
  role?: 'master' | 'slave';
  /** The customer gateway's public IP (this device). */
  localAddress: string;
  /** The VPN gateway's public IP for this tunnel. */
  remoteAddress: string;
  psk: string;
  ike: IkeParams;
  ipsec: IpsecParams;
  dpd: boolean;
  natTraversal: boolean;
  bgp?: BgpParams;
}

/** One site's connection mirrored to the branch's point of view (local = the branch, remote = Alibaba Cloud). */
export interface Site {
  /** The site key (manifest row key); printed in comments and issues. */
  site: string;
  connectionId: string;
  connectionName?: string;
  vpnGatewayId?: string;
  /** `destination` when both subnets are exactly 0.0.0.0/0, else `protected` (policy routes on the gateway). */
  routing: 'destination' | 'protected';
  /** The branch's CIDRs (the API's RemoteSubnet). */
  localSubnets: string[];
  /** The VPC's CIDRs (the API's LocalSubnet). */
  remoteSubnets: string[];
  dual: boolean;
  /** One tunnel, or two with the master first. */
  tunnels: Tunnel[];
}

/** A problem with a site's parameters for a device; never holds a secret's value. */
export interface DeviceIssue {
  severity: 'error' | 'warning';
  /** `Device.Unsupported` (the device cannot express it), `Device.InvalidValue`, `Device.MissingValue`. */
  code: 'Device.Unsupported' | 'Device.InvalidValue' | 'Device.MissingValue' | 'Device.InvalidOption';
  site: string;
  /** The parameter as the API spells it (e.g. `TunnelOptionsSpecification.TunnelOptions[2].TunnelIkeConfig.Psk`). */
  parameter: string;
  message: string;
}

/** Every device type, in the order `--device` lists them (render.ts's renderer map is typed by it: one for each). */
export const DEVICE_TYPE_IDS = ['strongswan', 'cisco-ios', 'huawei-vrp', 'h3c-comware', 'juniper-srx', 'fortigate'] as const;

export type DeviceType = (typeof DEVICE_TYPE_IDS)[number];

export interface RenderOptions {
  /** Write a placeholder instead of each PSK and BGP key. */
  redactPsk?: boolean;
  /** The device's outside (WAN) interface; each vendor has a default it says to replace. */
  wanInterface?: string;
  /**
   * VPC CIDRs to route into the tunnel(s) in destination-routing mode, where the connection itself names only
   * 0.0.0.0/0. Without them the routes are written as commented examples.
   */
  staticRoutes?: string[];
  /** The branch networks to announce over BGP; without them the announcement is a commented example. */
  bgpNetworks?: string[];
}

export interface ConfigFile {
  /** A plain file name (no folders); the writer puts it in the site's folder. */
  name: string;
  text: string;
}

export type RenderResult =
  | { ok: true; files: ConfigFile[]; warnings: DeviceIssue[] }
  | { ok: false; issues: DeviceIssue[] };
