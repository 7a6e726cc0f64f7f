// One executor run under a locked journal: signals (soft then hard stop), progress, reports and the exit code.
// Shared by apply, import and destroy so all three have the same lanes, limits, retries and journal.
import { EXIT } from '../errors.js';
import { systemClock } from '../execute/clock.js';
import { executePlan, type ExecRow, type StopReason } from '../execute/execute.js';
import { writeReports } from '../report/results.js';
import { renderSummaryTable } from '../report/summary.js';
import { fingerprint } from '../secrets.js';
import { Journal } from '../state/journal.js';
import { clientToken } from '../state/token.js';
import type { RowResult } from '../types.js';
import { createProgress, type ProgressMode } from '../ui/progress.js';
import type { Context, Session } from './context.js';

export function progressMode(ctx: Context): ProgressMode {
  if (ctx.options.format === 'json') return 'json';
  if (ctx.options.quiet) return 'quiet';
  const ci = Boolean(ctx.io.env.CI);
  return ctx.io.stdout.isTTY && !ci ? 'tty' : 'simple';
}

export interface RunSpec {
  command: 'apply' | 'import' | 'destroy';
  statePath: string;
  manifest: { path: string; hash: string };
  rows: ExecRow[];
  /** Turns the executor's results into the report's rows (e.g. adding rows that were not sent); runs with the journal open. */
  assemble?: (executed: RowResult[], journal: Journal) => RowResult[];
}

export interface RunOutcome {
  results: RowResult[];
  stopReason?: StopReason;
  authMessage?: string;
  runId: string;
  started: Date;
}

export async function runExecutor(ctx: Context, session: Session, spec: RunSpec): Promise<RunOutcome> {
  const o = ctx.options;
  const journal = await Journal.open(spec.statePath, {
    manifest: spec.manifest,
    endpoint: session.conn.endpoint,
    accessKeyId: session.conn.accessKeyId,
    forceUnlock: o.forceUnlock,
    onWarning: (m) => ctx.err.write(`warning: ${m}\n`),
  });
  const fpKey = journal.header.fingerprintKey;
  const stop = new AbortController();
  const abort = new AbortController();
  let signals = 0;
  const unregister = ctx.io.onSignal(() => {
    signals++;
    if (signals === 1) {
      ctx.err.write('\ninterrupted: finishing requests in flight (Ctrl-C again to abort at once)\n');
      stop.abort();
    } else {
      abort.abort();
      journal.abandon();
      ctx.err.write(`aborted: the journal is consistent; rerun ${spec.command} to resume\n`);
      ctx.io.exitNow(EXIT.interrupted);
    }
  });
  const progress = createProgress(progressMode(ctx), ctx.out, { redactor: ctx.redactor, color: ctx.color });
  const started = new Date();
  try {
    const exec = await executePlan({
      rows: spec.rows,
      runId: journal.header.runId,
      journal,
      clientFor: (region) => session.conn.clientFor(region),
      account: session.conn.accessKeyId,
      makeToken: clientToken,
      fingerprint: (k) => fingerprint(fpKey, k),
      rate: o.rate,
      concurrency: o.concurrency,
      maxFailures: o.maxFailures,
      retryFailed: o.retryFailed,
      clock: systemClock,
      random: Math.random,
      onEvent: (e) => progress.onEvent(e),
      stopSignal: stop.signal,
      abortSignal: abort.signal,
    });
    const results = spec.assemble ? spec.assemble(exec.results, journal) : exec.results;
    progress.onEvent({
      type: 'run:done',
      interrupted: exec.stopReason === 'interrupt',
      counts: countBy(results),
      durationMs: Date.now() - started.getTime(),
    });
    const out: RunOutcome = { results, runId: journal.header.runId, started };
    if (exec.stopReason) out.stopReason = exec.stopReason;
    if (exec.authError) out.authMessage = `${exec.authError.code}: ${exec.authError.message}`;
    return out;
  } finally {
    await progress.close();
    unregister();
    await journal.close();
  }
}

/** Reports, the summary table and the exit code of a run. */
export async function finishRun(
  ctx: Context,
  run: RunOutcome,
  where: { command: RunSpec['command']; reportDir: string; manifest: string; columns: string[]; statePath: string },
): Promise<number> {
  const written = await writeReports(
    where.reportDir,
    {
      columns: where.columns,
      results: run.results,
      runId: run.runId,
      manifest: where.manifest,
      startedAt: run.started.toISOString(),
      finishedAt: new Date().toISOString(),
      command: where.command,
    },
    { redactor: ctx.redactor },
  );
  for (const w of written.warnings) ctx.err.write(`warning: ${w}\n`);
  if (ctx.options.format !== 'json') {
    ctx.out.write(renderSummaryTable(run.results, { color: ctx.color }));
    ctx.out.write(`reports: ${written.files.join(', ')}\njournal: ${where.statePath}\n`);
  }
  if (run.authMessage) {
    ctx.err.write(`cgw-batch: the credentials were rejected (${run.authMessage}); no further rows were sent. Check the access key and secret.\n`);
    return EXIT.usage;
  }
  if (run.stopReason === 'interrupt') {
    ctx.err.write(`interrupted: rerun the same command to resume; rows in flight keep their ClientTokens.\n`);
    return EXIT.interrupted;
  }
  if (run.stopReason === 'retry-budget') ctx.err.write('cgw-batch: stopped early: the API kept failing and the retry budget ran out.\n');
  if (run.stopReason === 'max-failures') ctx.err.write('cgw-batch: stopped launching rows after reaching --max-failures.\n');
  const considered = run.results.filter((r) => r.errorCode !== 'NotSelected');
  return considered.some((r) => r.status === 'failed' || r.status === 'pending' || r.status === 'in-flight') ? EXIT.rowsFailed : EXIT.ok;
}

export function countBy(results: RowResult[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const r of results) c[r.status] = (c[r.status] ?? 0) + 1;
  return c;
}
