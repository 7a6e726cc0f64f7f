// Proxies: curl's NO_PROXY rules as data; then a real proxy server (the `proxy` package) and hostile ones on loopback.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createProxy } from 'proxy';
import { CloudError } from '../../src/cloud/errors.js';
import { PopVpcClient } from '../../src/cloud/pop-client.js';
import { proxyFor, proxyLabel, proxySecrets, proxySettings } from '../../src/cloud/proxy.js';
import { getCallerIdentity } from '../../src/cloud/sts.js';
import { UsageError } from '../../src/errors.js';
import { caught, CREDS, emulator } from '../emulator/util.js';

test('proxy settings: either case, lower case first, --proxy over env, loopback proxied unless NO_PROXY names it', () => {
  const s = proxySettings({ HTTPS_PROXY: 'http://upper:3128', https_proxy: 'lower:3128', HTTP_PROXY: 'http://plain:8080', NO_PROXY: '.internal.example, 10.0.0.0/8,[::1], metadata:8080' });
  assert.equal(proxyFor('https://vpc.cn-hangzhou.aliyuncs.com', s)?.host, 'lower:3128', 'lower case wins; no scheme means http://');
  assert.equal(proxyFor('http://127.0.0.1:1234', s)?.host, 'plain:8080', 'loopback is proxied unless NO_PROXY says so (curl)');
  assert.equal(proxyFor('https://api.internal.example', s), undefined, '.suffix');
  assert.equal(proxyFor('https://internal.example', s), undefined, '.suffix matches the domain itself');
  assert.equal(proxyFor('https://10.1.2.3', s), undefined, 'CIDR');
  assert.equal(proxyFor('https://11.1.2.3', s)?.host, 'lower:3128');
  assert.equal(proxyFor('http://[::1]:80', s), undefined, 'IPv6');
  assert.equal(proxyFor('http://metadata:8080', s), undefined, 'host:port');
  assert.equal(proxyFor('http://metadata:8081', s)?.host, 'plain:8080', 'another port is proxied');
  assert.equal(proxyFor('https://x.aliyuncs.com', proxySettings({ no_proxy: 'aliyuncs.com', HTTPS_PROXY: 'p:1' })), undefined, 'a name covers its subdomains');
  assert.equal(proxyFor('https://x.aliyuncs.com', proxySettings({ NO_PROXY: '*', HTTPS_PROXY: 'p:1' })), undefined);
  assert.equal(proxyFor('https://x', proxySettings({ ALL_PROXY: 'http://all:1' }))?.host, 'all:1');
  const flag = proxySettings({ HTTPS_PROXY: 'http://env:1', NO_PROXY: '127.0.0.1' }, 'http://u:p%40ss@flag:2');
  assert.equal(proxyFor('https://vpc.cn-hangzhou.aliyuncs.com', flag)?.host, 'flag:2');
  assert.equal(proxyFor('http://127.0.0.1:5', flag), undefined, 'NO_PROXY applies to --proxy too, as to curl -x');
  assert.equal(proxyLabel(flag.explicit!), 'http://u:***@flag:2');
  assert.deepEqual(proxySecrets(flag).sort(), ['p%40ss', 'p@ss']);
  assert.throws(() => proxySettings({ HTTPS_PROXY: 'https://tls-proxy:443' }), (e: unknown) => e instanceof UsageError && /HTTPS_PROXY/.test(e.message));
  assert.throws(() => proxySettings({}, 'socks5://s:1080'), UsageError);
});

interface Recorder {
  url: string;
  port: number;
  seen: string[];
  close(): Promise<void>;
}

