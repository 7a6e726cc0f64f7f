// `emulator --ipsec` for real: the CLI runs the Alibaba side of each connection as a strongSwan responder in its own
// namespace; a branch strongSwan attached to its bridge (as the README says) loads the configs src/device renders
// from the API's answers, and DescribeVpnConnection's Status follows the responder's real SAs: established for the
// matching sets (IKEv2 and IKEv1 with several CIDRs, aggressive mode with FQDN ids, both tunnels of a dual-tunnel
// connection), not for a wrong PSK (no IKE SA) nor a wrong ESP proposal (IKE SA, no CHILD_SA). A modify reconfigures
// the responder (the old SA goes; the branch's new one comes back once the keys agree: every set holds the same PSK,
// so a branch left with the old key would get in if a peer's key matched another peer), a delete unloads it, and
// SIGTERM and SIGKILL leave no namespace, daemon or folder behind. One emulator and one branch daemon serve all sets.
import '../helpers/env.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PopVpcClient } from '../../src/cloud/pop-client.js';
import { renderSite } from '../../src/device/render.js';
import { eventually, ipsecView, namespaceExists, processesWithConf, startIpsecEmulator, type IpsecEmulator } from '../helpers/ipsec-emulator.js';
import { attachBranch, collectLogs, giveUpSeconds, ipsecSkipReason, loadAll, stopBranch, stopLeftovers, type Daemon, type LogLine } from '../helpers/ipsec-netns.js';
import { CREDS, REGION } from './util.js';

const skip = ipsecSkipReason();
const GW1 = 'vpn-ipsecemu000000000001';
const GW2 = 'vpn-ipsecemu000000000002';
const GW1_IP = '198.19.0.1';
const GW2_IP = '198.19.0.2';
const GW2_DR = '198.19.1.2';
/** A PSK with the API's special characters (`"` `\` and space are not allowed). */
const PSK = "Emu#Psk;'x$`~!@%^&*()_-+={}[]|:,.<>/?1";
/** The daemons' own give-up time bounds every wait for a negotiation. */
const BOUND_MS = (giveUpSeconds() + 15) * 1000;

type Obj = Record<string, any>;

interface SetSpec {
  name: string;
  gateway: string;
  /** Customer gateway IPs: one, or two for the tunnels of a dual-tunnel connection. */
  cgwIps: string[];
  params: Obj;
  /** Changes the answer the branch config is rendered from (a branch configured with other values). */
  branchEdit?: (answer: Obj) => void;
  expect: 'ipsec_sa_established' | 'ipsec_sa_not_established' | 'ike_sa_not_established';
}

