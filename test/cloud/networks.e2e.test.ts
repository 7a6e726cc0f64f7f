// The built CLI on real networks, all on loopback: VPC-internal endpoints behind a CONNECT proxy and TLS, a real proxy with a password, STS tokens that expire mid-run.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';
import { createProxy } from 'proxy';
import { DEFAULT_ACCOUNT, startEmulator } from '../../src/emulator/index.js';
import { REGIONS } from '../../src/emulator/regions.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const CENTRAL = new Set(['cn-hangzhou-finance', 'cn-shanghai-finance-1', 'cn-shenzhen-finance-1', 'cn-north-2-gov-1']);
const KEYS = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };

function manifest(regions: string[], perRegion = 1): string {
  const lines = ['region,ip,name'];
  let n = 0;
  for (const r of regions) for (let i = 0; i < perRegion; i++, n++) lines.push(`${r},198.18.${Math.floor(n / 200)}.${(n % 200) + 1},branch-${n}`);
  return lines.join('\n') + '\n';
}

/** Every file under `dir`, concatenated: what a secret must never be found in. */
function allText(dir: string): string {
  let out = '';
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out += readFileSync(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name), 'latin1');
  }
  return out;
}

test("--network vpc: every region's calls name vpc-vpc.<region>, STS names sts-vpc.<region>, through a CONNECT proxy and TLS", async (t) => {
  const regions = REGIONS.map((r) => r.id).filter((id) => !CENTRAL.has(id));
  const dir = tempDir({ 'branches.csv': manifest(regions) });
  t.after(() => dir.cleanup());
  // A certificate for every regional host name, trusted by the CLI through NODE_EXTRA_CA_CERTS (as behind a TLS-inspecting proxy).
  const san = ['DNS:*.aliyuncs.com', ...regions.map((r) => `DNS:*.${r}.aliyuncs.com`)].join(',');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=aliyuncs.test', '-addext', `subjectAltName=${san}`,
    '-keyout', dir.path('key.pem'), '-out', dir.path('cert.pem')], { stdio: 'ignore' });
  const emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rateLimits: false, seed: 11 });
  // TLS ends here; the bytes (Host header included) go on to the emulator unchanged.
  const terminator = tls.createServer({ key: readFileSync(dir.path('key.pem')), cert: readFileSync(dir.path('cert.pem')) }, (s) => {
    const up = net.connect(emu.port, '127.0.0.1');
    track(up);
    s.pipe(up).pipe(s);
    s.on('error', () => up.destroy());
    up.on('error', () => s.destroy());
  });
  // Every socket of the test's servers, destroyed at the end: a tunnel left open must never hold close() (and the test) forever.
  const open = new Set<net.Socket>();
  const track = (sock: net.Socket) => {
    open.add(sock);
    sock.on('close', () => open.delete(sock));
  };
  terminator.on('connection', track);
  terminator.listen(0, '127.0.0.1');
  await once(terminator, 'listening');
  // The test's proxy: every CONNECT (whatever host it names) is tunnelled to the terminator, and recorded.
  const tunnels: string[] = [];
  const proxy = http.createServer();
  proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    tunnels.push(String(req.url));
    track(client);
    const up = net.connect((terminator.address() as AddressInfo).port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(client).pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  proxy.on('connection', track);
  t.after(async () => {
    const closed = Promise.all([new Promise<void>((r) => proxy.close(() => r())), new Promise<void>((r) => terminator.close(() => r()))]);
    for (const sock of open) sock.destroy();
    proxy.closeAllConnections();
    await closed;
    await emu.close();
  });

  const r = await runCli(['apply', dir.path('branches.csv'), '--network', 'vpc', '--yes', '--rate', '50'], {
    env: {
      ...KEYS,
      ALIBABA_CLOUD_STS_REGION: 'cn-shanghai',
      HTTPS_PROXY: `127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      NODE_EXTRA_CA_CERTS: dir.path('cert.pem'),
    },
    timeoutMs: 120_000,
  });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const hosts = emu.stats().hosts;
  assert.equal(hosts['sts-vpc.cn-shanghai.aliyuncs.com']?.['GetCallerIdentity -'], 1, JSON.stringify(hosts));
  for (const region of regions) {
    assert.equal(hosts[`vpc-vpc.${region}.aliyuncs.com`]?.[`CreateCustomerGateway ${region}`], 1, region);
  }
  // No call for a region went to another region's host (DescribeRegions names no region of its own).
  for (const [host, calls] of Object.entries(hosts)) {
    for (const key of Object.keys(calls)) {
      const [action, region] = key.split(' ');
      if (action === 'DescribeRegions' || region === '-') continue;
      assert.equal(host, `vpc-vpc.${region}.aliyuncs.com`, key);
    }
  }
  assert.ok(tunnels.includes('sts-vpc.cn-shanghai.aliyuncs.com:443'));
  for (const region of regions) assert.ok(tunnels.includes(`vpc-vpc.${region}.aliyuncs.com:443`), region);
  assert.match(readFileSync(dir.path('branches.csv.state.jsonl'), 'utf8').split('\n')[0] ?? '', /"endpoint":"https:\/\/vpc-vpc\.<region>\.aliyuncs\.com"/);
});

test('a real proxy with a password in --proxy: every call passes through it, the password is nowhere; a wrong password fails the run at once, naming the proxy', async (t) => {
  const PASSWORD = 'Pr0xy-Passw0rd-zz91';
  const emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rateLimits: false, seed: 12 });
  const server = createProxy(http.createServer());
  const seen: string[] = [];
  server.prependListener('request', (req: http.IncomingMessage) => seen.push(`${req.method} ${req.url}`));
  server.authenticate = (req) => req.headers['proxy-authorization'] === `Basic ${Buffer.from(`ops:${PASSWORD}`).toString('base64')}`;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const dir = tempDir({ 'branches.csv': manifest(['cn-hangzhou', 'cn-beijing'], 2) });
  const sockets = new Set<net.Socket>();
  server.on('connection', (sock: net.Socket) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  t.after(async () => {
    for (const sock of sockets) sock.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await emu.close();
    dir.cleanup();
  });
  const ok = await runCli(['apply', dir.path('branches.csv'), '--endpoint', emu.url, '--proxy', `http://ops:${PASSWORD}@127.0.0.1:${port}`, '--yes'], { env: KEYS });
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  assert.ok(seen.length >= 6, 'STS, the region list, the listings and four creates');
  assert.ok(seen.every((s) => s === `POST ${emu.url}/`));
  assert.equal(emu.stats().actions.CreateCustomerGateway?.ok, 4);
  for (const text of [ok.stdout, ok.stderr, allText(dir.dir)]) {
    assert.ok(!text.includes(PASSWORD));
    assert.ok(!text.includes(Buffer.from(`ops:${PASSWORD}`).toString('base64')));
  }

  const before = emu.stats().total;
  const started = Date.now();
  const bad = await runCli(['plan', dir.path('branches.csv'), '--endpoint', emu.url], {
    env: { ...KEYS, HTTP_PROXY: `http://ops:wrong-${PASSWORD}@127.0.0.1:${port}` },
  });
  assert.equal(bad.code, 2, bad.stderr + bad.stdout);
  assert.match(bad.stderr, new RegExp(`the proxy http://ops:\\*\\*\\*@127\\.0\\.0\\.1:${port} refused the request: HTTP 407`));
  assert.ok(!bad.stderr.includes(PASSWORD) && !bad.stdout.includes(PASSWORD));
  assert.equal(emu.stats().total, before, 'nothing reached the endpoint');
  assert.ok(Date.now() - started < 30_000);
});

test('STS credentials that expire during a run are refreshed: every row is created, none lost (RamRoleArn profile)', async (t) => {
  const RAM_USER = { accessKeyId: 'LTAI5tRamRunner01', accessKeySecret: 'ram-runner-secret-0001', accountId: DEFAULT_ACCOUNT.accountId, ramUser: 'runner' };
  // Tokens live 1.5 s; at 4 creates a second the run below takes at least 3 s whatever the machine's speed.
  const emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT, RAM_USER], rateLimits: false, seed: 13, sts: { tokenTtlMs: 1500 } });
  const home = tempDir({
    '.aliyun/config.json': JSON.stringify({
      current: 'deploy',
      profiles: [{ name: 'deploy', mode: 'RamRoleArn', access_key_id: RAM_USER.accessKeyId, access_key_secret: RAM_USER.accessKeySecret, ram_role_arn: `acs:ram::${DEFAULT_ACCOUNT.accountId}:role/deployer`, ram_session_name: 'ci' }],
    }),
    'branches.csv': manifest(['cn-hangzhou'], 13),
  });
  t.after(async () => {
    await emu.close();
    home.cleanup();
  });
  const r = await runCli(['apply', home.path('branches.csv'), '--endpoint', emu.url, '--profile', 'deploy', '--rate', '4', '--yes'], {
    env: { HOME: home.dir },
    timeoutMs: 120_000,
  });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const stats = emu.stats().actions;
  assert.equal(stats.CreateCustomerGateway?.ok, 13);
  assert.ok((stats.AssumeRole?.ok ?? 0) >= 2, `AssumeRole ${JSON.stringify(stats.AssumeRole)}`);
  const results = readFileSync(home.path('branches.csv.results/results.csv'), 'utf8');
  assert.equal((results.match(/"created"/g) ?? []).length, 13, results);
  assert.ok(!/CAIS[A-Za-z0-9]{20}/.test(r.stdout + r.stderr + allText(home.dir)), 'no STS token in output, journal or reports');
});
