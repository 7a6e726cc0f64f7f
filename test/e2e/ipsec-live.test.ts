// The whole loop for real, with the CLI only: `emulator --ipsec` runs the Alibaba side; `apply` creates two sites;
// `configs --device strongswan` renders their configs; a branch strongSwan in its own namespace, attached to the
// emulator's bridge, loads them (site 2 with a mistyped PSK, as a person copying keys by hand might); `status --live`
// says "negotiated" for site 1 only once its SAs are really up, and never for site 2. Traffic from a branch-subnet
// address reaches a VPC address (the emulator's first host of each LocalSubnet) through site 1's SAs, and not through
// site 2. Then the PSK of site 1 is rotated by `apply`: the responder drops the SA the old key made and the branch
// with the old config stays out; `configs` again, the branch reloads, and site 1 is negotiated again. The PSKs end up
// in the two config files and nowhere else the commands wrote.
import '../helpers/env.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ACCOUNT } from '../../src/emulator/index.js';
import { secretForms } from '../../src/secrets.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { eventually, ipsecView, startIpsecEmulator, type IpsecEmulator } from '../helpers/ipsec-emulator.js';
import { attachBranch, collectLogs, giveUpSeconds, ipBatch, ipsecSkipReason, loadAll, ping, run, stopBranch, stopLeftovers, type Daemon, type LogLine } from '../helpers/ipsec-netns.js';
import { listSas, Vici } from '../helpers/ipsec-vici.js';
import { parts } from '../load/workbook.js';

const skip = ipsecSkipReason();
const GW = 'vpn-ipseclive0000000001';
const GW_IP = '198.19.0.1';
const SITES = [
  { line: 2, ip: '198.18.0.31', lan: '10.31.0.0/24', vpc: '172.16.31.0/24' },
  { line: 3, ip: '198.18.0.32', lan: '10.32.0.0/24', vpc: '172.16.32.0/24' },
];
const PSK1 = "Live1#k;'x$`~!@%^&*()=+[]{}|:,.<>/?";
const PSK1_ROTATED = 'Live1-rotated-key#2';
const PSK2 = 'Live2$key;0000';
const WRONG = 'Live2-mistyped-key';
/** The daemons' own give-up time for one attempt, plus room for the `status --live` processes that poll it. */
const BOUND_MS = (giveUpSeconds() + 15) * 1000;
/** A refused authentication as the branch logs it (IKEv1 main mode: it cannot decrypt the responder's answer). */
const AUTH_REFUSED = /AUTHENTICATION_FAILED|AUTH_FAILED|MAC mismatched|decryption failed|integrity check failed|verification of .* failed|authentication of .* failed/i;
/** The first host of a /24: the branch LAN address on the branch's lo, the VPC address the emulator puts on its lo. */
const host = (cidr: string) => cidr.replace(/\.0\/24$/, '.1');
const creds = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };

let emu: IpsecEmulator | undefined;
let branch: Daemon | undefined;
let root = '';
let responder: Vici | undefined;
/** Both daemons' log lines: the branch's (collectLogs) and the emulator's responder's (its vici socket). */
const logs: LogLine[] = [];
const outputs: CliResult[] = [];
const timings: Record<string, number> = {};

function manifest(): string {
  return (
    [
      'region,ip,name,asn,vpn_gateway_id,local_subnet,remote_subnet,psk,device',
      ...SITES.map((s, i) => `cn-hangzhou,${s.ip},live-${i + 1},${65031 + i},${GW},${s.vpc},${s.lan},env:LIVE_PSK_${i + 1},strongswan`),
    ].join('\n') + '\n'
  );
}

async function cli(args: string[], psk1 = PSK1): Promise<CliResult> {
  const r = await runCli([...args, '--endpoint', emu!.url], { env: { ...creds, LIVE_PSK_1: psk1, LIVE_PSK_2: PSK2, CGW_BATCH_VPN_WAIT_MS: '60000' }, cwd: root, timeoutMs: 120_000 });
  outputs.push(r);
  return r;
}

