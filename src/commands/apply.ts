// `cgw-batch apply`: the same plan as `plan`, a confirmation, then the executor under a locked journal, then reports.
import { clientToken } from '../state/token.js';
import { Journal } from '../state/journal.js';
import { EXIT, UsageError } from '../errors.js';
import { executePlan, type ExecRow, type StopReason } from '../execute/execute.js';
import { systemClock } from '../execute/clock.js';
import { planToJson, renderPlanText } from '../report/plan-output.js';
import { writeReports } from '../report/results.js';
import { renderSummaryTable } from '../report/summary.js';
import { fingerprint } from '../secrets.js';
import type { PlannedRow, RowResult } from '../types.js';
import { createProgress, type ProgressMode } from '../ui/progress.js';
import { confirm } from '../ui/prompt.js';
import { runDay2Apply } from './day2.js';
import { loadAndPlan, openSession, reportDir, type Context } from './context.js';

export function selected(ctx: Context, r: PlannedRow): boolean {
  const only = ctx.options.only;
  if (!only) return true;
  return only.lines.has(r.line) || only.keys.has(r.key);
}

function progressMode(ctx: Context): ProgressMode {
  if (ctx.options.format === 'json') return 'json';
  if (ctx.options.quiet) return 'quiet';
  const ci = Boolean(ctx.io.env.CI);
  return ctx.io.stdout.isTTY && !ci ? 'tty' : 'simple';
}

/** Rows the plan did not send still get a result line, so every manifest row appears in the reports. */
function resultFor(r: PlannedRow, status: RowResult['status'], extra: Partial<RowResult> = {}): RowResult {
  return {
    key: r.key,
    file: r.file,
    line: r.line,
    region: r.region,
    ip: r.ip,
    status,
    attempts: 0,
    durationMs: 0,
    echo: r.row?.echo ?? {},
    ...extra,
  };
}

