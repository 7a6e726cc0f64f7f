// The site scenario matrix, end to end (built CLI, pop-core, emulator with VPN gateways, a loopback tap between them
// that sees every request and can hold an answer): single and dual tunnel, static and BGP; fresh, partial; a busy
// gateway (VpnGateway.Configuring) waited for and the same request sent again; kill -9 between the journaled intent
// and the answer of CreateVpnConnection; a create committed then answered 500; PSK rotated, subnet changed, VPN
// gateway changed, pruned row, destroy (connections before their customer gateways). In each, apply carries out
// exactly what plan printed (every part of every row), plan's exit code predicts apply's, and the cloud ends with one
// connection per site. Last, every PSK the cloud ever held (env: and generated) is searched in every byte written.
import '../helpers/env.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { rpc } from '../emulator/util.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const REGION = 'cn-hangzhou';
const GW_A = 'vpn-e2esingle0001';
const GW_B = 'vpn-e2esingle0002';
const GW_C = 'vpn-e2ebusy000004';
const GW_D = 'vpn-e2edual00003';
const GATEWAYS = [
  { RegionId: REGION, VpnGatewayId: GW_A, InternetIp: '47.96.10.1' },
  { RegionId: REGION, VpnGatewayId: GW_B, InternetIp: '47.96.10.2' },
  { RegionId: REGION, VpnGatewayId: GW_D, InternetIp: '47.96.10.3', DisasterRecoveryInternetIp: '47.96.10.4' },
  { RegionId: REGION, VpnGatewayId: GW_C, InternetIp: '47.96.10.5' },
];
const KEY_1 = 'First-Site-Key_0123456789';
const KEY_2 = 'Rotated-Site-Key#9876543210';
/** The gateway task: every connection write keeps its gateway `updating` this long (the executor waits it out). */
const TASK_MS = 200;

const env = (extra: Record<string, string> = {}) => ({
  ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret,
  CGW_BATCH_RETRY_BASE_MS: '1',
  CGW_BATCH_RETRY_CAP_MS: '5',
  SITE_KEY: KEY_1,
  ...extra,
});

// --- the tap: a loopback HTTP hop in front of the emulator ----------------------------------------------------------
interface Seen {
  action: string;
  params: URLSearchParams;
  /** The answer's error Code (undefined: success, or no answer yet). */
  code?: string;
}
interface Tap {
  url: string;
  log: Seen[];
  /** Called before a request goes on; 'hold' forwards it (the cloud acts) but the answer never comes back. */
  before?: (s: Seen) => 'hold' | undefined;
  /** Called once the emulator answered (before the caller sees it). */
  after?: (s: Seen) => void;
  close(): Promise<void>;
}
async function startTap(target: Emulator): Promise<Tap> {
  const held: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const params = new URL(req.url ?? '/', 'http://tap').searchParams;
      if (String(req.headers['content-type'] ?? '').includes('x-www-form-urlencoded')) for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
      const seen: Seen = { action: params.get('Action') ?? '', params };
      tap.log.push(seen);
      const verdict = tap.before?.(seen);
      const up = httpRequest({ host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        const out: Buffer[] = [];
        answer.on('data', (c: Buffer) => out.push(c));
        answer.on('end', () => {
          const text = Buffer.concat(out);
          try {
            seen.code = (JSON.parse(text.toString('utf8')) as { Code?: string }).Code;
          } catch {
            seen.code = 'unreadable';
          }
          tap.after?.(seen);
          if (verdict === 'hold') return void held.push(res);
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(text);
        });
      });
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const tap: Tap = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log: [],
    close: () =>
      new Promise((r) => {
        for (const h of held) h.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return tap;
}

let emu: Emulator;
let tap: Tap;
const FAST = Object.fromEntries(
  [
    'CreateCustomerGateway',
    'DescribeCustomerGateways',
    'DeleteCustomerGateway',
    'ModifyCustomerGatewayAttribute',
    'TagResources',
    'UnTagResources',
    'CreateVpnConnection',
    'ModifyVpnConnectionAttribute',
    'DeleteVpnConnection',
    'DescribeVpnGateway',
    'DescribeVpnGateways',
    'DescribeVpnConnection',
    'DescribeVpnConnections',
  ].map((a) => [a, 500]),
);
before(async () => {
  emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rates: FAST, seed: 7, quota: 1000, vpnTaskMs: TASK_MS, vpnConnectionQuota: 20, vpnGateways: GATEWAYS });
  tap = await startTap(emu);
});
after(async () => {
  await tap.close();
  await emu.close();
  for (const d of dirs) d.cleanup();
});