const ike = (o: Obj) => JSON.stringify({ Psk: PSK, ...o });
const SETS: SetSpec[] = [
  {
    name: 'v2',
    gateway: GW1,
    cgwIps: ['198.18.0.1'],
    params: {
      LocalSubnet: '172.16.1.0/24,172.17.1.0/24',
      RemoteSubnet: '10.1.1.0/24,10.2.1.0/24',
      IkeConfig: ike({ IkeVersion: 'ikev2', IkeEncAlg: 'aes256', IkeAuthAlg: 'sha256', IkePfs: 'group14' }),
      IpsecConfig: JSON.stringify({ IpsecEncAlg: 'aes192', IpsecAuthAlg: 'sha512', IpsecPfs: 'group5' }),
    },
    expect: 'ipsec_sa_established',
  },
  {
    name: 'v1',
    gateway: GW1,
    cgwIps: ['198.18.0.2'],
    params: {
      LocalSubnet: '172.16.2.0/24,172.17.2.0/24',
      RemoteSubnet: '10.1.2.0/24',
      IkeConfig: ike({ IkeVersion: 'ikev1', IkeMode: 'main', IkeEncAlg: '3des', IkeAuthAlg: 'sha1', IkePfs: 'group2' }),
      IpsecConfig: JSON.stringify({ IpsecEncAlg: 'aes', IpsecAuthAlg: 'md5', IpsecPfs: 'disabled' }),
    },
    expect: 'ipsec_sa_established',
  },
  {
    name: 'aggressive',
    gateway: GW1,
    cgwIps: ['198.18.0.3'],
    params: {
      LocalSubnet: '172.16.3.0/24',
      RemoteSubnet: '10.1.3.0/24',
      IkeConfig: ike({ IkeVersion: 'ikev1', IkeMode: 'aggressive', LocalId: 'gw.ipsec.example', RemoteId: 'branch3.ipsec.example' }),
    },
    expect: 'ipsec_sa_established',
  },
  {
    name: 'wrong-psk',
    gateway: GW1,
    cgwIps: ['198.18.0.4'],
    params: { LocalSubnet: '172.16.4.0/24', RemoteSubnet: '10.1.4.0/24', IkeConfig: ike({ IkeVersion: 'ikev2' }) },
    branchEdit: (a) => (a.IkeConfig.Psk = 'not-the-key-0000'),
    expect: 'ike_sa_not_established',
  },
  {
    name: 'esp-mismatch',
    gateway: GW1,
    cgwIps: ['198.18.0.5'],
    params: { LocalSubnet: '172.16.5.0/24', RemoteSubnet: '10.1.5.0/24', IkeConfig: ike({ IkeVersion: 'ikev2' }), IpsecConfig: JSON.stringify({ IpsecEncAlg: 'aes256' }) },
    branchEdit: (a) => (a.IpsecConfig.IpsecEncAlg = 'aes'),
    expect: 'ipsec_sa_not_established',
  },
  {
    name: 'dual',
    gateway: GW2,
    cgwIps: ['198.18.0.6', '198.18.1.6'],
    params: {
      LocalSubnet: '172.16.6.0/24',
      RemoteSubnet: '10.1.6.0/24',
      ...Object.fromEntries(
        [1, 2].flatMap((n) => [
          [`TunnelOptionsSpecification.${n}.Role`, n === 1 ? 'master' : 'slave'],
          [`TunnelOptionsSpecification.${n}.TunnelIkeConfig.Psk`, PSK],
          [`TunnelOptionsSpecification.${n}.TunnelIkeConfig.IkeVersion`, 'ikev2'],
          [`TunnelOptionsSpecification.${n}.TunnelIpsecConfig.IpsecAuthAlg`, 'sha256'],
        ]),
      ),
    },
    expect: 'ipsec_sa_established',
  },
];

let emu: IpsecEmulator | undefined;
let client: PopVpcClient;
let branch: Daemon | undefined;
let root = '';
const logs: LogLine[] = [];
const ids = new Map<string, string>();
const timings: Record<string, number> = {};

const call = (action: string, params: Obj) => client.call(action, { RegionId: REGION, ...params });
const describe = (name: string) => call('DescribeVpnConnection', { VpnConnectionId: ids.get(name) });

async function renderBranch(s: SetSpec, dir: string): Promise<string> {
  const answer: Obj = await describe(s.name);
  const gateway = await call('DescribeVpnGateway', { VpnGatewayId: s.gateway });
  const tunnels: Obj[] = answer.TunnelOptionsSpecification?.TunnelOptions ?? [];
  const cgwIds: string[] = tunnels.length > 0 ? tunnels.map((t) => t.CustomerGatewayId) : [answer.CustomerGatewayId];
  const cgws = await Promise.all(cgwIds.map((id) => call('DescribeCustomerGateway', { CustomerGatewayId: id })));
  const edited = structuredClone(answer);
  if (s.branchEdit) {
    for (const k of ['IkeConfig', 'IpsecConfig']) if (typeof edited[k] === 'string') edited[k] = JSON.parse(edited[k]);
    s.branchEdit(edited);
  }
  const r = renderSite({ site: s.name, connection: edited, gateway, customerGateways: cgws }, 'strongswan');
  if (!r.ok) throw new Error(`${s.name}: the renderer refused: ${r.issues.map((i) => i.message).join('; ')}`);
  for (const f of r.files) {
    writeFileSync(join(dir, `${s.name}.${f.name}`), f.text, { mode: 0o600 });
  }
  return join(dir, `${s.name}.swanctl.conf`);
}

async function statusOf(name: string): Promise<{ status: string; tunnels: string[] }> {
  const a = await describe(name);
  return { status: a.Status, tunnels: (a.TunnelOptionsSpecification?.TunnelOptions ?? []).map((t: Obj) => t.Status) };
}

