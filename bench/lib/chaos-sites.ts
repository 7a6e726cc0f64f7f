// Chaos soak for sites: apply a site manifest under commit-drop and commit-500 faults, SIGKILLed at random moments and
// restarted until done; then audit the emulator against the journal (one customer gateway per IP, one connection per
// site, nothing the journal does not know, every connection active).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ACCOUNT, startEmulator } from '../../src/emulator/index.js';
import { seededRandom } from '../../src/clock.js';
import { readJournal } from '../../src/state/journal.js';
import { benchIp } from './manifest.js';
import { EMULATOR_CLI_ENV, runCli } from './spawn.js';

export interface SitesChaosOptions {
  sites: number;
  minKills: number;
  seed?: number;
  /** Probability of each of commit-drop and commit-500 per mutating request. */
  faultRate?: number;
  /** The VPN gateway task (ms): short, so a run is seconds and the kills land inside connection writes. */
  taskMs?: number;
  maxRuns?: number;
  log?: (s: string) => void;
}

export interface SitesChaosSummary {
  sites: number;
  kills: number;
  /** Kills that left a connection write in flight (its intent journaled, its outcome unknown): the worst moment. */
  killsMidConnection: number;
  runs: number;
  faults: number;
  customerGateways: number;
  connections: number;
  duplicateGateways: number;
  duplicateConnections: number;
  lost: number;
  unknownToJournal: number;
  journalMismatches: number;
  notActive: number;
  line: string;
}

const REGIONS = ['cn-hangzhou', 'cn-shanghai'];
/** Per region: two single-tunnel gateways and one dual-tunnel gateway (its sites bring ip_2). */
const GATEWAYS = REGIONS.flatMap((r, i) =>
  [0, 1, 2].map((k) => ({
    RegionId: r,
    VpnGatewayId: `vpn-chaos${i}${k}`.padEnd(21, '0'),
    InternetIp: `47.97.${i}.${10 + k}`,
    ...(k === 2 ? { DisasterRecoveryInternetIp: `47.97.${i}.${20 + k}` } : {}),
  })),
);

interface Site {
  region: string;
  ip: string;
  ip2?: string;
  gateway: string;
}

