// The executor: per-region lanes, paced and capped, exactly-once creates through journaled ClientTokens; every row ends as a value.
import { createHash } from 'node:crypto';
import { CloudError, toCloudError } from '../cloud/errors.js';
import type { VpcClient } from '../cloud/types.js';
import type { GatewaySpec, RowResult, RowStatus, RunEvent, Tag } from '../types.js';
import type { Clock } from './clock.js';
import { Lane } from './lane.js';
import { identityDiff } from './match.js';
import { backoffMs, DEFAULT_RETRY, RetryBudget, type RetryPolicy } from './retry.js';

/** A row the executor is asked to bring about. `action` comes from the plan. */
export interface ExecRow {
  key: string;
  file: string;
  line: number;
  region: string;
  ip: string;
  spec: GatewaySpec;
  echo: Record<string, string>;
  action: 'create' | 'adopt';
  /** For `adopt`: the gateway found by the plan's inventory check. */
  existingId?: string;
}

/** What the executor needs from the journal (src/state/journal.ts implements it). */
export interface JournalEntry {
  status: RowStatus;
  token: string;
  generation: number;
  attempts: number;
  gatewayId?: string;
  errorCode?: string;
  errorMessage?: string;
  errorClass?: string;
  specHash?: string;
  requestIds: string[];
}

export interface JournalPort {
  get(key: string): JournalEntry | undefined;
  record(key: string, patch: Record<string, unknown>): Promise<unknown>;
}

export interface FailurePolicy {
  count?: number;
  percent?: number;
}

export interface ExecuteOptions {
  rows: ExecRow[];
  runId: string;
  journal: JournalPort;
  clientFor: (region: string) => VpcClient;
  /** Lane names are `<account>/<region>`: the API's limits are per account and region. */
  account: string;
  makeToken: (runId: string, region: string, ip: string, generation: number) => string;
  fingerprint: (authKey: string) => string;
  /** `--rate`: requests per second per region; undefined = adaptive. */
  rate?: number;
  initialRate?: number;
  concurrency?: number;
  retry?: RetryPolicy;
  retryBudget?: number;
  maxFailures?: FailurePolicy;
  retryFailed?: boolean;
  clock: Clock;
  random: () => number;
  onEvent?: (e: RunEvent) => void;
  /** Soft stop: launch nothing new, let in-flight requests finish. */
  stopSignal?: AbortSignal;
  /** Hard stop: abandon in-flight waits at once (the journal stays consistent: intents were written whole). */
  abortSignal?: AbortSignal;
}

export type StopReason = 'interrupt' | 'max-failures' | 'auth' | 'retry-budget';

export interface ExecuteResult {
  results: RowResult[];
  stopReason?: StopReason;
  authError?: CloudError;
  requests: number;
  throttled: number;
}

