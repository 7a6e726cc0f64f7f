// A session's reads go out beside STS GetCallerIdentity, and nothing is written before its answer: a forwarder in front
// of the emulator holds the STS answer until DescribeRegions has arrived. Reads sent after STS (one after another)
// would never release it, and the run would end at the STS deadline the CLI is given; bounded by that, not by speed.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { DEFAULT_ACCOUNT, startEmulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const creds = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };

interface Seen {
  action: string;
  /** Whether the STS answer had been sent when this request arrived. */
  afterSts: boolean;
}

/** Forwards every request to `upstream`; GetCallerIdentity waits until a DescribeRegions request has arrived. */
async function gatedForwarder(upstream: string): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  let stsAnswered = false;
  let regionsArrived!: () => void;
  const regions = new Promise<void>((resolve) => (regionsArrived = resolve));
  const target = new URL(upstream);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const params = new URLSearchParams(`${(req.url ?? '').split('?')[1] ?? ''}&${body.toString('utf8')}`);
      const action = params.get('Action') ?? '';
      seen.push({ action, afterSts: stsAnswered });
      if (action === 'DescribeRegions') regionsArrived();
      if (action === 'GetCallerIdentity') await regions;
      const fwd = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        if (action === 'GetCallerIdentity') up.on('end', () => (stsAnswered = true));
      });
      fwd.on('error', () => res.destroy());
      fwd.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

test('apply sends DescribeRegions and the listings beside GetCallerIdentity, and writes nothing before its answer', async (t) => {
  const emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], seed: 9 });
  t.after(() => emu.close());
  const fwd = await gatedForwarder(emu.url);
  t.after(() => fwd.close());
  const rows = ['cn-hangzhou', 'cn-shanghai', 'ap-southeast-1', 'eu-central-1'].map((r, i) => `${r},203.0.113.${i + 1},site-${i + 1},6500${i + 1}`);
  const dir = tempDir({ 'm.csv': ['region,ip,name,asn', ...rows].join('\n') + '\n' });
  t.after(() => dir.cleanup());
  // With the reads after STS, the held STS answer would end this run at its 3 s deadline (exit 2).
  const r = await runCli(['apply', dir.path('m.csv'), '--endpoint', fwd.url, '--yes', '--quiet', '--timeout', '3000'], { env: creds });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /4 created/);
  const sts = fwd.seen.findIndex((s) => s.action === 'GetCallerIdentity');
  const regions = fwd.seen.findIndex((s) => s.action === 'DescribeRegions');
  assert.ok(sts >= 0 && regions >= 0, JSON.stringify(fwd.seen));
  const beforeAnswer = fwd.seen.filter((s) => !s.afterSts).map((s) => s.action);
  assert.ok(beforeAnswer.includes('DescribeRegions'), `DescribeRegions went out before the STS answer: ${beforeAnswer.join(', ')}`);
  assert.deepEqual(beforeAnswer.filter((a) => !/^(GetCallerIdentity|Describe)/.test(a)), [], 'nothing but reads before the account is known');
  assert.equal(fwd.seen.filter((s) => s.action === 'CreateCustomerGateway').length, 4);
});
