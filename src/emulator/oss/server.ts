// The local OSS emulator: the object operations the state backend uses, with the service's errors, signatures and seeded faults.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { mulberry32 } from '../../random.js';
import { crc64String, crc64Update, CRC64_EMPTY, type Crc64 } from '../../state/backend/crc64.js';
import { verify, type OssAccount } from './auth.js';

export const OSS_FAULT_KINDS = ['conflict', 'lost-answer', 'unavailable', 'internal', 'slow-body'] as const;
export type OssFaultKind = (typeof OSS_FAULT_KINDS)[number];
export const OSS_OPS = ['append', 'put', 'get', 'head', 'delete', 'list'] as const;
export type OssOp = (typeof OSS_OPS)[number];

export interface OssEmulatorOptions {
  host?: string;
  port?: number;
  /** Buckets that exist (default one: `cgw-state`). */
  buckets?: string[];
  accounts?: OssAccount[];
  /** The region signatures must name (default cn-hangzhou). */
  region?: string;
  /** Random faults per operation, probabilities 0..1 (the kinds share the unit interval in OSS_FAULT_KINDS order). */
  faults?: Partial<Record<OssFaultKind, number>>;
  /** Which operations random faults hit (default all). */
  faultOps?: OssOp[];
  seed?: number;
  /** A slow body sends one byte per this many ms (default 200). */
  slowByteMs?: number;
  /** Largest object (default 5 GiB, as OSS) and largest request body (default 64 MiB). */
  maxObjectBytes?: number;
  maxRequestBytes?: number;
  clock?: () => number;
}

export const DEFAULT_OSS_ACCOUNT: OssAccount = { accessKeyId: 'LTAI5tOssSandboxKey000001', accessKeySecret: 'oss-sandbox-secret-not-a-real-key' };

interface StoredObject {
  chunks: Buffer[];
  length: number;
  crc: Crc64;
  type: 'Appendable' | 'Normal';
  etag: string;
  lastModified: Date;
  sse: string | undefined;
}

export interface OssEmulatorStats {
  requests: number;
  byOp: Record<string, number>;
  faults: number;
  conflicts: number;
}

class OssError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly message: string,
    readonly headers: Record<string, string> = {},
    readonly ec = '0000-00000000',
  ) {}
}

function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

function bytesOf(o: StoredObject): Buffer {
  if (o.chunks.length > 1) o.chunks = [Buffer.concat(o.chunks, o.length)];
  return o.chunks[0] ?? Buffer.alloc(0);
}

export class OssEmulator {
  readonly buckets = new Map<string, Map<string, StoredObject>>();
  readonly stats: OssEmulatorStats = { requests: 0, byOp: {}, faults: 0, conflicts: 0 };
  private server: Server;
  private sockets = new Set<Socket>();
  private queued: Array<{ op: OssOp; kind: OssFaultKind }> = [];
  private rand: () => number;
  private readonly accounts: OssAccount[];
  readonly region: string;
  url = '';
  port = 0;