/** status --live --format json: each line's negotiation as the cloud says it now. */
async function live(): Promise<Map<number, string>> {
  const r = await cli(['status', 'sites.csv', '--live', '--format', 'json']);
  const out = new Map<number, string>();
  for (const row of JSON.parse(r.stdout).rows as Array<Record<string, unknown>>) out.set(Number(row['line']), String(row['negotiation']));
  return out;
}

/** The branch config of one site as configs wrote it (the folder of its row key). */
function rendered(i: number, file: string): string {
  return join(root, 'sites.csv.configs', `cn-hangzhou_${SITES[i]!.ip}`, 'strongswan', file);
}

/** The connection (and child) name in a site's rendered swanctl.conf: the connection's id. */
function connectionName(i: number): string {
  const m = /^ {2}(vco-[a-z0-9]+) \{/m.exec(readFileSync(rendered(i, 'swanctl.conf'), 'utf8'));
  assert.ok(m, `a connection in ${rendered(i, 'swanctl.conf')}`);
  return m[1]!;
}

/** Whether the branch logged a refused authentication for this connection's IKE_SA since log line `from`. */
function refused(name: string, from = 0): boolean {
  return logs.slice(from).some((l) => l.side === 'branch' && l.ikeName === name && AUTH_REFUSED.test(l.msg));
}

/** Bytes through site 1's CHILD_SAs: the branch's (by its selector) and the responder's (by the customer gateway). */
async function site1Counters(): Promise<{ branchOut: number; branchIn: number; aliIn: number; aliOut: number }> {
  const [b, a] = await Promise.all([listSas(branch!.vici), listSas(responder!)]);
  const mine = b.flatMap((sa) => sa.children).filter((c) => c.localTs.includes(SITES[0]!.lan));
  const theirs = a.filter((sa) => sa.remoteHost === SITES[0]!.ip).flatMap((sa) => sa.children);
  const sum = (cs: typeof mine, k: 'bytesIn' | 'bytesOut') => cs.reduce((n, c) => n + c[k], 0);
  return { branchOut: sum(mine, 'bytesOut'), branchIn: sum(mine, 'bytesIn'), aliIn: sum(theirs, 'bytesIn'), aliOut: sum(theirs, 'bytesOut') };
}

/** One file including the sites' swanctl.conf, site 2's with its PSK mistyped. */
function branchConf(): string {
  const wrong = join(root, 'site2-mistyped.conf');
  const text = readFileSync(rendered(1, 'swanctl.conf'), 'utf8');
  assert.ok(text.includes(`secret = "${PSK2}"`));
  writeFileSync(wrong, text.replace(`secret = "${PSK2}"`, `secret = "${WRONG}"`), { mode: 0o600 });
  const all = join(root, 'branch.conf');
  writeFileSync(all, `include ${rendered(0, 'swanctl.conf')}\ninclude ${wrong}\n`, { mode: 0o600 });
  return all;
}

before(async () => {
  if (skip) return;
  root = mkdtempSync(join(tmpdir(), 'cgw-ipsec-'));
  writeFileSync(join(root, 'sites.csv'), manifest());
  const t0 = Date.now();
  emu = await startIpsecEmulator(['--vpn-gateway', `cn-hangzhou:${GW}:${GW_IP}`, '--vpn-task-ms', '200']);
  timings['emulator'] = Date.now() - t0;
  responder = await Vici.open(join((await ipsecView(emu)).dir, 'charon.vici'));
  await responder.subscribe('log', (m) => logs.push({ side: 'alibaba', msg: String(m['msg'] ?? '') }));
});

after(async () => {
  responder?.close();
  if (branch) await stopBranch(branch);
  await stopLeftovers();
  if (emu && emu.child.exitCode === null && emu.child.signalCode === null) {
    emu.child.kill('SIGTERM');
    // Its close is bounded by the daemon's stop (3 s, then SIGKILL); past that, SIGKILL leaves the rest to its watchdog.
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([emu.exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 10_000)))]);
    clearTimeout(timer);
    if (!gone) emu.child.kill('SIGKILL');
  }
  if (root && !process.env['CGW_KEEP_IPSEC']) rmSync(root, { recursive: true, force: true });
  if (!skip) process.stdout.write(`# apply -> configs -> branch -> status --live: ${Object.entries(timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')}\n`);
});

