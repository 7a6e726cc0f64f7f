// A hostile VPC endpoint for tests and bench/hostile.ts: sane answers for reads and STS, one misbehaviour for creates.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { quoteAll } from './encodings.js';

export const BEHAVIOURS = [
  'ok',
  'trickle',
  'endless',
  'gzip-bomb',
  'redirect',
  'missing-id',
  'empty-id',
  'html-200',
  '429',
  'quote-secret',
  'commit-error-200',
  'commit-odd-code',
  'unavailable',
  'evil-code',
] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

export interface HostileOptions {
  behaviour: Behaviour;
  /** Actions that get the behaviour (default: CreateCustomerGateway). Others get sane answers. */
  actions?: string[];
  /** Gateways DescribeCustomerGateways lists (per region), for listing tests. */
  gateways?: number;
  /** Trickle: milliseconds between body bytes. */
  trickleMs?: number;
  /** Gzip bomb: inflated size in MB (default 1536, about 1.5 MB on the wire). */
  bombMb?: number;
  /** Misbehave only for the first N matching requests, then answer sanely (default: always). */
  failFirst?: number;
}

export interface Hit {
  action: string;
  at: number;
  /** When the server saw the exchange end (answered, or the client closed the socket). */
  closedAt?: number;
  params: Record<string, string>;
}

export interface Hostile {
  url: string;
  port: number;
  hits: Hit[];
  /** Sockets currently open (a CLI that exits closes them all). */
  openSockets(): number;
  /** Bytes of response bodies written so far (endless body, bomb). */
  bytesWritten(): number;
  close(): Promise<void>;
}

/**
 * A decompression bomb: `mb` MB of spaces as concatenated gzip members (zlib's gunzip, which httpx uses, inflates
 * them all). Built from one 16 MB member, so making it costs milliseconds; ~1.5 MB of gzip inflates to ~1.5 GB.
 */
const bombs = new Map<number, Buffer>();
export function gzipBomb(mb = 1536): Buffer {
  let b = bombs.get(mb);
  if (!b) {
    const member = gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x20), { level: 9 });
    b = Buffer.concat(Array.from({ length: Math.max(1, Math.round(mb / 16)) }, () => member));
    bombs.set(mb, b);
  }
  return b;
}

/**
 * The AuthKey a request carried, quoted back in every spelling of test/hostile/encodings.ts: %XX for every byte (upper
 * and lower hex), JSON \u escapes (every character or some), XML &#NN; / &#xNN; references (with leading zeros), hex,
 * base64, other letter cases, nested and mixed encodings.
 */
export { quoteAll };

/** The five encodings the suite began with (test/cloud/pop-client.test.ts checks its own assertion against it). */
export function quoteFive(key: string): string {
  return [
    `The AuthKey ${key} contains invalid characters.`,
    JSON.stringify({ AuthKey: key }),
    `AuthKey%3D${encodeURIComponent(key)}`,
    `key=${encodeURIComponent(key).replace(/%20/g, '+')}`,
    `echo ${Buffer.from(key).toString('base64')}`,
  ].join(' | ');
}

function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const out: Record<string, string> = {};
      const q = (req.url ?? '').split('?')[1] ?? '';
      for (const part of [q, Buffer.concat(chunks).toString('utf8')]) {
        for (const [k, v] of new URLSearchParams(part)) out[k] = v;
      }
      resolve(out);
    });
    req.on('error', () => resolve({}));
  });
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
};