before(async () => {
  if (skip) return;
  const t0 = Date.now();
  root = mkdtempSync(join(tmpdir(), 'cgw-ipsec-'));
  emu = await startIpsecEmulator([
    '--vpn-gateway', `${REGION}:${GW1}:${GW1_IP}`,
    '--vpn-gateway', `${REGION}:${GW2}:${GW2_IP}:${GW2_DR}`,
    '--vpn-task-ms', '100',
    ...['CreateCustomerGateway', 'CreateVpnConnection', 'ModifyVpnConnectionAttribute', 'DeleteVpnConnection', 'DescribeVpnConnection'].flatMap((a) => ['--rate', `${a}=1000/s`]),
  ]);
  timings['emulator up'] = Date.now() - t0;
  client = new PopVpcClient({ endpoint: emu.url, credentials: CREDS, timeoutMs: 10_000 });
  for (const s of SETS) {
    const cgwIds: string[] = [];
    for (const ip of s.cgwIps) cgwIds.push((await call('CreateCustomerGateway', { IpAddress: ip })).CustomerGatewayId);
    const tunnels = s.params['TunnelOptionsSpecification.1.Role'] !== undefined;
    const params: Obj = { VpnGatewayId: s.gateway, Name: s.name, ...s.params };
    if (tunnels) {
      params['TunnelOptionsSpecification.1.CustomerGatewayId'] = cgwIds[0];
      params['TunnelOptionsSpecification.2.CustomerGatewayId'] = cgwIds[1];
    } else params.CustomerGatewayId = cgwIds[0];
    // One write at a time per VPN gateway: wait out the previous connection's task.
    for (;;) {
      try {
        ids.set(s.name, (await call('CreateVpnConnection', params)).VpnConnectionId);
        break;
      } catch (e) {
        if ((e as { code?: string }).code !== 'VpnGateway.Configuring') throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  // The responder takes a connection once its task is over.
  assert.ok(await eventually(async () => (await ipsecView(emu!)).peers.length === SETS.reduce((n, s) => n + s.cgwIps.length, 0), 10_000), 'every peer loaded');
  const files: string[] = [];
  for (const s of SETS) files.push(await renderBranch(s, root));
  const includes = SETS.flatMap((s) => [join(root, `${s.name}.strongswan.conf`)]).filter((f) => existsSync(f));
  branch = await attachBranch(root, { namespace: emu.namespace, bridge: emu.bridge }, {
    customerIps: SETS.flatMap((s) => s.cgwIps),
    gatewayIps: [GW1_IP, GW2_IP, GW2_DR],
    // A branch LAN address inside each of its selectors: strongSwan installs a CHILD_SA's policies only with one.
    inner: SETS.flatMap((s) => String(s.params.RemoteSubnet).split(',').map((c) => c.replace(/\.0\/24$/, '.1'))),
    includes,
  });
  await collectLogs(branch, logs);
  const all = join(root, 'branch.conf');
  writeFileSync(all, files.map((f) => `include ${f}`).join('\n') + '\n', { mode: 0o600 });
  const t1 = Date.now();
  await loadAll(branch, all);
  // Settled: every set shows what it must, and each refused set's refusal reached the branch's log.
  const ok = await eventually(async () => {
    for (const s of SETS) if ((await statusOf(s.name)).status !== s.expect) return false;
    return logs.some((l) => /AUTHENTICATION_FAILED|AUTH_FAILED/.test(l.msg)) && logs.some((l) => /NO_PROPOSAL_CHOSEN|no acceptable proposal/.test(l.msg));
  }, BOUND_MS);
  timings['negotiation'] = Date.now() - t1;
  if (!ok) process.stdout.write(`# not settled: ${JSON.stringify(await ipsecView(emu))}\n`);
});

after(async () => {
  if (branch) await stopBranch(branch);
  await stopLeftovers();
  client?.close();
  if (emu && emu.child.exitCode === null && emu.child.signalCode === null) {
    emu.child.kill('SIGKILL');
    await emu.exited;
  }
  if (root && !process.env['CGW_KEEP_IPSEC']) rmSync(root, { recursive: true, force: true });
  if (!skip) process.stdout.write(`# emulator --ipsec: ${Object.entries(timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')}\n`);
});

test('emulator --ipsec: the Status of each connection comes from the responder\'s real SAs', { skip: skip ?? false }, async (t) => {
  for (const s of SETS) {
    await t.test(`${s.name}: ${s.expect}`, async () => {
      const st = await statusOf(s.name);
      assert.equal(st.status, s.expect);
      if (s.cgwIps.length === 2) assert.deepEqual(st.tunnels, [s.expect, s.expect], 'each tunnel negotiated by its own peer (InternetIp and DisasterRecoveryInternetIp)');
    });
  }
  await t.test('the responder holds no PSK in a file and logs none', async () => {
    const view = await ipsecView(emu!);
    assert.equal(JSON.stringify(view).includes(PSK), false);
    assert.equal(logs.some((l) => l.msg.includes(PSK)), false);
    assert.ok(existsSync(join(view.dir, 'strongswan.conf')));
  });
});

test('emulator --ipsec: a modify reconfigures the responder, a delete unloads it', { skip: skip ?? false }, async () => {
  const t0 = Date.now();
  // A new PSK on the cloud side: the SA negotiated with the old one is gone, and the branch's retry is refused.
  await call('ModifyVpnConnectionAttribute', { VpnConnectionId: ids.get('v2'), IkeConfig: JSON.stringify({ Psk: 'rotated-key-0001' }) });
  assert.ok(await eventually(async () => (await statusOf('v2')).status === 'ike_sa_not_established', BOUND_MS), 'the rotated PSK took the tunnel down');
  const mark = logs.length;
  await branch!.vici.request('initiate', { child: ids.get('v2')!, timeout: '-1' });
  const refused = await eventually(() => logs.slice(mark).some((l) => /AUTHENTICATION_FAILED/.test(l.msg)), BOUND_MS);
  if (!refused) process.stdout.write(`# branch log: ${logs.slice(mark).map((l) => `${l.ikeName ?? '-'}: ${l.msg}`).join('\n# ')}\n`);
  assert.ok(refused, 'the branch\'s retry was refused');
  assert.equal((await statusOf('v2')).status, 'ike_sa_not_established', 'the branch with the old PSK does not get in');
  // The old key back: the branch's next attempt establishes again.
  await call('ModifyVpnConnectionAttribute', { VpnConnectionId: ids.get('v2'), IkeConfig: JSON.stringify({ Psk: PSK }) });
  assert.ok(
    await eventually(async () => {
      await branch!.vici.request('initiate', { child: ids.get('v2')!, timeout: '-1' });
      return (await statusOf('v2')).status === 'ipsec_sa_established';
    }, BOUND_MS, 1000),
    'established again with the PSK both sides hold',
  );
  // Delete: once the task is over the peer is unloaded and its SAs are gone on both sides.
  await call('DeleteVpnConnection', { VpnConnectionId: ids.get('v1') });
  assert.ok(
    await eventually(async () => {
      const view = await ipsecView(emu!);
      return !view.peers.some((p: Obj) => p.customerIp === '198.18.0.2') && !view.sas.some((sa: Obj) => sa.name.endsWith('-198.18.0.2'));
    }, BOUND_MS),
    'the deleted connection\'s peer and SAs are gone',
  );
  timings['modify + delete'] = Date.now() - t0;
});

test('emulator --ipsec: SIGTERM removes the namespace, the daemon and its folder', { skip: skip ?? false }, async () => {
  const view = await ipsecView(emu!);
  const conf = join(view.dir, 'strongswan.conf');
  assert.equal(processesWithConf(conf).length, 1, 'one responder daemon');
  if (branch) await stopBranch(branch);
  branch = undefined;
  emu!.child.kill('SIGTERM');
  const { code } = await emu!.exited;
  assert.equal(code, 0);
  assert.equal(namespaceExists(emu!.namespace), false);
  assert.deepEqual(processesWithConf(conf), []);
  assert.equal(existsSync(view.dir), false);
});

test('emulator --ipsec: SIGKILL of the emulator, and its watchdog removes what it left', { skip: skip ?? false }, async () => {
  const t0 = Date.now();
  const other = await startIpsecEmulator(['--vpn-gateway', `${REGION}:${GW1}:${GW1_IP}`]);
  const view = await ipsecView(other);
  const conf = join(view.dir, 'strongswan.conf');
  assert.ok(namespaceExists(other.namespace));
  assert.equal(processesWithConf(conf).length, 1);
  other.child.kill('SIGKILL');
  await other.exited;
  // The watchdog polls the emulator once a second, then gives the daemon 2 s to stop before SIGKILL.
  assert.ok(await eventually(() => !namespaceExists(other.namespace) && processesWithConf(conf).length === 0 && !existsSync(view.dir), 30_000), 'the watchdog cleaned up');
  timings['SIGKILL cleanup'] = Date.now() - t0;
});
