// `cgw-batch emulator` command: output contract, flags, bad flags -> 2 without a stack, clean stop on a signal.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { parseEmulatorArgs, runEmulatorCommand } from '../../src/emulator/cli.js';
import { PopVpcClient } from '../../src/cloud/pop-client.js';
import { caught } from './util.js';

function io() {
  const out: string[] = [];
  const errs: string[] = [];
  let handler: (() => void) | undefined;
  return {
    out,
    errs,
    stop: () => handler?.(),
    io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void errs.push(s), onSignal: (h: () => void) => void (handler = h) },
  };
}

test('flags parse into options', () => {
  const o = parseEmulatorArgs([
    '--host', '127.0.0.1', '--port', '0', '--data', '/tmp/x.json', '--account', 'AK1:S1:111', '--account', 'AK2:S2',
    '--rate', 'CreateCustomerGateway=5/s', '--rate', 'DescribeCustomerGateways=120/m', '--faults', 'reset=0.1,commit-drop=0.05',
    '--latency', '1-5', '--seed', '7', '--quota', '3',
    '--vpn-gateway', 'cn-hangzhou:vpn-cli0000000001:47.96.7.1', '--vpn-gateway', 'cn-shanghai:vpn-cli0000000002:47.96.7.2:47.96.7.3',
    '--vpn-task-ms', '150', '--quota-vpn-connections', '4', '--faults', 'commit-500=0.1',
  ]);
  assert.notEqual(o, 'help');
  if (o === 'help') return;
  assert.equal(o.accounts?.[0]?.accountId, '111');
  assert.equal(o.accounts?.[1]?.accessKeySecret, 'S2');
  assert.notEqual(o.accounts?.[1]?.accountId, '111');
  assert.deepEqual(o.rates, { CreateCustomerGateway: 5, DescribeCustomerGateways: 2 });
  assert.deepEqual(o.faults, { 'commit-500': 0.1 }, 'the last --faults wins');
  assert.deepEqual(o.latency, { minMs: 1, maxMs: 5 });
  assert.equal(o.seed, 7);
  assert.equal(o.quota, 3);
  assert.deepEqual(o.vpnGateways, [
    { RegionId: 'cn-hangzhou', VpnGatewayId: 'vpn-cli0000000001', InternetIp: '47.96.7.1' },
    { RegionId: 'cn-shanghai', VpnGatewayId: 'vpn-cli0000000002', InternetIp: '47.96.7.2', DisasterRecoveryInternetIp: '47.96.7.3' },
  ]);
  assert.equal(o.vpnTaskMs, 150);
  assert.equal(o.vpnConnectionQuota, 4);
  const r = parseEmulatorArgs(['--rate', 'DownloadVpnConnectionConfig=30/m']);
  assert.deepEqual(r !== 'help' && r.rates, { DownloadVpnConnectionConfig: 0.5 });
});

test('bad flags: message on stderr, exit 2, no stack', async () => {
  for (const argv of [
    ['--port', 'abc'],
    ['--port', '70000'],
    ['--nope'],
    ['--faults', 'explode=0.5'],
    ['--faults', 'reset=2'],
    ['--rate', 'CreateCustomerGateway'],
    ['--rate', 'Nope=1/s'],
    ['--latency', '9-1'],
    ['--account', 'onlykey'],
    ['positional'],
    ['--vpn-gateway', 'cn-hangzhou:vpn-cli0000000001'],
    ['--vpn-gateway', 'cn-hangzhou:vpn-cli0000000001:1.2.3'],
    ['--vpn-gateway', 'cn-hangzhou:vpn-cli0000000001:47.96.7.1', '--vpn-gateway', 'cn-shanghai:vpn-cli0000000001:47.96.7.2'],
    ['--vpn-task-ms', '-1'],
    ['--quota-vpn-connections', 'ten'],
  ]) {
    const h = io();
    assert.equal(await runEmulatorCommand(argv, h.io), 2, argv.join(' '));
    const text = h.errs.join('');
    assert.match(text, /^cgw-batch emulator: /);
    assert.ok(!/\n\s+at /.test(text), 'no stack trace');
    assert.equal(h.out.length, 0);
  }
  const busy = io();
  const first = io();
  const running = runEmulatorCommand(['--port', '0'], first.io);
  await new Promise((r) => setTimeout(r, 50));
  const port = /:(\d+)\n$/.exec(first.out[0] ?? '')?.[1];
  assert.equal(await runEmulatorCommand(['--port', String(port)], busy.io), 2);
  assert.match(busy.errs.join(''), /cannot start/);
  first.stop();
  assert.equal(await running, 0);
});

