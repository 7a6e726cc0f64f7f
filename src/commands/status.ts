// `cgw-batch status`: every row's truth from the journal (and the manifest, when given, so rows never started are
// listed too); no lock, no network.
import { EXIT } from '../errors.js';
import type { JournalOptions } from '../options.js';
import { truthRows } from '../report/truth.js';
import type { Context } from '../run/context.js';
import { readJournalRun } from '../run/journal-run.js';
import { planOfJournal } from '../run/plan-from.js';
import { requireJournal } from '../run/select.js';
import type { RowResult } from '../types.js';

/** What a status line says about a row's state, in words. */
function statusWords(r: RowResult): string {
  switch (r.status) {
    case 'in-flight':
    case 'unknown':
      return 'outcome unknown, reconciled on the next run';
    case 'pending':
      return r.attempts > 0 ? 'not created (stopped before a retry)' : 'never started';
    case 'invalid':
      return 'invalid row, never sent';
    default:
      return r.status;
  }
}

export async function runStatus(ctx: Context<JournalOptions>): Promise<number> {
  const o = ctx.options;
  const journal = requireJournal(ctx, (await readJournalRun(ctx)).read);
  const { header } = journal;
  const { plan } = await planOfJournal(ctx, journal);
  // Status shows the journal's truth for every row; the plan's own view (invalid, orphan) only fills the gaps.
  const rows = truthRows(plan, journal.rows);
  if (o.format === 'json') {
    ctx.out.write(
      JSON.stringify({
        state: o.statePath,
        runId: header.runId,
        manifest: header.manifest,
        endpoint: header.endpoint,
        accountId: header.accountId ?? null,
        accessKeyId: header.accessKeyId ?? null,
        updatedAt: header.updatedAt,
        rows: rows.map((r) => ({
          key: r.ref.key,
          file: r.ref.file,
          line: r.ref.line,
          region: r.ref.region,
          ip: r.ref.ip,
          status: r.status,
          gatewayId: r.gatewayId,
          errorCode: r.errorCode,
          errorMessage: r.errorMessage,
          errorClass: r.errorClass,
          requestId: r.requestIds.at(-1),
          requestIds: r.requestIds,
          attempts: r.attempts,
          durationMs: r.durationMs,
        })),
      }) + '\n',
    );
  } else {
    ctx.out.write(`journal ${o.statePath}\naccount ${header.accountId ?? `(key ${header.accessKeyId ?? '?'})`} at ${header.endpoint}; updated ${header.updatedAt}\n\n`);
    const table = rows.map((r) => [r.ref.line > 0 ? String(r.ref.line) : '-', r.ref.region, r.ref.ip, statusWords(r), r.gatewayId ?? '-', r.errorCode ?? '']);
    const head = ['line', 'region', 'ip', 'status', 'gateway', 'last error'];
    const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...table.map((t) => (t[i] ?? '').length))));
    const fmt = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
    ctx.out.write(fmt(head) + '\n');
    for (const t of table) ctx.out.write(fmt(t) + '\n');
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    ctx.out.write(`\n${rows.length} row(s): ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}\n`);
  }
  const pendingLike = rows.some((r) => r.status === 'failed' || r.status === 'in-flight' || r.status === 'unknown' || r.status === 'pending' || r.status === 'invalid');
  return pendingLike ? EXIT.rowsFailed : EXIT.ok;
}
