// Child process for plan benchmarks: times one stage in isolation and reports its peak RSS as JSON on stdout.
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { loadManifest } from '../../src/load/index.js';
import { planManifest } from '../../src/plan/plan.js';

const [mode, file] = process.argv.slice(2);
if (!mode || !file) throw new Error('usage: child-plan.js csv-parse|plan FILE');
const t0 = performance.now();
let rows = 0;
if (mode === 'csv-parse') {
  // What csv-parse alone costs on the same bytes: the floor for a CSV loader that never casts.
  const records = parse(readFileSync(file), { bom: true, columns: false, relax_column_count_less: true, skip_empty_lines: true, trim: true, info: true }) as unknown[];
  rows = records.length - 1;
} else {
  const manifest = await loadManifest(file, { env: {} });
  const plan = planManifest(manifest, { online: false, quota: Number.MAX_SAFE_INTEGER });
  rows = plan.rows.length;
}
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ mode, rows, ms, maxRssMB: process.resourceUsage().maxRSS / 1024 }) + '\n');