/** Stable hash of what a row asks for (AuthKey only through its keyed fingerprint): tells "the user changed this row". */
export function specHash(spec: GatewaySpec, authKeyFingerprint: string | undefined): string {
  const tags = [...spec.tags].sort((a: Tag, b: Tag) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const canonical = JSON.stringify([
    spec.region,
    spec.ip,
    spec.name ?? null,
    spec.description ?? null,
    spec.asn ?? null,
    spec.resourceGroupId ?? null,
    tags.map((t) => [t.key, t.value]),
    authKeyFingerprint ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

const RETRYABLE_CLASSES = new Set(['throttled', 'conflict', 'transient', 'auth', 'interrupted']);

export async function executePlan(opts: ExecuteOptions): Promise<ExecuteResult> {
  const retry = opts.retry ?? DEFAULT_RETRY;
  const budget = new RetryBudget(opts.retryBudget ?? 500);
  const emit = opts.onEvent ?? (() => {});
  const clock = opts.clock;
  const stop = new AbortController();
  let stopReason: StopReason | undefined;
  let authError: CloudError | undefined;
  let failed = 0;
  let requests = 0;
  let throttled = 0;
  const total = opts.rows.length;

  const requestStop = (reason: StopReason, message: string) => {
    if (stop.signal.aborted) return;
    stopReason = reason;
    emit({ type: 'run:stopping', reason, message });
    stop.abort();
  };
  const onSoftStop = () => requestStop('interrupt', 'interrupted: finishing requests in flight, launching nothing new');
  if (opts.stopSignal?.aborted) onSoftStop();
  opts.stopSignal?.addEventListener('abort', onSoftStop, { once: true });
  const hard = opts.abortSignal;

  const lanes = new Map<string, Lane>();
  const laneFor = (region: string): Lane => {
    let lane = lanes.get(region);
    if (!lane) {
      lane = new Lane(
        `${opts.account}/${region}`,
        region,
        opts.clientFor(region),
        clock,
        opts.random,
        { initialRate: opts.rate ?? opts.initialRate ?? 2, ceiling: opts.rate },
        opts.concurrency ?? 16,
      );
      lanes.set(region, lane);
    }
    return lane;
  };
  for (const r of opts.rows) laneFor(r.region).total++;
  emit({
    type: 'run:start',
    runId: opts.runId,
    lanes: [...lanes.values()].map((l) => ({ lane: l.name, region: l.region, total: l.total })),
  });

  const maxFailuresReached = (): boolean => {
    const p = opts.maxFailures;
    if (!p) return false;
    if (p.count !== undefined && failed >= p.count) return true;
    if (p.percent !== undefined && total > 0 && (failed / total) * 100 >= p.percent) return true;
    return false;
  };

  const rateTimer = setInterval(() => {
    for (const l of lanes.values()) emit({ type: 'lane:rate', lane: l.name, ratePerSec: l.pacer.rate, inFlight: l.inFlight });
  }, 1000);
  rateTimer.unref();

  const runRow = async (row: ExecRow, lane: Lane): Promise<RowResult> => {
    const started = clock.now();
    const base = {
      key: row.key,
      file: row.file,
      line: row.line,
      region: row.region,
      ip: row.ip,
      echo: row.echo,
    };
    const result = (status: RowStatus, extra: Partial<RowResult> = {}): RowResult => ({
      ...base,
      status,
      attempts: 0,
      durationMs: clock.now() - started,
      ...extra,
    });

    if (stop.signal.aborted || hard?.aborted) {
      return result('pending', { errorCode: 'NotStarted', errorMessage: `not started: the run stopped (${stopReason ?? 'interrupt'})` });
    }

    const prior = opts.journal.get(row.key);
    const fp = row.spec.authKey ? opts.fingerprint(row.spec.authKey) : undefined;
    const hash = specHash(row.spec, fp);
    const described = {
      region: row.region,
      ip: row.ip,
      line: row.line,
      specHash: hash,
      authKeyFingerprint: fp,
      name: row.spec.name,
      description: row.spec.description,
      asn: row.spec.asn,
      resourceGroupId: row.spec.resourceGroupId,
      tags: row.spec.tags,
      echo: row.echo,
    };

    if (prior && (prior.status === 'created' || prior.status === 'adopted' || prior.status === 'updated')) {
      return result('skipped', { gatewayId: prior.gatewayId });
    }

    if (row.action === 'adopt' && row.existingId) {
      await opts.journal.record(row.key, {
        ...described,
        token: prior?.token ?? opts.makeToken(opts.runId, row.region, row.ip, prior?.generation ?? 1),
        generation: prior?.generation ?? 1,
        status: 'adopted',
        gatewayId: row.existingId,
        operation: 'create',
        finishedAt: new Date(clock.now()).toISOString(),
      });
      return result('adopted', { gatewayId: row.existingId });
    }

    // Exactly-once: the token is the journal's, reused on every retry and after any restart. A new generation
    // (and so a new token) only after a definitive failure, when the user changed the row or asked to retry.
    let generation = prior?.generation ?? 1;
    let token = prior?.token;
    const priorAttempts = prior?.attempts ?? 0;
    if (prior?.status === 'failed' && !RETRYABLE_CLASSES.has(prior.errorClass ?? '')) {
      if (prior.specHash !== hash || opts.retryFailed) {
        generation += 1;
        token = undefined;
      } else {
        return result('failed', {
          errorCode: prior.errorCode,
          errorClass: prior.errorClass,
          errorMessage: `failed in an earlier run: ${prior.errorMessage ?? prior.errorCode ?? 'unknown error'} (fix the row, or rerun with --retry-failed)`,
          gatewayId: prior.gatewayId,
          requestId: prior.requestIds.at(-1),
        });
      }
    }
    token ??= opts.makeToken(opts.runId, row.region, row.ip, generation);
    const requestIds: string[] = [...(prior?.requestIds ?? [])].slice(-5);

    // The intent is durable before the first send.
    await opts.journal.record(row.key, {
      ...described,
      token,
      generation,
      status: 'in-flight',
      operation: 'create',
      attempts: priorAttempts,
      startedAt: new Date(started).toISOString(),
      errorCode: undefined,
      errorMessage: undefined,
      errorClass: undefined,
    });

    let attempts = 0;
    let failures = 0;
    let throttledHere = 0;
    const finish = async (status: RowStatus, extra: Partial<RowResult>): Promise<RowResult> => {
      const r = result(status, { attempts, requestId: requestIds.at(-1), ...extra });
      await opts.journal.record(row.key, {
        status,
        gatewayId: r.gatewayId,
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
        errorClass: r.errorClass,
        attempts: priorAttempts + attempts,
        requestIds,
        finishedAt: new Date(clock.now()).toISOString(),
        durationMs: r.durationMs,
      });
      if (status === 'failed') {
        failed++;
        if (maxFailuresReached()) requestStop('max-failures', `stopping: ${failed} rows failed (--max-failures)`);
      }
      return r;
    };
    const fail = (e: CloudError, message?: string, cls?: string) =>
      finish('failed', { errorCode: e.code, errorMessage: message ?? e.message, errorClass: cls ?? e.errorClass, requestId: e.requestId ?? requestIds.at(-1) });

    for (;;) {
      // Leave the row in flight (its token stays in the journal) when the run is aborted between attempts.
      if (hard?.aborted || (attempts > 0 && stop.signal.aborted && stopReason !== 'max-failures')) {
        await opts.journal.record(row.key, { attempts: priorAttempts + attempts, requestIds, errorClass: 'interrupted' });
        return result('in-flight', {
          attempts,
          errorCode: 'Interrupted',
          errorMessage: 'interrupted before the outcome was known; the next apply resumes it with the same ClientToken',
          errorClass: 'interrupted',
          requestId: requestIds.at(-1),
        });
      }
      if (!(await lane.pacer.acquire(hard))) continue;
      attempts++;
      requests++;
      emit({ type: 'row:start', lane: lane.name, key: row.key, line: row.line, attempt: attempts });
      lane.inFlight++;
      let err: CloudError;
      try {
        const out = await lane.client.createCustomerGateway({
          regionId: row.spec.region,
          ipAddress: row.spec.ip,
          name: row.spec.name,
          description: row.spec.description,
          asn: row.spec.asn,
          authKey: row.spec.authKey,
          resourceGroupId: row.spec.resourceGroupId,
          tags: row.spec.tags,
          clientToken: token,
        });
        lane.inFlight--;
        lane.pacer.onSuccess();
        budget.refund();
        if (out.requestId) requestIds.push(out.requestId);
        return finish('created', { gatewayId: out.id });
      } catch (e) {
        lane.inFlight--;
        err = toCloudError(e);
        if (err.requestId) requestIds.push(err.requestId);
      }

      switch (err.errorClass) {
        case 'auth':
          authError ??= err;
          requestStop('auth', `stopping: the credentials were rejected (${err.code})`);
          return fail(err);
        case 'exists': {
          // Our own earlier attempt (timed out, dropped) may have created it: find it by IP and adopt it if it is the row's.
          let inventory;
          try {
            inventory = await lane.inventorySince(clock.now(), retry, hard);
          } catch (e) {
            return fail(toCloudError(e), `the IP already exists, and listing the region to reconcile failed: ${toCloudError(e).message}`, 'transient');
          }
          const gw = inventory.find((g) => g.ip === row.spec.ip);
          if (!gw) {
            failures++;
            if (failures >= retry.maxAttempts) return fail(err);
            continue;
          }
          const diff = identityDiff(row.spec, gw);
          if (diff.length === 0) return finish('adopted', { gatewayId: gw.id });
          return fail(
            err,
            `IP ${row.spec.ip} is already used by ${gw.id} in ${row.region}, whose ${diff.join(' and ')} differ from this row; ` +
              `delete or rename one of them, or change the row`,
            'conflict',
          );
        }
        case 'mismatch':
          return fail(
            err,
            'the row changed while an earlier attempt with the same ClientToken had an unknown outcome; ' +
              'check the gateway in the console, then rerun with --retry-failed',
          );
        case 'throttled':
          throttled++;
          throttledHere++;
          lane.pacer.onThrottle(err.retryAfterMs);
          if (throttledHere >= retry.maxThrottledAttempts) return fail(err, `${err.message} (still throttled after ${throttledHere} attempts)`);
          if (!budget.trySpend(err)) {
            requestStop('retry-budget', 'stopping: the retry budget is spent (the API keeps failing)');
            return fail(err, `${err.message} (retry budget spent)`);
          }
          emit({ type: 'row:retry', lane: lane.name, key: row.key, line: row.line, attempt: attempts, code: err.code, delayMs: err.retryAfterMs ?? 0 });
          continue;
        case 'conflict':
        case 'transient': {
          failures++;
          if (failures >= retry.maxAttempts) return fail(err, `${err.message} (gave up after ${attempts} attempts)`);
          if (!budget.trySpend(err)) {
            requestStop('retry-budget', 'stopping: the retry budget is spent (the API keeps failing)');
            return fail(err, `${err.message} (retry budget spent)`);
          }
          const delay = backoffMs(retry, failures, opts.random);
          emit({ type: 'row:retry', lane: lane.name, key: row.key, line: row.line, attempt: attempts, code: err.code, delayMs: delay });
          await clock.sleep(delay, hard);
          continue;
        }
        default:
          return fail(err);
      }
    }
  };

  const results = new Array<RowResult>(opts.rows.length);
  try {
    await Promise.all(
      opts.rows.map((row, i) => {
        const lane = laneFor(row.region);
        return lane.limit(async () => {
          let r: RowResult;
          try {
            r = await runRow(row, lane);
          } catch (e) {
            // A journal write failed: the row's state is unknown to us, so say so rather than guess.
            const ce = e instanceof CloudError ? e : undefined;
            r = {
              key: row.key, file: row.file, line: row.line, region: row.region, ip: row.ip, echo: row.echo,
              status: 'failed', attempts: 0, durationMs: 0,
              errorCode: ce?.code ?? 'JournalError',
              errorMessage: ce?.message ?? `could not record the row in the journal: ${(e as Error)?.message ?? String(e)}`,
              errorClass: 'transient',
            };
          }
          results[i] = r;
          emit({ type: 'row:done', lane: lane.name, result: r });
        });
      }),
    );
  } finally {
    clearInterval(rateTimer);
    opts.stopSignal?.removeEventListener('abort', onSoftStop);
  }
  if (stopReason === undefined && opts.stopSignal?.aborted) stopReason = 'interrupt';
  return { results, stopReason, authError, requests, throttled };
}
