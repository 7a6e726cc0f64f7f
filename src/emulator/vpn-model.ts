// VPN gateway and IPsec connection records, their enums and defaults (site-to-site.md §1.1-§1.3, §1.7).
import type { TagKV } from './validate.js';

export const IKE_VERSIONS = ['ikev1', 'ikev2'] as const;
export const IKE_MODES = ['main', 'aggressive'] as const;
export const ENC_ALGS = ['aes', 'aes192', 'aes256', 'des', '3des'] as const;
export const AUTH_ALGS = ['md5', 'sha1', 'sha256', 'sha384', 'sha512'] as const;
export const IKE_PFS = ['group1', 'group2', 'group5', 'group14'] as const;
export const IPSEC_PFS = ['disabled', 'group1', 'group2', 'group5', 'group14'] as const;
export const HEALTH_POLICIES = ['revoke_route', 'reserve_route'] as const;

/** Negotiation status, ranked from "nothing" to "up" (the order the API documents them in). */
export const NEGOTIATION_STATUSES = ['ike_sa_not_established', 'ike_sa_established', 'ipsec_sa_not_established', 'ipsec_sa_established'] as const;
export type NegotiationStatus = (typeof NEGOTIATION_STATUSES)[number];

export const GATEWAY_STATUSES = ['init', 'provisioning', 'active', 'updating', 'deleting'] as const;
export type GatewayStatus = (typeof GATEWAY_STATUSES)[number];

/** Alibaba Cloud's own ASN: the documented default of LocalAsn. */
export const DEFAULT_LOCAL_ASN = 45104;
export const DEFAULT_LIFETIME = 86400;

/** PSK alphabet (site-to-site.md §1.7): no space, `"` or `\`. */
export const PSK_RE = /^[0-9A-Za-z~!`@#$%^&*()_\-+={}[\]|;:',.<>/?]{1,100}$/;

export interface IkeSettings {
  Psk: string;
  IkeVersion: string;
  IkeMode: string;
  IkeEncAlg: string;
  IkeAuthAlg: string;
  IkePfs: string;
  IkeLifetime: number;
  LocalId: string;
  RemoteId: string;
}

export interface IpsecSettings {
  IpsecEncAlg: string;
  IpsecAuthAlg: string;
  IpsecPfs: string;
  IpsecLifetime: number;
}

export interface HealthCheckSettings {
  enable: boolean;
  dip: string;
  sip: string;
  interval: number;
  retry: number;
  policy: string;
}

export interface BgpSettings {
  LocalAsn: number;
  TunnelCidr: string;
  LocalBgpIp: string;
}

export const IKE_DEFAULTS: Omit<IkeSettings, 'Psk' | 'LocalId' | 'RemoteId'> = {
  IkeVersion: 'ikev1',
  IkeMode: 'main',
  IkeEncAlg: 'aes',
  IkeAuthAlg: 'md5',
  IkePfs: 'group2',
  IkeLifetime: DEFAULT_LIFETIME,
};

export const IPSEC_DEFAULTS: IpsecSettings = { IpsecEncAlg: 'aes', IpsecAuthAlg: 'md5', IpsecPfs: 'group2', IpsecLifetime: DEFAULT_LIFETIME };

export const HEALTH_DEFAULTS: HealthCheckSettings = { enable: false, dip: '', sip: '', interval: 3, retry: 3, policy: 'revoke_route' };

/** A running asynchronous task (Create / Modify / Delete of a connection, or an AuthKey change on its customer gateway). */
export interface VpnTask {
  kind: 'create' | 'modify' | 'delete';
  until: number;
  /** The connection the task works on (absent for a customer-gateway AuthKey change). */
  connectionId?: string;
}

export interface VpnGatewayRecord {
  VpnGatewayId: string;
  VpcId: string;
  VSwitchId: string;
  Name: string;
  Description: string;
  InternetIp: string;
  /** Present only on dual-tunnel gateways: the way clients tell the modes apart. */
  DisasterRecoveryInternetIp?: string;
  DisasterRecoveryVSwitchId?: string;
  IpsecVpn: 'enable' | 'disable';
  EnableBgp: boolean;
  /** The status the fixture was given; while a task runs, Describe says `updating` instead. */
  Status: GatewayStatus;
  BusinessStatus: 'Normal' | 'FinancialLocked';
  Spec: string;
  CreateTime: number;
  ResourceGroupId: string;
  Tags: TagKV[];
  task?: VpnTask;
}

export interface TunnelRecord {
  TunnelId: string;
  Role: 'master' | 'slave';
  CustomerGatewayId: string;
  EnableDpd: boolean;
  EnableNatTraversal: boolean;
  Ike: IkeSettings;
  Ipsec: IpsecSettings;
  /** Present when the connection has EnableTunnelsBgp (kept when it is switched off, as the API keeps it). */
  Bgp?: BgpSettings;
  State: 'active' | 'updating' | 'deleting';
  ZoneNo: string;
  /** Negotiation status set through the admin API (wins over the status source). */
  StatusOverride?: NegotiationStatus;
}

export interface VpnConnectionRecord {
  VpnConnectionId: string;
  VpnGatewayId: string;
  Name: string;
  LocalSubnet: string[];
  RemoteSubnet: string[];
  CreateTime: number;
  EffectImmediately: boolean;
  AutoConfigRoute: boolean;
  ResourceGroupId: string;
  Tags: TagKV[];
  ClientTokens: string[];
  /** `provisioning` after Create, `updating` after Modify and while a Delete runs, then `active`. */
  State: 'provisioning' | 'updating' | 'active';
  StatusOverride?: NegotiationStatus;
  task?: VpnTask;
  // Single-tunnel connections:
  CustomerGatewayId?: string;
  EnableDpd?: boolean;
  EnableNatTraversal?: boolean;
  Ike?: IkeSettings;
  Ipsec?: IpsecSettings;
  HealthCheck?: HealthCheckSettings;
  EnableBgp?: boolean;
  Bgp?: BgpSettings;
  // Dual-tunnel connections:
  Tunnels?: TunnelRecord[];
  EnableTunnelsBgp?: boolean;
}

/** A gateway with a second IP takes dual-tunnel connections only (D4). */
export function isDual(g: VpnGatewayRecord): boolean {
  return g.DisasterRecoveryInternetIp !== undefined;
}