test('status --live says negotiated only once the SAs are up, and never with a wrong PSK', { skip: skip ?? false }, async () => {
  let t = Date.now();
  const applied = await cli(['apply', 'sites.csv', '--yes']);
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  timings['apply'] = Date.now() - t;
  const before = await live();
  assert.deepEqual([before.get(2), before.get(3)], ['ike_sa_not_established', 'ike_sa_not_established'], 'provisioned, but no branch yet');

  t = Date.now();
  // The type by --device here, by the manifest's device column when site 1 is rendered again below.
  const configs = await cli(['configs', 'sites.csv', '--device', 'strongswan']);
  assert.equal(configs.code, 0, configs.stderr);
  assert.deepEqual(configs.stdout.trim().split('\n').filter((l) => l.endsWith('swanctl.conf')).length, 2);
  timings['configs'] = Date.now() - t;

  t = Date.now();
  branch = await attachBranch(root, { namespace: emu!.namespace, bridge: emu!.bridge }, {
    customerIps: SITES.map((s) => s.ip),
    gatewayIps: [GW_IP],
    // A LAN address inside each site's selector (strongSwan installs the policies only with one).
    inner: SITES.map((s) => host(s.lan)),
    includes: SITES.map((_, i) => rendered(i, 'strongswan.conf')).filter((f) => existsSync(f)),
  });
  await collectLogs(branch, logs);
  await loadAll(branch, branchConf());
  // Settled when site 1 is up and site 2's attempt has been refused (its branch logged the failed authentication).
  let now = new Map<number, string>();
  const settled = await eventually(async () => {
    now = await live();
    return now.get(2) === 'ipsec_sa_established' && refused(connectionName(1));
  }, BOUND_MS, 500);
  timings['negotiation'] = Date.now() - t;
  assert.ok(settled, `settled: ${JSON.stringify([...now])}\n${logs.slice(-40).map((l) => `${l.side} ${l.ikeName ?? '-'}: ${l.msg}`).join('\n')}`);
  assert.notEqual(now.get(3), 'ipsec_sa_established', 'the mistyped PSK never negotiates');
  const text = await cli(['status', 'sites.csv', '--live']);
  const lines = text.stdout.split('\n');
  assert.match(lines.find((l) => /^\s*2\s/.test(l)) ?? '', /\bnegotiated\b/);
  assert.doesNotMatch(lines.find((l) => /^\s*2\s/.test(l)) ?? '', /not negotiated/);
  assert.match(lines.find((l) => /^\s*3\s/.test(l)) ?? '', /not negotiated \(ike_sa_not_established\)/);

  // Traffic. Neither daemon installs routes (install_routes = no): these /32 routes into the TUN device stand in for
  // the branch's route table and the VPN gateway's policy routes. Both sites get them; only site 1 has SAs.
  t = Date.now();
  await ipBatch(branch!.ns, SITES.map((s) => `route add ${host(s.vpc)}/32 dev ipsec0`));
  await ipBatch(emu!.namespace, SITES.map((s) => `route add ${host(s.lan)}/32 dev ipsec0`));
  const c0 = await site1Counters();
  // No SA can carry site 2's packet, so no reply can come however long one waits: one echo and 2 s suffice there.
  const [crossed, leaked] = await Promise.all([
    ping(branch!.ns, host(SITES[0]!.lan), host(SITES[0]!.vpc)),
    run('ip', ['netns', 'exec', branch!.ns, 'ping', '-n', '-q', '-c', '1', '-W', '2', '-I', host(SITES[1]!.lan), host(SITES[1]!.vpc)]).then((r) => r.code === 0),
  ]);
  const c1 = await site1Counters();
  timings['traffic'] = Date.now() - t;
  assert.ok(crossed, `${host(SITES[0]!.lan)} -> ${host(SITES[0]!.vpc)} crossed`);
  assert.equal(leaked, false, `${host(SITES[1]!.lan)} -> ${host(SITES[1]!.vpc)}: no SA, no traffic`);
  // Both directions through site 1's own CHILD_SA on both sides (the echo replies too, not a path around the tunnel).
  assert.ok(c1.branchOut > c0.branchOut && c1.branchIn > c0.branchIn, `branch CHILD_SA counters moved: ${JSON.stringify([c0, c1])}`);
  assert.ok(c1.aliIn > c0.aliIn && c1.aliOut > c0.aliOut, `responder CHILD_SA counters moved: ${JSON.stringify([c0, c1])}`);
});

