// The one retry loop for every call the executor makes (writes and reconciliation reads): gate, scheduler, retry rules.
import { type CloudError, toCloudError } from '../cloud/errors.js';
import type { ExecContext, RowRun } from './context.js';
import type { Api, Lane } from './lane.js';
import { backoffMs } from './retry.js';

/** How a call ended. `stopped`: the run or the lane stopped first; `sent` says whether any attempt went out. */
export type Sent<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'failed'; err: CloudError; message?: string; errorClass?: string }
  | { kind: 'stopped'; sent: boolean; reason: string; code?: string };

/**
 * What a call-specific handler makes of an error: retry it, settle it as a value, or fail with a message. `again`:
 * the handler has waited for what the error asked (a VPN gateway busy with a task) and bounds those waits itself;
 * the request goes again at once, not counted as a failure.
 */
export type Verdict<T> = { kind: 'retry' } | { kind: 'again' } | { kind: 'ok'; value: T } | { kind: 'fail'; message?: string; errorClass?: string } | undefined;

export interface Call<T> {
  api: Api;
  call: () => Promise<T>;
  /** Runs once, after the first send slot is granted and before the first request (the journaled intent). */
  beforeFirstSend?: () => Promise<unknown>;
  /** Sees each error before the general rules. */
  onError?: (err: CloudError) => Promise<Verdict<T>>;
  /** A create: counts for the lane's quota stop and for "maybe created". */
  isCreate?: boolean;
  /** A create of another resource (a connection): tracks "maybe created" on the run, without the lane's quota stop. */
  tracksOutcome?: boolean;
  /** A read that may be the run's first request: it waits at the first-request gate like a write. */
  gated?: boolean;
  /**
   * A read made for a row already past the first-request gate (the reconciliation listing): counted as a request of
   * the run, but not as one of the row's attempts, and its retries are its own.
   */
  read?: boolean;
}

const STOP_MESSAGES: Record<string, string> = {
  interrupt: 'interrupted (Ctrl-C)',
  'max-failures': '--max-failures was reached',
  auth: 'the credentials were rejected',
  clock: "the API refused this machine's clock",
  forbidden: 'the account lacks a permission',
  'retry-budget': 'the retry budget ran out',
};

function stopReason(ctx: ExecContext): string {
  return STOP_MESSAGES[ctx.run.reason ?? 'interrupt'] ?? 'the run stopped';
}

/**
 * One API call under the lane's scheduler with the run's retry rules: throttling slows the lane (the scheduler
 * decides when the retry goes), conflicts and transient errors back off with full jitter, auth and permission errors
 * stop the run, a full quota stops the lane's creates. The first request of the run goes alone (RunControl.gate).
 */
