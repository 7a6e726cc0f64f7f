// Child process for bounded-load tests: loads one manifest and prints what happened plus its own rusage (CPU, peak RSS).
import { loadManifest } from '../../src/load/index.js';
import { ManifestError } from '../../src/errors.js';

const [file, sheet] = process.argv.slice(2);
const out: Record<string, unknown> = {};
try {
  const m = await loadManifest(file!, { env: {}, ...(sheet ? { sheet } : {}) });
  out.rows = m.rows.length;
  out.fields = m.rows.slice(0, 3).map((r) => r.fields);
  out.issues = [...m.issues, ...m.rows.flatMap((r) => r.issues)].map((i) => `${i.severity} ${i.code} ${i.cell ?? i.line}`);
} catch (e) {
  out.error = e instanceof ManifestError ? e.message : `unexpected ${String(e)}`;
}
const u = process.resourceUsage();
out.cpuMs = Math.round((u.userCPUTime + u.systemCPUTime) / 1000);
out.maxRssMb = Math.round(u.maxRSS / 1024);
process.stdout.write(JSON.stringify(out));