/** The `proxy` package (a real forwarding/CONNECT proxy), with Basic auth, recording every request it is asked for. */
async function realProxy(user?: string, password?: string): Promise<Recorder> {
  const server = createProxy(http.createServer());
  const seen: string[] = [];
  server.prependListener('request', (req: http.IncomingMessage) => seen.push(`${req.method} ${req.url}`));
  server.prependListener('connect', (req: http.IncomingMessage) => seen.push(`CONNECT ${req.url}`));
  if (user !== undefined) {
    server.authenticate = (req) => req.headers['proxy-authorization'] === `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

test('VPC and STS calls pass through a real proxy with credentials in its URL; NO_PROXY bypasses it', async (t) => {
  const emu = await emulator();
  const proxy = await realProxy('ops', 'pr0xy-p@ss-word');
  t.after(async () => {
    await proxy.close();
    await emu.close();
  });
  const env = { HTTP_PROXY: `http://ops:${encodeURIComponent('pr0xy-p@ss-word')}@127.0.0.1:${proxy.port}` };
  const settings = proxySettings(env);
  const client = new PopVpcClient({ endpoint: emu.url, credentials: CREDS, timeoutMs: 3000, proxy: proxyFor(emu.url, settings) });
  const regions = await client.describeRegions();
  assert.ok(regions.length > 10);
  const who = await getCallerIdentity({ credentials: CREDS, endpoint: emu.url, timeoutMs: 3000, proxy: proxyFor(emu.url, settings) });
  assert.equal(who.identityType, 'Account');
  client.close();
  assert.deepEqual(proxy.seen, [`POST ${emu.url}/`, `POST ${emu.url}/`], 'both calls went through the proxy (absolute-URI requests)');

  const bypass = proxySettings({ ...env, no_proxy: '127.0.0.1' });
  assert.equal(proxyFor(emu.url, bypass), undefined);
  const direct = new PopVpcClient({ endpoint: emu.url, credentials: CREDS, timeoutMs: 3000, proxy: proxyFor(emu.url, bypass) });
  await direct.describeRegions();
  direct.close();
  assert.equal(proxy.seen.length, 2, 'NO_PROXY: the proxy saw nothing more');
  assert.equal(emu.stats().actions.DescribeRegions?.ok, 2);

  const wrong = proxySettings({ HTTP_PROXY: `http://ops:not-the-password@127.0.0.1:${proxy.port}` });
  const refused = new PopVpcClient({ endpoint: emu.url, credentials: CREDS, timeoutMs: 3000, proxy: proxyFor(emu.url, wrong) });
  const e = await caught(refused.describeRegions());
  refused.close();
  assert.ok(e instanceof CloudError);
  assert.equal(e.code, 'ProxyAuthenticationRequired');
  assert.equal(e.errorClass, 'auth');
  assert.equal(e.outcomeUnknown, false);
  assert.match(e.message, new RegExp(`the proxy http://ops:\\*\\*\\*@127\\.0\\.0\\.1:${proxy.port} refused`));
  assert.ok(!JSON.stringify({ ...e.toJSON(), m: e.message }).includes('not-the-password'));
  assert.equal(emu.stats().actions.DescribeRegions?.ok, 2, 'nothing reached the endpoint');
});

interface Hostile {
  url: URL;
  connections: number;
  closed: number;
  close(): Promise<void>;
}

