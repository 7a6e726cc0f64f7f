// Team soak: several runners (separate checkouts of one manifest) apply one estate over a shared backend at once,
// holders SIGKILLed at random; then the cloud is audited against the shared journal. Takeovers are timed from the
// kill to the moment the store names the next holder.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../../src/clock.js';
import { DEFAULT_ACCOUNT, startEmulator } from '../../src/emulator/index.js';
import { startOssEmulator } from '../../src/emulator/oss/server.js';
import { openBackend, parseStateLocation } from '../../src/state/backend/index.js';
import type { StateBackend } from '../../src/state/backend/types.js';
import { readState } from '../../src/state/journal.js';
import { startPgServer } from '../../test/state/backend/pg-server.js';
import { BENCH_REGIONS, benchCsv, benchIp } from './manifest.js';
import { repoRoot } from './paths.js';
import { EMULATOR_CLI_ENV, runCli } from './spawn.js';

export interface TeamChaosOptions {
  backend: 'postgres' | 'oss';
  rows: number;
  runners: number;
  /** Holders to SIGKILL (each while it holds the lease, with work left). */
  kills: number;
  /** The lease's ttl (?ttl= in the state URL). */
  ttlMs: number;
  /** Create requests per second per region on the emulator: slow enough that holders die mid-apply. */
  rate: number;
  faultRate: number;
  seed: number;
  log?: (s: string) => void;
}

export interface TeamChaosSummary {
  backend: string;
  rows: number;
  runners: number;
  kills: number;
  runs: number;
  takeoversMs: number[];
  gateways: number;
  duplicates: number;
  extra: number;
  lost: number;
  tokenReuseAcrossRows: number;
  journalMismatches: number;
  statusMismatches: number;
  wallMs: number;
  line: string;
}

const FAULT_KINDS = ['conflict', 'unavailable', 'internal', 'html', 'empty', 'reset', 'hang', 'commit-drop', 'throttle'] as const;

