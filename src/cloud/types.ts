// The VPC client contract: the only surface the rest of the tool uses to reach the cloud.
import type { Clock } from '../clock.js';
import type { Tag } from '../types.js';

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

export interface VpcClient {
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
    input: { regionId: string; resourceIds: string[]; tags: Tag[] },
    opts?: CallOptions,
  ): Promise<{ requestId: string }>;
  untagResources(
    input: { regionId: string; resourceIds: string[]; tagKeys?: string[]; all?: boolean },
    opts?: CallOptions,
  ): Promise<{ requestId: string }>;
  listTagResources(
    input: { regionId: string; resourceIds?: string[]; tags?: Tag[]; maxResults?: number; nextToken?: string },
    opts?: CallOptions,
  ): Promise<{ items: TagResource[]; nextToken?: string; requestId: string }>;
  describeRegions(opts?: CallOptions): Promise<Region[]>;
}
