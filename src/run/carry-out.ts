// Carrying out a plan under the locked journal: signals (stop, then abort), live progress, the executor. Shared by
// apply, import and destroy so all three have the same lanes, limits, retries and journal.
import { systemClock } from '../clock.js';
import { EXIT } from '../errors.js';
import { executePlan, type ExecuteResult } from '../execute/execute.js';
import { hasWork } from '../execute/site.js';
import { DEFAULT_RETRY } from '../execute/retry.js';
import type { ManifestOptions } from '../options.js';
import { fingerprint } from '../secrets.js';
import type { Journal, JournalRow } from '../state/journal.js';
import { clientToken } from '../state/token.js';
import { countOutcomes } from '../report/outcome.js';
import { truthRows } from '../report/truth.js';
import type { Plan, PlannedRow, RowResult } from '../types.js';
import { createProgress } from '../ui/progress.js';
import { warn, type Context } from './context.js';
import { openForAppend, type LockedRun } from './journal-run.js';
import { listRegions, type Session } from './session.js';

export interface Execution extends ExecuteResult {
  startedAt: Date;
  finishedAt: Date;
  /** The journal's rows as this run left them (in memory: the file is not read again), and its id. */
  journalRows: ReadonlyMap<string, JournalRow>;
  journalId: string;
}

/**
 * The rows a run carries out: in this run, and executable themselves or in a part (a site row whose gateway is up to
 * date and whose connection is to be created). Everything else was shown in the plan and is left alone.
 */
export function executable(plan: Plan): PlannedRow[] {
  return plan.rows.filter((r) => r.inRun && hasWork(r));
}

/** Opens the journal from the run's read, carries out the rows, closes it: the one way a command writes rows. */
export async function carryOut(
  ctx: Context<ManifestOptions>,
  session: Session,
  run: LockedRun,
  manifestHash: string,
  plan: Plan,
): Promise<Execution> {
  const journal = await openForAppend(ctx, run, session, manifestHash);
  let exec: Omit<Execution, 'journalRows' | 'journalId'>;
  try {
    // While the executor runs, its handler owns Ctrl-C (finish what is on the wire; a second one abandons the
    // journal); before and after it, the locked run's handler leaves at once (run/journal-run.ts).
    run.executing = true;
    try {
      exec = await execute(ctx, session, journal, plan, run.runId);
    } finally {
      run.executing = false;
    }
    if (exec.stopReason !== 'interrupt') await recordQuotaCeilings(ctx, session, journal, exec.results);
  } finally {
    await journal.close();
  }
  return { ...exec, journalRows: journal.rows(), journalId: journal.header.runId };
}

/** The answers that say a region's customer gateways are at their quota. */
const QUOTA_FULL = new Set(['Resource.QuotaFull', 'CreateVpnUserGatewayQuotaFull.QuotaFull']);

/**
 * A create refused for a full quota tells the region's real ceiling: the gateways it has now. One listing per such
 * region, recorded on the refused rows, so the next plan counts with it instead of an assumed number. A listing
 * that fails leaves the plan as it was (a warning, never a lost run).
 */
async function recordQuotaCeilings(ctx: Context<ManifestOptions>, session: Session, journal: Journal, results: readonly RowResult[]): Promise<void> {
  const full = new Map<string, string[]>();
  for (const r of results) {
    if (r.errorCode === undefined || !QUOTA_FULL.has(r.errorCode)) continue;
    full.set(r.ref.region, [...(full.get(r.ref.region) ?? []), r.ref.key]);
  }
  for (const [region, keys] of full) {
    let count: number;
    try {
      count = (await listRegions(ctx, session, [region])).get(region)?.length ?? 0;
    } catch {
      warn(ctx, `${region} answered that its customer gateway quota is full, and listing it to learn the ceiling failed; the next plan assumes the quota as before`);
      continue;
    }
    for (const key of keys) await journal.record(key, { quotaLimit: count });
  }
}

async function execute(ctx: Context<ManifestOptions>, session: Session, journal: Journal, plan: Plan, runId: string): Promise<Omit<Execution, 'journalRows' | 'journalId'>> {
  const o = ctx.options;
  const stop = new AbortController();
  let signals = 0;
  const unregister = ctx.io.onSignal(() => {
    signals++;
    if (signals === 1) {
      // The live view shows the stop itself; a line on stderr under it would break its redraw.
      if (o.progress !== 'tty') ctx.err.write('\ninterrupted: finishing the requests on the wire, sending nothing new (Ctrl-C again to abort at once)\n');
      stop.abort();
    } else {
      journal.abandon();
      ctx.err.write(`aborted: the journal is consistent; rerun ${o.command} to resume\n`);
      ctx.io.exitNow(EXIT.interrupted);
    }
  });
  const progress = createProgress(o.progress, ctx.out, { redactor: ctx.redactor, color: o.color, columns: o.columns });
  const startedAt = new Date();
  const fpKey = journal.header.fingerprintKey;
  try {
    const exec = await executePlan({
      rows: executable(plan),
      runId,
      journalId: journal.header.runId,
      journal,
      clientFor: (region) => session.conn.clientFor(region),
      account: session.caller.accountId ?? session.caller.accessKeyId,
      makeToken: clientToken,
      fingerprint: (k) => fingerprint(fpKey, k),
      rate: o.rate,
      concurrency: o.concurrency,
      maxFailures: o.maxFailures,
      retry: { ...DEFAULT_RETRY, ...o.retryBackoff },
      ...(o.vpnWaitMs !== undefined ? { vpnWaitMs: o.vpnWaitMs } : {}),
      clock: systemClock,
      random: Math.random,
      onEvent: (e) => progress.onEvent(e),
      stopSignal: stop.signal,
    });
    const finishedAt = new Date();
    progress.onEvent({
      type: 'run:done',
      interrupted: exec.stopReason === 'interrupt',
      ...(exec.stopReason ? { stopReason: exec.stopReason } : {}),
      // The same rows and the same count as the summary and the reports: the journal's rows and what this run added.
      counts: countOutcomes(truthRows(plan, journal.rows(), exec.results).map((r) => r.outcome)),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
    });
    return { ...exec, startedAt, finishedAt };
  } finally {
    await progress.close();
    unregister();
  }
}