/** A proxy that answers CONNECT with `answer` (or never, or with endless header bytes). */
async function hostileProxy(answer: 'hang' | 'endless' | string): Promise<Hostile> {
  const sockets = new Set<net.Socket>();
  const h = { connections: 0, closed: 0 } as Hostile;
  const server = net.createServer((s) => {
    h.connections++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => {
      h.closed++;
      sockets.delete(s);
    });
    s.once('data', () => {
      if (answer === 'hang') return;
      if (answer === 'endless') {
        const chunk = Buffer.alloc(64 * 1024, 'x');
        s.write('HTTP/1.1 200 OK\r\nX-Filler: ');
        const pump = () => {
          while (!s.destroyed && s.write(chunk));
          if (!s.destroyed) s.once('drain', pump);
        };
        pump();
        return;
      }
      s.end(answer);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  h.url = new URL(`http://user:hostile-secret@127.0.0.1:${(server.address() as AddressInfo).port}`);
  h.close = () => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  return h;
}

const ALIBABA = 'https://vpc.cn-hangzhou.aliyuncs.com';

test('CONNECT refused with 407 or 502: a proxy error naming the proxy (no password), known outcome, nothing sent onward', async (t) => {
  for (const [answer, code, cls] of [
    ['HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n', 'ProxyAuthenticationRequired', 'auth'],
    ['HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: 11\r\n\r\n<html></html>', 'Proxy.Http502', 'transient'],
  ] as const) {
    const p = await hostileProxy(answer);
    t.after(() => p.close());
    const c = new PopVpcClient({ endpoint: ALIBABA, credentials: CREDS, timeoutMs: 2000, proxy: p.url });
    const e = await caught(c.describeRegions());
    c.close();
    assert.ok(e instanceof CloudError);
    assert.equal(e.code, code);
    assert.equal(e.errorClass, cls);
    assert.equal(e.outcomeUnknown, false, 'the tunnel never opened: the request went nowhere');
    assert.match(e.message, /the proxy http:\/\/user:\*\*\*@127\.0\.0\.1:\d+ /);
    assert.ok(!e.message.includes('hostile-secret'));
  }
});

test('a proxy that hangs on CONNECT fails at the deadline, names the proxy, and its socket is closed; endless CONNECT headers hit the size cap', async (t) => {
  const p = await hostileProxy('hang');
  t.after(() => p.close());
  const c = new PopVpcClient({ endpoint: ALIBABA, credentials: CREDS, timeoutMs: 400, proxy: p.url });
  const started = Date.now();
  const e = await caught(c.describeRegions());
  assert.ok(e instanceof CloudError);
  assert.equal(e.code, 'RequestTimeout');
  assert.match(e.message, /through the proxy http:\/\/user:\*\*\*@127\.0\.0\.1:\d+/);
  // Bounded by what we configured, with room for a loaded machine; a hung proxy socket would keep it open forever.
  assert.ok(Date.now() - started < 400 + 5000);
  for (let i = 0; i < 200 && p.closed < p.connections; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(p.connections, 1);
  assert.equal(p.closed, 1, 'the CONNECT socket was destroyed when the deadline passed');
  c.close();

  const flood = await hostileProxy('endless');
  t.after(() => flood.close());
  const f = new PopVpcClient({ endpoint: ALIBABA, credentials: CREDS, timeoutMs: 10_000, proxy: flood.url });
  const before = process.memoryUsage().rss;
  const big = await caught(f.describeRegions());
  f.close();
  assert.ok(big instanceof CloudError);
  assert.equal(big.code, 'InvalidResponse.TooLarge');
  assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024);
});

test('a forwarding proxy that answers 502 or refuses connections: the message names the proxy', async (t) => {
  const server = http.createServer((_req, res) => {
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<html><body>upstream down</body></html>');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const proxy = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const c = new PopVpcClient({ endpoint: 'http://127.0.0.1:9', credentials: CREDS, timeoutMs: 2000, proxy });
  const e = await caught(c.describeRegions());
  c.close();
  assert.ok(e instanceof CloudError);
  assert.equal(e.status, 502);
  assert.match(e.message, new RegExp(`through the proxy http://127\\.0\\.0\\.1:${proxy.port}`));

  const closed = net.createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const d = new PopVpcClient({ endpoint: ALIBABA, credentials: CREDS, timeoutMs: 2000, proxy: new URL(`http://u:pw-secret@127.0.0.1:${port}`) });
  const r = await caught(d.describeRegions());
  d.close();
  assert.ok(r instanceof CloudError);
  assert.equal(r.code, 'ECONNREFUSED');
  assert.equal(r.message, `cannot connect to the proxy http://u:***@127.0.0.1:${port} (ECONNREFUSED)`);
});
