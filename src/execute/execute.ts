// The executor: carries out the plan's executable rows on per-region lanes and returns one result per row.
// It decides nothing of its own: actions, gateways, changes and token generations all come from the plan.
import { CloudError } from '../cloud/errors.js';
import type { VpcClient } from '../cloud/types.js';
import type { PlannedRow, RowResult, RunEvent, StopReason } from '../types.js';
import type { Clock } from '../clock.js';
import { result, rowRun, type ExecContext, type JournalPort, type RowRun } from './context.js';
import { runCreate } from './create.js';
import { runDelete, runReplace } from './delete.js';
import { Lane } from './lane.js';
import { generatePsk } from './psk.js';
import { DEFAULT_RETRY, RetryBudget, type RetryPolicy } from './retry.js';
import { RunControl, type FailurePolicy } from './run-control.js';
import { connectionKey, countingGateway, isSite, runSiteRow, type SiteRuntime } from './site.js';
import { runUpdate } from './update.js';
import { VpnGatewayLane } from './vpn-lane.js';

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
  makeToken: (journalId: string, region: string, ip: string, generation: number, resource?: string) => string;
  fingerprint: (authKey: string) => string;
  /** `psk: generate` (tests pass their own; default: a CSPRNG over letters and digits). */
  newPsk?: () => string;
  /** The longest wait for a VPN gateway to be active again (default 5 minutes). */
  vpnWaitMs?: number;
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

/** The most a connection write waits for its VPN gateway to be active again (Terraform's connection timeouts: 5 min). */
export const DEFAULT_VPN_WAIT_MS = 300_000;

/** A customer gateway's action on its row run; `skip` (a site row's gateway with nothing to do) reports the journal's state. */
async function gatewayAction(ctx: ExecContext, rr: RowRun): Promise<RowResult> {
  const row = rr.row;
  switch (row.action) {
    case 'create':
    case 'retry':
    case 'resume':
    case 'adopt':
      return runCreate(ctx, rr);
    case 'update':
      return runUpdate(ctx, rr);
    case 'delete':
      return runDelete(ctx, rr);
    case 'replace':
      return runReplace(ctx, rr);
    case 'skip': {
      const j = ctx.journal.get(row.ref.key);
      const id = j?.gatewayId ?? row.existingId;
      return result(ctx, rr, j?.status ?? 'created', { ...(id !== undefined ? { gatewayId: id } : {}), note: row.reason });
    }
    default:
      // The caller passes executable rows only; anything else is reported, never sent.
      return result(ctx, rr, 'pending', { errorCode: 'NotExecutable', errorMessage: `action ${row.action} is not carried out` });
  }
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
    newPsk: opts.newPsk ?? (() => generatePsk()),
    vpnWaitMs: opts.vpnWaitMs ?? DEFAULT_VPN_WAIT_MS,
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

  // One serial lane per VPN gateway for the connections, named like the region lanes plus the gateway.
  const vpnLanes = new Map<string, VpnGatewayLane>();
  const vpnLane = (region: string, vpnGatewayId: string): VpnGatewayLane => {
    const k = `${region}/${vpnGatewayId}`;
    let l = vpnLanes.get(k);
    if (!l) {
      l = new VpnGatewayLane(`${opts.account}/${k}`, region, vpnGatewayId);
      vpnLanes.set(k, l);
      if (run.stopped) l.close();
    }
    return l;
  };
  // Connection deletes free customer gateways: a gateway delete of this run waits for the deletes of the connections
  // the journal says use it (a site's second gateway may be a row of its own).
  const frees = new Map<string, Promise<void>>();
  const freeing = new Map<string, () => void>();
  for (const r of opts.rows) {
    if (r.connection && (r.connection.action === 'delete' || r.connection.action === 'replace')) {
      const j = ctx.journal.get(connectionKey(r))?.connection;
      const ids = new Set([...(j?.customerGatewayIds ?? []), ...(r.existingId ? [r.existingId] : []), ...(r.gateway2?.existingId ? [r.gateway2.existingId] : [])]);
      const done = new Promise<void>((resolve) => freeing.set(r.ref.key, resolve));
      for (const id of ids) frees.set(id, Promise.all([frees.get(id), done]).then(() => undefined));
    }
    const on = countingGateway(ctx, r);
    if (on) vpnLane(r.ref.region, on).total++;
  }

  run.whenStopped(() => {
    for (const l of lanes.values()) l.close();
    for (const l of vpnLanes.values()) l.close();
  });
  const onStop = (): void => run.stop('interrupt', 'interrupted: finishing the requests on the wire, sending nothing new');
  if (opts.stopSignal?.aborted) onStop();
  opts.stopSignal?.addEventListener('abort', onStop, { once: true });
  emit({
    type: 'run:start',
    runId: opts.runId,
    lanes: [
      ...[...lanes.values()].map((l) => ({ lane: l.name, region: l.region, total: l.total })),
      ...[...vpnLanes.values()].map((l) => ({ lane: l.name, region: l.region, total: l.total, kind: 'connection' as const })),
    ],
  });

  const rateTimer = setInterval(() => {
    for (const l of lanes.values()) emit({ type: 'lane:rate', lane: l.name, ratePerSec: l.rate, inFlight: l.inFlight });
  }, 1000);
  rateTimer.unref();

  /** A row's customer-gateway action; a delete first waits for the connection deletes that free its gateway. */
  const runGateway = async (row: PlannedRow, part: { siteKey?: string; eventRef?: PlannedRow['ref'] } = {}): Promise<RowResult> => {
    const rr = rowRun(ctx, row, laneFor(row.ref.region), part);
    if ((row.action === 'delete' || row.action === 'replace') && row.existingId !== undefined) await frees.get(row.existingId);
    return gatewayAction(ctx, rr);
  };
  const rt: SiteRuntime = {
    laneFor,
    vpnLane,
    runGateway,
    connectionDeleted: (key) => freeing.get(key)?.(),
  };

  const runOne = async (row: PlannedRow): Promise<RowResult> => {
    const lane = laneFor(row.ref.region);
    const rr = rowRun(ctx, row, lane);
    let r: RowResult;
    try {
      r = isSite(row) ? await runSiteRow(ctx, rt, row) : await runGateway(row);
    } catch (e) {
      rt.connectionDeleted(row.ref.key);
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
    for (const l of vpnLanes.values()) l.close();
  }
  const out: ExecuteResult = { results, requests: ctx.counters.requests, throttled: ctx.counters.throttled };
  if (run.reason) out.stopReason = run.reason;
  if (run.stopError) out.stopError = run.stopError;
  return out;
}