// --- what the cloud holds -------------------------------------------------------------------------------------------
interface Bgp {
  LocalAsn: number;
  TunnelCidr: string;
  LocalBgpIp: string;
}
interface Vco {
  VpnConnectionId: string;
  VpnGatewayId: string;
  CustomerGatewayId?: string;
  LocalSubnet: string[];
  RemoteSubnet: string[];
  Tags: Array<{ Key: string; Value: string }>;
  EnableBgp?: boolean;
  Bgp?: Bgp;
  EnableTunnelsBgp?: boolean;
  Ike?: { Psk: { fingerprint: string } };
  Tunnels?: Array<{ CustomerGatewayId: string; Ike: { Psk: { fingerprint: string } }; Bgp?: Bgp }>;
}
function region(): { gateways: Array<{ CustomerGatewayId: string; IpAddress: string; Asn?: number }>; vpnConnections: Vco[] } {
  return (emu.state() as any).accounts[DEFAULT_ACCOUNT.accountId].regions[REGION] ?? { gateways: [], vpnConnections: [] };
}
const cgwOf = (ip: string) => region().gateways.filter((g) => g.IpAddress === ip);
function connectionsOf(ip: string): Vco[] {
  const ids = new Set(cgwOf(ip).map((g) => g.CustomerGatewayId));
  return region().vpnConnections.filter((c) => (c.CustomerGatewayId && ids.has(c.CustomerGatewayId)) || c.Tunnels?.some((t) => ids.has(t.CustomerGatewayId)));
}
function requests(action: string): number {
  return Object.values<number>((emu.stats().actions as any)[action] ?? {}).reduce((a, b) => a + b, 0);
}

