// Carrying out a plan under the locked journal: signals (stop, then abort), live progress, the executor. Shared by
// apply, import and destroy so all three have the same lanes, limits, retries and journal.
import { EXIT } from '../errors.js';
import { systemClock } from '../clock.js';
import { executePlan, type ExecuteResult } from '../execute/execute.js';
import { DEFAULT_RETRY } from '../execute/retry.js';
import { fingerprint, scrubber } from '../secrets.js';
import { Journal, lockJournal, type JournalLock } from '../state/journal.js';
import { clientToken } from '../state/token.js';
import { EXECUTABLE, type Plan, type PlannedRow, type RowResult } from '../types.js';
import { createProgress } from '../ui/progress.js';
import { warn, type Context } from './context.js';
import type { RunEnd } from './reporting.js';
import type { Session } from './session.js';

export interface Execution extends ExecuteResult {
  startedAt: Date;
  finishedAt: Date;
}

/**
 * Runs `fn` holding the journal's lock. apply, import and destroy take it before they plan, so the plan they print
 * is made from the journal they then write.
 */
export async function withJournalLock<T>(ctx: Context, fn: (lock: JournalLock) => Promise<T>): Promise<T> {
  const o = ctx.options;
  const lock = await lockJournal(o.statePath!, { forceUnlock: o.forceUnlock, onWarning: (m) => warn(ctx, m) });
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}

/** Opens the journal under the held lock, carries out the rows, closes it: the one way a command writes. */
export async function carryOut(
  ctx: Context,
  session: Session,
  lock: JournalLock,
  manifest: { path: string; hash: string },
  rows: PlannedRow[],
  command: RunEnd['command'],
): Promise<Execution> {
  const journal = await Journal.open(ctx.options.statePath!, {
    lock,
    manifest,
    endpoint: session.endpoint,
    caller: session.caller,
    // Nothing the API answered (an error quoting an AuthKey, say) reaches the file with a secret in it.
    redact: scrubber(ctx.redactor),
    onWarning: (m) => warn(ctx, m),
  });
  try {
    return await execute(ctx, session, journal, rows, command);
  } finally {
    await journal.close();
  }
}

/** What finishRun needs about this run (nothing executed: `exec` undefined). */
export function runEnd(command: RunEnd['command'], plan: Plan, columns: string[], exec: Execution | undefined, startedAt: Date): RunEnd {
  return {
    command,
    plan,
    columns,
    executed: exec?.results ?? [],
    ...(exec?.stopReason ? { stopReason: exec.stopReason } : {}),
    ...(exec?.stopError ? { stopMessage: `${exec.stopError.code}: ${exec.stopError.message}` } : {}),
    startedAt: exec?.startedAt ?? startedAt,
    finishedAt: exec?.finishedAt ?? new Date(),
    ...(exec ? { requests: exec.requests, throttled: exec.throttled } : {}),
  };
}

/** The rows apply carries out: in this run and executable. Everything else was shown in the plan and is left alone. */
export function executable(plan: Plan): PlannedRow[] {
  return plan.rows.filter((r) => r.inRun && EXECUTABLE.has(r.action));
}

export async function execute(ctx: Context, session: Session, journal: Journal, rows: PlannedRow[], command: string): Promise<Execution> {
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
      ctx.err.write(`aborted: the journal is consistent; rerun ${command} to resume\n`);
      ctx.io.exitNow(EXIT.interrupted);
    }
  });
  const progress = createProgress(o.progress, ctx.out, { redactor: ctx.redactor, color: o.color, columns: o.columns });
  const startedAt = new Date();
  const fpKey = journal.header.fingerprintKey;
  try {
    const exec = await executePlan({
      rows,
      runId: journal.header.runId,
      journal,
      clientFor: (region) => session.conn.clientFor(region),
      account: session.caller.accountId ?? session.caller.accessKeyId,
      makeToken: clientToken,
      fingerprint: (k) => fingerprint(fpKey, k),
      rate: o.rate,
      concurrency: o.concurrency,
      maxFailures: o.maxFailures,
      retry: { ...DEFAULT_RETRY, ...o.retryBackoff },
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
      counts: countBy(exec.results),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
    });
    return { ...exec, startedAt, finishedAt };
  } finally {
    await progress.close();
    unregister();
  }
}

export function countBy(results: readonly RowResult[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const r of results) c[r.status] = (c[r.status] ?? 0) + 1;
  return c;
}
