// The VPC client contract: the only surface the rest of the tool uses to reach the cloud.
import type { Clock } from '../clock.js';
import type { IkeParams, IpsecParams, Tag, TunnelBgp } from '../types.js';

export interface CustomerGateway {
  id: string;
  regionId: string;
  ip: string;
  name?: string;
  description?: string;
  /** As returned by the API: an integer, kept as a decimal string (asdot input comes back as hi*65536+lo). */
  asn?: string;
  /** The API returns the AuthKey in Describe*. Callers must fingerprint it, never store or print it. */
  authKey?: string;
  resourceGroupId?: string;
  createTime: number;
  tags: Tag[];
}

export interface CreateGatewayInput {
  regionId: string;
  ipAddress: string;
  name?: string;
  description?: string;
  asn?: string;
  authKey?: string;
  resourceGroupId?: string;
  tags?: Tag[];
  clientToken?: string;
}

export interface CreateGatewayOutput {
  id: string;
  requestId: string;
  createTime: number;
}

export interface DescribePageInput {
  regionId: string;
  pageNumber?: number;
  pageSize?: number;
  customerGatewayId?: string;
  resourceGroupId?: string;
  tags?: Tag[];
}

export interface DescribePage {
  items: CustomerGateway[];
  totalCount: number;
  pageNumber: number;
  pageSize: number;
  requestId: string;
}

export interface ModifyGatewayInput {
  regionId: string;
  id: string;
  name?: string;
  description?: string;
  authKey?: string;
  clientToken?: string;
}

export interface TagResource {
  resourceId: string;
  resourceType: string;
  key: string;
  value: string;
}

/** A VPN gateway as DescribeVpnGateway(s) answers (the fields a site needs). Dual tunnel: `disasterRecoveryInternetIp` set. */
export interface VpnGateway {
  id: string;
  regionId: string;
  internetIp: string;
  disasterRecoveryInternetIp?: string;
  /** `enable` / `disable`. */
  ipsecVpn: string;
  enableBgp: boolean;
  /** `init`, `provisioning`, `active`, `updating`, `deleting`. */
  status: string;
  businessStatus?: string;
  vpcId?: string;
  name?: string;
}

/** One tunnel of a connection (dual tunnel: two, `master` and `slave`). Never a PSK: see VpcClient.readVpnConnectionPsks. */
export interface VpnTunnel {
  tunnelId?: string;
  role?: 'master' | 'slave';
  customerGatewayId: string;
  ike: IkeParams;
  ipsec: IpsecParams;
  enableDpd: boolean;
  enableNatTraversal: boolean;
  bgp?: TunnelBgp & { localAsn?: string };
  /** The VPN gateway's address this tunnel ends on (answers only). */
  internetIp?: string;
  state?: string;
  status?: string;
}

/** An IPsec-VPN connection as DescribeVpnConnection(s) answers, the PSK(s) withheld at the client layer. */
export interface VpnConnection {
  id: string;
  regionId: string;
  vpnGatewayId: string;
  /** Single tunnel: the connection's customer gateway (dual tunnel: per tunnel). */
  customerGatewayId?: string;
  name?: string;
  localSubnet: string[];
  remoteSubnet: string[];
  effectImmediately: boolean;
  /** `init`, `provisioning`, `active`, `updating`, `deleted`, ... (`active` = provisioned). */
  state: string;
  /** Negotiation: `ike_sa_not_established`, `ike_sa_established`, `ipsec_sa_not_established`, `ipsec_sa_established`. */
  status: string;
  /** Single tunnel: the one tunnel's parameters; dual tunnel: both, in `TunnelOptions` order. */
  tunnels: VpnTunnel[];
  dualTunnel: boolean;
  tags: Tag[];
  createTime: number;
}

/** What CreateVpnConnection is asked (the client encodes single tunnel as JSON strings, dual tunnel in flat form). */
export interface CreateVpnConnectionInput {
  regionId: string;
  vpnGatewayId: string;
  localSubnet: string[];
  remoteSubnet: string[];
  name?: string;
  effectImmediately?: boolean;
  /** One tunnel (single-tunnel gateway) or two (dual: master then slave). PSK per tunnel; absent: the API makes one. */
  tunnels: Array<Omit<VpnTunnel, 'tunnelId' | 'internetIp' | 'state' | 'status'> & { psk?: string }>;
  tags?: Tag[];
  clientToken?: string;
}