export async function send<T extends { requestId?: string }>(ctx: ExecContext, rr: RowRun, c: Call<T>): Promise<Sent<T>> {
  const lane = rr.lane;
  const scheduler = lane.scheduler(c.api);
  let sentAny = false;
  let intent = false;
  // The call that leads the run keeps leading through its own retries (it must not wait at its own gate). A read
  // runs inside a call that passed the gate already.
  let leader = false;
  let passed = c.read === true && c.gated !== true;
  const tally: Tally = c.read ? { failures: 0, throttled: 0 } : rr;
  for (;;) {
    if (ctx.run.stopped) return { kind: 'stopped', sent: sentAny, reason: stopReason(ctx) };
    if (c.isCreate && lane.createsStopped) return quotaStopped(lane, sentAny);
    if (!leader && !passed) {
      const pass = await ctx.run.gate.pass();
      if (pass === 'closed') return { kind: 'stopped', sent: sentAny, reason: stopReason(ctx) };
      leader = pass === 'leader';
      passed = pass === 'open';
    }
    const ticket = await scheduler.acquire();
    if (!ticket || ctx.run.stopped || (c.isCreate && lane.createsStopped)) {
      ticket?.release({ kind: 'error' });
      if (leader) ctx.run.gate.open();
      if (c.isCreate && lane.createsStopped) return quotaStopped(lane, sentAny);
      return { kind: 'stopped', sent: sentAny, reason: stopReason(ctx) };
    }
    if (!intent && c.beforeFirstSend) {
      try {
        await c.beforeFirstSend();
      } catch (e) {
        ticket.release({ kind: 'error' });
        if (leader) ctx.run.gate.open();
        throw e; // a journal failure: the caller reports the row as JournalError
      }
    }
    try {
      // Fencing: a runner whose lease is gone (taken over, broken, unconfirmed too long) sends nothing more.
      ctx.journal.assertHeld();
    } catch (e) {
      ticket.release({ kind: 'error' });
      if (leader) ctx.run.gate.open();
      throw e;
    }
    intent = true;
    sentAny = true;
    ctx.counters.requests++;
    if (!c.read) {
      rr.attempts++;
      ctx.emit({ type: 'row:start', lane: rr.eventLane ?? lane.name, ref: rr.eventRef ?? rr.row.ref, action: rr.row.action, attempt: rr.attempts });
    }
    const t0 = ctx.clock.now();
    let err: CloudError;
    try {
      const value = await c.call();
      ticket.release({ kind: 'ok', latencyMs: ctx.clock.now() - t0 });
      if (leader) ctx.run.gate.open();
      ctx.budget.refund();
      lane.noteOk(c.api, ctx.clock.now());
      if (value.requestId && !c.read) rr.requestIds.push(value.requestId);
      if (c.isCreate || c.tracksOutcome) rr.maybeCreated = false;
      return { kind: 'ok', value };
    } catch (e) {
      err = toCloudError(e);
    }
    const latencyMs = ctx.clock.now() - t0;
    if (err.requestId && !c.read) rr.requestIds.push(err.requestId);
    if (c.isCreate || c.tracksOutcome) trackMaybe(rr, err);
    // The slot is given back only once this answer is decided: a failure that stops the run (--max-failures, auth,
    // permission, quota) must cancel the queued sends before the next one is granted.
    const outcome = await decide(ctx, rr, tally, c, err, t0);
    // A failed read fails the call that asked for it, which counts the row's failure.
    if (outcome !== 'retry' && outcome !== 'again' && outcome.kind === 'failed' && !c.read) ctx.run.countFailure();
    if (err.errorClass === 'throttled') ticket.release({ kind: 'throttled', retryAfterMs: err.retryAfterMs, latencyMs });
    else ticket.release({ kind: 'error', latencyMs, passed: pastRateCheck(err) });
    // The gate opens once the leader's attempt is over, unless the credentials were refused (the run then stops). A
    // transport failure says nothing about the credentials, but holding every row behind the leader's retries against
    // a dead endpoint would serialise the whole run.
    if (leader && err.errorClass !== 'auth' && err.errorClass !== 'clock') ctx.run.gate.open();
    if (outcome === 'again') {
      if (ctx.run.stopped) return { kind: 'stopped', sent: true, reason: stopReason(ctx) };
      if (!c.read) ctx.emit({ type: 'row:retry', lane: rr.eventLane ?? lane.name, ref: rr.eventRef ?? rr.row.ref, attempt: rr.attempts, code: err.code, delayMs: 0 });
      continue;
    }
    if (outcome === 'retry') {
      if (err.errorClass === 'conflict' || err.errorClass === 'transient') {
        const delay = backoffMs(ctx.retry, tally.failures, ctx.random);
        if (!c.read) ctx.emit({ type: 'row:retry', lane: rr.eventLane ?? lane.name, ref: rr.eventRef ?? rr.row.ref, attempt: rr.attempts, code: err.code, delayMs: delay });
        if (!(await ctx.run.sleep(delay))) return { kind: 'stopped', sent: true, reason: stopReason(ctx) };
      } else if (!c.read) {
        ctx.emit({ type: 'row:retry', lane: rr.eventLane ?? lane.name, ref: rr.eventRef ?? rr.row.ref, attempt: rr.attempts, code: err.code, delayMs: err.retryAfterMs ?? 0 });
      }
      continue;
    }
    return outcome;
  }
}

/** What an error means for the call: another attempt, a value, or the end. Applies the run-level stops. */
/** Failures and throttled answers so far: the row's for its own calls, a read's own for a read. */
interface Tally {
  failures: number;
  throttled: number;
  throttledSince?: number;
}