export async function startHostile(opts: HostileOptions): Promise<Hostile> {
  const hits: Hit[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let written = 0;
  let misbehaved = 0;
  const actions = opts.actions ?? ['CreateCustomerGateway'];
  const gateways = Array.from({ length: opts.gateways ?? 0 }, (_, i) => ({
    CustomerGatewayId: `cgw-hostile${String(i).padStart(6, '0')}`,
    IpAddress: `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`,
    Name: `gw-${i}`,
    Description: '',
    Asn: 65000,
    CreateTime: 1_700_000_000_000,
    ResourceGroupId: 'rg-default',
    Tags: { Tag: [] },
  }));

  const misbehave = (req: IncomingMessage, res: ServerResponse, p: Record<string, string>): void => {
    const requestId = randomUUID().toUpperCase();
    switch (opts.behaviour) {
      case 'ok':
        return json(res, 200, { RequestId: requestId, CustomerGatewayId: `cgw-${randomUUID().replace(/-/g, '').slice(0, 21)}`, CreateTime: Date.now() });
      case 'trickle': {
        // Headers at once, then one byte every trickleMs, forever: only a total deadline ends this.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{');
        const t = setInterval(() => {
          if (res.destroyed) return void clearInterval(t);
          res.write(' ');
          written++;
        }, opts.trickleMs ?? 500);
        timers.add(t);
        res.on('close', () => clearInterval(t));
        return;
      }
      case 'endless': {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (!res.destroyed && res.write(chunk)) written += chunk.length;
          if (!res.destroyed) res.once('drain', pump);
        };
        res.write('{"RequestId":"x","Padding":"');
        pump();
        return;
      }
      case 'gzip-bomb': {
        const b = gzipBomb(opts.bombMb);
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(b.length) });
        written += b.length;
        res.end(b);
        return;
      }
      case 'redirect':
        // A JSON body claiming success: must never be taken as one, and the Location must never be visited.
        return json(res, 302, { RequestId: requestId, CustomerGatewayId: 'cgw-redirected' }, { location: 'http://127.0.0.2:9/steal' });
      case 'missing-id':
        return json(res, 200, { RequestId: requestId });
      case 'empty-id':
        return json(res, 200, { RequestId: requestId, CustomerGatewayId: '' });
      case 'html-200': {
        const html = '<html><body><h1>Welcome</h1><p>Please log in to the network.</p></body></html>';
        res.writeHead(200, { 'content-type': 'text/html', 'content-length': String(html.length) });
        res.end(html);
        return;
      }
      case '429': {
        const html = '<html><body>Too Many Requests</body></html>';
        res.writeHead(429, { 'content-type': 'text/html', 'retry-after': '1', 'content-length': String(html.length) });
        res.end(html);
        return;
      }
      case 'commit-error-200':
      case 'commit-odd-code': {
        // The gateway is made (a later listing shows it), then the answer is an error that is no documented refusal:
        // HTTP 200 with an error body, or a 4xx with a code no table lists for the create.
        gateways.push({
          CustomerGatewayId: `cgw-${randomUUID().replace(/-/g, '').slice(0, 21)}`,
          IpAddress: p['IpAddress'] ?? '',
          Name: p['Name'] ?? '',
          Description: p['Description'] ?? '',
          Asn: Number(p['Asn'] ?? 0),
          CreateTime: Date.now(),
          ResourceGroupId: 'rg-default',
          Tags: { Tag: [] },
        });
        if (opts.behaviour === 'commit-error-200') return json(res, 200, { RequestId: requestId, Code: 'InvalidParameter', Message: 'The specified parameter is not valid.' });
        return json(res, 400, { RequestId: requestId, Code: 'OperationFailed.Unexpected', Message: 'Something went wrong.' });
      }
      case 'evil-code': {
        // Terminal escapes, a C1 CSI, a bidi override and a zero-width space in the code and the message.
        const evil = '\x1b[2J\u009b31m\u202eedoc\u200b\x1b]0;pwned\x07';
        return json(res, 400, { RequestId: requestId, Code: `Bad${evil}`, Message: `Rejected ${evil}` });
      }
      case 'unavailable':
        return json(res, 503, { RequestId: requestId, Code: 'ServiceUnavailable', Message: 'The request has failed due to a temporary failure of the server.' });
      case 'quote-secret': {
        const key = p['AuthKey'] ?? '';
        return json(res, 400, {
          RequestId: requestId,
          Code: 'InvalidParameter',
          Message: `Rejected: ${quoteAll(key)}`,
          Recommend: `https://example.invalid/?AuthKey=${encodeURIComponent(key)}&k=${Buffer.from(key).toString('hex').toUpperCase()}`,
        });
      }
    }
  };

  const server: Server = createServer((req, res) => {
    void readForm(req).then((p) => {
      const action = p['Action'] ?? String(req.headers['x-acs-action'] ?? '');
      const hit: Hit = { action, at: Date.now(), params: p };
      hits.push(hit);
      res.on('close', () => (hit.closedAt = Date.now()));
      if (actions.includes(action) && (opts.failFirst === undefined || misbehaved++ < opts.failFirst)) return misbehave(req, res, p);
      const requestId = randomUUID().toUpperCase();
      switch (action) {
        case 'GetCallerIdentity':
          return json(res, 200, {
            RequestId: requestId,
            AccountId: '1234567890123456',
            UserId: '1234567890123456',
            Arn: 'acs:ram::1234567890123456:root',
            IdentityType: 'Account',
            PrincipalId: '1234567890123456',
          });
        case 'DescribeRegions':
          return json(res, 200, {
            RequestId: requestId,
            Regions: { Region: ['cn-hangzhou', 'cn-shanghai', 'cn-beijing'].map((r) => ({ RegionId: r, LocalName: r, RegionEndpoint: 'vpc.aliyuncs.com' })) },
          });
        case 'DescribeCustomerGateways': {
          const size = Math.min(50, Math.max(1, Number(p['PageSize'] ?? 10)));
          const page = Math.max(1, Number(p['PageNumber'] ?? 1));
          return json(res, 200, {
            RequestId: requestId,
            TotalCount: gateways.length,
            PageNumber: page,
            PageSize: size,
            CustomerGateways: { CustomerGateway: gateways.slice((page - 1) * size, page * size) },
          });
        }
        case 'CreateCustomerGateway':
          return json(res, 200, { RequestId: requestId, CustomerGatewayId: `cgw-${randomUUID().replace(/-/g, '').slice(0, 21)}`, CreateTime: Date.now() });
        default:
          return json(res, 200, { RequestId: requestId });
      }
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits,
    openSockets: () => sockets.size,
    bytesWritten: () => written,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
