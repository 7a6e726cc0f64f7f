// A thin, bounded OSS client: V4-signed HEAD, ranged GET, AppendObject, forbid-overwrite PUT, DELETE, ListObjectsV2.
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { crc64Update, CRC64_EMPTY, crc64String } from './crc64.js';

export interface OssCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface OssClientOptions {
  /** `https://oss-cn-hangzhou.aliyuncs.com`, or an emulator's `http://127.0.0.1:PORT`. */
  endpoint: string;
  bucket: string;
  /** Signing region, e.g. `cn-hangzhou` (an `oss-` prefix is dropped). Default: from the endpoint, else cn-hangzhou. */
  region?: string;
  /** `/bucket/key` on the endpoint's host instead of `bucket.host`; default for IP and localhost endpoints. */
  pathStyle?: boolean;
  /** Called for every request, so rotating STS credentials are picked up. Never logged. */
  credentials: () => Promise<OssCredentials>;
  /** Whole-request deadline: connect, send, headers and body (default 15 s). */
  timeoutMs?: number;
  /** Largest response body accepted (default 256 MiB); larger is an error, never buffered. */
  maxBodyBytes?: number;
  /** The time put in x-oss-date (tests); default the wall clock. */
  now?: () => Date;
}

/** An OSS error answer (status + code from its XML), or a transport failure (status 0, code 'Transport'/'Timeout'). */
export class OssError extends Error {
  override name = 'OssError';
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly requestId: string | undefined,
    readonly headers: http.IncomingHttpHeaders = {},
  ) {
    super(message);
  }
  /** Nothing can be known about whether the request took effect. */
  get ambiguous(): boolean {
    return this.status === 0 || this.status >= 500;
  }
}

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface ObjectInfo {
  length: number;
  crc64: string | undefined;
  type: string | undefined;
  etag: string | undefined;
}

const ALGO = 'OSS4-HMAC-SHA256';

/** RFC 3986 encoding as OSS signs it: encodeURIComponent plus !'()*. */
export function ossEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** The V4 signature of a request (exported for the emulator's tests); `query` values of null sign as a bare key. */
export function signV4(p: {
  method: string;
  bucket: string;
  key: string;
  query: Record<string, string | null>;
  headers: Record<string, string>;
  region: string;
  creds: OssCredentials;
  date: string;
}): string {
  const canonicalUri = ossEncode(`/${p.bucket}/${p.key}`).replace(/%2F/g, '/');
  const canonicalQuery = Object.keys(p.query)
    .sort()
    .map((k) => {
      const v = p.query[k];
      return v === null || v === '' ? ossEncode(k) : `${ossEncode(k)}=${ossEncode(v ?? '')}`;
    })
    .join('&');
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.headers)) lower[k.toLowerCase()] = v;
  const signed = Object.keys(lower)
    .filter((k) => k === 'content-type' || k === 'content-md5' || k.startsWith('x-oss-'))
    .sort();
  const canonicalHeaders = signed.map((k) => `${k}:${(lower[k] ?? '').trim()}\n`).join('');
  const canonicalRequest = [p.method, canonicalUri, canonicalQuery, canonicalHeaders, '', lower['x-oss-content-sha256'] ?? 'UNSIGNED-PAYLOAD'].join('\n');
  const day = p.date.slice(0, 8);
  const scope = `${day}/${p.region}/oss/aliyun_v4_request`;
  const stringToSign = [ALGO, p.date, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  let k = createHmac('sha256', `aliyun_v4${p.creds.accessKeySecret}`).update(day).digest();
  for (const part of [p.region, 'oss', 'aliyun_v4_request']) k = createHmac('sha256', k).update(part).digest();
  const sig = createHmac('sha256', k).update(stringToSign).digest('hex');
  return `${ALGO} Credential=${p.creds.accessKeyId}/${scope},Signature=${sig}`;
}

function xmlField(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m?.[1] === undefined ? undefined : decodeXml(m[1]);
}

function decodeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_m, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

export class OssClient {
  readonly bucket: string;
  private readonly url: URL;
  private readonly region: string;
  private readonly pathStyle: boolean;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly maxBody: number;

