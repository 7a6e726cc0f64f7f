// The executor: carries out the plan's executable rows on per-region lanes and returns one result per row.
// It decides nothing of its own: actions, gateways, changes and token generations all come from the plan.
import { CloudError } from '../cloud/errors.js';
import type { VpcClient } from '../cloud/types.js';
import type { PlannedRow, RowResult, RunEvent, StopReason } from '../types.js';
import type { Clock } from '../clock.js';
import { result, rowRun, type ExecContext, type JournalPort } from './context.js';
import { runCreate } from './create.js';
import { runDelete, runReplace } from './delete.js';
import { Lane } from './lane.js';
import { DEFAULT_RETRY, RetryBudget, type RetryPolicy } from './retry.js';
import { RunControl, type FailurePolicy } from './run-control.js';
import { runUpdate } from './update.js';

export type { JournalEntry, JournalPort } from './context.js';
export type { FailurePolicy } from './run-control.js';

export interface ExecuteOptions {
  /** The plan's rows to carry out (executable actions, in this run). */
  rows: PlannedRow[];
  /** This run's id (the run:start event names it). */
  runId: string;
  /** The journal's own id: the seed of every ClientToken, the same for every run of the journal. */
  journalId: string;
  journal: JournalPort;
  clientFor: (region: string) => VpcClient;
  /** Lane names are `<account>/<region>`: the API's limits are per account and region. */
  account: string;
  makeToken: (journalId: string, region: string, ip: string, generation: number) => string;
  fingerprint: (authKey: string) => string;
  /** `--rate`: write requests per second per region; undefined = adaptive. */
  rate?: number;
  /** `--concurrency`: requests in flight per region and API at most. */
  concurrency?: number;
  retry?: RetryPolicy;
  retryBudget?: number;
  maxFailures?: FailurePolicy;
  clock: Clock;
  random: () => number;
  onEvent?: (e: RunEvent) => void;
  /** Stop: send nothing new (queued sends are cancelled at once); requests on the wire finish. */
  stopSignal?: AbortSignal;
}

export interface ExecuteResult {
  results: RowResult[];
  stopReason?: StopReason;
  /** The error that stopped the run (credentials, permission). */
  stopError?: CloudError;
  requests: number;
  throttled: number;
}

export async function executePlan(opts: ExecuteOptions): Promise<ExecuteResult> {
  const emit = opts.onEvent ?? (() => {});
  const run = new RunControl(opts.clock, emit, opts.rows.length, opts.maxFailures);
  const ctx: ExecContext = {
    journalId: opts.journalId,
    journal: opts.journal,
    clock: opts.clock,
    random: opts.random,
    emit,
    retry: opts.retry ?? DEFAULT_RETRY,
    budget: new RetryBudget(opts.retryBudget ?? 500),
    run,
    makeToken: opts.makeToken,
    fingerprint: opts.fingerprint,
    counters: { requests: 0, throttled: 0 },
  };

  const lanes = new Map<string, Lane>();
  const laneFor = (region: string): Lane => {
    let lane = lanes.get(region);
    if (!lane) {
      lane = new Lane(`${opts.account}/${region}`, region, opts.clientFor(region), {
        clock: opts.clock,
        random: opts.random,
        rate: opts.rate,
        concurrency: opts.concurrency ?? 16,
      });
      lanes.set(region, lane);
    }
    return lane;
  };
  for (const r of opts.rows) laneFor(r.ref.region).total++;
  run.whenStopped(() => {
    for (const l of lanes.values()) l.close();
  });
  const onStop = (): void => run.stop('interrupt', 'interrupted: finishing the requests on the wire, sending nothing new');
  if (opts.stopSignal?.aborted) onStop();
  opts.stopSignal?.addEventListener('abort', onStop, { once: true });
  emit({ type: 'run:start', runId: opts.runId, lanes: [...lanes.values()].map((l) => ({ lane: l.name, region: l.region, total: l.total })) });

  const rateTimer = setInterval(() => {
    for (const l of lanes.values()) emit({ type: 'lane:rate', lane: l.name, ratePerSec: l.rate, inFlight: l.inFlight });
  }, 1000);
  rateTimer.unref();

  const runOne = async (row: PlannedRow): Promise<RowResult> => {
    const lane = laneFor(row.ref.region);
    const rr = rowRun(ctx, row, lane);
    let r: RowResult;
    try {
      switch (row.action) {
        case 'create':
        case 'retry':
        case 'resume':
        case 'adopt':
          r = await runCreate(ctx, rr);
          break;
        case 'update':
          r = await runUpdate(ctx, rr);
          break;
        case 'delete':
          r = await runDelete(ctx, rr);
          break;
        case 'replace':
          r = await runReplace(ctx, rr);
          break;
        default:
          // The caller passes executable rows only; anything else is reported, never sent.
          r = result(ctx, rr, 'pending', { errorCode: 'NotExecutable', errorMessage: `action ${row.action} is not carried out` });
      }
    } catch (e) {
      // A journal write failed: the row's state is unknown to us, so say so rather than guess.
      run.countFailure();
      const ce = e instanceof CloudError ? e : undefined;
      r = result(ctx, rr, rr.attempts > 0 && (row.action === 'create' || row.action === 'retry' || row.action === 'resume') ? 'unknown' : 'failed', {
        errorCode: ce?.code ?? 'JournalError',
        errorMessage: ce?.message ?? `could not record the row in the journal: ${(e as Error)?.message ?? String(e)}`,
        errorClass: 'transient',
      });
    }
    emit({ type: 'row:done', lane: lane.name, result: r });
    return r;
  };

  let results: RowResult[];
  try {
    results = await Promise.all(opts.rows.map(runOne));
  } finally {
    clearInterval(rateTimer);
    opts.stopSignal?.removeEventListener('abort', onStop);
    for (const l of lanes.values()) l.close();
  }
  const out: ExecuteResult = { results, requests: ctx.counters.requests, throttled: ctx.counters.throttled };
  if (run.reason) out.stopReason = run.reason;
  if (run.stopError) out.stopError = run.stopError;
  return out;
}
