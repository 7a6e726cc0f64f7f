// VpcClient on @alicloud/pop-core: POST, explicit timeout, clean params, typed errors, plain-data responses.
import RPCClient from '@alicloud/pop-core';
import type { Tag } from '../types.js';
import { CloudError, toCloudError } from './errors.js';
import type {
  CallOptions,
  CreateGatewayInput,
  CreateGatewayOutput,
  CustomerGateway,
  DescribePage,
  DescribePageInput,
  ModifyGatewayInput,
  Region,
  TagResource,
  VpcClient,
} from './types.js';

export const API_VERSION = '2016-04-28';

export interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface PopClientOptions {
  endpoint: string;
  credentials: Credentials;
  /** Per-request timeout (connect + read). pop-core's default is 3 s; the API can be slower under load. */
  timeoutMs?: number;
}

type Params = Record<string, unknown>;

/** Drops undefined/null (pop-core would send the strings "undefined"/"null") and empty strings for optional params. */
export function cleanParams(params: Params): Record<string, string | Array<Record<string, string>> | string[]> {
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) {
      if (v.length === 0) continue;
      out[k] = v;
    } else {
      out[k] = String(v);
    }
  }
  return out;
}

/** Tags as pop-core repeat lists with exact `Key`/`Value` casing: `Tags.N.Key` for Create, `Tag.N.Key` elsewhere. */
function tagList(tags: Tag[] | undefined): Array<{ Key: string; Value: string }> | undefined {
  if (!tags || tags.length === 0) return undefined;
  return tags.map((t) => ({ Key: t.key, Value: t.value }));
}

/** json-bigint gives null-prototype objects and BigNumber values; this makes plain JSON data (long numbers as strings). */
export function plain<T = any>(x: unknown): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return String(v);
}

function toGateway(regionId: string, g: any): CustomerGateway {
  const tags: Tag[] = (g?.Tags?.Tag ?? []).map((t: any) => ({ key: String(t.Key ?? ''), value: String(t.Value ?? '') }));
  const asn = str(g.Asn);
  return {
    id: String(g.CustomerGatewayId),
    regionId,
    ip: String(g.IpAddress ?? ''),
    name: str(g.Name),
    description: str(g.Description),
    asn: asn === '0' ? undefined : asn,
    authKey: str(g.AuthKey),
    resourceGroupId: str(g.ResourceGroupId),
    createTime: Number(g.CreateTime ?? 0),
    tags,
  };
}

export class PopVpcClient implements VpcClient {
  readonly endpoint: string;
  readonly accessKeyId: string;
  private readonly rpc: any;
  private readonly timeoutMs: number;

  constructor(opts: PopClientOptions) {
    this.endpoint = opts.endpoint.replace(/\/+$/, '');
    this.accessKeyId = opts.credentials.accessKeyId;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    // verbose=true makes request() resolve to [body, entry], so we can see the HTTP status:
    // pop-core resolves a 5xx whose body has no Code as if it had succeeded.
    const Ctor = RPCClient as unknown as new (config: object, verbose?: boolean) => any;
    this.rpc = new Ctor(
      {
        endpoint: this.endpoint,
        apiVersion: API_VERSION,
        accessKeyId: opts.credentials.accessKeyId,
        accessKeySecret: opts.credentials.accessKeySecret,
        securityToken: opts.credentials.securityToken || undefined,
        opts: { method: 'POST', timeout: this.timeoutMs },
      },
      true,
    );
  }

  /** One API call. Every failure leaves as a CloudError; every success as plain data. */
  async call(action: string, params: Params, opts?: CallOptions): Promise<any> {
    let result: unknown;
    try {
      result = await this.rpc.request(action, cleanParams(params), {
        method: 'POST',
        timeout: opts?.timeoutMs ?? this.timeoutMs,
        formatParams: false,
      });
    } catch (e) {
      throw toCloudError(e);
    }
    const [body, entry] = Array.isArray(result) ? result : [result, undefined];
    const status: number | undefined = (entry as any)?.response?.statusCode;
    if (status !== undefined && status >= 400) {
      throw new CloudError({
        code: `Http${status}`,
        message: `the server answered HTTP ${status} without an error code`,
        status,
        requestId: str((body as any)?.RequestId),
        errorClass: status >= 500 ? 'transient' : 'invalid',
        outcomeUnknown: status >= 500,
      });
    }
    if (!body || typeof body !== 'object') {
      throw new CloudError({
        code: 'InvalidResponse',
        message: 'the server answered with an empty or non-object body',
        status,
        errorClass: 'transient',
        outcomeUnknown: true,
      });
    }
    return plain(body);
  }

  async createCustomerGateway(input: CreateGatewayInput, opts?: CallOptions): Promise<CreateGatewayOutput> {
    const r = await this.call(
      'CreateCustomerGateway',
      {
        RegionId: input.regionId,
        IpAddress: input.ipAddress,
        Name: input.name,
        Description: input.description,
        Asn: input.asn,
        AuthKey: input.authKey,
        ResourceGroupId: input.resourceGroupId,
        Tags: tagList(input.tags),
        ClientToken: input.clientToken,
      },
      opts,
    );
    if (typeof r.CustomerGatewayId !== 'string') {
      throw new CloudError({
        code: 'InvalidResponse',
        message: 'CreateCustomerGateway answered without a CustomerGatewayId',
        requestId: str(r.RequestId),
        errorClass: 'transient',
        outcomeUnknown: true,
      });
    }
    return { id: r.CustomerGatewayId, requestId: String(r.RequestId ?? ''), createTime: Number(r.CreateTime ?? 0) };
  }

