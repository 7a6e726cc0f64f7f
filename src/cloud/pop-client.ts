// VpcClient on @alicloud/pop-core: POST, bounded transport, clean params, typed errors, checked plain-data responses.
import type { Agent } from 'node:http';
import { rpcClientClass } from './pop-core.js';
import { MIN_SECRET_LENGTH, quotesSecret, Redactor } from '../secrets.js';
import type { Tag } from '../types.js';
import { CloudError, isKnownCode, toCloudError, unlessRefusal } from './errors.js';
import { listAllPages, listEveryPage, PAGE_SIZE } from './inventory.js';
import { boundedAgent, Exchange, onAbort, retryAfterMs, withinExchange } from './transport.js';
import { CONNECTION_ID, decodeConnection, decodeGateway, encodeCreateConnection, encodeModifyConnection } from './vpn-codec.js';
import type {
  CallOptions,
  ListOptions,
  CreateGatewayInput,
  CreateGatewayOutput,
  CustomerGateway,
  DescribePage,
  DescribePageInput,
  ModifyGatewayInput,
  Region,
  TagResource,
  TaggedType,
  VpcClient,
  CreateVpnConnectionInput,
  ModifyVpnConnectionInput,
  VpnConnection,
  VpnGateway,
} from './types.js';

export const API_VERSION = '2016-04-28';

export interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  /** Temporary credentials: when they expire (epoch ms). */
  expiration?: number;
}

/** What refreshes credentials (src/cloud/credentials.ts); declared here so the client needs no import of it. */
export interface CredentialSupplier {
  get(): Promise<Credentials>;
  refresh(): Promise<Credentials>;
  readonly refreshable: boolean;
}

