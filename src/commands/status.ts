// `cgw-batch status`: every row's truth from the journal (and the manifest, when given, so rows never started are
// listed too); no lock, no network.
import { existsSync } from 'node:fs';
import { EXIT, StateError } from '../errors.js';
import { loadManifest } from '../load/index.js';
import { planManifest } from '../plan/plan.js';
import { emptySummary } from '../plan/summary.js';
import { truthRows } from '../report/truth.js';
import { scrubber } from '../secrets.js';
import { readJournal, toPriorRows, type JournalHeader, type JournalRow } from '../state/journal.js';
import type { Plan, PlannedRow, RowResult } from '../types.js';
import { warn, type Context } from './context.js';
import { planFlags } from './planning.js';
import { columnsOf } from './reporting.js';

/** What a status line says about a row's state, in words. */
export function statusWords(r: RowResult): string {
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

export interface Loaded {
  header: JournalHeader;
  rows: Map<string, JournalRow>;
  plan: Plan;
  columns: string[];
}

/** A plan-shaped view of the journal's rows, for when no manifest is at hand. */
function journalOnly(file: string, rows: Map<string, JournalRow>): Plan {
  const planned: PlannedRow[] = [...rows.values()]
    .sort((a, b) => a.line - b.line || (a.key < b.key ? -1 : 1))
    .map((j) => ({ ref: { key: j.key, file, line: j.line, region: j.region, ip: j.ip }, action: 'skip', reason: '', issues: [], inRun: true }));
  return {
    version: 2,
    command: 'plan',
    manifest: { file, hash: '', format: 'journal' },
    rows: planned,
    issues: [],
    summary: emptySummary(),
    byRegion: {},
    quota: [],
    online: false,
    flags: { allowReplace: false, prune: false, retryFailed: false, skipInvalid: false },
  };
}

/** The journal (scrubbed), and the plan-shaped list of rows to tell the truth about: the manifest's, else the journal's. */
export async function loadTruth(ctx: Context): Promise<Loaded> {
  const o = ctx.options;
  const sp = o.statePath!;
  // A journal written by an older version may hold a secret in an error message: scrub what it holds by value.
  const j = await readJournal(sp, { redact: scrubber(ctx.redactor) });
  if (!j) throw new StateError(`no journal at ${sp}: nothing has been applied with this manifest yet (or pass --state FILE)`);
  for (const w of j.warnings) warn(ctx, w);
  const manifestFile = o.manifest;
  if (manifestFile && existsSync(manifestFile)) {
    // Offline plan of the manifest against the journal: every manifest row (never started included), plus the
    // journal's gateways whose rows left the manifest.
    const manifest = await loadManifest(manifestFile, { env: ctx.io.env, redactor: ctx.redactor, ...(o.sheet ? { sheet: o.sheet } : {}) });
    const plan = planManifest(manifest, { command: 'plan', online: false, quota: o.quota, prior: toPriorRows(j.rows), flags: planFlags(ctx) });
    return { header: j.header, rows: j.rows, plan, columns: manifest.columns };
  }
  const plan = journalOnly(manifestFile ?? j.header.manifest.path, j.rows);
  return { header: j.header, rows: j.rows, plan, columns: columnsOf(truthRows(plan, j.rows)) };
}

export async function runStatus(ctx: Context): Promise<number> {
  const o = ctx.options;
  const { header, rows: journal, plan } = await loadTruth(ctx);
  // Status shows the journal's truth for every row; the plan's own view (invalid, orphan) only fills the gaps.
  const rows = truthRows(plan, journal);
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
    const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...table.map((t) => t[i]!.length))));
    const fmt = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
    ctx.out.write(fmt(head) + '\n');
    for (const t of table) ctx.out.write(fmt(t) + '\n');
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    ctx.out.write(`\n${rows.length} row(s): ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}\n`);
  }
  const pendingLike = rows.some((r) => r.status === 'failed' || r.status === 'in-flight' || r.status === 'unknown' || r.status === 'pending' || r.status === 'invalid');
  return pendingLike ? EXIT.rowsFailed : EXIT.ok;
}
