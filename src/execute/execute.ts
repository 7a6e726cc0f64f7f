// The executor: per-region lanes, paced and capped; exactly-once creates through journaled ClientTokens, in-place updates,
// deletes and replaces under the same retry rules; every row ends as a value.
import { createHash } from 'node:crypto';
import { CloudError, toCloudError } from '../cloud/errors.js';
import type { VpcClient } from '../cloud/types.js';
import { OWNED, type FieldChange, type RecordedAttributes, type GatewaySpec, type RowResult, type RowStatus, type RunEvent, type Tag } from '../types.js';
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
  action: 'create' | 'adopt' | 'update' | 'replace' | 'delete';
  /** adopt: the gateway the plan found; update / replace / delete: the journal's gateway. */
  existingId?: string;
  /** update / replace: what changed (update sends only these). */
  changes?: FieldChange[];
  /** replace after an IP change: the journal key of the gateway being replaced (defaults to `key`). */
  replacesKey?: string;
  /** create: the journal's gateway for this row is gone from the cloud (drift); create it again with a new token. */
  recreate?: boolean;
}

/** What the executor needs from the journal (src/state/journal.ts implements it). */
export interface JournalEntry extends RecordedAttributes {
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
    // Rows waiting for a send slot give it up now; only requests already on the wire are waited for.
    for (const l of lanes.values()) l.scheduler.close();
  };
  const onSoftStop = () => requestStop('interrupt', 'interrupted: finishing requests in flight, launching nothing new');
  const lanes = new Map<string, Lane>();
  if (opts.stopSignal?.aborted) onSoftStop();
  opts.stopSignal?.addEventListener('abort', onSoftStop, { once: true });
  const hard = opts.abortSignal;
  const onHardStop = () => {
    for (const l of lanes.values()) l.scheduler.close();
  };
  hard?.addEventListener('abort', onHardStop, { once: true });
  const laneFor = (region: string): Lane => {
    let lane = lanes.get(region);
    if (!lane) {
      lane = new Lane(
        `${opts.account}/${region}`,
        region,
        opts.clientFor(region),
        clock,
        opts.random,
        { rate: opts.rate, publishedRate: opts.initialRate ?? 2, maxConcurrency: opts.concurrency ?? 16 },
      );
      if (stop.signal.aborted || hard?.aborted) lane.scheduler.close();
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
    for (const l of lanes.values()) emit({ type: 'lane:rate', lane: l.name, ratePerSec: l.scheduler.rate, inFlight: l.scheduler.inFlight });
  }, 1000);
  rateTimer.unref();

  /** Per-row attempt bookkeeping, shared by every call a row makes (replace = delete + create). */
  interface Attempts {
    attempts: number;
    failures: number;
    throttled: number;
    requestIds: string[];
  }
  type Sent<T> =
    | { ok: true; value: T }
    | { ok: false; err: CloudError; message?: string; cls?: string }
    | { ok: false; interrupted: true };
  /** What a call-specific handler decides for an error: retry it, finish with a value, or fail with a message. */
  type Special<T> = { retry: true } | { ok: true; value: T } | { fail: true; message?: string; cls?: string } | undefined;

  /**
   * One API call under the lane's scheduler with the run's retry rules: throttling slows the lane, conflicts and
   * transient errors back off with full jitter, auth stops the run. `special` sees each error first.
   */
  const send = async <T>(
    row: ExecRow,
    lane: Lane,
    st: Attempts,
    call: () => Promise<T & { requestId?: string }>,
    special?: (err: CloudError) => Promise<Special<T>>,
  ): Promise<Sent<T>> => {
    for (;;) {
      if (hard?.aborted || (st.attempts > 0 && stop.signal.aborted && stopReason !== 'max-failures')) {
        return { ok: false, interrupted: true };
      }
      // The lane decides when this request may leave; a stop cancels the wait (nothing was sent).
      const ticket = await lane.scheduler.acquire();
      if (!ticket) return { ok: false, interrupted: true };
      st.attempts++;
      requests++;
      emit({ type: 'row:start', lane: lane.name, key: row.key, line: row.line, attempt: st.attempts });
      let err: CloudError;
      try {
        const value = await call();
        ticket.release({ kind: 'ok' });
        budget.refund();
        if (value.requestId) st.requestIds.push(value.requestId);
        return { ok: true, value };
      } catch (e) {
        err = toCloudError(e);
        // Throttling slows the lane and pauses it for the server's retry-after hint; any other error says nothing about the rate.
        ticket.release(err.errorClass === 'throttled' ? { kind: 'throttled', retryAfterMs: err.retryAfterMs } : { kind: 'error' });
        if (err.requestId) st.requestIds.push(err.requestId);
      }
      const s = special ? await special(err) : undefined;
      if (s && 'ok' in s) return s;
      if (s && 'fail' in s) return { ok: false, err, message: s.message, cls: s.cls };
      if (s && 'retry' in s) {
        st.failures++;
        if (st.failures >= retry.maxAttempts) return { ok: false, err };
        continue;
      }
      switch (err.errorClass) {
        case 'auth':
          authError ??= err;
          requestStop('auth', `stopping: the credentials were rejected (${err.code})`);
          return { ok: false, err };
        case 'throttled':
          throttled++;
          st.throttled++;
          if (st.throttled >= retry.maxThrottledAttempts) return { ok: false, err, message: `${err.message} (still throttled after ${st.throttled} attempts)` };
          if (!budget.trySpend(err)) {
            requestStop('retry-budget', 'stopping: the retry budget is spent (the API keeps failing)');
            return { ok: false, err, message: `${err.message} (retry budget spent)` };
          }
          emit({ type: 'row:retry', lane: lane.name, key: row.key, line: row.line, attempt: st.attempts, code: err.code, delayMs: err.retryAfterMs ?? 0 });
          continue;
        case 'conflict':
        case 'transient': {
          st.failures++;
          if (st.failures >= retry.maxAttempts) return { ok: false, err, message: `${err.message} (gave up after ${st.attempts} attempts)` };
          if (!budget.trySpend(err)) {
            requestStop('retry-budget', 'stopping: the retry budget is spent (the API keeps failing)');
            return { ok: false, err, message: `${err.message} (retry budget spent)` };
          }
          const delay = backoffMs(retry, st.failures, opts.random);
          emit({ type: 'row:retry', lane: lane.name, key: row.key, line: row.line, attempt: st.attempts, code: err.code, delayMs: delay });
          await clock.sleep(delay, hard);
          continue;
        }
        default:
          return { ok: false, err };
      }
    }
  };

  const runRow = async (row: ExecRow, lane: Lane): Promise<RowResult> => {
    const started = clock.now();
    const st: Attempts = { attempts: 0, failures: 0, throttled: 0, requestIds: [...(opts.journal.get(row.key)?.requestIds ?? [])].slice(-5) };
    const result = (status: RowStatus, extra: Partial<RowResult> = {}): RowResult => ({
      key: row.key,
      file: row.file,
      line: row.line,
      region: row.region,
      ip: row.ip,
      echo: row.echo,
      status,
      attempts: st.attempts,
      durationMs: clock.now() - started,
      ...extra,
    });
    const counted = (r: RowResult): RowResult => {
      if (r.status === 'failed') {
        failed++;
        if (maxFailuresReached()) requestStop('max-failures', `stopping: ${failed} rows failed (--max-failures)`);
      }
      return r;
    };
    const interrupted = (key: string, priorAttempts: number): Promise<RowResult> =>
      opts.journal.record(key, { attempts: priorAttempts + st.attempts, requestIds: st.requestIds, errorClass: 'interrupted' }).then(() =>
        result('in-flight', {
          errorCode: 'Interrupted',
          errorMessage: 'interrupted before the outcome was known; the next run resumes it',
          errorClass: 'interrupted',
          requestId: st.requestIds.at(-1),
        }),
      );

    if (stop.signal.aborted || hard?.aborted) {
      return result('pending', { errorCode: 'NotStarted', errorMessage: `not started: the run stopped (${stopReason ?? 'interrupt'})` });
    }
    switch (row.action) {
      case 'create':
      case 'adopt':
        return counted(await runCreate(row, lane, st, result, interrupted, false));
      case 'update':
        return counted(await runUpdate(row, lane, st, result, interrupted));
      case 'delete':
        return counted(await runDelete(row, row.key, lane, st, result, interrupted));
      case 'replace': {
        // Delete first (the IP cannot have two gateways), then create the new generation with the usual idempotency.
        const oldKey = row.replacesKey ?? row.key;
        const del = await runDelete(row, oldKey, lane, st, result, interrupted);
        if (del.status !== 'deleted') {
          if (del.status === 'failed') {
            del.errorMessage = `could not delete the old gateway ${row.existingId ?? ''} to replace it: ${del.errorMessage ?? del.errorCode ?? ''}`;
          }
          return counted(del);
        }
        if (stop.signal.aborted || hard?.aborted) {
          return result('pending', { errorCode: 'NotStarted', errorMessage: `old gateway ${row.existingId ?? ''} deleted; the new one is created on the next run` });
        }
        return counted(await runCreate(row, lane, st, result, interrupted, true));
      }
    }
  };

  type ResultFn = (status: RowStatus, extra?: Partial<RowResult>) => RowResult;
  type InterruptFn = (key: string, priorAttempts: number) => Promise<RowResult>;

  const describe = (row: ExecRow, fp: string | undefined) => ({
    region: row.region,
    ip: row.ip,
    line: row.line,
    specHash: specHash(row.spec, fp),
    authKeyFingerprint: fp,
    name: row.spec.name,
    description: row.spec.description,
    asn: row.spec.asn,
    resourceGroupId: row.spec.resourceGroupId,
    tags: row.spec.tags,
    echo: row.echo,
  });

  /** Journal fields for an operation that finished well: the status, no error, the attempts and request ids so far. */
  const finished = (status: RowStatus, r: RowResult, priorAttempts: number, st: Attempts) => ({
    status,
    errorCode: undefined,
    errorMessage: undefined,
    errorClass: undefined,
    attempts: priorAttempts + st.attempts,
    requestIds: st.requestIds.slice(-5),
    finishedAt: new Date(clock.now()).toISOString(),
    durationMs: r.durationMs,
  });

  /** An update or delete failed: the gateway still exists and is still ours, so its status stays; the error is kept. */
  const failOwned = async (
    key: string,
    id: string,
    sent: { err: CloudError; message?: string; cls?: string },
    message: string,
    priorAttempts: number,
    st: Attempts,
    result: ResultFn,
  ): Promise<RowResult> => {
    const errorClass = sent.cls ?? sent.err.errorClass;
    await opts.journal.record(key, { errorCode: sent.err.code, errorMessage: message, errorClass, attempts: priorAttempts + st.attempts, requestIds: st.requestIds.slice(-5) });
    return result('failed', { gatewayId: id, errorCode: sent.err.code, errorMessage: message, errorClass, requestId: sent.err.requestId ?? st.requestIds.at(-1) });
  };

  const runCreate = async (row: ExecRow, lane: Lane, st: Attempts, result: ResultFn, interrupted: InterruptFn, replacing: boolean): Promise<RowResult> => {
    const prior = opts.journal.get(row.key);
    const fp = row.spec.authKey ? opts.fingerprint(row.spec.authKey) : undefined;
    const described = describe(row, fp);
    const hash = described.specHash;

    const gone = row.recreate === true && prior !== undefined && OWNED.has(prior.status);
    const readopt = row.action === 'adopt' && row.existingId !== undefined && row.existingId !== prior?.gatewayId;
    if (!replacing && !gone && !readopt && prior && OWNED.has(prior.status)) return result('skipped', { gatewayId: prior.gatewayId });

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
    // (and so a new token) only after a definitive failure or a delete, when the user changed the row or asked to retry.
    let generation = prior?.generation ?? 1;
    let token = prior?.token || undefined;
    const priorAttempts = prior?.attempts ?? 0;
    if (prior?.status === 'deleted' || gone) {
      // The old token created the gateway that is now gone; replaying it could return that dead id.
      generation += 1;
      token = undefined;
    } else if (prior?.status === 'failed' && !RETRYABLE_CLASSES.has(prior.errorClass ?? '')) {
      if (prior.specHash !== hash || opts.retryFailed) {
        generation += 1;
        token = undefined;
      } else {
        return result('failed', {
          attempts: 0,
          errorCode: prior.errorCode,
          errorClass: prior.errorClass,
          errorMessage: `failed in an earlier run: ${prior.errorMessage ?? prior.errorCode ?? 'unknown error'} (fix the row, or rerun with --retry-failed)`,
          gatewayId: prior.gatewayId,
          requestId: prior.requestIds.at(-1),
        });
      }
    }
    token ??= opts.makeToken(opts.runId, row.region, row.ip, generation);

    // The intent is durable before the first send.
    await opts.journal.record(row.key, {
      ...described,
      token,
      generation,
      status: 'in-flight',
      gatewayId: undefined,
      operation: replacing ? 'replace' : 'create',
      attempts: priorAttempts,
      startedAt: new Date(clock.now()).toISOString(),
      errorCode: undefined,
      errorMessage: undefined,
      errorClass: undefined,
    });
    const finish = async (status: RowStatus, extra: Partial<RowResult>): Promise<RowResult> => {
      const r = result(status, { requestId: st.requestIds.at(-1), ...extra });
      await opts.journal.record(row.key, {
        status,
        gatewayId: r.gatewayId,
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
        errorClass: r.errorClass,
        attempts: priorAttempts + st.attempts,
        requestIds: st.requestIds.slice(-5),
        finishedAt: new Date(clock.now()).toISOString(),
        durationMs: r.durationMs,
      });
      return r;
    };

    const sent = await send(
      row,
      lane,
      st,
      () =>
        lane.client.createCustomerGateway({
          regionId: row.spec.region,
          ipAddress: row.spec.ip,
          name: row.spec.name,
          description: row.spec.description,
          asn: row.spec.asn,
          authKey: row.spec.authKey,
          resourceGroupId: row.spec.resourceGroupId,
          tags: row.spec.tags,
          clientToken: token,
        }),
      async (err): Promise<Special<{ id: string; adopted?: boolean }>> => {
        if (err.errorClass === 'mismatch') {
          return {
            fail: true,
            message:
              'the row changed while an earlier attempt with the same ClientToken had an unknown outcome; ' +
              'check the gateway in the console, then rerun with --retry-failed',
          };
        }
        if (err.errorClass !== 'exists') return undefined;
        // Our own earlier attempt (timed out, dropped) may have created it: find it by IP and adopt it if it is the row's.
        let inventory;
        try {
          inventory = await lane.inventorySince(clock.now(), retry, hard);
        } catch (e) {
          return { fail: true, message: `the IP already exists, and listing the region to reconcile failed: ${toCloudError(e).message}`, cls: 'transient' };
        }
        const gw = inventory.find((g) => g.ip === row.spec.ip);
        if (!gw) return { retry: true };
        const diff = identityDiff(row.spec, gw);
        if (diff.length === 0) return { ok: true, value: { id: gw.id, adopted: true } };
        return {
          fail: true,
          cls: 'conflict',
          message:
            `IP ${row.spec.ip} is already used by ${gw.id} in ${row.region}, whose ${diff.join(' and ')} differ from this row; ` +
            `delete or rename one of them, or change the row`,
        };
      },
    );
    if (sent.ok) return finish(sent.value.adopted ? 'adopted' : 'created', { gatewayId: sent.value.id });
    if ('interrupted' in sent) return interrupted(row.key, priorAttempts);
    return finish('failed', { errorCode: sent.err.code, errorMessage: sent.message ?? sent.err.message, errorClass: sent.cls ?? sent.err.errorClass, requestId: sent.err.requestId ?? st.requestIds.at(-1) });
  };

  /** In-place update: only the changed fields are sent; the journal learns each part as it lands. */
  const runUpdate = async (row: ExecRow, lane: Lane, st: Attempts, result: ResultFn, interrupted: InterruptFn): Promise<RowResult> => {
    const prior = opts.journal.get(row.key);
    const id = row.existingId ?? prior?.gatewayId;
    const priorAttempts = prior?.attempts ?? 0;
    if (!prior || !id) return result('failed', { errorCode: 'Cgw.NotInJournal', errorMessage: 'the journal has no gateway for this row; run plan again' });
    const fp = row.spec.authKey ? opts.fingerprint(row.spec.authKey) : undefined;
    const changed = new Set((row.changes ?? []).map((c) => c.field));
    const note: string[] = [];
    const fail = (sent: { err: CloudError; message?: string; cls?: string }, what: string): Promise<RowResult> =>
      failOwned(row.key, id, sent, `${what} failed: ${sent.message ?? sent.err.message}`, priorAttempts, st, result);
    await opts.journal.record(row.key, { operation: 'update', startedAt: new Date(clock.now()).toISOString(), line: row.line, echo: row.echo });

    const modify: { name?: string; description?: string; authKey?: string } = {};
    if (changed.has('name')) {
      if (row.spec.name !== undefined) modify.name = row.spec.name;
      else note.push('the API cannot clear a name; the old one stays');
    }
    if (changed.has('description')) {
      if (row.spec.description !== undefined) modify.description = row.spec.description;
      else note.push('the API cannot clear a description; the old one stays');
    }
    if (changed.has('auth_key')) {
      if (row.spec.authKey !== undefined) modify.authKey = row.spec.authKey;
      else note.push('the API cannot remove an AuthKey; the old one stays');
    }
    if (Object.keys(modify).length > 0) {
      const token = opts.makeToken(opts.runId, row.region, `${row.ip}/modify/${specHash(row.spec, fp)}`, prior.generation);
      const sent = await send(row, lane, st, () =>
        lane.client.modifyCustomerGatewayAttribute({ regionId: row.region, id, ...modify, clientToken: token }),
      );
      if (!sent.ok) return 'interrupted' in sent ? interrupted(row.key, priorAttempts) : fail(sent, 'ModifyCustomerGatewayAttribute');
      const patch: Record<string, unknown> = {};
      if ('name' in modify) patch['name'] = modify.name;
      if ('description' in modify) patch['description'] = modify.description;
      if ('authKey' in modify) patch['authKeyFingerprint'] = fp;
      await opts.journal.record(row.key, patch);
    }

    const removed = (row.changes ?? []).filter((c) => c.field.startsWith('tag:') && c.after === undefined).map((c) => c.field.slice(4));
    const set = row.spec.tags.filter((t) => changed.has(`tag:${t.key}`));
    if (removed.length > 0) {
      const sent = await send(row, lane, st, () => lane.client.untagResources({ regionId: row.region, resourceIds: [id], tagKeys: removed }));
      if (!sent.ok) return 'interrupted' in sent ? interrupted(row.key, priorAttempts) : fail(sent, 'UnTagResources');
    }
    if (set.length > 0) {
      const sent = await send(row, lane, st, () => lane.client.tagResources({ regionId: row.region, resourceIds: [id], tags: set }));
      if (!sent.ok) return 'interrupted' in sent ? interrupted(row.key, priorAttempts) : fail(sent, 'TagResources');
    }
    const r = result('updated', { gatewayId: id, requestId: st.requestIds.at(-1), ...(note.length ? { errorMessage: note.join('; ') } : {}) });
    await opts.journal.record(row.key, {
      ...describe(row, fp),
      // What the API could not change stays as it was in the journal.
      ...(changed.has('name') && row.spec.name === undefined ? { name: prior.name } : {}),
      ...(changed.has('description') && row.spec.description === undefined ? { description: prior.description } : {}),
      ...(changed.has('auth_key') && row.spec.authKey === undefined ? { authKeyFingerprint: prior.authKeyFingerprint } : {}),
      ...finished('updated', r, priorAttempts, st),
    });
    return r;
  };

  /** Delete the journal's gateway under `key`. NotFound is success: the gateway is gone either way. */
  const runDelete = async (row: ExecRow, key: string, lane: Lane, st: Attempts, result: ResultFn, interrupted: InterruptFn): Promise<RowResult> => {
    const prior = opts.journal.get(key);
    const id = row.existingId ?? prior?.gatewayId;
    const priorAttempts = prior?.attempts ?? 0;
    if (!id) return result('deleted', { errorMessage: 'no gateway recorded; nothing to delete' });
    if (prior?.status === 'deleted' && prior.gatewayId === id) return result('deleted', { gatewayId: id });
    // The intent goes to the journal first; the status stays "owned" until the delete is confirmed, so a crash
    // here leaves a row that the next run deletes again (and NotFound then counts as done).
    await opts.journal.record(key, { operation: 'delete', startedAt: new Date(clock.now()).toISOString() });
    const token = opts.makeToken(opts.runId, row.region, `${key}/delete/${id}`, prior?.generation ?? 1);
    const sent = await send(
      row,
      lane,
      st,
      () => lane.client.deleteCustomerGateway({ regionId: row.region, id, clientToken: token }),
      async (err): Promise<Special<{ requestId?: string }>> => {
        if (err.code === 'InvalidCustomerGatewayInstanceId.NotFound') return { ok: true, value: {} };
        if (err.code === 'DependencyViolation.VpnConnection') {
          return { fail: true, message: `an IPsec connection still uses ${id}; delete that VPN connection first, then run this again` };
        }
        return undefined;
      },
    );
    if (!sent.ok) {
      if ('interrupted' in sent) return interrupted(key, priorAttempts);
      return failOwned(key, id, sent, sent.message ?? sent.err.message, priorAttempts, st, result);
    }
    const r = result('deleted', { gatewayId: id, requestId: st.requestIds.at(-1) });
    await opts.journal.record(key, finished('deleted', r, priorAttempts, st));
    return r;
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
    hard?.removeEventListener('abort', onHardStop);
    for (const l of lanes.values()) l.scheduler.close();
  }
  if (stopReason === undefined && opts.stopSignal?.aborted) stopReason = 'interrupt';
  return { results, stopReason, authError, requests, throttled };
}