export interface PopClientOptions {
  endpoint: string;
  credentials: Credentials | CredentialSupplier;
  /** The proxy for this endpoint (already checked against NO_PROXY). */
  proxy?: URL;
  /** Total deadline per request: connect + headers + body. pop-core's default is 3 s; the API can be slower under load. */
  timeoutMs?: number;
  /** Response size cap (default MAX_RESPONSE_BYTES, 1 MB). */
  maxResponseBytes?: number;
  /**
   * Where every secret an answer carries (a PSK, an AuthKey) goes at once: the command's Redactor. The VPN calls
   * withhold them from their values; only readVpnConnectionPsks returns PSKs.
   */
  onSecret?: (secret: string) => void;
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

/** What the API's ids look like; an id we record must be one (a redirect once got `cgw-redirected` recorded). */
export const GATEWAY_ID = /^cgw-[a-z0-9]+$/;

function badResponse(code: string, message: string, requestId?: string): CloudError {
  return new CloudError({ code, message, requestId, errorClass: 'transient', outcomeUnknown: true });
}

function toGateway(regionId: string, g: any): CustomerGateway {
  if (!g || typeof g !== 'object' || typeof g.CustomerGatewayId !== 'string' || !GATEWAY_ID.test(g.CustomerGatewayId)) {
    throw badResponse('InvalidResponse.MissingId', 'the listing holds a gateway without a well-formed CustomerGatewayId');
  }
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

export interface RpcCallOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  maxResponseBytes?: number;
  /** Values the request carried that must not come back in an error message (AuthKey, secret, token). */
  secrets?: Array<string | undefined>;
  /** Scrubs what the client knows beyond this request (every PSK it has seen), after `secrets`. */
  scrub?: (text: string) => string;
}

/**
 * One pop-core request under an Exchange: the total deadline and the size cap hold whatever pop-core and httpx do,
 * and the HTTP status decides before the body does (pop-core itself never looks at it).
 */
export async function callRpc(rpc: any, action: string, params: Params, opts: RpcCallOptions): Promise<any> {
  const ex = new Exchange(opts.timeoutMs, opts.maxResponseBytes);
  const off = opts.signal ? onAbort(opts.signal, () => ex.fail('aborted')) : undefined;
  const own = new Redactor({ minLength: 4 });
  for (const s of opts.secrets ?? []) own.add(s);
  const more = opts.scrub;
  const scrubber = { redact: (t: string): string => (more ? more(own.redact(t)) : own.redact(t)) };
  const short = (opts.secrets ?? []).filter((s): s is string => s !== undefined && s !== '' && s.length < MIN_SECRET_LENGTH);
  let result: unknown;
  let ok = false;
  try {
    const sent = withinExchange(ex, () =>
      rpc.request(action, cleanParams(params), { method: 'POST', timeout: opts.timeoutMs, formatParams: false }),
    );
    // The race may be won by the exchange's limits; pop-core's promise then settles later, unobserved.
    sent.catch(() => undefined);
    result = await Promise.race([sent, ex.failed]);
    ok = true;
  } catch (e) {
    throw proxyRefusal(ex) ?? viaProxy(withholdShortEchoes(unlessRefusal(action, transportError(e, ex, scrubber), ex.status), answerOf(e), short), ex);
  } finally {
    ex.finish(ok);
    off?.();
  }
  const refused = proxyRefusal(ex);
  if (refused) throw refused;
  const [body, entry] = Array.isArray(result) ? result : [result, undefined];
  const status: number | undefined = (entry as any)?.response?.statusCode ?? ex.status;
  const requestId = body && typeof body === 'object' ? str((body as any).RequestId) : undefined;
  if (status !== undefined && (status < 200 || status >= 300)) {
    const answer = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
    throw viaProxy(withholdShortEchoes(unlessRefusal(action, statusError(status, ex, requestId), status), answer, short), ex);
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw badResponse('InvalidResponse', 'the server answered with an empty or non-object body', requestId);
  }
  return plain(body);
}

/** The parsed body of an API error pop-core threw (its `data`), or nothing for transport failures. */
function answerOf(e: unknown): Record<string, unknown> {
  const data = e && typeof e === 'object' ? (e as { data?: unknown }).data : undefined;
  return data && typeof data === 'object' ? (data as Record<string, unknown>) : {};
}

/**
 * Secrets shorter than MIN_SECRET_LENGTH (AuthKeys of 1-7 characters, which the API accepts) are not masked by value:
 * in ordinary text that would mangle words, and their encoded forms are shorter still. An answer that quotes one in
 * any form loses its message, and a code or request id that holds it; the fixed text names the code that is left.
 */
function withholdShortEchoes(err: CloudError, answer: Record<string, unknown>, short: readonly string[]): CloudError {
  if (short.length === 0) return err;
  const quoted = (v: unknown): boolean => (typeof v === 'string' || typeof v === 'number') && short.some((s) => quotesSecret(String(v), s));
  // A code the API documents is no echo of the request, though a 1-character key may be one of its letters.
  const inCode = !(typeof answer.Code === 'string' && isKnownCode(answer.Code)) && quoted(answer.Code);
  const inRequestId = quoted(answer.RequestId);
  if (!quoted(answer.Message) && !inCode && !inRequestId) return err;
  const code = inCode ? 'InvalidResponse.QuotedSecret' : err.code;
  return new CloudError({
    code,
    message: `the server's message was withheld: it quoted a secret of the request that is too short to mask (${code})`,
    status: err.status,
    requestId: inRequestId ? undefined : err.requestId,
    errorClass: err.errorClass,
    retryAfterMs: err.retryAfterMs,
    outcomeUnknown: err.outcomeUnknown,
  });
}

/**
 * The proxy refused the request itself: CONNECT answered with anything but 200, or a 407 from a forwarding proxy
 * (no API endpoint sends 407). Nothing reached the endpoint, so the outcome is known: nothing happened.
 */
function proxyRefusal(ex: Exchange): CloudError | undefined {
  if (ex.proxy === undefined) return undefined;
  const status = ex.proxyStatus !== undefined && ex.proxyStatus !== 200 ? ex.proxyStatus : ex.status === 407 ? 407 : undefined;
  if (status === undefined) return undefined;
  if (status === 407) {
    return new CloudError({
      code: 'ProxyAuthenticationRequired',
      message: `the proxy ${ex.proxy} refused the request: HTTP 407 (proxy authentication required); check the user and password in --proxy or HTTPS_PROXY`,
      status,
      errorClass: 'auth',
    });
  }
  return new CloudError({
    code: `Proxy.Http${status}`,
    message: `the proxy ${ex.proxy} answered HTTP ${status} instead of opening a tunnel to the endpoint${status >= 500 ? ' (it could not reach the endpoint)' : ''}`,
    status,
    errorClass: status >= 500 ? 'transient' : 'invalid',
  });
}

/** Transport failures through a proxy say so: the proxy is the first suspect. */
function viaProxy(e: CloudError, ex: Exchange): CloudError {
  if (ex.proxy === undefined || e.errorClass === 'auth' || e.errorClass === 'clock' || e.requestId !== undefined) return e;
  const refused = e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN';
  return new CloudError({
    code: e.code,
    message: refused ? `cannot connect to the proxy ${ex.proxy} (${e.code})` : `${e.message} (through the proxy ${ex.proxy})`,
    status: e.status,
    requestId: e.requestId,
    errorClass: e.errorClass,
    retryAfterMs: e.retryAfterMs,
    outcomeUnknown: e.outcomeUnknown,
  });
}

/** A non-2xx answer without an API error Code (pop-core resolved it): never a success. */
function statusError(status: number, ex: Exchange, requestId: string | undefined, code?: string): CloudError {
  if (status >= 300 && status < 400) {
    return new CloudError({
      code: 'InvalidResponse.Redirect',
      message: `the endpoint answered with a redirect (HTTP ${status}); redirects are never followed: check --endpoint (a proxy or a captive portal?)`,
      status,
      requestId,
      errorClass: 'invalid',
      // Nothing proves the request went nowhere: whoever redirected may have passed it on.
      outcomeUnknown: true,
    });
  }
  if (status === 429) {
    return new CloudError({
      code: code ?? 'Throttling.Http429',
      message: 'the endpoint answered HTTP 429 (too many requests)',
      status,
      requestId,
      errorClass: 'throttled',
      retryAfterMs: retryAfterMs(ex.headers),
    });
  }
  return new CloudError({
    code: code ?? `Http${status}`,
    message: `the server answered HTTP ${status} without an error code`,
    status,
    requestId,
    errorClass: status >= 500 ? 'transient' : 'invalid',
    outcomeUnknown: status >= 500 || status < 200,
  });
}

/** Maps a failed exchange: our own limits first, then what the status says, then pop-core's error. */
function transportError(e: unknown, ex: Exchange, scrubber: { redact(t: string): string }): CloudError {
  if (ex.failure === 'deadline') {
    return new CloudError({ code: 'RequestTimeout', message: 'the request did not complete within the timeout', errorClass: 'transient', outcomeUnknown: true });
  }
  if (ex.failure === 'too-large') {
    return badResponse('InvalidResponse.TooLarge', 'the server sent a response larger than 1 MB (not an API answer); the connection was closed');
  }
  if (ex.failure === 'aborted') {
    return new CloudError({ code: 'RequestAborted', message: 'the request was abandoned (interrupted)', errorClass: 'transient', outcomeUnknown: true });
  }
  const err = toCloudError(e, (s) => scrubber.redact(s));
  const status = ex.status;
  if (status !== undefined && status >= 300 && status < 400) return statusError(status, ex, err.requestId);
  if (status === 429 && err.errorClass !== 'throttled') return statusError(status, ex, err.requestId, err.code.startsWith('Http') || err.code === 'InvalidResponse' ? undefined : err.code);
  if (err.code === 'InvalidResponse') {
    if (ex.encoded) {
      return badResponse('InvalidResponse.Encoded', 'the server sent a compressed body that was not asked for (not an API answer)');
    }
    return new CloudError({
      code: 'InvalidResponse',
      message: `the server answered${status !== undefined ? ` HTTP ${status}` : ''} with a body that is not JSON (a proxy or gateway error page?)`,
      status,
      errorClass: status !== undefined && status >= 400 && status < 500 ? 'invalid' : 'transient',
      outcomeUnknown: true,
    });
  }
  if (err.errorClass === 'throttled' && err.retryAfterMs === undefined && retryAfterMs(ex.headers) !== undefined) {
    // A proxy's standard Retry-After (seconds or a date) on an API-shaped throttling answer.
    return new CloudError({ code: err.code, message: err.message, status: err.status ?? status, requestId: err.requestId, errorClass: 'throttled', retryAfterMs: retryAfterMs(ex.headers) });
  }
  return err;
}

/** Static credentials as a supplier, so one code path serves both. */
export function supplierOf(c: Credentials | CredentialSupplier): CredentialSupplier {
  if (typeof (c as CredentialSupplier).get === 'function') return c as CredentialSupplier;
  const fixed = c as Credentials;
  return { refreshable: false, get: async () => fixed, refresh: async () => fixed };
}

/**
 * Runs one signed call with the supplier's current credentials. If the server says the token expired (a clock
 * ahead of ours, a token revoked early), the credentials are fetched again and the call is sent once more: a
 * request refused at authentication did nothing, so sending it again is safe even for a create.
 */
export async function withCredentials<T>(supplier: CredentialSupplier, call: (c: Credentials) => Promise<T>): Promise<T> {
  const c = await supplier.get();
  try {
    return await call(c);
  } catch (e) {
    if (!(e instanceof CloudError) || e.code !== 'InvalidSecurityToken.Expired' || !supplier.refreshable) throw e;
    return call(await supplier.refresh());
  }
}

export class PopVpcClient implements VpcClient {
  readonly endpoint: string;
  private readonly rpc: any;
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number | undefined;
  private readonly supplier: CredentialSupplier;
  /** The credentials of the request being signed (pop-core asks for them right before signing). */
  private signing: Credentials | undefined;
  /** Every PSK and AuthKey this client has sent or seen: scrubbed from every later error message too. */
  private readonly seen = new Redactor({ minLength: 4 });
  private readonly onSecret: ((secret: string) => void) | undefined;
  private lastKey: string;

