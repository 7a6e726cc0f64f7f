// `cgw-batch status`: every row's truth from the journal (and the manifest, when given, so rows never started are
// listed too); no lock, no network.
import type { UnlocatedJournalOptions } from '../options.js';
import { countOutcomes, exitCodeOf, type Outcome } from '../report/outcome.js';
import { resultRow } from '../report/results.js';
import { summarize } from '../report/summary.js';
import { truthRows } from '../report/truth.js';
import type { Context } from '../run/context.js';
import { columnsOf } from '../run/finish.js';
import { readJournalRun } from '../run/journal-run.js';
import { journalForManifest, journalForStatus, mayNameAnotherJournal, shown } from '../run/locate.js';
import { planOfJournal, readManifest } from '../run/plan-from.js';
import { requireJournal } from '../run/select.js';

/** What the words that need it mean, said once under the table. */
const MEANS: Partial<Record<Outcome, string>> = {
  unknown: 'the outcome of a create is unknown; the next run lists the region and settles it',
  interrupted: 'a run stopped with its request on the wire; the next run finishes it',
  'not started': 'never sent (the next apply sends it)',
};

export async function runStatus(given: Context<UnlocatedJournalOptions>): Promise<number> {
  let ctx = journalForStatus(given);
  // A saved results file has no journal of its own: the one it names is read (the manifest is loaded once).
  const manifest = mayNameAnotherJournal(ctx.options) ? await readManifest(ctx, ctx.options.manifest!) : undefined;
  if (manifest) ctx = journalForManifest(ctx, manifest);
  const o = ctx.options;
  const journal = requireJournal(ctx, (await readJournalRun(ctx)).read);
  const { header } = journal;
  const { plan, columns: known } = await planOfJournal(ctx, journal, manifest);
  // Status shows the journal's truth for every row; the plan's own view (invalid, orphan) only fills the gaps.
  const rows = truthRows(plan, journal.rows);
  const columns = known ?? columnsOf(rows);
  const outcomes = rows.map((r) => r.outcome);
  if (o.format === 'json') {
    // The same fields and values as results.json's rows and header (run_id: none; status reads, it does not run).
    ctx.out.write(
      JSON.stringify({
        state: o.statePath,
        journal_id: header.runId,
        manifest: header.manifest,
        endpoint: header.endpoint,
        account_id: header.accountId ?? null,
        access_key_id: header.accessKeyId ?? null,
        updated_at: header.updatedAt,
        columns,
        summary: summarize(rows),
        rows: rows.map((r) => resultRow(r, columns)),
      }) + '\n',
    );
  } else {
    ctx.out.write(`journal ${shown(ctx, o.statePath)}\naccount ${header.accountId ?? `(key ${header.accessKeyId ?? '?'})`} at ${header.endpoint}; updated ${header.updatedAt}\n\n`);
    const table = rows.map((r) => [r.ref.line > 0 ? String(r.ref.line) : '-', r.ref.region, r.ref.ip, r.outcome, r.gatewayId ?? '-', r.errorCode ?? '']);
    const head = ['line', 'region', 'ip', 'outcome', 'gateway', 'last error'];
    const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...table.map((t) => (t[i] ?? '').length))));
    const fmt = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
    ctx.out.write(fmt(head) + '\n');
    for (const t of table) ctx.out.write(fmt(t) + '\n');
    const counts = Object.entries(countOutcomes(outcomes)).map(([k, n]) => `${n} ${k}`);
    ctx.out.write(`\n${rows.length} row(s): ${counts.join(', ')}\n`);
    for (const [o, says] of Object.entries(MEANS)) if (outcomes.includes(o as Outcome)) ctx.out.write(`${o}: ${says}\n`);
  }
  return exitCodeOf(outcomes, undefined);
}
