// `cgw-batch status`: every row's truth from the journal (and the manifest, when given, so rows never started are
// listed too); no lock, no network, except `--live`: each site connection's State and negotiation read from the cloud.
import type { JournalOptions, UnlocatedJournalOptions } from '../options.js';
import { countOutcomes, exitCodeOf, rowError, type Outcome } from '../report/outcome.js';
import { connectionState, hasSites, resultRow } from '../report/results.js';
import { summarize } from '../report/summary.js';
import { truthRows, type ReportRow } from '../report/truth.js';
import type { Context } from '../run/context.js';
import { columnsOf } from '../run/finish.js';
import { journalRef, readJournalRun } from '../run/journal-run.js';
import { readLive } from '../run/live.js';
import { journalForManifest, journalForStatus, mayNameAnotherJournal } from '../run/locate.js';
import { planOfJournal, readManifest } from '../run/plan-from.js';
import { requireJournal } from '../run/select.js';
import { openSession } from '../run/session.js';
import { stateLabel, stateShown } from '../run/state-backend.js';
import { printable as p, safeJson } from '../text.js';

/** What the words that need it mean, said once under the table. */
const MEANS: Partial<Record<Outcome, string>> = {
  unknown: 'the outcome of a create is unknown; the next run lists the region and settles it',
  interrupted: 'a run stopped with its request on the wire; the next run finishes it',
  'not started': 'never sent (the next apply sends it)',
};

const rowErrorCode = (r: ReportRow): string => rowError(r).code ?? '';

/** `negotiated` only for ipsec_sa_established: a provisioned connection is not up until the branch device answers. */
function negotiationWord(status: string | undefined): string {
  if (status === undefined) return '-';
  return status === 'ipsec_sa_established' ? 'negotiated' : `not negotiated (${p(status)})`;
}

/** --live: the cloud's State and Status over the journal's (a connection gone from the cloud says so). */
async function withLive(ctx: Context<JournalOptions>, run: Awaited<ReturnType<typeof readJournalRun>>, rows: ReportRow[]): Promise<ReportRow[]> {
  if (!rows.some((r) => r.connection?.id)) return rows;
  const session = await openSession(ctx, journalRef(run));
  try {
    const live = await readLive(session, rows);
    return rows.map((r) => {
      const id = r.connection?.id;
      const l = id !== undefined ? live.get(id) : undefined;
      if (!r.connection || !l) return r;
      if ('missing' in l) return { ...r, connection: { ...r.connection, state: 'not found (deleted outside cgw-batch?)', negotiation: undefined } };
      if ('error' in l) return { ...r, connection: { ...r.connection, note: `could not read it live: ${l.error}` } };
      return { ...r, connection: { ...r.connection, state: l.state, negotiation: l.negotiation } };
    });
  } finally {
    await session.close();
  }
}

export async function runStatus(given: Context<UnlocatedJournalOptions>): Promise<number> {
  let ctx = journalForStatus(given);
  // A saved results file has no journal of its own: the one it names is read (the manifest is loaded once).
  const manifest = mayNameAnotherJournal(ctx.options) ? await readManifest(ctx, ctx.options.manifest!) : undefined;
  if (manifest) ctx = journalForManifest(ctx, manifest);
  const o = ctx.options;
  const run = await readJournalRun(ctx);
  const journal = requireJournal(ctx, run.read);
  const { header } = journal;
  const { plan, columns: known } = await planOfJournal(ctx, journal, manifest);
  // Status shows the journal's truth for every row; the plan's own view (invalid, orphan) only fills the gaps.
  let rows = truthRows(plan, journal.rows);
  if (o.live) rows = await withLive(ctx, run, rows);
  const sites = hasSites(rows);
  const columns = known ?? columnsOf(rows);
  const outcomes = rows.map((r) => r.outcome);
  if (o.format === 'json') {
    // The same fields and values as results.json's rows and header (run_id: none; status reads, it does not run).
    ctx.out.write(
      safeJson({
        state: stateLabel(ctx),
        journal_id: header.runId,
        manifest: header.manifest,
        endpoint: header.endpoint,
        account_id: header.accountId ?? null,
        access_key_id: header.accessKeyId ?? null,
        updated_at: header.updatedAt,
        columns,
        summary: summarize(rows),
        ...(o.live ? { live: true } : {}),
        rows: rows.map((r) => resultRow(r, columns, sites)),
      }) + '\n',
    );
  } else {
    // The journal's header and rows hold what files and servers said: every value is shown printable.
    ctx.out.write(`journal ${p(stateShown(ctx))}\naccount ${p(header.accountId ?? `(key ${header.accessKeyId ?? '?'})`)} at ${p(header.endpoint)}; updated ${p(header.updatedAt)}\n\n`);
    const site = (r: ReportRow): string[] =>
      sites ? [p(r.connection?.id ?? '-'), r.connection ? p(`${r.connection.status}${r.connection.state ? `, ${connectionState(r.connection.state)}` : ''}`) : '-', r.connection ? negotiationWord(r.connection.negotiation) : '-'] : [];
    // A second customer gateway (ip_2) gets its own column when any site has one.
    const second = rows.some((r) => r.gateway2 !== undefined);
    const gateway2 = (r: ReportRow): string[] => (second ? [p(r.gateway2?.id ?? '-')] : []);
    const table = rows.map((r) => [r.ref.line > 0 ? String(r.ref.line) : '-', p(r.ref.region), p(r.ref.ip), r.outcome, p(r.gatewayId ?? '-'), ...gateway2(r), ...site(r), p(rowErrorCode(r))]);
    const head = ['line', 'region', 'ip', 'outcome', 'gateway', ...(second ? ['gateway 2 (ip_2)'] : []), ...(sites ? ['connection', 'connection status', o.live ? 'negotiation (live)' : 'negotiation (last read)'] : []), 'last error'];
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