// --- every PSK the cloud held, and every byte the tool wrote: for the secret scan at the end ------------------------
const psks = new Set<string>([KEY_1, KEY_2]);
const outputs: Array<{ what: string; text: string }> = [];
const dirs: Array<ReturnType<typeof tempDir>> = [];
/** The clear PSKs the API returns (Describe answers carry them), read beside the tool, never through it. */
async function harvestPsks(): Promise<void> {
  const client = rpc(emu);
  const walk = (v: unknown, key = ''): void => {
    if (typeof v === 'string' && key === 'Psk') psks.add(v);
    else if (Array.isArray(v)) for (const x of v) walk(x);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  for (const g of GATEWAYS) walk(await client.request('DescribeVpnConnections', { RegionId: REGION, VpnGatewayId: g.VpnGatewayId, PageSize: 50 }, { method: 'POST' }));
}
/** The CLI, its output kept for the scan and the PSKs of what it made harvested. */
async function cli(args: string[], opts: Parameters<typeof runCli>[1] = {}): Promise<CliResult> {
  const r = await runCli(args, { timeoutMs: 120_000, ...opts });
  outputs.push({ what: `stdout of ${args[0]}`, text: r.stdout }, { what: `stderr of ${args[0]}`, text: r.stderr });
  await harvestPsks();
  return r;
}

// --- manifests ------------------------------------------------------------------------------------------------------
type Site = { ip: string; gw: string; remote: string; psk?: string; ip2?: string; local?: string; asn?: string; bgp?: [string, string]; bgp2?: [string, string] };
function csv(sites: Site[]): string {
  const head = 'region,ip,name,asn,vpn_gateway_id,local_subnet,remote_subnet,psk,ike_profile,ip_2,connection_name,tunnel_cidr,local_bgp_ip,tunnel_cidr_2,local_bgp_ip_2';
  const row = (s: Site) =>
    [REGION, s.ip, `site-${s.ip}`, s.asn ?? '', s.gw, s.local ?? '10.0.0.0/16', s.remote, s.psk ?? 'generate', 'strong', s.ip2 ?? '', `vco-${s.ip}`, s.bgp?.[0] ?? '', s.bgp?.[1] ?? '', s.bgp2?.[0] ?? '', s.bgp2?.[1] ?? ''].join(',');
  return [head, ...sites.map(row)].join('\n') + '\n';
}
const PROFILES = 'profiles:\n  strong:\n    ike_version: ikev2\n    ike_enc_alg: aes256\n    ike_auth_alg: sha256\n    ipsec_pfs: group14\n';

function setup(sites: Site[]) {
  const t = tempDir({ 'm.csv': csv(sites), 'profiles.yaml': PROFILES });
  dirs.push(t);
  return { t, file: t.path('m.csv'), dir: t.dir };
}

// --- plan == apply --------------------------------------------------------------------------------------------------
interface Part {
  action: string;
  reason?: string;
  changes?: Array<{ field: string }>;
}
interface Planned {
  key: string;
  action: string;
  reason: string;
  in_this_run: boolean;
  gateway2?: Part;
  connection?: Part;
}
const EXEC = new Set(['create', 'adopt', 'resume', 'retry', 'update', 'replace', 'delete']);

/** Every part a plan promises to carry out: `key cgw|cgw2|vco action`. */
function promised(rows: Planned[]): string[] {
  const out: string[] = [];
  for (const r of rows.filter((x) => x.in_this_run)) {
    if (EXEC.has(r.action)) out.push(`${r.key} cgw ${r.action}`);
    if (r.gateway2 && EXEC.has(r.gateway2.action)) out.push(`${r.key} cgw2 ${r.gateway2.action}`);
    if (r.connection && EXEC.has(r.connection.action)) out.push(`${r.key} vco ${r.connection.action}`);
  }
  return out.sort();
}

/** What apply carried out, from its row:done events: the same shape, each part with its action. */
function carried(results: any[]): string[] {
  const out: string[] = [];
  for (const x of results) {
    if (EXEC.has(x.action)) out.push(`${x.ref.key} cgw ${x.action}`);
    if (x.gateway2 && EXEC.has(x.gateway2.action)) out.push(`${x.ref.key} cgw2 ${x.gateway2.action}`);
    if (x.connection && EXEC.has(x.connection.action)) out.push(`${x.ref.key} vco ${x.connection.action}`);
  }
  return out.sort();
}

function readRun(r: CliResult): { plan: Planned[]; results: any[]; summary: any } {
  const lines = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  return { plan: lines.find((l) => l.type === 'plan')?.rows ?? [], results: lines.filter((l) => l.type === 'row:done').map((l) => l.result), summary: lines.find((l) => l.type === 'summary') };
}

const baseArgs = (file: string, dir: string) => [file, '--endpoint', tap.url, '--format', 'json', '--profiles', `${dir}/profiles.yaml`];

/** plan, then apply with the same flags: the same decisions, exactly those parts carried out, plan's exit predicts apply's. */
async function planThenApply(file: string, dir: string, flags: string[] = [], e = env()): Promise<{ plan: Planned[]; planCode: number; applyCode: number; results: any[] }> {
  const p = await cli(['plan', ...baseArgs(file, dir), ...flags], { env: e });
  assert.ok(p.code === 0 || p.code === 1, `plan: ${p.code} ${p.stderr}`);
  const planned = JSON.parse(p.stdout).rows as Planned[];
  const a = await cli(['apply', ...baseArgs(file, dir), '--yes', ...flags], { env: e });
  const run = readRun(a);
  const strip = (rows: Planned[]) => rows.map((r) => [r.key, r.action, r.connection?.action ?? '', r.gateway2?.action ?? '']);
  assert.deepEqual(strip(run.plan), strip(planned), 'plan and apply decided alike');
  if (p.code === 1) {
    assert.equal(a.code, 1, `plan exit 1 predicts that apply refuses: ${a.stderr}`);
    assert.deepEqual(run.results, []);
  } else {
    assert.deepEqual(carried(run.results), promised(planned), 'apply carried out exactly the printed plan');
    assert.equal(a.code, 0, `apply: ${a.stderr}`);
  }
  return { plan: planned, planCode: p.code!, applyCode: a.code!, results: run.results };
}

/** A plan alone (where apply would have nothing to do): its rows. */
async function planOnly(file: string, dir: string, e = env()): Promise<Planned[]> {
  const p = await cli(['plan', ...baseArgs(file, dir)], { env: e });
  assert.equal(p.code, 0, p.stderr);
  return JSON.parse(p.stdout).rows as Planned[];
}

/** Connections go before the customer gateways they hold: each delete of a connection precedes its gateways' deletes. */
function assertConnectionsFirst(holders: Map<string, string[]>, log: Seen[]): void {
  const at = (action: string, param: string, id: string) => log.findIndex((s) => s.action === action && s.params.get(param) === id && s.code === undefined);
  for (const [vco, cgws] of holders) {
    const v = at('DeleteVpnConnection', 'VpnConnectionId', vco);
    assert.ok(v >= 0, `${vco} deleted`);
    for (const cgw of cgws) assert.ok(at('DeleteCustomerGateway', 'CustomerGatewayId', cgw) > v, `${cgw} deleted after ${vco}`);
  }
  assert.deepEqual(
    log.filter((s) => s.action === 'DeleteCustomerGateway' && s.code !== undefined).map((s) => s.code),
    [],
    'no customer gateway delete was refused (DependencyViolation.VpnConnection)',
  );
}
function holdersOf(ips: string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const ip of ips) for (const c of connectionsOf(ip)) m.set(c.VpnConnectionId, c.Tunnels ? c.Tunnels.map((t) => t.CustomerGatewayId) : [c.CustomerGatewayId!]);
  return m;
}

