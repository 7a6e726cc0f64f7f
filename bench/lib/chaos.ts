// Chaos soak: apply under every fault kind, SIGKILLed at random moments and restarted until done; then audit the emulator.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { DEFAULT_ACCOUNT, startEmulator } from '../../src/emulator/index.js';
import { seededRandom } from '../../src/clock.js';
import { readJournal } from '../../src/state/journal.js';
import { BENCH_REGIONS, benchCsv, benchIp } from './manifest.js';
import { EMULATOR_CLI_ENV, runCli } from './spawn.js';

export interface ChaosOptions {
  rows: number;
  minKills: number;
  regions?: number;
  seed?: number;
  /** Create requests per second per region on the emulator (scaled up from the published 2/s so a soak fits in minutes). */
  rate?: number;
  /** Total probability of a fault per request, spread over every kind. */
  faultRate?: number;
  maxRuns?: number;
  log?: (s: string) => void;
}

export interface ChaosSummary {
  rows: number;
  kills: number;
  runs: number;
  requests: Record<string, number>;
  gateways: number;
  duplicates: number;
  extra: number;
  lost: number;
  tokenReuseAcrossRows: number;
  journalMismatches: number;
  statusMismatches: number;
  reportMismatches: number;
  line: string;
}

const FAULT_KINDS = ['conflict', 'unavailable', 'internal', 'html', 'empty', 'reset', 'hang', 'commit-drop', 'throttle'] as const;

export async function runChaos(o: ChaosOptions): Promise<ChaosSummary> {
  const log = o.log ?? (() => {});
  const random = seededRandom(o.seed ?? 1);
  const each = (o.faultRate ?? 0.15) / FAULT_KINDS.length;
  const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, each]));
  const regions = BENCH_REGIONS.slice(0, o.regions ?? 3);
  const rate = o.rate ?? 40;
  const emu = await startEmulator({
    accounts: [DEFAULT_ACCOUNT],
    seed: o.seed ?? 1,
    faults,
    latency: { minMs: 1, maxMs: 15 },
    rates: { CreateCustomerGateway: rate, DescribeCustomerGateways: rate * 5, DescribeRegions: 1000 },
    quota: Math.max(100, o.rows),
  });
  const dir = mkdtempSync(join(tmpdir(), 'cgw-chaos-'));
  const csv = join(dir, 'chaos.csv');
  writeFileSync(csv, benchCsv(o.rows, regions));
  const state = join(dir, 'chaos.csv.state.jsonl');
  const reports = join(dir, 'reports');
  const env = EMULATOR_CLI_ENV;
  const args = ['apply', csv, '--endpoint', emu.url, '--yes', '--quiet', '--timeout', '800', '--report-dir', reports, '--concurrency', '8', '--quota', String(Math.max(100, o.rows))];
  let kills = 0;
  let runs = 0;
  const maxRuns = o.maxRuns ?? o.minKills * 4 + 20;
  try {
    for (;;) {
      if (runs >= maxRuns) throw new Error(`chaos: not done after ${runs} runs`);
      runs++;
      const killing = kills < o.minKills;
      // Kill anywhere from start-up through planning to deep inside the apply.
      const killAfterMs = killing ? 150 + Math.floor(random() * 1800) : undefined;
      const r = await runCli(args, env, { killAfterMs });
      if (r.signal === 'SIGKILL') {
        kills++;
        log(`run ${runs}: killed after ${killAfterMs} ms`);
        continue;
      }
      if (r.code === 0) {
        log(`run ${runs}: done`);
        break;
      }
      if (r.code === 1) {
        log(`run ${runs}: exit 1 (rows left for the next run)`);
        continue;
      }
      throw new Error(`chaos: apply exited ${r.code} (signal ${r.signal}): ${r.stderr.slice(-1500)}`);
    }

    // Audit against the emulator's own state.
    const dump = emu.state() as any;
    const gws: Array<{ CustomerGatewayId: string; IpAddress: string; ClientTokens?: string[] }> = [];
    for (const acc of Object.values<any>(dump.accounts ?? {})) for (const reg of Object.values<any>(acc.regions ?? {})) gws.push(...(reg.gateways ?? []));
    const expected = new Set(Array.from({ length: o.rows }, (_, i) => benchIp(i + 1)));
    const perIp = new Map<string, string[]>();
    for (const g of gws) perIp.set(g.IpAddress, [...(perIp.get(g.IpAddress) ?? []), g.CustomerGatewayId]);
    const duplicates = [...perIp.values()].reduce((a, ids) => a + ids.length - 1, 0);
    const extra = gws.filter((g) => !expected.has(g.IpAddress)).length;
    const lost = [...expected].filter((ip) => !perIp.has(ip)).length;
    const tokenOwner = new Map<string, string>();
    let tokenReuseAcrossRows = 0;
    for (const g of gws) {
      for (const t of g.ClientTokens ?? []) {
        const owner = tokenOwner.get(t);
        if (owner !== undefined && owner !== g.IpAddress) tokenReuseAcrossRows++;
        tokenOwner.set(t, g.IpAddress);
      }
    }
    const idByIp = new Map(gws.map((g) => [g.IpAddress, g.CustomerGatewayId]));

    const journal = await readJournal(state);
    let journalMismatches = 0;
    for (const ip of expected) {
      const row = [...(journal?.rows.values() ?? [])].find((r) => r.ip === ip);
      if (!row || (row.status !== 'created' && row.status !== 'adopted') || row.gatewayId !== idByIp.get(ip)) journalMismatches++;
    }
    const status = await runCli(['status', csv, '--format', 'json'], env);
    const statusRows = (JSON.parse(status.stdout) as { rows: Array<{ ip: string; status: string; customer_gateway_id: string | null }> }).rows;
    const statusMismatches = [...expected].filter((ip) => {
      const s = statusRows.find((r) => r.ip === ip);
      return !s || (s.status !== 'created' && s.status !== 'adopted') || s.customer_gateway_id !== idByIp.get(ip);
    }).length;
    const records = parse(readFileSync(join(reports, 'results.csv')), { bom: true, columns: true }) as Array<Record<string, string>>;
    const reportMismatches = [...expected].filter((ip) => {
      const rec = records.find((r) => r.ip === ip);
      return !rec || !['created', 'adopted', 'skipped'].includes(rec.status ?? '') || rec.customer_gateway_id !== idByIp.get(ip);
    }).length;

    const stats = emu.stats() as any;
    const requests: Record<string, number> = {};
    for (const [action, per] of Object.entries<any>(stats.actions ?? stats)) {
      if (typeof per !== 'object' || per === null) continue;
      for (const [outcome, n] of Object.entries<any>(per)) if (typeof n === 'number') requests[outcome] = (requests[outcome] ?? 0) + n;
      void action;
    }
    const byOutcome = Object.entries(requests)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const line =
      `chaos: rows=${o.rows} kills=${kills} runs=${runs} requests: ${byOutcome} | gateways=${gws.length} duplicates=${duplicates} ` +
      `extra=${extra} lost=${lost} token-reuse-across-rows=${tokenReuseAcrossRows} journal/status/report mismatches=${journalMismatches}/${statusMismatches}/${reportMismatches}`;
    return { rows: o.rows, kills, runs, requests, gateways: gws.length, duplicates, extra, lost, tokenReuseAcrossRows, journalMismatches, statusMismatches, reportMismatches, line };
  } finally {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