test('prints the URL and credentials, serves requests, stops on signal with 0', async () => {
  const h = io();
  const done = runEmulatorCommand(['--account', 'LTAIcli:cliSecret:42', '--seed', '3', '--vpn-gateway', 'cn-hangzhou:vpn-cli0000000001:47.96.7.1'], h.io);
  while (h.out.length < 3) await new Promise((r) => setTimeout(r, 10));
  const m = /^emulator listening on (http:\/\/127\.0\.0\.1:(\d+))\n$/.exec(h.out[0] ?? '');
  assert.ok(m, h.out[0]);
  // A secret given with --account is never echoed; only the public built-in sandbox secret is printed.
  assert.equal(h.out[1], 'access key: LTAIcli secret: (as given with --account)\n');
  assert.ok(!h.out.join('').includes('cliSecret'));
  // The admin token is printed for whoever started it, and opens the admin API.
  const token = /^admin token: ([A-Za-z0-9_-]{32})\n$/.exec(h.out[2] ?? '')?.[1];
  assert.ok(token, h.out[2]);
  const port = Number(m[2]);
  const state = await fetch(`http://127.0.0.1:${port}/__emulator/state`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(state.status, 200);
  assert.equal(((await state.json()) as any).accounts['42'].regions['cn-hangzhou'].vpnGateways[0].VpnGatewayId, 'vpn-cli0000000001');
  assert.equal((await fetch(`http://127.0.0.1:${port}/__emulator/state`)).status, 401);
  const c = new PopVpcClient({ endpoint: m[1] ?? '', credentials: { accessKeyId: 'LTAIcli', accessKeySecret: 'cliSecret' }, timeoutMs: 2000 });
  await c.createCustomerGateway({ regionId: 'cn-hangzhou', ipAddress: '1.1.1.1' });
  h.stop();
  assert.equal(await done, 0);
  const fresh = new PopVpcClient({ endpoint: m[1] ?? '', credentials: { accessKeyId: 'LTAIcli', accessKeySecret: 'cliSecret' }, timeoutMs: 2000 });
  assert.equal((await caught(fresh.describeRegions())).code, 'ECONNREFUSED');
});

test('spawned process: first line contract and SIGTERM exits 0', async () => {
  // Relative to this file, so it is the .ts under tsx and the compiled .js under dist/.
  const cliUrl = new URL('../../src/emulator/cli.js', import.meta.url).href;
  const script = `import { runEmulatorCommand } from ${JSON.stringify(cliUrl)};
const code = await runEmulatorCommand(process.argv.slice(1), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), onSignal: (h) => { process.once('SIGINT', h); process.once('SIGTERM', h); } });
process.exitCode = code;`;
  const loader = import.meta.url.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, '--input-type=module', '-e', script, '--', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 15_000;
  while (!out.includes('admin token:') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const lines = out.split('\n');
  assert.match(lines[0] ?? '', /^emulator listening on http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(lines[1], 'access key: LTAI5tCgwBatchSandbox01 secret: cgwBatchSandboxSecret0000000001');
  assert.match(lines[2] ?? '', /^admin token: [A-Za-z0-9_-]{32}$/);
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
