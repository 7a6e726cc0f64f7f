// Runs the CLI in this process and, on exit, writes the kernel's peak RSS (ru_maxrss, KB) to $CGW_BENCH_RSS_FILE.
import { writeFileSync } from 'node:fs';

const out = process.env.CGW_BENCH_RSS_FILE;
if (out) process.on('exit', () => writeFileSync(out, String(process.resourceUsage().maxRSS)));
// cli.ts reads process.argv.slice(2): `node rss-child.js apply m.csv ...` gives it exactly the CLI arguments.
await import('../../src/cli.js');