interface Running {
  pid: number;
  kill: () => void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function startApply(args: string[], env: Record<string, string>, cwd: string): Running {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'cgw-batch.js'), ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return {
    pid: child.pid ?? 0,
    kill: () => child.kill('SIGKILL'),
    exited: new Promise((r) => child.on('close', (code, signal) => r({ code, signal, stderr }))),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runTeamChaos(o: TeamChaosOptions): Promise<TeamChaosSummary> {
  const log = o.log ?? (() => {});
  const started = performance.now();
  const random = seededRandom(o.seed);
  const each = o.faultRate / FAULT_KINDS.length;
  const regions = BENCH_REGIONS.slice(0, 3);
  const vpc = await startEmulator({
    accounts: [DEFAULT_ACCOUNT],
    seed: o.seed,
    faults: Object.fromEntries(FAULT_KINDS.map((k) => [k, each])),
    latency: { minMs: 1, maxMs: 15 },
    rates: { CreateCustomerGateway: o.rate, DescribeCustomerGateways: o.rate * 10, DescribeRegions: 1000 },
    quota: Math.max(100, o.rows),
  });
  const creds = { accessKeyId: DEFAULT_ACCOUNT.accessKeyId, accessKeySecret: DEFAULT_ACCOUNT.accessKeySecret };
  const stops: Array<() => Promise<void>> = [async () => vpc.close()];
  const root = mkdtempSync(join(tmpdir(), 'cgw-team-chaos-'));
  let backend: StateBackend | undefined;
  try {
    const stateEnv: Record<string, string> = {};
    const estate = `soak-${randomBytes(3).toString('hex')}`;
    if (o.backend === 'postgres') {
      const pg = await startPgServer({ fsync: true });
      stops.push(() => pg.stop());
      const db = await pg.database(`soak_${process.pid}`);
      stateEnv.CGW_BATCH_STATE = `${db}?estate=${estate}&ttl=${o.ttlMs}ms`;
    } else {
      const oss = await startOssEmulator({ accounts: [creds] });
      stops.push(() => oss.close());
      stateEnv.CGW_BATCH_STATE = `oss://cgw-state/soak?estate=${estate}&ttl=${o.ttlMs}ms`;
      stateEnv.CGW_BATCH_STATE_ENDPOINT = oss.url;
    }
    backend = await openBackend(parseStateLocation(stateEnv.CGW_BATCH_STATE, undefined, stateEnv.CGW_BATCH_STATE_ENDPOINT), { ossCredentials: async () => creds });
    const env = { ...EMULATOR_CLI_ENV, ...stateEnv };
    const manifest = benchCsv(o.rows, regions);
    const checkouts = Array.from({ length: o.runners }, (_, i) => {
      const dir = join(root, `runner-${i}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'team.csv'), manifest);
      return dir;
    });
    const args = (dir: string) => [
      'apply', join(dir, 'team.csv'), '--endpoint', vpc.url, '--yes', '--quiet', '--timeout', '800', '--concurrency', '8',
      '--quota', String(Math.max(100, o.rows)), '--lock-timeout', `${Math.round((o.ttlMs * 4 + 120_000) / 1000)}s`,
    ];
    const expected = new Set(Array.from({ length: o.rows }, (_, i) => benchIp(i + 1)));
    const cloudGateways = () => {
      const gws: Array<{ CustomerGatewayId: string; IpAddress: string; ClientTokens?: string[] }> = [];
      for (const acc of Object.values<any>((vpc.state() as any).accounts ?? {})) for (const reg of Object.values<any>(acc.regions ?? {})) gws.push(...(reg.gateways ?? []));
      return gws;
    };

    const running = new Map<number, Running>();
    let runs = 0;
    let killing = true;
    let failure: Error | undefined;
    const runner = async (dir: string, i: number) => {
      for (let n = 0; !failure; n++) {
        if (n > o.kills * 4 + 40) throw new Error(`runner ${i}: not done after ${n} runs`);
        runs++;
        const r = startApply(args(dir), env, dir);
        running.set(r.pid, r);
        const end = await r.exited;
        running.delete(r.pid);
        if (end.signal === 'SIGKILL') continue;
        if (end.code === 0 && !killing) return;
        if (end.code === 0 || end.code === 1) continue;
        if (end.code === 2 && /is (locked|leased) by/.test(end.stderr)) continue;
        failure = new Error(`runner ${i}: apply exited ${end.code}: ${end.stderr.slice(-1500)}`);
      }
    };
    const takeoversMs: number[] = [];
    let kills = 0;
    const killer = async () => {
      try {
        while (kills < o.kills && !failure) {
          await sleep(300 + random() * 2500);
          if (cloudGateways().length >= o.rows - o.rows / 10) {
            log('chaos:team: the estate is nearly done; no more kills');
            break;
          }
          const st = await backend!.status();
          const victim = st.held ? running.get(st.holder?.pid ?? -1) : undefined;
          if (!victim) continue;
          victim.kill();
          const killedAt = performance.now();
          kills++;
          // The next holder: the store names another live pid (a waiting runner, or the killed one restarted).
          for (;;) {
            const now = await backend!.status();
            if (now.held && now.holder?.pid !== victim.pid) {
              const ms = performance.now() - killedAt;
              takeoversMs.push(ms);
              log(`chaos:team: killed holder pid ${victim.pid}; pid ${now.holder?.pid} took over after ${(ms / 1000).toFixed(1)} s`);
              break;
            }
            if (performance.now() - killedAt > o.ttlMs * 4 + 60_000) throw new Error(`nobody took over ${Math.round((performance.now() - killedAt) / 1000)} s after the kill`);
            await sleep(50);
          }
        }
      } finally {
        killing = false;
      }
    };
    await Promise.all([killer(), ...checkouts.map((d, i) => runner(d, i))]);
    if (failure) throw failure;

    const gws = cloudGateways();
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
    const journal = await readState(backend);
    const byIp = new Map([...(journal?.rows.values() ?? [])].map((r) => [r.ip, r]));
    const journalMismatches = [...expected].filter((ip) => {
      const row = byIp.get(ip);
      return !row || (row.status !== 'created' && row.status !== 'adopted') || row.gatewayId !== idByIp.get(ip);
    }).length;
    const status = await runCli(['status', join(checkouts[0] ?? root, 'team.csv'), '--format', 'json'], env);
    const statusRows = (JSON.parse(status.stdout) as { rows: Array<{ ip: string; status: string; customer_gateway_id: string | null }> }).rows;
    const statusMismatches = [...expected].filter((ip) => {
      const s = statusRows.find((r) => r.ip === ip);
      return !s || (s.status !== 'created' && s.status !== 'adopted') || s.customer_gateway_id !== idByIp.get(ip);
    }).length;
    const sorted = [...takeoversMs].sort((a, b) => a - b);
    const sec = (ms: number | undefined) => (ms === undefined ? '-' : (ms / 1000).toFixed(1));
    const wallMs = performance.now() - started;
    const line =
      `chaos:team: backend=${o.backend} rows=${o.rows} runners=${o.runners} kills=${kills} runs=${runs} ttl=${o.ttlMs / 1000}s ` +
      `takeover s min/median/max=${sec(sorted[0])}/${sec(sorted[Math.floor(sorted.length / 2)])}/${sec(sorted.at(-1))} | ` +
      `gateways=${gws.length} duplicates=${duplicates} extra=${extra} lost=${lost} token-reuse-across-rows=${tokenReuseAcrossRows} ` +
      `journal/status mismatches=${journalMismatches}/${statusMismatches} | ${Math.round(wallMs / 1000)} s`;
    return { backend: o.backend, rows: o.rows, runners: o.runners, kills, runs, takeoversMs, gateways: gws.length, duplicates, extra, lost, tokenReuseAcrossRows, journalMismatches, statusMismatches, wallMs, line };
  } finally {
    await backend?.close();
    for (const s of stops.reverse()) await s().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
}
