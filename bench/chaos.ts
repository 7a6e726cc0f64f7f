// `npm run chaos`: the full soak — 500 rows, at least 20 SIGKILLs, every fault kind at about 15 % of requests; then
// sites: 60 sites (customer gateways + IPsec connections) under commit-drop and commit-500, at least 20 SIGKILLs.
// CHAOS_PART=cgw or CHAOS_PART=sites runs one of the two.
import { runChaos } from './lib/chaos.js';
import { runSitesChaos } from './lib/chaos-sites.js';

const part = process.env.CHAOS_PART ?? 'all';
const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100000);
let bad = 0;
if (part === 'all' || part === 'cgw') {
  const rows = Number(process.env.CHAOS_ROWS ?? 500);
  const kills = Number(process.env.CHAOS_KILLS ?? 20);
  // 5/s per region: 500 rows are about 25 s of work, so the kills (0.15-2 s into each run) all land inside the runs.
  const s = await runChaos({ rows, minKills: kills, regions: 4, rate: Number(process.env.CHAOS_RATE ?? 5), seed, log: (m) => process.stderr.write(m + '\n') });
  process.stdout.write(s.line + '\n');
  bad += s.duplicates + s.extra + s.lost + s.tokenReuseAcrossRows + s.journalMismatches + s.statusMismatches + s.reportMismatches + (s.kills >= kills ? 0 : 1);
}
if (part === 'all' || part === 'sites') {
  const sites = Number(process.env.CHAOS_SITES ?? 60);
  const kills = Number(process.env.CHAOS_SITE_KILLS ?? 20);
  const s = await runSitesChaos({ sites, minKills: kills, seed, log: (m) => process.stderr.write(m + '\n') });
  process.stdout.write(s.line + '\n');
  bad += s.duplicateGateways + s.duplicateConnections + s.lost + s.unknownToJournal + s.journalMismatches + s.notActive + (s.kills >= kills ? 0 : 1);
}
process.exitCode = bad === 0 ? 0 : 1;