export async function runApply(ctx: Context): Promise<number> {
  const o = ctx.options;
  const session = await openSession(ctx, true);
  if (!session) throw new UsageError('apply needs credentials or --sandbox');
  try {
    const planned = await loadAndPlan(ctx, session);
    const { plan, manifest } = planned;
    const json = o.format === 'json';
    if (json) ctx.out.write(JSON.stringify({ type: 'plan', ...planToJson(plan) }) + '\n');
    else ctx.out.write(renderPlanText(plan, { color: ctx.color }));

    if (plan.summary.invalid > 0 && !o.skipInvalid) {
      ctx.err.write(
        `cgw-batch: refusing to apply: ${plan.summary.invalid} row(s) are invalid (listed above). ` +
          'Fix them, or pass --skip-invalid to create only the valid rows.\n',
      );
      return EXIT.rowsFailed;
    }
    const replaceRows = plan.rows.filter((r) => r.action === 'replace' && selected(ctx, r));
    if (replaceRows.length > 0 && !o.allowReplace) {
      ctx.err.write(
        `cgw-batch: refusing to apply: ${replaceRows.length} row(s) changed IP or ASN, which needs delete + create ` +
          `(lines ${replaceRows.map((r) => r.line).join(', ')}). Pass --allow-replace to do that.\n`,
      );
      return EXIT.rowsFailed;
    }

    const toCreate = plan.rows.filter((r) => (r.action === 'create' || r.action === 'adopt') && selected(ctx, r));
    const day2 = plan.rows.filter(
      (r) => (r.action === 'update' || r.action === 'replace' || (r.action === 'orphan' && o.prune)) && selected(ctx, r),
    );
    const work = toCreate.length + day2.length;
    if (work > 0 && !o.yes) {
      if (!ctx.io.stdin.isTTY) {
        throw new UsageError('apply needs --yes when there is no terminal to confirm on (CI, pipes)');
      }
      const regions = new Set([...toCreate, ...day2].map((r) => r.region)).size;
      const ok = await confirm(
        `Apply ${toCreate.length} create/adopt and ${day2.length} update/replace/delete action(s) in ${regions} region(s)? [y/N] `,
        { input: ctx.io.stdin, output: ctx.io.stderr },
      );
      if (!ok) {
        ctx.err.write('nothing applied.\n');
        return EXIT.ok;
      }
    }

    const journal = await Journal.open(planned.statePath, {
      manifest: { path: manifest.file, hash: manifest.hash },
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
        ctx.err.write('aborted: the journal is consistent; rerun apply to resume\n');
        ctx.io.exitNow(EXIT.interrupted);
      }
    });
    const progress = createProgress(progressMode(ctx), ctx.out, { redactor: ctx.redactor, color: ctx.color });
    const started = new Date();
    let results: RowResult[] = [];
    let stopReason: StopReason | undefined;
    let authMessage: string | undefined;
    try {
      const rows: ExecRow[] = toCreate
        .filter((r) => r.row)
        .map((r) => ({
          key: r.key,
          file: r.file,
          line: r.line,
          region: r.region,
          ip: r.ip,
          spec: r.row!.spec,
          echo: r.row!.echo,
          action: r.action as 'create' | 'adopt',
          existingId: r.existingId,
        }));
      const exec = await executePlan({
        rows,
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
      stopReason = exec.stopReason;
      if (exec.authError) authMessage = `${exec.authError.code}: ${exec.authError.message}`;
      const day2Results =
        day2.length > 0 && !stop.signal.aborted && !exec.authError
          ? await runDay2Apply(ctx, { rows: day2, journal, session, fingerprintKey: fpKey, onEvent: (e) => progress.onEvent(e), stopSignal: stop.signal })
          : [];
      const byKey = new Map([...exec.results, ...day2Results].map((r) => [r.key, r]));
      results = plan.rows
        .filter((r) => r.action !== 'orphan' || byKey.has(r.key))
        .map((r) => {
          const done = byKey.get(r.key);
          if (done) return done;
          if (r.action === 'invalid') {
            const first = r.issues.find((i) => i.severity === 'error');
            return resultFor(r, 'failed', { errorCode: first?.code, errorMessage: `invalid row, not sent: ${first?.message ?? ''}`, errorClass: 'invalid' });
          }
          if (r.action === 'skip') return resultFor(r, 'skipped', { gatewayId: r.existingId });
          const j = journal.get(r.key);
          if (!selected(ctx, r)) {
            return resultFor(r, j ? (j.status as RowResult['status']) : 'pending', {
              gatewayId: j?.gatewayId,
              errorCode: 'NotSelected',
              errorMessage: 'not selected (--only)',
            });
          }
          return resultFor(r, 'pending', { errorCode: 'NotStarted', errorMessage: 'not started: the run stopped' });
        });
      progress.onEvent({
        type: 'run:done',
        interrupted: stopReason === 'interrupt',
        counts: countBy(results),
        durationMs: Date.now() - started.getTime(),
      });
    } finally {
      await progress.close();
      unregister();
      await journal.close();
    }

    const dir = reportDir(ctx, manifest.file);
    const written = await writeReports(
      dir,
      {
        columns: manifest.columns,
        results,
        runId: journal.header.runId,
        manifest: manifest.file,
        startedAt: started.toISOString(),
        finishedAt: new Date().toISOString(),
        command: 'apply',
      },
      { redactor: ctx.redactor },
    );
    for (const w of written.warnings) ctx.err.write(`warning: ${w}\n`);
    if (!json) {
      ctx.out.write(renderSummaryTable(results, { color: ctx.color }));
      ctx.out.write(`reports: ${written.files.join(', ')}\njournal: ${planned.statePath}\n`);
    }
    if (authMessage) {
      ctx.err.write(`cgw-batch: the credentials were rejected (${authMessage}); no further rows were sent. Check the access key and secret.\n`);
      return EXIT.usage;
    }
    if (stopReason === 'interrupt') {
      ctx.err.write('interrupted: rerun the same command to resume; rows in flight keep their ClientTokens.\n');
      return EXIT.interrupted;
    }
    if (stopReason === 'retry-budget') ctx.err.write('cgw-batch: stopped early: the API kept failing and the retry budget ran out.\n');
    if (stopReason === 'max-failures') ctx.err.write('cgw-batch: stopped launching rows after reaching --max-failures.\n');
    const considered = results.filter((r) => r.errorCode !== 'NotSelected');
    return considered.some((r) => r.status === 'failed' || r.status === 'pending' || r.status === 'in-flight') ? EXIT.rowsFailed : EXIT.ok;
  } finally {
    await session.close();
  }
}

export function countBy(results: RowResult[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const r of results) c[r.status] = (c[r.status] ?? 0) + 1;
  return c;
}