async function decide<T>(ctx: ExecContext, rr: RowRun, tally: Tally, c: Call<T>, err: CloudError, sentAt: number): Promise<'retry' | 'again' | Sent<T>> {
  const lane = rr.lane;
  const verdict = c.onError ? await c.onError(err) : undefined;
  if (verdict?.kind === 'ok') return { kind: 'ok', value: verdict.value };
  if (verdict?.kind === 'again') return 'again';
  if (verdict?.kind === 'fail') return { kind: 'failed', err, message: verdict.message, errorClass: verdict.errorClass };
  if (verdict?.kind === 'retry') {
    tally.failures++;
    return tally.failures >= ctx.retry.maxAttempts ? { kind: 'failed', err, message: `${err.message} (gave up after ${rr.attempts} attempts)` } : 'retry';
  }
  switch (err.errorClass) {
    case 'auth':
      ctx.run.stop('auth', `stopping: the credentials were rejected (${err.code})`, err);
      return { kind: 'failed', err };
    case 'clock':
      // Every request would be refused the same way until the machine's clock is fixed.
      ctx.run.stop('clock', `stopping: the API refused this machine's clock (${err.code}); fix the system time`, err);
      return { kind: 'failed', err };
    case 'forbidden':
      ctx.run.stop('forbidden', `stopping: permission denied (${err.code}); nothing more is sent`, err);
      return { kind: 'failed', err };
    case 'quota':
      if (c.isCreate) {
        lane.stopCreates(`${lane.region}'s customer gateway quota is full (${err.code} at line ${rr.row.ref.line})`, err.code);
        ctx.emit({ type: 'lane:stopped', lane: lane.name, reason: 'quota', message: `${err.code}: no more creates are sent in ${lane.region}` });
      }
      return { kind: 'failed', err };
    case 'throttled': {
      ctx.counters.throttled++;
      tally.throttled++;
      tally.throttledSince ??= sentAt;
      // Held since the row's first throttled request, or since the lane's last success of this API if later (a lane
      // that makes progress is pacing, not stuck). The server's Retry-After counts: waiting past the bound is pointless.
      const held = ctx.clock.now() - Math.max(tally.throttledSince, lane.lastOkAt(c.api) ?? Number.NEGATIVE_INFINITY);
      if (tally.throttled >= ctx.retry.maxThrottledAttempts || held + (err.retryAfterMs ?? 0) > ctx.retry.maxThrottledMs) {
        return { kind: 'failed', err, message: `${err.message} (still throttled after ${tally.throttled} attempts in ${Math.round(held / 1000)} s; a row waits out at most ${Math.round(ctx.retry.maxThrottledMs / 1000)} s of throttling)` };
      }
      return ctx.budget.trySpend(err) ? 'retry' : outOfBudget(ctx, err);
    }
    case 'conflict':
    case 'transient':
      tally.failures++;
      if (tally.failures >= ctx.retry.maxAttempts) return { kind: 'failed', err, message: `${err.message} (gave up after ${rr.attempts} attempts)` };
      return ctx.budget.trySpend(err) ? 'retry' : outOfBudget(ctx, err);
    default:
      return { kind: 'failed', err };
  }
}

/**
 * Did the request get past the API's rate check (and so take a token of the lane's bucket)? An error body from the
 * API itself (it carries a request id) that is about the request, not about its signature, clock or rate: a conflict,
 * an invalid or existing resource, a server error behind the gateway. Transport failures and pages that are not the
 * API's answer say nothing.
 */
export function pastRateCheck(err: CloudError): boolean {
  return err.requestId !== undefined && err.errorClass !== 'throttled' && err.errorClass !== 'auth' && err.errorClass !== 'clock';
}

/** A create the lane's full quota stopped: it carries the quota's error code. */
function quotaStopped(lane: Lane, sent: boolean): { kind: 'stopped'; sent: boolean; reason: string; code?: string } {
  return { kind: 'stopped', sent, reason: lane.createsStopped ?? 'the quota is full', ...(lane.createsStoppedCode ? { code: lane.createsStoppedCode } : {}) };
}

function outOfBudget<T>(ctx: ExecContext, err: CloudError): Sent<T> {
  ctx.run.stop('retry-budget', 'stopping: the retry budget is spent (the API keeps failing)');
  return { kind: 'failed', err, message: `${err.message} (retry budget spent)` };
}

/**
 * After an error, may the create have taken effect? A transport failure or 5xx: maybe. An answer that shows the server
 * processed the ClientToken (a 4xx about the request) means the token made nothing; a replay of a committed token would
 * have returned its gateway. IdempotentParameterMismatch means the token DID create something (with other parameters).
 * Throttling and credential errors are answered before the token is looked at, so they change nothing.
 */
function trackMaybe(rr: RowRun, err: CloudError): void {
  if (err.errorClass === 'mismatch' || err.outcomeUnknown) rr.maybeCreated = true;
  else if (err.errorClass !== 'throttled' && err.errorClass !== 'auth' && err.errorClass !== 'conflict') rr.maybeCreated = false;
}