test('a PSK rotated by apply: the old SA goes and the old config stays out; configs again and it is negotiated', { skip: skip ?? false }, async () => {
  const t = Date.now();
  const rotated = await cli(['apply', 'sites.csv', '--yes'], PSK1_ROTATED);
  assert.equal(rotated.code, 0, rotated.stderr + rotated.stdout);
  let now = new Map<number, string>();
  assert.ok(await eventually(async () => (now = await live()).get(2) === 'ike_sa_not_established', BOUND_MS, 500), `dropped: ${JSON.stringify([...now])}`);
  // The branch still holds the old key: its next attempt is refused.
  const mark = logs.length;
  const name = connectionName(0);
  await branch!.vici.request('initiate', { child: name, timeout: '-1' });
  assert.ok(await eventually(() => refused(name, mark), BOUND_MS), 'the old key was refused');
  assert.notEqual((await live()).get(2), 'ipsec_sa_established');
  // The new key: configs renders it (the device column says strongswan), the branch reloads and starts again.
  const again = await cli(['configs', 'sites.csv', '--only', '2'], PSK1_ROTATED);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(readFileSync(rendered(0, 'swanctl.conf'), 'utf8').includes(`secret = "${PSK1_ROTATED}"`));
  await loadAll(branch!, branchConf());
  // A reloaded connection is not started again by its start_action, and an initiate would join the refused IKE_SA
  // still retransmitting with the old key: the person at the branch runs swanctl --terminate, then --initiate.
  await branch!.vici.request('terminate', { ike: name, force: 'yes', timeout: '-1' });
  assert.ok(
    await eventually(async () => {
      await branch!.vici.request('initiate', { child: name, timeout: '-1' });
      return (now = await live()).get(2) === 'ipsec_sa_established';
    }, BOUND_MS, 1000),
    `negotiated again: ${JSON.stringify([...now])}`,
  );
  timings['rotation'] = Date.now() - t;
});

test('the PSKs are in the config files and nowhere else: output of every command, journal, reports', { skip: skip ?? false }, () => {
  const forms = [PSK1, PSK1_ROTATED, PSK2].flatMap((k) => secretForms(k).map((f) => ({ k, f })));
  assert.ok(outputs.length >= 8);
  for (const r of [...outputs, { stdout: emu!.stdout(), stderr: emu!.stderr() }]) {
    for (const { k, f } of forms) assert.equal((r.stdout + r.stderr).includes(f), false, `output holds a form of ${k.slice(0, 5)}…`);
  }
  // Every file in the working folder but the branch daemon's own (the test's stand-in for the router).
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? (e.name.startsWith('branch-') ? [] : walk(join(dir, e.name))) : [join(dir, e.name)]));
  const holders = new Set<string>();
  const files = walk(root);
  for (const file of files) {
    // A workbook is scanned in its inflated parts (its deflated bytes would hide a key).
    const raw = readFileSync(file);
    const body = file.endsWith('.xlsx') ? parts(raw).map((x) => x.data.toString('utf8')).join('\n') : raw.toString('latin1');
    if (forms.some(({ f }) => body.includes(f))) holders.add(file.slice(root.length + 1));
  }
  assert.ok(files.some((f) => f.endsWith('.state.jsonl')) && files.some((f) => f.endsWith('.xlsx')), `the journal and the workbook were scanned: ${files.join(' ')}`);
  assert.deepEqual([...holders].sort(), [0, 1].map((i) => rendered(i, 'swanctl.conf').slice(root.length + 1)));
});
