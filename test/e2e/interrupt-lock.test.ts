// Ctrl-C (SIGINT) or SIGTERM at any point of apply releases the journal's lock and leaves the journal consistent:
// before anything is carried out (the STS call, planning, the listing, the question) the process leaves at once;
// during the run the first signal stops launching and the second abandons what is on the wire. The next run then
// proceeds and creates each gateway exactly once. Each point is reached for sure (a proxy in front of the emulator
// holds that one request until the signal; the CLI's own --timeout is far longer), so nothing depends on timing.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import type { Io } from '../../src/io.js';
import { main } from '../../src/main.js';
import { hermeticEnv } from '../helpers/env.js';
import { cliBin } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { runCli } from '../helpers/cli.js';
import { readJournal } from '../../src/state/journal.js';

const creds = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
let emu: Emulator;
before(async () => {
  emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rates: { CreateCustomerGateway: 200, DescribeCustomerGateways: 200 }, seed: 43 });
});
after(async () => {
  await emu.close();
});

/** The emulator's gateways with this IP, in every account and region. */
function gatewaysWith(ip: string): unknown[] {
  const out: unknown[] = [];
  for (const acc of Object.values<any>((emu.state() as any).accounts ?? {}))
    for (const reg of Object.values<any>(acc.regions ?? {})) out.push(...(reg.gateways as any[]).filter((g) => g.IpAddress === ip));
  return out;
}