export interface ModifyVpnConnectionInput {
  regionId: string;
  id: string;
  localSubnet?: string[];
  remoteSubnet?: string[];
  name?: string;
  effectImmediately?: boolean;
  /**
   * Dual tunnel: edits by `tunnelId`; single tunnel: one entry without it. Only the parts given are sent, down to single
   * IKE / IPsec fields (a Modify that names the IKE version of an IKEv1 multi-CIDR connection is refused).
   */
  tunnels?: Array<
    Partial<Omit<VpnTunnel, 'customerGatewayId' | 'internetIp' | 'state' | 'status' | 'ike' | 'ipsec'>> & {
      tunnelId?: string;
      psk?: string;
      ike?: Partial<IkeParams>;
      ipsec?: Partial<IpsecParams>;
    }
  >;
  clientToken?: string;
}

export interface Region {
  regionId: string;
  localName?: string;
  endpoint?: string;
}

/** Per-call options. `timeoutMs` overrides the client's total deadline; `signal` abandons the request at once. */
export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Listing options: pages are retried where they failed, sleeping on `clock` (a virtual one in tests). */
export interface ListOptions extends CallOptions {
  clock?: Clock;
  random?: () => number;
  /** Called after each page: gateways listed so far and the total the API reports. */
  onProgress?: (listed: number, total: number) => void;
}

/** TagResources' `ResourceType`; default CUSTOMERGATEWAY. */
export type TaggedType = 'CUSTOMERGATEWAY' | 'VPNCONNECTION';

export interface VpcClient extends VpnApi {
  readonly endpoint: string;
  readonly accessKeyId: string;
  createCustomerGateway(input: CreateGatewayInput, opts?: CallOptions): Promise<CreateGatewayOutput>;
  describeCustomerGateways(input: DescribePageInput, opts?: CallOptions): Promise<DescribePage>;
  /**
   * Every gateway of a region, paging with PageSize 50 until TotalCount is reached or a short page arrives.
   * A throttled or failed page is retried (honouring x-acs-retry-after) without starting over at page 1.
   */
  listCustomerGateways(regionId: string, opts?: ListOptions): Promise<CustomerGateway[]>;
  /** Closes the connection pool: no socket or timer of this client keeps the process alive afterwards. */
  close?(): void;
  describeCustomerGateway(regionId: string, id: string, opts?: CallOptions): Promise<CustomerGateway>;
  modifyCustomerGatewayAttribute(input: ModifyGatewayInput, opts?: CallOptions): Promise<{ requestId: string }>;
  deleteCustomerGateway(
    input: { regionId: string; id: string; clientToken?: string },
    opts?: CallOptions,
  ): Promise<{ requestId: string }>;
  tagResources(
    input: { regionId: string; resourceIds: string[]; tags: Tag[]; resourceType?: TaggedType },
    opts?: CallOptions,
  ): Promise<{ requestId: string }>;
  untagResources(
    input: { regionId: string; resourceIds: string[]; tagKeys?: string[]; all?: boolean; resourceType?: TaggedType },
    opts?: CallOptions,
  ): Promise<{ requestId: string }>;
  listTagResources(
    input: { regionId: string; resourceIds?: string[]; tags?: Tag[]; maxResults?: number; nextToken?: string; resourceType?: TaggedType },
    opts?: CallOptions,
  ): Promise<{ items: TagResource[]; nextToken?: string; requestId: string }>;
  describeRegions(opts?: CallOptions): Promise<Region[]>;
}

/** The IPsec-VPN calls (sites), part of VpcClient. */
export interface VpnApi {
  // IPsec-VPN (sites). Every PSK an answer carries is withheld from the returned values and handed to the client's
  // secret sink (the Redactor) at once; only readVpnConnectionPsks returns PSKs, for fingerprints and device configs.
  describeVpnGateway(regionId: string, id: string, opts?: CallOptions): Promise<VpnGateway>;
  listVpnGateways(regionId: string, opts?: ListOptions): Promise<VpnGateway[]>;
  createVpnConnection(input: CreateVpnConnectionInput, opts?: CallOptions): Promise<{ id: string; requestId: string; createTime?: number }>;
  describeVpnConnection(regionId: string, id: string, opts?: CallOptions): Promise<VpnConnection>;
  /** Every connection of a region matching the filters (DescribeVpnConnections, paged like listCustomerGateways). */
  listVpnConnections(
    regionId: string,
    filter: { vpnGatewayId?: string; customerGatewayId?: string; tags?: Tag[] },
    opts?: ListOptions,
  ): Promise<VpnConnection[]>;
  modifyVpnConnectionAttribute(input: ModifyVpnConnectionInput, opts?: CallOptions): Promise<{ requestId: string }>;
  deleteVpnConnection(input: { regionId: string; id: string; clientToken?: string }, opts?: CallOptions): Promise<{ requestId: string }>;
  /** The PSK of each tunnel, in `tunnels` order (DescribeVpnConnection). The one way a PSK leaves the client. */
  readVpnConnectionPsks(regionId: string, id: string, opts?: CallOptions): Promise<string[]>;
}
