// The end of a run: every row's truth from the journal's rows (in memory, not read again), the reports (checked
// before any request, written after), the per-run file, the summary table and the exit code. A report that cannot
// be written is a warning, never a lost run.
import { join, relative, sep } from 'node:path';
import { shownPath } from '../load/index.js';
import type { JournalOptions, ManifestOptions } from '../options.js';
import type { ReportInput, RunBlock } from '../report/input.js';
import { junitXml } from '../report/junit.js';
import { resultsCsv, resultsJson, runJson, xlsxTable } from '../report/results.js';
import { renderSummaryTable } from '../report/summary.js';
import { countOutcomes, exitCodeOf } from '../report/outcome.js';
import { truthRows } from '../report/truth.js';
import { checkReportTargets, reportNames, stamp, writeReportFiles } from '../report/write.js';
import type { JournalRow } from '../state/journal.js';
import { printable, safeJson } from '../text.js';
import type { Plan, RowResult, StopReason, WrittenProfile } from '../types.js';
import { warn, type Context } from './context.js';
import type { Execution } from './carry-out.js';
import { isSharedState, stateShown } from './state-backend.js';

type WithReports = Context<ManifestOptions | JournalOptions>;

/** The report files a command writes, checked before it sends anything (a refusal is exit 2, nothing sent). */
export async function checkReports(ctx: WithReports, command: string): Promise<void> {
  const o = ctx.options;
  const names = reportNames(command);
  const protect = [o.manifest, o.statePath].filter((p): p is string => p !== undefined);
  await checkReportTargets(o.reportDir, [names.csv, names.json, names.junit, names.xlsx], protect);
}

/** Input columns in manifest order, from the rows' echo (destroy and report have no manifest header at hand). */
export function columnsOf(rows: readonly RowResult[], known?: readonly string[]): string[] {
  const cols: string[] = [...(known ?? [])];
  for (const r of rows) for (const c of Object.keys(r.echo)) if (!cols.includes(c)) cols.push(c);
  return cols;
}

export async function writeReports(ctx: WithReports, command: string, input: ReportInput): Promise<string[]> {
  const names = reportNames(command);
  const docs: Array<[string, string | Uint8Array]> = [
    [names.csv, resultsCsv(input)],
    [names.json, resultsJson(input)],
    [names.junit, junitXml(input)],
  ];
  // exceljs is loaded only here (about 0.2 s): commands that write no report do not pay for it.
  const { resultsXlsx } = await import('../report/xlsx.js');
  // The workbook names its journal, so the sheet filtered and saved under another name finds it (README: the retry loop).
  const o = ctx.options;
  // A shared journal (postgres://, oss://) is named by --state or CGW_BATCH_STATE, never by a file's properties.
  const journal = o.statePath && !isSharedState(o.statePath)
    ? { journal: relative(o.reportDir, o.statePath).split(sep).join('/'), journalPath: o.statePath, ...(input.journalId ? { journalId: input.journalId } : {}) }
    : undefined;
  docs.push([names.xlsx, await resultsXlsx(xlsxTable(input, (t) => ctx.redactor.redact(t), journal))]);
  if (input.run) docs.push([join('runs', `${stamp(new Date(input.run.finishedAt))}-${command}.json`), runJson(input)]);
  const written = await writeReportFiles(ctx.options.reportDir, docs, { redactor: ctx.redactor });
  for (const w of written.warnings) warn(ctx, w);
  return written.files;
}

export interface RunEnd {
  command: 'apply' | 'import' | 'destroy';
  plan: Plan;
  columns: string[];
  /** This run's id and the journal's rows as the run left them (the read, when nothing was carried out). */
  runId: string;
  /** The journal's own id (the ClientTokens' seed); undefined when there is no journal yet. */
  journalId: string | undefined;
  journalRows: ReadonlyMap<string, JournalRow> | undefined;
  /** This run's executor results (empty when nothing was executed). */
  executed: RowResult[];
  stopReason?: StopReason;
  stopMessage?: string;
  startedAt: Date;
  finishedAt: Date;
  requests?: number;
  throttled?: number;
  /** The manifest's IPsec profiles, written into results.xlsx so the saved workbook is a whole manifest again. */
  profiles?: readonly WrittenProfile[];
}