/** Starts `apply` through the proxy; its output, and its exit code once it closes. */
function applyThrough(manifest: string, proxyUrl: string, home: string) {
  const child = spawn(process.execPath, [cliBin, 'apply', manifest, '--endpoint', proxyUrl, '--yes', '--timeout', '120000'], {
    env: { PATH: process.env.PATH ?? '', HOME: home, ...hermeticEnv, CI: '1', ...creds },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out = { text: '' };
  const waiting: Array<{ re: RegExp; done: () => void }> = [];
  const onData = (d: Buffer) => {
    out.text += d.toString();
    for (const w of waiting.filter((x) => x.re.test(out.text))) {
      waiting.splice(waiting.indexOf(w), 1);
      w.done();
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  /** Resolves once the output matches (or the process closed: the caller's assertion then shows the output). */
  const printed = (re: RegExp) => Promise.race([exited.then(() => undefined), new Promise<void>((done) => (re.test(out.text) ? done() : waiting.push({ re, done })))]);
  return { child, out, exited, printed };
}

/** The next run (through the proxy, which holds only its first request): it proceeds and the row's gateway exists once. */
async function nextRunProceeds(manifest: string, ip: string, endpoint: string): Promise<void> {
  const again = await runCli(['apply', manifest, '--endpoint', endpoint, '--yes'], { env: creds });
  assert.equal(again.code, 0, again.stderr + again.stdout);
  assert.doesNotMatch(again.stderr, /locked by/);
  assert.equal(gatewaysWith(ip).length, 1, 'created exactly once');
}

/** Forwards to `target`, except the `nth` request for `hold`, which it keeps unanswered and reports. */
async function holdingProxy(hold: string, nth = 1, target: Emulator = emu): Promise<{ url: string; arrived: Promise<void>; close: () => Promise<void> }> {
  let arrived!: () => void;
  const seen = new Promise<void>((r) => (arrived = r));
  const sockets = new Set<Socket>();
  let seenCount = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (new RegExp(`[?&]Action=${hold}(&|$)`).test(`?${(req.url ?? '').split('?')[1] ?? ''}&${body.toString('latin1')}`) && ++seenCount === nth) {
        arrived();
        return; // never answered: the CLI waits here until the signal
      }
      const up = request(`${target.url}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    arrived: seen,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

for (const [point, action, signal, ip] of [
  ['the STS call that names the account', 'GetCallerIdentity', 'SIGINT', '198.19.140.1'],
  ['planning (DescribeRegions)', 'DescribeRegions', 'SIGTERM', '198.19.140.2'],
  ['the listing of the region', 'DescribeCustomerGateways', 'SIGINT', '198.19.140.3'],
] as const) {
  test(`${signal} during ${point}: exit 130, the lock released, nothing sent, the next run proceeds`, async () => {
    const t = tempDir({ 'm.csv': `region,ip,name,asn\ncn-hangzhou,${ip},i-1,65001\n` });
    const proxy = await holdingProxy(action);
    try {
      const { child, out, exited } = applyThrough(t.path('m.csv'), proxy.url, t.dir);
      await proxy.arrived;
      assert.ok(existsSync(t.path('m.csv.state.jsonl.lock')), 'the lock is held while it waits');
      child.kill(signal);
      const code = await exited;
      assert.equal(code, 130, out.text);
      assert.ok(!existsSync(t.path('m.csv.state.jsonl.lock')), `the lock is released\n${out.text}`);
      assert.match(out.text, /interrupted/);
      assert.equal(gatewaysWith(ip).length, 0, 'nothing was created');
      await nextRunProceeds(t.path('m.csv'), ip, proxy.url);
    } finally {
      await proxy.close();
      t.cleanup();
    }
  });
}

test('SIGTERM twice while a create is on the wire: the journal keeps it in flight, the lock is released, the rerun creates it once', async () => {
  const ip = '198.19.140.9';
  const t = tempDir({ 'm.csv': `region,ip,name,asn\ncn-hangzhou,${ip},w-1,65001\n` });
  const proxy = await holdingProxy('CreateCustomerGateway');
  try {
    const { child, out, exited, printed } = applyThrough(t.path('m.csv'), proxy.url, t.dir);
    await proxy.arrived;
    child.kill('SIGTERM');
    // The first signal stops launching and waits for the request on the wire: the lock stays held meanwhile.
    await printed(/finishing the requests on the wire/);
    assert.match(out.text, /finishing the requests on the wire/);
    assert.ok(existsSync(t.path('m.csv.state.jsonl.lock')), 'still held while the request is on the wire');
    child.kill('SIGTERM');
    assert.equal(await exited, 130, out.text);
    assert.match(out.text, /aborted: the journal is consistent/);
    assert.ok(!existsSync(t.path('m.csv.state.jsonl.lock')), `the lock is released\n${out.text}`);
    // Durable before the send, whole after the abort: the row is in flight (a create that may have happened).
    const read = await readJournal(t.path('m.csv.state.jsonl'));
    assert.ok(read, 'the journal exists');
    assert.deepEqual(read.warnings, []);
    const rows = [...read.rows.values()];
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.status, 'in-flight');
    await nextRunProceeds(t.path('m.csv'), ip, proxy.url);
    const later = await readJournal(t.path('m.csv.state.jsonl'));
    assert.equal([...later!.rows.values()][0]!.status, 'created');
  } finally {
    await proxy.close();
    t.cleanup();
  }
});

test('SIGINT while a Resource.QuotaFull region is listed after the run (its ceiling being learned): the journal whole, the lock released', async () => {
  // A region quota of 1: the first row is created, the second refused for the quota; the run then lists the region
  // (the second DescribeCustomerGateways: the first is the plan's) to record its ceiling, and that listing is held.
  const full = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rates: { CreateCustomerGateway: 200, DescribeCustomerGateways: 200 }, seed: 44, quota: 1 });
  const t = tempDir({ 'm.csv': 'region,ip,name,asn\ncn-hangzhou,198.19.142.1,f-1,65001\ncn-hangzhou,198.19.142.2,f-2,65002\n' });
  const proxy = await holdingProxy('DescribeCustomerGateways', 2, full);
  try {
    const child = spawn(process.execPath, [cliBin, 'apply', t.path('m.csv'), '--endpoint', proxy.url, '--yes', '--concurrency', '1', '--timeout', '120000'], {
      env: { PATH: process.env.PATH ?? '', HOME: t.dir, ...hermeticEnv, CI: '1', ...creds },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    await proxy.arrived;
    assert.ok(existsSync(t.path('m.csv.state.jsonl.lock')), 'the lock is held while it lists');
    child.kill('SIGINT');
    assert.equal(await exited, 130, out);
    assert.ok(!existsSync(t.path('m.csv.state.jsonl.lock')), `the lock is released\n${out}`);
    const read = await readJournal(t.path('m.csv.state.jsonl'));
    assert.ok(read);
    assert.deepEqual(read.warnings, [], 'no torn line');
    assert.deepEqual(
      [...read.rows.values()].map((r) => [r.status, r.errorCode ?? null]).sort(),
      [
        ['created', null],
        ['failed', 'Resource.QuotaFull'],
      ],
    );
    // The next run takes the lock (the refused row waits for --retry-failed: exit 1, nothing sent).
    const again = await runCli(['apply', t.path('m.csv'), '--endpoint', proxy.url, '--yes'], { env: creds });
    assert.equal(again.code, 1, again.stderr + again.stdout);
    assert.doesNotMatch(again.stderr, /locked by/);
  } finally {
    await proxy.close();
    await full.close();
    t.cleanup();
  }
});

test('Ctrl-C at the question (a terminal): the lock is released before the process leaves', async () => {
  const t = tempDir({ 'm.csv': 'region,ip,name,asn\ncn-hangzhou,198.19.141.1,q-1,65001\n' });
  const handlers: Array<(signal: string) => void> = [];
  let err = '';
  let asked!: () => void;
  const question = new Promise<void>((r) => (asked = r));
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  let exitCode: number | undefined;
  const io: Io = {
    stdout: { write: () => undefined },
    stderr: {
      write: (s: string) => {
        err += s;
        if (/\[y\/N\]/.test(err)) asked();
      },
    },
    stdin,
    env: { ...process.env, ...creds },
    cwd: t.dir,
    onSignal: (h) => {
      handlers.push(h);
      return () => handlers.splice(handlers.indexOf(h), 1);
    },
    exitNow: (code: number): never => {
      exitCode = code;
      throw new Error('exited');
    },
  };
  try {
    const running = main(['apply', t.path('m.csv'), '--endpoint', emu.url], io);
    await question;
    assert.ok(existsSync(t.path('m.csv.state.jsonl.lock')), 'the lock is held while it asks');
    assert.ok(handlers.length > 0, 'a Ctrl-C handler is registered while the lock is held');
    for (const h of [...handlers]) assert.throws(() => h('SIGINT'), /exited/);
    assert.equal(exitCode, 130);
    assert.ok(!existsSync(t.path('m.csv.state.jsonl.lock')), 'released before the process leaves');
    stdin.end();
    await running;
    await nextRunProceeds(t.path('m.csv'), '198.19.141.1', emu.url);
  } finally {
    t.cleanup();
  }
});
