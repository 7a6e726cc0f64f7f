// `npm run chaos:team [-- --state postgres|oss]`: the team soak: 3 runners apply one 150-row estate over a shared
// backend (PostgreSQL and the OSS emulator by default), holders SIGKILLed at random; 0 duplicates, 0 lost rows,
// journal = cloud, and every takeover within the lease's ttl + 5 s.
import { runTeamChaos } from './lib/team-chaos.js';

const i = process.argv.indexOf('--state');
const wanted = i >= 0 ? process.argv[i + 1] : process.env.CHAOS_TEAM_STATE;
const backends: Array<'postgres' | 'oss'> = wanted === 'postgres' || wanted === 'oss' ? [wanted] : ['postgres', 'oss'];
const ttlMs = Number(process.env.CHAOS_TEAM_TTL_MS ?? 10_000);
let bad = 0;
for (const backend of backends) {
  const s = await runTeamChaos({
    backend,
    rows: Number(process.env.CHAOS_TEAM_ROWS ?? 150),
    runners: Number(process.env.CHAOS_TEAM_RUNNERS ?? 3),
    kills: Number(process.env.CHAOS_TEAM_KILLS ?? 6),
    ttlMs,
    rate: Number(process.env.CHAOS_TEAM_RATE ?? 3),
    faultRate: Number(process.env.CHAOS_TEAM_FAULTS ?? 0.05),
    seed: Number(process.env.CHAOS_SEED ?? Date.now() % 100000),
    log: (m) => process.stderr.write(m + '\n'),
  });
  process.stdout.write(s.line + '\n');
  const slow = s.takeoversMs.filter((ms) => ms > ttlMs + 5_000).length;
  bad += s.duplicates + s.extra + s.lost + s.tokenReuseAcrossRows + s.journalMismatches + s.statusMismatches + slow + (s.kills === 0 ? 1 : 0);
}
process.exitCode = bad === 0 ? 0 : 1;