/** What finishRun needs about a run (nothing carried out: `exec` undefined, the journal as read). */
export function runEnd(
  command: RunEnd['command'],
  plan: Plan,
  columns: string[],
  run: { runId: string; read: { header: { runId: string }; rows: ReadonlyMap<string, JournalRow> } | undefined },
  exec: Execution | undefined,
  startedAt: Date,
): RunEnd {
  return {
    command,
    plan,
    columns,
    runId: run.runId,
    journalId: exec?.journalId ?? run.read?.header.runId,
    journalRows: exec?.journalRows ?? run.read?.rows,
    executed: exec?.results ?? [],
    ...(exec?.stopReason ? { stopReason: exec.stopReason } : {}),
    ...(exec?.stopError ? { stopMessage: `${exec.stopError.code}: ${exec.stopError.message}` } : {}),
    startedAt: exec?.startedAt ?? startedAt,
    finishedAt: exec?.finishedAt ?? new Date(),
    ...(exec ? { requests: exec.requests, throttled: exec.throttled } : {}),
  };
}

/** Truth rows, reports, summary and the exit code of a run. */
export async function finishRun(ctx: Context<ManifestOptions>, end: RunEnd): Promise<number> {
  const o = ctx.options;
  const rows = truthRows(end.plan, end.journalRows, end.executed);
  const outcomes = rows.map((r) => r.outcome);
  const exitCode = exitCodeOf(outcomes, end.stopReason);
  const run: RunBlock = {
    command: end.command,
    startedAt: end.startedAt.toISOString(),
    finishedAt: end.finishedAt.toISOString(),
    exitCode,
    ...(end.stopReason ? { stopReason: end.stopReason } : {}),
    counts: countOutcomes(outcomes),
    ...(end.requests !== undefined ? { requests: end.requests } : {}),
    ...(end.throttled !== undefined ? { throttled: end.throttled } : {}),
    ...(end.plan.target?.accountId ? { accountId: end.plan.target.accountId } : {}),
    ...(end.plan.target ? { endpoint: end.plan.target.endpoint } : {}),
  };
  const files = await writeReports(ctx, end.command, {
    columns: end.columns,
    results: rows,
    runId: end.runId,
    ...(end.journalId ? { journalId: end.journalId } : {}),
    manifest: end.plan.manifest.file,
    command: end.command,
    run,
    profiles: end.profiles,
  });
  if (o.format === 'json') {
    ctx.out.write(safeJson({ type: 'summary', ...run }) + '\n');
  } else {
    ctx.out.write(renderSummaryTable(rows, { color: o.color }));
    const did = Object.entries(run.counts).map(([k, n]) => `${n} ${k}`).join(', ');
    ctx.out.write(`this run: ${did || 'nothing'}\n`);
    if (files.length) ctx.out.write(`reports: ${files.map((f) => shownPath(f, ctx.io.cwd)).join(', ')}\n`);
    ctx.out.write(`journal: ${stateShown(ctx)}\n`);
  }
  if (end.stopReason === 'auth' || end.stopReason === 'clock' || end.stopReason === 'forbidden') {
    ctx.err.write(`cgw-batch: ${printable(end.stopMessage ?? 'the run stopped')}; no further rows were sent.\n`);
  } else if (end.stopReason === 'interrupt') {
    ctx.err.write(`interrupted: rerun the same command to resume; rows in flight keep their ClientTokens.\n`);
  } else if (end.stopReason === 'retry-budget') {
    ctx.err.write('cgw-batch: stopped early: the API kept failing and the retry budget ran out.\n');
  } else if (end.stopReason === 'max-failures') {
    ctx.err.write('cgw-batch: stopped after reaching --max-failures; rows not sent are "not started".\n');
  }
  return exitCode;
}