describe('site scenario matrix', () => {
  it('fresh: single and dual tunnel, static and BGP, ip_2; then partial; then nothing to do; reports and status name every resource', async () => {
    const sites: Site[] = [
      { ip: '198.18.1.1', gw: GW_A, remote: '192.168.1.0/24' },
      { ip: '198.18.1.2', gw: GW_A, remote: '192.168.2.0/24', psk: 'env:SITE_KEY' },
      { ip: '198.18.1.3', gw: GW_D, remote: '192.168.3.0/24', ip2: '198.18.1.4' },
      { ip: '198.18.1.6', gw: GW_A, remote: '192.168.6.0/24', asn: '65010', bgp: ['169.254.10.0/30', '169.254.10.1'] },
      { ip: '198.18.1.7', gw: GW_D, remote: '192.168.7.0/24', ip2: '198.18.1.8', asn: '65011', bgp: ['169.254.11.0/30', '169.254.11.1'], bgp2: ['169.254.12.0/30', '169.254.12.2'] },
    ];
    const { file, dir } = setup(sites);
    const fresh = await planThenApply(file, dir);
    assert.deepEqual(
      fresh.plan.map((r) => [r.action, r.connection?.action, r.gateway2?.action]),
      [
        ['create', 'create', undefined],
        ['create', 'create', undefined],
        ['create', 'create', 'create'],
        ['create', 'create', undefined],
        ['create', 'create', 'create'],
      ],
    );
    for (const s of sites) assert.equal(connectionsOf(s.ip).length, 1, `one connection for ${s.ip}`);
    const dual = connectionsOf('198.18.1.3')[0]!;
    assert.deepEqual(
      dual.Tunnels?.map((x) => x.CustomerGatewayId),
      [cgwOf('198.18.1.3')[0]!.CustomerGatewayId, cgwOf('198.18.1.4')[0]!.CustomerGatewayId],
    );
    assert.equal(connectionsOf('198.18.1.2')[0]!.Ike?.Psk.fingerprint, emu.fingerprint(KEY_1), 'the env:SITE_KEY value was sent');
    assert.match(connectionsOf('198.18.1.1')[0]!.Tags.find((x) => x.Key === 'cgw-batch:site')?.Value ?? '', /:cn-hangzhou\/198\.18\.1\.1$/);
    // BGP: the customer gateway carries the ASN, the connection the tunnel's /30 and the gateway's side in it.
    const bgp = connectionsOf('198.18.1.6')[0]!;
    assert.equal(cgwOf('198.18.1.6')[0]!.Asn, 65010);
    assert.deepEqual([bgp.EnableBgp, bgp.Bgp?.TunnelCidr, bgp.Bgp?.LocalBgpIp], [true, '169.254.10.0/30', '169.254.10.1']);
    const dualBgp = connectionsOf('198.18.1.7')[0]!;
    assert.equal(dualBgp.EnableTunnelsBgp, true);
    assert.deepEqual(
      dualBgp.Tunnels?.map((x) => [x.CustomerGatewayId, x.Bgp?.TunnelCidr, x.Bgp?.LocalBgpIp]),
      [
        [cgwOf('198.18.1.7')[0]!.CustomerGatewayId, '169.254.11.0/30', '169.254.11.1'],
        [cgwOf('198.18.1.8')[0]!.CustomerGatewayId, '169.254.12.0/30', '169.254.12.2'],
      ],
    );
    assert.deepEqual([cgwOf('198.18.1.7')[0]!.Asn, cgwOf('198.18.1.8')[0]!.Asn], [65011, 65011]);

    const status = await cli(['status', file, '--format', 'json', '--profiles', `${dir}/profiles.yaml`], { env: env() });
    const st = JSON.parse(status.stdout).rows as any[];
    assert.deepEqual(
      st.map((r) => [r.outcome, r.connection_status, r.connection_state, r.customer_gateway_id_2 !== null]),
      [false, false, true, false, true].map((two) => ['created', 'created', 'provisioned', two]),
    );
    const csvOut = readFileSync(`${file}.results/results.csv`, 'utf8');
    for (const r of st) assert.ok(csvOut.includes(r.vpn_connection_id), 'results.csv has each connection id');

    writeFileSync(file, csv([...sites, { ip: '198.18.1.5', gw: GW_B, remote: '192.168.5.0/24' }]));
    const partial = await planThenApply(file, dir);
    assert.deepEqual(promised(partial.plan), ['cn-hangzhou/198.18.1.5 cgw create', 'cn-hangzhou/198.18.1.5 vco create']);
    assert.deepEqual(promised(await planOnly(file, dir)), [], 'nothing left to do');
    assert.equal(connectionsOf('198.18.1.5').length, 1);
  });

  it('a busy VPN gateway (VpnGateway.Configuring): the executor waits until it is active, then sends the same request again', async () => {
    const { file, dir } = setup([{ ip: '198.18.5.1', gw: GW_C, remote: '192.168.51.0/24' }]);
    const spec = GATEWAYS.find((g) => g.VpnGatewayId === GW_C)!;
    let phase: 'armed' | 'busy' | 'released' = 'armed';
    tap.log = [];
    // Someone else's task starts between the executor's look at the gateway and its write...
    tap.before = (s) => {
      if (phase === 'armed' && s.action === 'CreateVpnConnection' && s.params.get('VpnGatewayId') === GW_C) {
        emu.addVpnGateway({ ...spec, Status: 'updating' });
        phase = 'busy';
      }
      return undefined;
    };
    // ...and ends once the executor has seen it busy (its next look finds it active): no wall-clock race.
    tap.after = (s) => {
      if (phase === 'busy' && s.action === 'DescribeVpnGateway' && s.params.get('VpnGatewayId') === GW_C) {
        emu.addVpnGateway({ ...spec, Status: 'active' });
        phase = 'released';
      }
    };
    let run: Awaited<ReturnType<typeof planThenApply>>;
    try {
      run = await planThenApply(file, dir);
    } finally {
      tap.before = undefined;
      tap.after = undefined;
      emu.addVpnGateway({ ...spec, Status: 'active' });
    }
    assert.equal(phase, 'released');
    const creates = tap.log.filter((s) => s.action === 'CreateVpnConnection');
    assert.deepEqual(
      creates.map((s) => s.code),
      ['VpnGateway.Configuring', undefined],
      'refused while busy, accepted once active',
    );
    assert.equal(creates[1]!.params.get('ClientToken'), creates[0]!.params.get('ClientToken'), 'the same request again (same ClientToken)');
    const between = tap.log.slice(tap.log.indexOf(creates[0]!) + 1, tap.log.indexOf(creates[1]!));
    assert.ok(between.filter((s) => s.action === 'DescribeVpnGateway').length >= 2, 'it waited on DescribeVpnGateway (busy, then active) before sending again');
    assert.equal(run.results[0].connection.status, 'created');
    assert.equal(connectionsOf('198.18.5.1').length, 1);
  });

  it('kill -9 between the journaled intent and the answer of CreateVpnConnection: the rerun resumes it, one connection per site', async () => {
    const sites: Site[] = Array.from({ length: 4 }, (_, i) => ({ ip: `198.18.2.${i + 1}`, gw: i % 2 ? GW_A : GW_B, remote: `192.168.${20 + i}.0/24` }));
    const { file, dir } = setup(sites);
    const journal = `${file}.state.jsonl`;
    let held: Seen | undefined;
    let intentFirst = false;
    let committed = false;
    // The first CreateVpnConnection reaches the cloud (which makes the connection), its answer never comes back.
    tap.before = (s) => {
      if (held || s.action !== 'CreateVpnConnection') return undefined;
      held = s;
      intentFirst = readFileSync(journal, 'utf8').includes(`"connection":{"status":"in-flight","token":"${s.params.get('ClientToken')}"`);
      return 'hold';
    };
    tap.after = (s) => {
      if (s === held) committed = true;
    };
    try {
      const killed = await cli(['apply', ...baseArgs(file, dir), '--yes'], { env: env(), killWhen: () => committed });
      assert.equal(killed.signal, 'SIGKILL');
    } finally {
      tap.before = undefined;
      tap.after = undefined;
    }
    assert.ok(held && held.code === undefined, 'the cloud made the connection whose answer was lost');
    assert.ok(intentFirst, 'the intent, with the very ClientToken sent, was durable in the journal before the send');
    const heldIp = region().gateways.find((g) => g.CustomerGatewayId === held!.params.get('CustomerGatewayId'))!.IpAddress;
    const madeId = connectionsOf(heldIp)[0]!.VpnConnectionId;

    const rerun = await planThenApply(file, dir);
    assert.equal(rerun.plan.find((r) => r.key === `${REGION}/${heldIp}`)?.connection?.action, 'resume', 'the interrupted create is resumed');
    for (const s of sites) {
      assert.equal(cgwOf(s.ip).length, 1);
      assert.equal(connectionsOf(s.ip).length, 1, `exactly one connection for ${s.ip}`);
    }
    assert.equal(connectionsOf(heldIp)[0]!.VpnConnectionId, madeId, 'the connection made before the kill is the one kept');
    assert.ok(readFileSync(journal, 'utf8').includes(madeId), 'and the journal records it');
    assert.deepEqual(promised(await planOnly(file, dir)), [], 'nothing left to do');
  });

  // The answer lost after the commit in a live run (terraform-provider-alicloud #4808); the kill test holds one back.
  it('a create committed and answered 500 (CreateVpnConnection) is settled in the same run: one connection, recorded', async () => {
    const ip = '198.18.3.2';
    const { file, dir } = setup([{ ip, gw: GW_A, remote: '192.168.32.0/24' }]);
    emu.configure({ faults: { 'commit-500': 1 }, faultActions: ['CreateVpnConnection'] });
    const before = requests('CreateVpnConnection');
    try {
      const run = await planThenApply(file, dir);
      assert.equal(run.results[0].connection.status, 'created');
      assert.match(run.results[0].connection.note ?? '', /made by an earlier attempt/);
      assert.equal(requests('CreateVpnConnection') - before, 1, 'settled by listing, not by sending again');
    } finally {
      emu.configure({ faults: {}, faultActions: [] });
    }
    assert.equal(connectionsOf(ip).length, 1);
    assert.ok(readFileSync(`${file}.state.jsonl`, 'utf8').includes(connectionsOf(ip)[0]!.VpnConnectionId), 'the journal records the connection');
  });

  it('day 2: PSK rotated, subnet changed (Modify with only those), VPN gateway changed (replace), pruned row, destroy (connections first)', async () => {
    const sites: Site[] = [
      { ip: '198.18.4.1', gw: GW_A, remote: '192.168.41.0/24', psk: 'env:SITE_KEY' },
      { ip: '198.18.4.2', gw: GW_A, remote: '192.168.42.0/24' },
      { ip: '198.18.4.3', gw: GW_B, remote: '192.168.43.0/24' },
    ];
    const { file, dir } = setup(sites);
    await planThenApply(file, dir);
    const first = connectionsOf('198.18.4.1')[0]!.VpnConnectionId;
    const e2 = env({ SITE_KEY: KEY_2 });

    // PSK rotated: the variable now holds another key; the plan sees it by fingerprint, apply sends it.
    const modifies = requests('ModifyVpnConnectionAttribute');
    const rotated = await planThenApply(file, dir, [], e2);
    const r1 = rotated.plan.find((r) => r.key.endsWith('198.18.4.1'))!;
    assert.equal(r1.connection?.action, 'update');
    assert.deepEqual(
      r1.connection?.changes?.map((c) => c.field),
      ['psk'],
    );
    assert.equal(connectionsOf('198.18.4.1')[0]!.Ike?.Psk.fingerprint, emu.fingerprint(KEY_2));
    assert.equal(connectionsOf('198.18.4.1')[0]!.VpnConnectionId, first, 'changed in place');
    assert.equal(requests('ModifyVpnConnectionAttribute') - modifies, 1);

    // Subnet changed.
    sites[1] = { ...sites[1]!, remote: '192.168.142.0/24' };
    writeFileSync(file, csv(sites));
    const subnet = await planThenApply(file, dir, [], e2);
    const r2 = subnet.plan.find((r) => r.key.endsWith('198.18.4.2'))!;
    assert.deepEqual([r2.action, r2.connection?.action], ['skip', 'update']);
    assert.deepEqual(connectionsOf('198.18.4.2')[0]!.RemoteSubnet, ['192.168.142.0/24']);

    // VPN gateway changed: blocked without --allow-replace; with it, deleted on the old gateway, created on the new.
    sites[2] = { ...sites[2]!, gw: GW_A };
    writeFileSync(file, csv(sites));
    const blocked = await planThenApply(file, dir, [], e2);
    assert.equal(blocked.planCode, 1);
    const oldId = connectionsOf('198.18.4.3')[0]!.VpnConnectionId;
    const replaced = await planThenApply(file, dir, ['--allow-replace'], e2);
    assert.equal(replaced.plan.find((r) => r.key.endsWith('198.18.4.3'))?.connection?.action, 'replace');
    const now = connectionsOf('198.18.4.3');
    assert.equal(now.length, 1);
    assert.notEqual(now[0]!.VpnConnectionId, oldId);
    assert.equal(now[0]!.VpnGatewayId, GW_A);

    // Pruned row: blocked without --prune; with it, the connection goes first, then its customer gateway.
    const pruned = sites.slice(0, 2);
    writeFileSync(file, csv(pruned));
    // (that plan's exit 1 stopping apply is shown with the replace above; here the plan alone)
    const noPrune = await cli(['plan', ...baseArgs(file, dir)], { env: e2 });
    assert.equal(noPrune.code, 1, noPrune.stderr);
    assert.equal((JSON.parse(noPrune.stdout).rows as Planned[]).find((r) => r.key.endsWith('198.18.4.3'))?.connection?.action, 'blocked');
    let holders = holdersOf(['198.18.4.3']);
    tap.log = [];
    const prune = await planThenApply(file, dir, ['--prune'], e2);
    assert.deepEqual(promised(prune.plan), ['cn-hangzhou/198.18.4.3 cgw delete', 'cn-hangzhou/198.18.4.3 vco delete']);
    assertConnectionsFirst(holders, tap.log);
    assert.equal(cgwOf('198.18.4.3').length, 0);
    assert.equal(connectionsOf('198.18.4.3').length, 0);

    // destroy: connections first, then the customer gateways they held.
    holders = holdersOf(pruned.map((s) => s.ip));
    assert.equal(holders.size, 2);
    tap.log = [];
    const d = await cli(['destroy', file, '--endpoint', tap.url, '--yes', '--format', 'json'], { env: e2 });
    assert.equal(d.code, 0, d.stderr);
    assertConnectionsFirst(holders, tap.log);
    for (const s of sites) {
      assert.equal(cgwOf(s.ip).length, 0);
      assert.equal(connectionsOf(s.ip).length, 0);
    }
    const status = JSON.parse((await cli(['status', file, '--format', 'json', '--profiles', `${dir}/profiles.yaml`], { env: e2 })).stdout).rows as any[];
    assert.deepEqual(
      status.map((r) => [r.status, r.connection_status]),
      [
        ['deleted', 'deleted'],
        ['deleted', 'deleted'],
      ],
    );
  });

  it('secret scan: no PSK (env: or generated) in stdout, stderr, journal, results.csv/json/xlsx, junit or runs/*.json', async () => {
    const generated = [...psks].filter((k) => k !== KEY_1 && k !== KEY_2);
    assert.ok(generated.length >= 10, `the scenarios made connections with generated keys (${generated.length})`);
    const texts = [...outputs];
    const files = dirs.flatMap((d) => filesUnder(d.dir));
    for (const f of files) {
      texts.push({ what: f, text: readFileSync(f, 'utf8') });
      if (f.endsWith('.xlsx')) texts.push({ what: `${f} (cells)`, text: await xlsxText(f) });
    }
    const names = files.map((f) => f.replace(/^.*\.results\//, '').replace(/^.*\//, ''));
    for (const want of ['m.csv.state.jsonl', 'results.csv', 'results.json', 'results.xlsx', 'junit.xml']) assert.ok(names.includes(want), `${want} was written and scanned`);
    assert.ok(files.some((f) => /\/runs\/[^/]+\.json$/.test(f)), 'runs/*.json was written and scanned');
    for (const { what, text } of texts) {
      for (const k of psks) assert.ok(!text.includes(k) && !text.includes(JSON.stringify(k).slice(1, -1)), `a PSK (${k.length} characters) in ${what}`);
    }
  });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

async function xlsxText(file: string): Promise<string> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const parts: string[] = [];
  wb.eachSheet((ws) => ws.eachRow((row) => row.eachCell((c) => parts.push(c.text))));
  return parts.join('\n');
}
