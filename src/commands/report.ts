// `cgw-batch report`: the reports written again from the journal (after a full disk, say); no lock, no network.
import { EXIT } from '../errors.js';
import type { UnlocatedJournalOptions } from '../options.js';
import { truthRows } from '../report/truth.js';
import type { Context } from '../run/context.js';
import { checkReports, columnsOf, writeReports } from '../run/finish.js';
import { readJournalRun } from '../run/journal-run.js';
import { journalForManifest, journalForStatus, mayNameAnotherJournal, shown } from '../run/locate.js';
import { planOfJournal, readManifest } from '../run/plan-from.js';
import { requireJournal } from '../run/select.js';

export async function runReport(given: Context<UnlocatedJournalOptions>): Promise<number> {
  let ctx = journalForStatus(given);
  const manifest = mayNameAnotherJournal(ctx.options) ? await readManifest(ctx, ctx.options.manifest!) : undefined;
  if (manifest) ctx = journalForManifest(ctx, manifest);
  const journal = requireJournal(ctx, (await readJournalRun(ctx)).read);
  const { plan, columns, profiles } = await planOfJournal(ctx, journal, manifest);
  await checkReports(ctx, 'apply');
  const rows = truthRows(plan, journal.rows);
  const files = await writeReports(ctx, 'apply', { columns: columns ?? columnsOf(rows), results: rows, journalId: journal.header.runId, manifest: plan.manifest.file, command: 'report', profiles });
  ctx.out.write(`reports: ${files.map((f) => shown(ctx, f)).join(', ')}\n`);
  return files.length > 0 ? EXIT.ok : EXIT.usage;
}