  async describeCustomerGateways(input: DescribePageInput, opts?: CallOptions): Promise<DescribePage> {
    const r = await this.call(
      'DescribeCustomerGateways',
      {
        RegionId: input.regionId,
        PageNumber: input.pageNumber,
        PageSize: input.pageSize,
        CustomerGatewayId: input.customerGatewayId,
        ResourceGroupId: input.resourceGroupId,
        Tag: tagList(input.tags),
      },
      opts,
    );
    const items = (r.CustomerGateways?.CustomerGateway ?? []).map((g: any) => toGateway(input.regionId, g));
    return {
      items,
      totalCount: Number(r.TotalCount ?? items.length),
      pageNumber: Number(r.PageNumber ?? input.pageNumber ?? 1),
      pageSize: Number(r.PageSize ?? input.pageSize ?? 10),
      requestId: String(r.RequestId ?? ''),
    };
  }

  async listCustomerGateways(regionId: string, opts?: CallOptions): Promise<CustomerGateway[]> {
    const all: CustomerGateway[] = [];
    for (let page = 1; ; page++) {
      const p = await this.describeCustomerGateways({ regionId, pageNumber: page, pageSize: 50 }, opts);
      all.push(...p.items);
      if (p.items.length < 50 || all.length >= p.totalCount) break;
      if (page > 10_000) break; // a server that never ends its listing must not loop us forever
    }
    return all;
  }

  async describeCustomerGateway(regionId: string, id: string, opts?: CallOptions): Promise<CustomerGateway> {
    const r = await this.call('DescribeCustomerGateway', { RegionId: regionId, CustomerGatewayId: id }, opts);
    return toGateway(regionId, r);
  }

  async modifyCustomerGatewayAttribute(input: ModifyGatewayInput, opts?: CallOptions): Promise<{ requestId: string }> {
    const r = await this.call(
      'ModifyCustomerGatewayAttribute',
      {
        RegionId: input.regionId,
        CustomerGatewayId: input.id,
        Name: input.name,
        Description: input.description,
        AuthKey: input.authKey,
        ClientToken: input.clientToken,
      },
      opts,
    );
    return { requestId: String(r.RequestId ?? '') };
  }

  async deleteCustomerGateway(
    input: { regionId: string; id: string; clientToken?: string },
    opts?: CallOptions,
  ): Promise<{ requestId: string }> {
    const r = await this.call(
      'DeleteCustomerGateway',
      { RegionId: input.regionId, CustomerGatewayId: input.id, ClientToken: input.clientToken },
      opts,
    );
    return { requestId: String(r.RequestId ?? '') };
  }

  async tagResources(
    input: { regionId: string; resourceIds: string[]; tags: Tag[] },
    opts?: CallOptions,
  ): Promise<{ requestId: string }> {
    const r = await this.call(
      'TagResources',
      { RegionId: input.regionId, ResourceType: 'CUSTOMERGATEWAY', ResourceId: input.resourceIds, Tag: tagList(input.tags) },
      opts,
    );
    return { requestId: String(r.RequestId ?? '') };
  }

  async untagResources(
    input: { regionId: string; resourceIds: string[]; tagKeys?: string[]; all?: boolean },
    opts?: CallOptions,
  ): Promise<{ requestId: string }> {
    const r = await this.call(
      'UnTagResources',
      {
        RegionId: input.regionId,
        ResourceType: 'CUSTOMERGATEWAY',
        ResourceId: input.resourceIds,
        TagKey: input.tagKeys,
        All: input.all === undefined ? undefined : String(input.all),
      },
      opts,
    );
    return { requestId: String(r.RequestId ?? '') };
  }

  async listTagResources(
    input: { regionId: string; resourceIds?: string[]; tags?: Tag[]; maxResults?: number; nextToken?: string },
    opts?: CallOptions,
  ): Promise<{ items: TagResource[]; nextToken?: string; requestId: string }> {
    const r = await this.call(
      'ListTagResources',
      {
        RegionId: input.regionId,
        ResourceType: 'CUSTOMERGATEWAY',
        ResourceId: input.resourceIds,
        Tag: tagList(input.tags),
        MaxResults: input.maxResults,
        NextToken: input.nextToken,
      },
      opts,
    );
    const items: TagResource[] = (r.TagResources?.TagResource ?? []).map((t: any) => ({
      resourceId: String(t.ResourceId),
      resourceType: String(t.ResourceType),
      key: String(t.TagKey),
      value: String(t.TagValue ?? ''),
    }));
    return { items, nextToken: str(r.NextToken), requestId: String(r.RequestId ?? '') };
  }

  async describeRegions(opts?: CallOptions): Promise<Region[]> {
    const r = await this.call('DescribeRegions', { RegionId: 'cn-hangzhou', AcceptLanguage: 'en-US' }, opts);
    return (r.Regions?.Region ?? []).map((x: any) => ({
      regionId: String(x.RegionId),
      localName: str(x.LocalName),
      endpoint: str(x.RegionEndpoint),
    }));
  }
}