export async function runSitesChaos(o: SitesChaosOptions): Promise<SitesChaosSummary> {
  const log = o.log ?? (() => {});
  const random = seededRandom(o.seed ?? 1);
  const p = o.faultRate ?? 0.06;
  const perGateway = Math.ceil(o.sites / GATEWAYS.length);
  const emu = await startEmulator({
    accounts: [DEFAULT_ACCOUNT],
    seed: o.seed ?? 1,
    faults: { 'commit-drop': p, 'commit-500': p },
    latency: { minMs: 1, maxMs: 15 },
    // Scaled up from the published 2/s so a soak fits in minutes; reads stay well above the writes.
    rates: { CreateCustomerGateway: 10, CreateVpnConnection: 10, DescribeCustomerGateways: 50, DescribeVpnConnections: 50, DescribeVpnGateway: 50, DescribeVpnGateways: 50, TagResources: 20 },
    quota: Math.max(100, o.sites * 2),
    vpnTaskMs: o.taskMs ?? 300,
    vpnConnectionQuota: Math.max(10, perGateway),
    vpnGateways: GATEWAYS,
  });
  const sites: Site[] = Array.from({ length: o.sites }, (_, i) => {
    const g = GATEWAYS[i % GATEWAYS.length]!;
    return { region: g.RegionId, ip: benchIp(i + 1), gateway: g.VpnGatewayId, ...(g.DisasterRecoveryInternetIp ? { ip2: benchIp(10_000 + i + 1) } : {}) };
  });
  const dir = mkdtempSync(join(tmpdir(), 'cgw-chaos-sites-'));
  const csv = join(dir, 'sites.csv');
  const lines = ['region,ip,name,vpn_gateway_id,local_subnet,remote_subnet,psk,ip_2'];
  sites.forEach((s, i) => lines.push(`${s.region},${s.ip},site-${i + 1},${s.gateway},10.0.0.0/16,172.${16 + (i >> 8)}.${i & 255}.0/24,generate,${s.ip2 ?? ''}`));
  writeFileSync(csv, lines.join('\n') + '\n');
  const state = join(dir, 'sites.csv.state.jsonl');
  const args = ['apply', csv, '--endpoint', emu.url, '--yes', '--quiet', '--timeout', '800', '--report-dir', join(dir, 'reports')];
  let kills = 0;
  let killsMidConnection = 0;
  let runs = 0;
  const maxRuns = o.maxRuns ?? o.minKills * 4 + 20;
  try {
    for (;;) {
      if (runs >= maxRuns) throw new Error(`chaos (sites): not done after ${runs} runs`);
      runs++;
      // From start-up through planning to deep inside the connection lanes.
      const killAfterMs = kills < o.minKills ? 200 + Math.floor(random() * 3000) : undefined;
      const r = await runCli(args, EMULATOR_CLI_ENV, { killAfterMs });
      if (r.signal === 'SIGKILL') {
        kills++;
        const inFlight = [...((await readJournal(state).catch(() => undefined))?.rows.values() ?? [])].filter((x) => x.connection?.status === 'in-flight').length;
        if (inFlight > 0) killsMidConnection++;
        log(`sites run ${runs}: killed after ${killAfterMs} ms${inFlight > 0 ? ` with ${inFlight} connection write(s) in flight` : ''}`);
        continue;
      }
      if (r.code === 0) {
        log(`sites run ${runs}: done`);
        break;
      }
      if (r.code === 1) {
        log(`sites run ${runs}: exit 1 (rows left for the next run)`);
        continue;
      }
      throw new Error(`chaos (sites): apply exited ${r.code} (signal ${r.signal}): ${r.stderr.slice(-1500)}`);
    }

    // The cloud as the emulator holds it.
    const reg = (emu.state() as any).accounts?.[DEFAULT_ACCOUNT.accountId]?.regions ?? {};
    const cgws: Array<{ CustomerGatewayId: string; IpAddress: string }> = [];
    const vcos: Array<{ VpnConnectionId: string; State: string; CustomerGatewayId?: string; Tunnels?: Array<{ CustomerGatewayId: string }> }> = [];
    for (const r of Object.values<any>(reg)) {
      cgws.push(...(r.gateways ?? []));
      vcos.push(...(r.vpnConnections ?? []));
    }
    const idsByIp = new Map<string, string[]>();
    for (const g of cgws) idsByIp.set(g.IpAddress, [...(idsByIp.get(g.IpAddress) ?? []), g.CustomerGatewayId]);
    const duplicateGateways = [...idsByIp.values()].reduce((a, ids) => a + ids.length - 1, 0);
    const cgwsOf = (v: (typeof vcos)[number]) => v.Tunnels?.map((t) => t.CustomerGatewayId) ?? [v.CustomerGatewayId ?? ''];
    const vcosBySite = new Map<string, typeof vcos>();
    for (const s of sites) {
      const mine = new Set(idsByIp.get(s.ip) ?? []);
      vcosBySite.set(
        s.ip,
        vcos.filter((v) => mine.has(cgwsOf(v)[0]!)),
      );
    }
    const duplicateConnections = [...vcosBySite.values()].reduce((a, l) => a + Math.max(0, l.length - 1), 0);
    const lost = sites.filter((s) => !idsByIp.has(s.ip) || (s.ip2 && !idsByIp.has(s.ip2)) || vcosBySite.get(s.ip)!.length === 0).length;
    const notActive = vcos.filter((v) => v.State !== 'active').length;

    // journal = cloud: every site's gateways and connection recorded with the cloud's ids, and nothing else there.
    const journal = await readJournal(state);
    const rows = journal?.rows ?? new Map();
    const ok = (st: string | undefined) => st === 'created' || st === 'adopted';
    let journalMismatches = 0;
    for (const s of sites) {
      const row = rows.get(`${s.region}/${s.ip}`);
      const row2 = s.ip2 ? rows.get(`${s.region}/${s.ip2}`) : undefined;
      const vco = vcosBySite.get(s.ip)![0];
      const bad =
        !row ||
        !ok(row.status) ||
        row.gatewayId !== idsByIp.get(s.ip)?.[0] ||
        !ok(row.connection?.status) ||
        row.connection?.connectionId !== vco?.VpnConnectionId ||
        (s.ip2 !== undefined && (!row2 || !ok(row2.status) || row2.gatewayId !== idsByIp.get(s.ip2)?.[0] || cgwsOf(vco!)[1] !== row2.gatewayId));
      if (bad) journalMismatches++;
    }
    const knownGateways = new Set([...rows.values()].map((r) => r.gatewayId).filter(Boolean));
    const knownConnections = new Set([...rows.values()].map((r) => r.connection?.connectionId).filter(Boolean));
    const unknownToJournal = cgws.filter((g) => !knownGateways.has(g.CustomerGatewayId)).length + vcos.filter((v) => !knownConnections.has(v.VpnConnectionId)).length;

    let faults = 0;
    for (const per of Object.values<any>((emu.stats() as any).actions ?? {})) for (const [k, n] of Object.entries<any>(per)) if (k.startsWith('fault:')) faults += n;
    const line =
      `chaos (sites): sites=${o.sites} (${sites.filter((s) => s.ip2).length} dual with ip_2) on ${GATEWAYS.length} VPN gateways, kills=${kills} (${killsMidConnection} with a connection write in flight) runs=${runs} ` +
      `commit faults=${faults} | customer gateways=${cgws.length} connections=${vcos.length} duplicate gateways=${duplicateGateways} ` +
      `duplicate connections=${duplicateConnections} lost=${lost} unknown to the journal=${unknownToJournal} journal mismatches=${journalMismatches} not active=${notActive}`;
    return { sites: o.sites, kills, killsMidConnection, runs, faults, customerGateways: cgws.length, connections: vcos.length, duplicateGateways, duplicateConnections, lost, unknownToJournal, journalMismatches, notActive, line };
  } finally {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
