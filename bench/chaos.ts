// `npm run chaos`: the full soak — 500 rows, at least 20 SIGKILLs, every fault kind at about 15 % of requests.
import { runChaos } from './lib/chaos.js';

const rows = Number(process.env.CHAOS_ROWS ?? 500);
const kills = Number(process.env.CHAOS_KILLS ?? 20);
// 5/s per region: 500 rows are about 25 s of work, so the kills (0.15-2 s into each run) all land inside the runs.
const s = await runChaos({ rows, minKills: kills, regions: 4, rate: Number(process.env.CHAOS_RATE ?? 5), seed: Number(process.env.CHAOS_SEED ?? Date.now() % 100000), log: (m) => process.stderr.write(m + '\n') });
process.stdout.write(s.line + '\n');
const bad = s.duplicates + s.extra + s.lost + s.tokenReuseAcrossRows + s.journalMismatches + s.statusMismatches + s.reportMismatches;
process.exitCode = bad === 0 && s.kills >= kills ? 0 : 1;