  /** The access key of the latest request (temporary keys change on refresh). */
  get accessKeyId(): string {
    return this.lastKey;
  }

  constructor(opts: PopClientOptions) {
    this.endpoint = opts.endpoint.replace(/\/+$/, '');
    this.supplier = supplierOf(opts.credentials);
    this.lastKey = typeof (opts.credentials as Credentials).accessKeyId === 'string' ? (opts.credentials as Credentials).accessKeyId : '';
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxResponseBytes = opts.maxResponseBytes;
    this.onSecret = opts.onSecret;
    this.agent = boundedAgent(this.endpoint, opts.proxy);
    // verbose=true makes request() resolve to [body, entry], so we can see the HTTP status:
    // pop-core resolves a 5xx whose body has no Code as if it had succeeded.
    const Ctor = rpcClientClass<any>();
    this.rpc = new Ctor(
      {
        endpoint: this.endpoint,
        apiVersion: API_VERSION,
        // Asked on every request: the credentials of that request, fetched (and refreshed) by call() just before.
        credentialsProvider: { getCredentials: async () => this.signing ?? (await this.supplier.get()) },
        // Our agent replaces pop-core's own keep-alive pool; httpx never follows redirects, so nothing signed
        // is ever sent to a host other than the endpoint.
        opts: { method: 'POST', timeout: this.timeoutMs, agent: this.agent },
      },
      true,
    );
  }

