// `cgw-batch report`: the reports written again from the journal (after a full disk, say); no lock, no network.
import { EXIT } from '../errors.js';
import { truthRows } from '../report/truth.js';
import type { Context } from './context.js';
import { checkReports, writeReports } from './reporting.js';
import { loadTruth } from './status.js';

export async function runReport(ctx: Context): Promise<number> {
  const { header, rows: journal, plan, columns } = await loadTruth(ctx);
  await checkReports(ctx, 'apply');
  const rows = truthRows(plan, journal);
  const files = await writeReports(ctx, 'apply', { columns, results: rows, runId: header.runId, manifest: plan.manifest.file, command: 'report' });
  ctx.out.write(`reports: ${files.join(', ')}\n`);
  return files.length > 0 ? EXIT.ok : EXIT.usage;
}