  constructor(private readonly opts: OssEmulatorOptions = {}) {
    for (const b of opts.buckets ?? ['cgw-state']) this.buckets.set(b, new Map());
    this.accounts = opts.accounts ?? [DEFAULT_OSS_ACCOUNT];
    this.region = opts.region ?? 'cn-hangzhou';
    this.rand = mulberry32(opts.seed ?? Math.floor(Math.random() * 2 ** 31));
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<void> {
    const host = this.opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 0, host, () => resolve());
    });
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** The next `op` request gets `kind` (before random faults are drawn). Deterministic faults for tests. */
  injectNext(op: OssOp, kind: OssFaultKind): void {
    this.queued.push({ op, kind });
  }

  /** Test hook: runs after a change is made and before its answer is sent (to land a rival write in between). */
  onCommit: ((op: OssOp, bucket: string, key: string) => void) | undefined;

  /** Test hook: appends bytes to an appendable object as another writer would, bypassing HTTP. */
  appendDirect(bucket: string, key: string, data: Buffer): void {
    const o = this.buckets.get(bucket)?.get(key);
    if (!o || o.type !== 'Appendable') throw new Error(`no appendable object ${bucket}/${key}`);
    o.chunks.push(Buffer.from(data));
    o.length += data.length;
    o.crc = crc64Update(o.crc, data);
  }

  /** An object's bytes (tests and the CLI's inspection), or undefined. */
  object(bucket: string, key: string): Buffer | undefined {
    const o = this.buckets.get(bucket)?.get(key);
    return o ? Buffer.from(bytesOf(o)) : undefined;
  }

  private now(): number {
    return this.opts.clock?.() ?? Date.now();
  }

  private pickFault(op: OssOp): OssFaultKind | undefined {
    const i = this.queued.findIndex((q) => q.op === op);
    if (i >= 0) return this.queued.splice(i, 1)[0]?.kind;
    const f = this.opts.faults;
    if (!f || (this.opts.faultOps && !this.opts.faultOps.includes(op))) return undefined;
    const u = this.rand();
    let acc = 0;
    for (const k of OSS_FAULT_KINDS) {
      const p = f[k] ?? 0;
      if (!(p > 0)) continue;
      acc += Math.min(1, p);
      if (u < acc) return k === 'conflict' && op !== 'append' ? undefined : k;
    }
    return undefined;
  }

  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const max = this.opts.maxRequestBytes ?? 64 * 1024 * 1024;
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      total += c.length;
      if (total > max) throw new OssError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.');
      chunks.push(c);
    }
    return Buffer.concat(chunks, total);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomBytes(12).toString('hex').toUpperCase();
    res.setHeader('x-oss-request-id', requestId);
    res.setHeader('server', 'AliyunOSS');
    res.setHeader('date', new Date(this.now()).toUTCString());
    this.stats.requests++;
    let bucketName = '';
    try {
      const raw = req.url ?? '/';
      const qi = raw.indexOf('?');
      const rawPath = qi >= 0 ? raw.slice(0, qi) : raw;
      const query = new Map<string, string | null>();
      for (const part of (qi >= 0 ? raw.slice(qi + 1) : '').split('&')) {
        if (part === '') continue;
        const eq = part.indexOf('=');
        const k = decodeURIComponent(eq >= 0 ? part.slice(0, eq) : part);
        const v = eq >= 0 ? decodeURIComponent(part.slice(eq + 1).replace(/\+/g, '%20')) : null;
        query.set(k, v === '' ? null : v);
      }
      // Path style (`/bucket/key`) first; a virtual-hosted request names the bucket in Host (`bucket.oss-...`).
      const segs = rawPath.split('/');
      const first = decodeURIComponent(segs[1] ?? '');
      let key: string;
      if (this.buckets.has(first)) {
        bucketName = first;
        key = decodeURIComponent(segs.slice(2).join('/'));
      } else {
        const hostBucket = String(req.headers.host ?? '').split('.')[0] ?? '';
        bucketName = this.buckets.has(hostBucket) ? hostBucket : first;
        key = this.buckets.has(hostBucket) ? decodeURIComponent(rawPath.slice(1)) : decodeURIComponent(segs.slice(2).join('/'));
      }
      const method = req.method ?? 'GET';
      const op: OssOp | undefined =
        method === 'POST' && query.has('append') ? 'append'
        : method === 'PUT' && key !== '' ? 'put'
        : method === 'GET' && key === '' && query.get('list-type') === '2' ? 'list'
        : method === 'GET' && key !== '' ? 'get'
        : method === 'HEAD' && key !== '' ? 'head'
        : method === 'DELETE' && key !== '' ? 'delete'
        : undefined;
      const body = await this.readBody(req);
      if (!op) throw new OssError(405, 'MethodNotAllowed', `The emulator does not implement ${method} ${key === '' ? 'on a bucket' : 'here'}.`);
      this.stats.byOp[op] = (this.stats.byOp[op] ?? 0) + 1;
      const bucket = this.buckets.get(bucketName);
      if (!bucket) throw new OssError(404, 'NoSuchBucket', 'The specified bucket does not exist.');
      const auth = verify({ method, bucket: bucketName, key, query, headers: req.headers }, this.accounts, this.region, this.now());
      if (!auth.ok) throw new OssError(auth.status, auth.code, auth.message);
      const fault = this.pickFault(op);
      if (fault) this.stats.faults++;
      if (fault === 'unavailable') throw new OssError(503, 'ServiceUnavailable', 'Please reduce your request rate.');
      if (fault === 'internal') throw new OssError(500, 'InternalError', 'We encountered an internal error. Please try again.');
      const md5 = req.headers['content-md5'];
      if (typeof md5 === 'string' && (op === 'append' || op === 'put') && createHash('md5').update(body).digest('base64') !== md5) {
        throw new OssError(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
      }
      const out = this.run(op, bucket, key, query, req, body, fault);
      if (op === 'append' || op === 'put' || op === 'delete') this.onCommit?.(op, bucketName, key);
      if (fault === 'lost-answer') {
        // The change is made; only the answer is lost (the connection drops).
        req.socket.destroy();
        return;
      }
      res.statusCode = out.status;
      for (const [k, v] of Object.entries(out.headers)) res.setHeader(k, v);
      if (method === 'HEAD') {
        res.end();
        return;
      }
      res.setHeader('content-length', String(out.body.length));
      if (fault === 'slow-body') {
        await this.trickle(res, out.body);
        return;
      }
      res.end(out.body);
    } catch (e) {
      const err = e instanceof OssError ? e : new OssError(500, 'InternalError', `emulator: ${(e as Error).message}`);
      if (err.code === 'PositionNotEqualToLength') this.stats.conflicts++;
      res.statusCode = err.status;
      for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
      if (req.method === 'HEAD') {
        res.setHeader('x-oss-ec', err.ec);
        res.end();
        return;
      }
      const xml =
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>${err.code}</Code>\n  <Message>${xmlEscape(err.message)}</Message>\n` +
        `  <RequestId>${requestId}</RequestId>\n  <HostId>${xmlEscape(bucketName)}.oss-${this.region}.aliyuncs.com</HostId>\n  <EC>${err.ec}</EC>\n</Error>\n`;
      res.setHeader('content-type', 'application/xml');
      res.setHeader('content-length', String(Buffer.byteLength(xml)));
      res.end(xml);
    }
  }

  private async trickle(res: ServerResponse, body: Buffer): Promise<void> {
    const ms = this.opts.slowByteMs ?? 200;
    res.flushHeaders();
    // An empty answer is held open instead: the client's deadline is what ends it.
    if (body.length === 0) {
      await new Promise((r) => setTimeout(r, ms * 50).unref());
      if (!res.destroyed) res.end();
      return;
    }
    for (let i = 0; i < body.length && !res.destroyed; i++) {
      res.write(body.subarray(i, i + 1));
      await new Promise((r) => setTimeout(r, ms).unref());
    }
    if (!res.destroyed) res.end();
  }

  private objectHeaders(o: StoredObject): Record<string, string> {
    return {
      etag: o.etag,
      'last-modified': o.lastModified.toUTCString(),
      'x-oss-object-type': o.type,
      'x-oss-hash-crc64ecma': crc64String(o.crc),
      ...(o.type === 'Appendable' ? { 'x-oss-next-append-position': String(o.length) } : {}),
      ...(o.sse ? { 'x-oss-server-side-encryption': o.sse } : {}),
    };
  }

  private run(
    op: OssOp,
    bucket: Map<string, StoredObject>,
    key: string,
    query: Map<string, string | null>,
    req: IncomingMessage,
    body: Buffer,
    fault: OssFaultKind | undefined,
  ): { status: number; headers: Record<string, string>; body: Buffer } {
    const empty = Buffer.alloc(0);
    const maxObject = this.opts.maxObjectBytes ?? 5 * 1024 ** 3;
    const sseHeader = req.headers['x-oss-server-side-encryption'];
    const sse = typeof sseHeader === 'string' ? sseHeader : undefined;
    if (sse !== undefined && sse !== 'AES256' && sse !== 'KMS' && sse !== 'SM4') throw new OssError(400, 'InvalidEncryptionAlgorithmError', 'The encryption request you specified is not valid.');
    switch (op) {
      case 'append': {
        const pos = query.get('position');
        if (pos === undefined || pos === null || !/^\d+$/.test(pos)) throw new OssError(400, 'InvalidArgument', 'Position is not valid.');
        const position = Number(pos);
        const o = bucket.get(key);
        if (o && o.type !== 'Appendable') throw new OssError(409, 'ObjectNotAppendable', 'The object is not appendable.', {}, '0026-00000015');
        const length = o?.length ?? 0;
        if (position !== length || fault === 'conflict') {
          throw new OssError(409, 'PositionNotEqualToLength', 'Position is not equal to file length.', { 'x-oss-next-append-position': String(length) }, '0026-00000016');
        }
        if (length + body.length > maxObject) throw new OssError(409, 'ObjectNotAppendable', 'The object would exceed the appendable size limit.', {}, '0026-00000017');
        if (sse === 'KMS' && req.headers['x-oss-server-side-encryption-key-id']) throw new OssError(400, 'InvalidArgument', 'Appendable objects cannot use a KMS CMK id.');
        const target: StoredObject = o ?? { chunks: [], length: 0, crc: CRC64_EMPTY, type: 'Appendable', etag: '', lastModified: new Date(this.now()), sse };
        target.chunks.push(Buffer.from(body));
        target.length += body.length;
        target.crc = crc64Update(target.crc, body);
        target.etag = `"${crc64String(target.crc).padStart(20, '0').slice(0, 20)}${target.length.toString(16).toUpperCase().padStart(12, '0')}"`;
        target.lastModified = new Date(this.now());
        bucket.set(key, target);
        return { status: 200, headers: this.objectHeaders(target), body: empty };
      }
      case 'put': {
        if (req.headers['x-oss-forbid-overwrite'] === 'true' && bucket.has(key)) {
          throw new OssError(409, 'FileAlreadyExists', 'The object you specified already exists and can not be overwritten.', {}, '0026-00000002');
        }
        if (body.length > maxObject) throw new OssError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.');
        const crc = crc64Update(CRC64_EMPTY, body);
        const o: StoredObject = {
          chunks: [Buffer.from(body)],
          length: body.length,
          crc,
          type: 'Normal',
          etag: `"${createHash('md5').update(body).digest('hex').toUpperCase()}"`,
          lastModified: new Date(this.now()),
          sse,
        };
        bucket.set(key, o);
        return { status: 200, headers: this.objectHeaders(o), body: empty };
      }
      case 'head': {
        const o = bucket.get(key);
        if (!o) throw new OssError(404, 'NoSuchKey', 'The specified key does not exist.', {}, '0026-00000001');
        return { status: 200, headers: { ...this.objectHeaders(o), 'content-length': String(o.length) }, body: empty };
      }
      case 'get': {
        const o = bucket.get(key);
        if (!o) throw new OssError(404, 'NoSuchKey', 'The specified key does not exist.', {}, '0026-00000001');
        const all = bytesOf(o);
        const range = req.headers['range'];
        const standard = req.headers['x-oss-range-behavior'] === 'standard';
        const m = typeof range === 'string' ? /^bytes=(\d*)-(\d*)$/.exec(range.trim()) : null;
        if (m && (m[1] !== '' || m[2] !== '')) {
          let start: number;
          let end: number;
          if (m[1] === '') {
            start = Math.max(0, o.length - Number(m[2]));
            end = o.length - 1;
          } else {
            start = Number(m[1]);
            end = m[2] === '' ? o.length - 1 : Math.min(Number(m[2]), o.length - 1);
          }
          const valid = start < o.length && start <= end && (m[2] === '' || m[1] === '' || Number(m[2]) >= start);
          if (valid) {
            return {
              status: 206,
              headers: { ...this.objectHeaders(o), 'content-range': `bytes ${start}-${end}/${o.length}`, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' },
              body: all.subarray(start, end + 1),
            };
          }
          if (standard) throw new OssError(416, 'InvalidRange', 'The requested range cannot be satisfied.', { 'content-range': `bytes */${o.length}` });
        }
        return { status: 200, headers: { ...this.objectHeaders(o), 'content-type': 'application/octet-stream' }, body: all };
      }
      case 'delete':
        bucket.delete(key);
        return { status: 204, headers: {}, body: empty };
      case 'list': {
        const prefix = query.get('prefix') ?? '';
        const maxKeys = Math.min(1000, Math.max(1, Number(query.get('max-keys') ?? 100) || 100));
        const token = query.get('continuation-token');
        const after = token ? Buffer.from(token, 'base64url').toString('utf8') : (query.get('start-after') ?? '');
        const keys = [...bucket.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
        const page = keys.slice(0, maxKeys);
        const truncated = keys.length > maxKeys;
        const contents = page
          .map((k) => {
            const o = bucket.get(k) as StoredObject;
            return `  <Contents>\n    <Key>${xmlEscape(k)}</Key>\n    <LastModified>${o.lastModified.toISOString()}</LastModified>\n    <ETag>${xmlEscape(o.etag)}</ETag>\n    <Type>${o.type}</Type>\n    <Size>${o.length}</Size>\n    <StorageClass>Standard</StorageClass>\n  </Contents>\n`;
          })
          .join('');
        const next = truncated ? `  <NextContinuationToken>${Buffer.from(page.at(-1) ?? '', 'utf8').toString('base64url')}</NextContinuationToken>\n` : '';
        const xml =
          `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult>\n  <Name>${xmlEscape([...this.buckets.entries()].find(([, v]) => v === bucket)?.[0] ?? '')}</Name>\n` +
          `  <Prefix>${xmlEscape(prefix)}</Prefix>\n  <MaxKeys>${maxKeys}</MaxKeys>\n  <Delimiter></Delimiter>\n  <IsTruncated>${truncated}</IsTruncated>\n${next}` +
          `  <KeyCount>${page.length}</KeyCount>\n${contents}</ListBucketResult>\n`;
        return { status: 200, headers: { 'content-type': 'application/xml' }, body: Buffer.from(xml, 'utf8') };
      }
    }
  }
}

export async function startOssEmulator(opts: OssEmulatorOptions = {}): Promise<OssEmulator> {
  const emu = new OssEmulator(opts);
  await emu.listen();
  return emu;
}
