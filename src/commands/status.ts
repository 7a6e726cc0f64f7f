// `cgw-batch status` and `cgw-batch report`: read the journal (no lock) and show it or regenerate the reports.
import { existsSync } from 'node:fs';
import { EXIT, StateError } from '../errors.js';
import { writeReports } from '../report/results.js';
import { renderSummaryTable } from '../report/summary.js';
import { readJournal, type JournalRow } from '../state/journal.js';
import type { RowResult } from '../types.js';
import { manifestPath, reportDir, statePath, type Context } from './context.js';

export function journalResult(r: JournalRow, file: string): RowResult {
  return {
    key: r.key,
    file,
    line: r.line,
    region: r.region,
    ip: r.ip,
    status: r.status,
    gatewayId: r.gatewayId,
    errorCode: r.errorCode,
    errorMessage: r.errorMessage,
    errorClass: r.errorClass,
    requestId: r.requestIds.at(-1),
    attempts: r.attempts,
    durationMs: r.durationMs ?? 0,
    echo: r.echo ?? {},
  };
}

async function load(ctx: Context) {
  const sp = statePath(ctx);
  if (!existsSync(sp)) throw new StateError(`no journal at ${sp}: nothing has been applied with this manifest yet (or pass --state FILE)`);
  const j = await readJournal(sp);
  if (!j) throw new StateError(`no journal at ${sp}`);
  for (const w of j.warnings) ctx.err.write(`warning: ${w}\n`);
  const file = j.header.manifest.path;
  const results = [...j.rows.values()].sort((a, b) => a.line - b.line).map((r) => journalResult(r, file));
  return { sp, j, results };
}

export async function runStatus(ctx: Context): Promise<number> {
  const { sp, j, results } = await load(ctx);
  if (ctx.options.format === 'json') {
    const h = j.header;
    ctx.out.write(
      JSON.stringify({
        state: sp,
        runId: h.runId,
        manifest: h.manifest,
        endpoint: h.endpoint,
        accessKeyId: h.accessKeyId,
        updatedAt: h.updatedAt,
        rows: results.map(({ echo: _echo, ...r }) => r),
      }) + '\n',
    );
  } else {
    ctx.out.write(`journal ${sp}\nrun ${j.header.runId}  manifest ${j.header.manifest.path}  endpoint ${j.header.endpoint}  updated ${j.header.updatedAt}\n`);
    ctx.out.write(renderSummaryTable(results, { color: ctx.color }));
  }
  return results.some((r) => r.status === 'failed' || r.status === 'in-flight' || r.status === 'pending') ? EXIT.rowsFailed : EXIT.ok;
}

export async function runReport(ctx: Context): Promise<number> {
  const { j, results } = await load(ctx);
  const manifest = manifestPath(ctx) ?? j.header.manifest.path;
  const columns: string[] = [];
  for (const r of results) for (const c of Object.keys(r.echo)) if (!columns.includes(c)) columns.push(c);
  const written = await writeReports(
    reportDir(ctx, manifest),
    { columns, results, runId: j.header.runId, manifest, command: 'report' },
    { redactor: ctx.redactor },
  );
  for (const w of written.warnings) ctx.err.write(`warning: ${w}\n`);
  ctx.out.write(`reports: ${written.files.join(', ')}\n`);
  return EXIT.ok;
}