  constructor(private readonly opts: OssClientOptions) {
    this.url = new URL(opts.endpoint);
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') throw new Error(`OSS endpoint must be http(s)://, got ${this.url.protocol}`);
    this.bucket = opts.bucket;
    const fromHost = /^oss-([a-z0-9-]+?)(-internal)?\.aliyuncs\.com$/.exec(this.url.hostname)?.[1];
    this.region = (opts.region ?? fromHost ?? 'cn-hangzhou').replace(/^oss-/, '');
    this.pathStyle = opts.pathStyle ?? (isIP(this.url.hostname) !== 0 || this.url.hostname === 'localhost');
    const Agent = this.url.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 8 });
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.maxBody = opts.maxBodyBytes ?? 256 * 1024 * 1024;
  }

  /** Where the bucket is, for messages. */
  get where(): string {
    return `${this.url.origin}/${this.bucket}`;
  }

  close(): void {
    this.agent.destroy();
  }

  private async request(method: string, key: string, query: Record<string, string | null>, headers: Record<string, string>, body?: Buffer): Promise<Response> {
    const creds = await this.opts.credentials();
    const date = amzDate(this.opts.now?.() ?? new Date());
    const h: Record<string, string> = { ...headers, 'x-oss-date': date, 'x-oss-content-sha256': 'UNSIGNED-PAYLOAD' };
    if (creds.securityToken) h['x-oss-security-token'] = creds.securityToken;
    if (body) {
      h['content-type'] ??= 'application/octet-stream';
      h['content-md5'] = createHash('md5').update(body).digest('base64');
    }
    h['authorization'] = signV4({ method, bucket: this.bucket, key, query, headers: h, region: this.region, creds, date });
    const qs = Object.entries(query)
      .map(([k, v]) => (v === null ? ossEncode(k) : `${ossEncode(k)}=${ossEncode(v)}`))
      .join('&');
    const encodedKey = ossEncode(key).replace(/%2F/g, '/');
    const path = (this.pathStyle ? `/${this.bucket}/${encodedKey}` : `/${encodedKey}`) + (qs ? `?${qs}` : '');
    const host = this.pathStyle ? this.url.host : `${this.bucket}.${this.url.host}`;
    const mod = this.url.protocol === 'https:' ? https : http;
    return new Promise<Response>((resolve, reject) => {
      let settled = false;
      const fail = (e: OssError) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        req.destroy();
        reject(e);
      };
      const req = mod.request(
        {
          method,
          protocol: this.url.protocol,
          hostname: this.url.hostname,
          port: this.url.port || undefined,
          path,
          headers: { ...h, host, 'content-length': String(body?.length ?? 0) },
          agent: this.agent,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 300 && status < 400) {
            fail(new OssError(`OSS answered ${method} with a redirect (${status}); redirects are not followed`, status, 'Redirect', undefined, res.headers));
            return;
          }
          const declared = Number(res.headers['content-length'] ?? NaN);
          if (declared > this.maxBody) {
            fail(new OssError(`OSS answer of ${declared} bytes is over the ${this.maxBody}-byte limit`, status, 'BodyTooLarge', undefined, res.headers));
            return;
          }
          const chunks: Buffer[] = [];
          let total = 0;
          res.on('data', (c: Buffer) => {
            total += c.length;
            if (total > this.maxBody) {
              fail(new OssError(`OSS answer is over the ${this.maxBody}-byte limit`, status, 'BodyTooLarge', undefined, res.headers));
              return;
            }
            chunks.push(c);
          });
          res.on('error', (e) => fail(new OssError(`OSS ${method} failed reading the answer: ${e.message}`, 0, 'Transport', undefined)));
          res.on('aborted', () => fail(new OssError(`OSS ${method}: the answer was cut off`, 0, 'Transport', undefined)));
          res.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(deadline);
            resolve({ status, headers: res.headers, body: Buffer.concat(chunks, total) });
          });
        },
      );
      const deadline = setTimeout(() => fail(new OssError(`OSS ${method} got no complete answer within ${this.timeoutMs} ms`, 0, 'Timeout', undefined)), this.timeoutMs);
      req.on('error', (e) => fail(new OssError(`OSS ${method} failed: ${e.message}`, 0, 'Transport', undefined)));
      req.end(body);
    });
  }

  private error(method: string, key: string, r: Response): OssError {
    const text = r.body.toString('utf8');
    const code = xmlField(text, 'Code') ?? (r.status === 404 ? 'NoSuchKey' : `HTTP${r.status}`);
    const msg = xmlField(text, 'Message') ?? '';
    const rid = xmlField(text, 'RequestId') ?? (r.headers['x-oss-request-id'] as string | undefined);
    return new OssError(`OSS ${method} ${this.bucket}/${key}: ${r.status} ${code}${msg ? `: ${msg}` : ''}${rid ? ` (request ${rid})` : ''}`, r.status, code, rid, r.headers);
  }

  private static info(h: http.IncomingHttpHeaders, length: number): ObjectInfo {
    return {
      length,
      crc64: h['x-oss-hash-crc64ecma'] as string | undefined,
      type: h['x-oss-object-type'] as string | undefined,
      etag: h['etag'],
    };
  }

  /** undefined when the object does not exist. */
  async head(key: string): Promise<ObjectInfo | undefined> {
    const r = await this.request('HEAD', key, {}, {});
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw this.error('HEAD', key, r);
    return OssClient.info(r.headers, Number(r.headers['content-length'] ?? 0));
  }

  /**
   * The object, or bytes [start, end) of it; undefined when it does not exist. A whole-object read is checked
   * against its crc64. `length` is the object's full length.
   */
  async get(key: string, range?: { start: number; end?: number }): Promise<(ObjectInfo & { body: Buffer }) | undefined> {
    const headers: Record<string, string> = {};
    if (range) {
      headers['range'] = `bytes=${range.start}-${range.end !== undefined ? range.end - 1 : ''}`;
      // Without this OSS answers a range past the end with the whole object and 200.
      headers['x-oss-range-behavior'] = 'standard';
    }
    const r = await this.request('GET', key, {}, headers);
    if (r.status === 404) return undefined;
    if (r.status === 416) {
      const total = Number(/\/(\d+)$/.exec(String(r.headers['content-range'] ?? ''))?.[1] ?? range?.start ?? 0);
      return { ...OssClient.info(r.headers, total), body: Buffer.alloc(0) };
    }
    if (r.status !== 200 && r.status !== 206) throw this.error('GET', key, r);
    const total = r.status === 206 ? Number(/\/(\d+)$/.exec(String(r.headers['content-range'] ?? ''))?.[1] ?? NaN) : r.body.length;
    const info = OssClient.info(r.headers, total);
    if (r.status === 200 && info.crc64 !== undefined && crc64String(crc64Update(CRC64_EMPTY, r.body)) !== info.crc64) {
      throw new OssError(`OSS GET ${this.bucket}/${key}: the body does not match its crc64 (corrupted in transit)`, 0, 'Crc64Mismatch', undefined);
    }
    return { ...info, body: r.body };
  }

  /**
   * AppendObject at `position`: lands only if the object's length is exactly `position` (0 creates it).
   * Throws OssError PositionNotEqualToLength (409, with `nextPosition`) otherwise.
   */
  async append(key: string, position: number, body: Buffer, opts: { sse?: boolean } = {}): Promise<{ nextPosition: number; crc64: string | undefined }> {
    const headers: Record<string, string> = {};
    if (opts.sse) headers['x-oss-server-side-encryption'] = 'AES256';
    const r = await this.request('POST', key, { append: null, position: String(position) }, headers, body);
    if (r.status !== 200) throw this.error('AppendObject', key, r);
    return { nextPosition: Number(r.headers['x-oss-next-append-position']), crc64: r.headers['x-oss-hash-crc64ecma'] as string | undefined };
  }

  /** PutObject; with `forbidOverwrite` an existing key answers 409 FileAlreadyExists. */
  async put(key: string, body: Buffer, opts: { forbidOverwrite?: boolean; sse?: boolean } = {}): Promise<{ crc64: string | undefined }> {
    const headers: Record<string, string> = {};
    if (opts.forbidOverwrite) headers['x-oss-forbid-overwrite'] = 'true';
    if (opts.sse) headers['x-oss-server-side-encryption'] = 'AES256';
    const r = await this.request('PUT', key, {}, headers, body);
    if (r.status !== 200) throw this.error('PutObject', key, r);
    return { crc64: r.headers['x-oss-hash-crc64ecma'] as string | undefined };
  }

  /** Deleting a missing key succeeds (204), as in OSS. */
  async delete(key: string): Promise<void> {
    const r = await this.request('DELETE', key, {}, {});
    if (r.status !== 204 && r.status !== 200 && r.status !== 404) throw this.error('DeleteObject', key, r);
  }

  /** One page of ListObjectsV2 under `prefix`. */
  async list(prefix: string, continuationToken?: string, maxKeys = 1000): Promise<{ keys: Array<{ key: string; size: number }>; next?: string }> {
    const query: Record<string, string | null> = { 'list-type': '2', 'max-keys': String(maxKeys), prefix };
    if (continuationToken) query['continuation-token'] = continuationToken;
    const r = await this.request('GET', '', query, {});
    if (r.status !== 200) throw this.error('ListObjectsV2', prefix, r);
    const xml = r.body.toString('utf8');
    const keys: Array<{ key: string; size: number }> = [];
    for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
      const block = m[1] ?? '';
      keys.push({ key: xmlField(block, 'Key') ?? '', size: Number(xmlField(block, 'Size') ?? 0) });
    }
    const truncated = xmlField(xml, 'IsTruncated') === 'true';
    const next = truncated ? xmlField(xml, 'NextContinuationToken') : undefined;
    return { keys, ...(next ? { next } : {}) };
  }

  /** Every key under `prefix` (bounded by `maxPages`). */
  async listAll(prefix: string, maxPages = 100): Promise<Array<{ key: string; size: number }>> {
    const out: Array<{ key: string; size: number }> = [];
    let token: string | undefined;
    for (let i = 0; i < maxPages; i++) {
      const page = await this.list(prefix, token);
      out.push(...page.keys);
      if (!page.next) return out;
      token = page.next;
    }
    throw new OssError(`OSS list of ${this.bucket}/${prefix} has more than ${maxPages} pages`, 0, 'TooManyKeys', undefined);
  }
}