  /** Destroys every pooled socket. Later calls still work (they open new sockets). */
  close(): void {
    this.agent.destroy();
  }

  /** One API call. Every failure leaves as a CloudError; every success as plain data from a 2xx JSON object. */
  async call(action: string, params: Params, opts?: CallOptions, secrets: string[] = []): Promise<any> {
    for (const s of secrets) this.secret(s);
    return withCredentials(this.supplier, (c) =>
      callRpc(
        { request: (a: string, p: object, o: object) => this.signed(c, () => this.rpc.request(a, p, o)) },
        action,
        params,
        {
          timeoutMs: opts?.timeoutMs ?? this.timeoutMs,
          signal: opts?.signal,
          maxResponseBytes: this.maxResponseBytes,
          // The secrets this request carries, in every encoding: a server may quote them back in its message.
          secrets: [c.accessKeySecret, c.securityToken, typeof params.AuthKey === 'string' ? params.AuthKey : undefined, ...secrets],
          scrub: this.seen.size > 0 ? (t) => this.seen.redact(t) : undefined,
        },
      ),
    );
  }

  /** pop-core reads the credentials synchronously at the start of request(): hand it exactly `c`. */
  private signed<T>(c: Credentials, send: () => Promise<T>): Promise<T> {
    this.signing = c;
    this.lastKey = c.accessKeyId;
    try {
      return send();
    } finally {
      this.signing = undefined;
    }
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
    // A 200 without a well-formed id is no proof of anything: the outcome is unknown and is reconciled by listing.
    if (typeof r.CustomerGatewayId !== 'string' || !GATEWAY_ID.test(r.CustomerGatewayId)) {
      throw badResponse('InvalidResponse.MissingId', 'CreateCustomerGateway answered without a well-formed CustomerGatewayId', str(r.RequestId));
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
    const list = r.CustomerGateways?.CustomerGateway ?? [];
    if (!Array.isArray(list)) throw badResponse('InvalidResponse', 'DescribeCustomerGateways answered without a gateway list', str(r.RequestId));
    const items = list.map((g: any) => toGateway(input.regionId, g));
    return {
      items,
      totalCount: Number(r.TotalCount ?? items.length),
      pageNumber: Number(r.PageNumber ?? input.pageNumber ?? 1),
      pageSize: Number(r.PageSize ?? input.pageSize ?? 10),
      requestId: String(r.RequestId ?? ''),
    };
  }

  async listCustomerGateways(regionId: string, opts?: ListOptions): Promise<CustomerGateway[]> {
    return listAllPages((input, o) => this.describeCustomerGateways(input, o), regionId, opts);
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
    input: { regionId: string; resourceIds: string[]; tags: Tag[]; resourceType?: TaggedType },
    opts?: CallOptions,
  ): Promise<{ requestId: string }> {
    const r = await this.call(
      'TagResources',
      { RegionId: input.regionId, ResourceType: input.resourceType ?? 'CUSTOMERGATEWAY', ResourceId: input.resourceIds, Tag: tagList(input.tags) },
      opts,
    );
    return { requestId: String(r.RequestId ?? '') };
  }

  async untagResources(
    input: { regionId: string; resourceIds: string[]; tagKeys?: string[]; all?: boolean; resourceType?: TaggedType },
    opts?: CallOptions,
  ): Promise<{ requestId: string }> {
    const r = await this.call(
      'UnTagResources',
      {
        RegionId: input.regionId,
        ResourceType: input.resourceType ?? 'CUSTOMERGATEWAY',
        ResourceId: input.resourceIds,
        TagKey: input.tagKeys,
        All: input.all === undefined ? undefined : String(input.all),
      },
      opts,
    );
    return { requestId: String(r.RequestId ?? '') };
  }

  async listTagResources(
    input: { regionId: string; resourceIds?: string[]; tags?: Tag[]; maxResults?: number; nextToken?: string; resourceType?: TaggedType },
    opts?: CallOptions,
  ): Promise<{ items: TagResource[]; nextToken?: string; requestId: string }> {
    const r = await this.call(
      'ListTagResources',
      {
        RegionId: input.regionId,
        ResourceType: input.resourceType ?? 'CUSTOMERGATEWAY',
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

  // ---- IPsec-VPN (sites) -----------------------------------------------------------------------------------------

  /** A secret joins the sink (the command's Redactor) and this client's own scrub list, at once. */
  private secret(s: string | undefined): void {
    if (s === undefined || s === '') return;
    this.seen.add(s);
    this.onSecret?.(s);
  }

  async describeVpnGateway(regionId: string, id: string, opts?: CallOptions): Promise<VpnGateway> {
    const r = await this.call('DescribeVpnGateway', { RegionId: regionId, VpnGatewayId: id }, opts);
    return decodeGateway(regionId, r, str(r.RequestId));
  }

  async listVpnGateways(regionId: string, opts?: ListOptions): Promise<VpnGateway[]> {
    return listEveryPage(async (pageNumber) => {
      const r = await this.call('DescribeVpnGateways', { RegionId: regionId, PageNumber: pageNumber, PageSize: PAGE_SIZE }, opts);
      const list = r.VpnGateways?.VpnGateway ?? [];
      if (!Array.isArray(list)) throw badResponse('InvalidResponse', 'DescribeVpnGateways answered without a gateway list', str(r.RequestId));
      return { items: list.map((g: unknown) => decodeGateway(regionId, g, str(r.RequestId))), totalCount: Number(r.TotalCount ?? list.length) };
    }, opts ?? {});
  }

  async createVpnConnection(input: CreateVpnConnectionInput, opts?: CallOptions): Promise<{ id: string; requestId: string; createTime?: number }> {
    const { params, secrets } = encodeCreateConnection(input);
    const r = await this.call('CreateVpnConnection', params, opts, secrets);
    // As for gateways: a 200 without a well-formed id proves nothing; the executor settles it by listing.
    if (typeof r.VpnConnectionId !== 'string' || !CONNECTION_ID.test(r.VpnConnectionId)) {
      throw badResponse('InvalidResponse.MissingId', 'CreateVpnConnection answered without a well-formed VpnConnectionId', str(r.RequestId));
    }
    return { id: r.VpnConnectionId, requestId: String(r.RequestId ?? ''), ...(r.CreateTime !== undefined ? { createTime: Number(r.CreateTime) } : {}) };
  }

  /** The answer read and its secrets handed over; only `psks` of the result may carry a PSK further. */
  private async describeConnection(regionId: string, id: string, opts?: CallOptions): Promise<{ connection: VpnConnection; psks: string[] }> {
    const r = await this.call('DescribeVpnConnection', { RegionId: regionId, VpnConnectionId: id }, opts);
    const d = decodeConnection(regionId, r, str(r.RequestId));
    for (const s of d.secrets) this.secret(s);
    return d;
  }

  async describeVpnConnection(regionId: string, id: string, opts?: CallOptions): Promise<VpnConnection> {
    return (await this.describeConnection(regionId, id, opts)).connection;
  }

  async readVpnConnectionPsks(regionId: string, id: string, opts?: CallOptions): Promise<string[]> {
    return (await this.describeConnection(regionId, id, opts)).psks;
  }

  async listVpnConnections(
    regionId: string,
    filter: { vpnGatewayId?: string; customerGatewayId?: string; tags?: Tag[] },
    opts?: ListOptions,
  ): Promise<VpnConnection[]> {
    return listEveryPage(async (pageNumber) => {
      const r = await this.call(
        'DescribeVpnConnections',
        {
          RegionId: regionId,
          PageNumber: pageNumber,
          PageSize: PAGE_SIZE,
          VpnGatewayId: filter.vpnGatewayId,
          CustomerGatewayId: filter.customerGatewayId,
          Tag: tagList(filter.tags),
        },
        opts,
      );
      const list = r.VpnConnections?.VpnConnection ?? [];
      if (!Array.isArray(list)) throw badResponse('InvalidResponse', 'DescribeVpnConnections answered without a connection list', str(r.RequestId));
      const items = list.map((c: unknown) => {
        const d = decodeConnection(regionId, c, str(r.RequestId));
        for (const s of d.secrets) this.secret(s);
        return d.connection;
      });
      return { items, totalCount: Number(r.TotalCount ?? items.length) };
    }, opts ?? {});
  }

  async modifyVpnConnectionAttribute(input: ModifyVpnConnectionInput, opts?: CallOptions): Promise<{ requestId: string }> {
    // Dual tunnel edits name their tunnels; a single-tunnel edit never does.
    const dual = (input.tunnels ?? []).some((t) => t.tunnelId !== undefined);
    const { params, secrets } = encodeModifyConnection(input, dual);
    const r = await this.call('ModifyVpnConnectionAttribute', params, opts, secrets);
    // The answer restates the connection, PSK included: handed to the sink, never returned.
    if (r && typeof r === 'object' && typeof r.VpnConnectionId === 'string' && CONNECTION_ID.test(r.VpnConnectionId)) {
      for (const s of decodeConnection(input.regionId, r).secrets) this.secret(s);
    }
    return { requestId: String(r.RequestId ?? '') };
  }

  async deleteVpnConnection(input: { regionId: string; id: string; clientToken?: string }, opts?: CallOptions): Promise<{ requestId: string }> {
    const r = await this.call('DeleteVpnConnection', { RegionId: input.regionId, VpnConnectionId: input.id, ClientToken: input.clientToken }, opts);
    return { requestId: String(r.RequestId ?? '') };
  }
}
