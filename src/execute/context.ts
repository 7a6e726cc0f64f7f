// What every executor step works with: the run's context (journal, clock, lanes, control) and one row's run state.
import type { VpcClient } from '../cloud/types.js';
import { specHash } from '../plan/identity.js';
import type { JournalPatch, PlannedRow, ResultStatus, RowFields, RowRef, RowResult, RowStatus, RunEvent } from '../types.js';
import type { Clock } from '../clock.js';
import type { Lane } from './lane.js';
import type { RetryBudget, RetryPolicy } from './retry.js';
import type { RunControl } from './run-control.js';

/** A journal row as the executor reads it (src/state/journal.ts implements the port). */
export type JournalEntry = Readonly<RowFields>;

/** The executor's only way to the journal. */
export interface JournalPort {
  get(key: string): JournalEntry | undefined;
  /** Durable before it resolves; `undefined` in a patch clears an optional field. */
  record(key: string, patch: JournalPatch): Promise<unknown>;
  /**
   * Throws when this run may no longer act for the journal: its lease was lost (taken over, broken) or not confirmed
   * for too long. Called right before every cloud call, so a fenced runner sends nothing more.
   */
  assertHeld(): void;
}

/** Request ids kept per row in the journal, across runs (oldest dropped first). */
export const MAX_REQUEST_IDS = 50;

export interface ExecContext {
  /** The seed of the row's ClientTokens. */
  journalId: string;
  journal: JournalPort;
  clock: Clock;
  random: () => number;
  emit: (e: RunEvent) => void;
  retry: RetryPolicy;
  budget: RetryBudget;
  run: RunControl;
  /** `resource`: another resource of the row (`vco`, its IPsec connection); absent for the customer gateway. */
  makeToken: (journalId: string, region: string, ip: string, generation: number, resource?: string) => string;
  fingerprint: (authKey: string) => string;
  counters: { requests: number; throttled: number };
  /** `psk: generate`: a new key from a CSPRNG over letters and digits (every device type takes it). */
  newPsk: () => string;
  /** The longest a VPN gateway may stay busy (`updating`) after a write, or before one, before the part fails. */
  vpnWaitMs: number;
}

/** One row's state in this run: everything its calls share (a replace is a delete then a create). */
export interface RowRun {
  readonly row: PlannedRow;
  readonly lane: Lane;
  readonly client: VpcClient;
  readonly started: number;
  /** Requests sent for this row in this run. */
  attempts: number;
  failures: number;
  throttled: number;
  /** When this row's first throttled request went out (send.ts bounds the time throttling holds a row). */
  throttledSince?: number;
  /** Request ids of this run's calls. */
  requestIds: string[];
  /** Whether a create of this row may have taken effect although no answer said so (timeout, reset, 5xx). */
  maybeCreated: boolean;
  /** The journal's request count and ids for the row before this run. */
  readonly priorAttempts: number;
  readonly priorRequestIds: readonly string[];
  /** A site's second gateway: the journal row names the site row it belongs to. */
  readonly siteKey?: string;
  /** Where this run's events go when it is a part of a row: the part's lane, the row's ref. */
  readonly eventLane?: string;
  readonly eventRef?: RowRef;
}

export function rowRun(ctx: ExecContext, row: PlannedRow, lane: Lane, part: Pick<RowRun, 'siteKey' | 'eventLane' | 'eventRef'> = {}): RowRun {
  const prior = ctx.journal.get(row.ref.key);
  return {
    ...part,
    row,
    lane,
    client: lane.client,
    started: ctx.clock.now(),
    attempts: 0,
    failures: 0,
    throttled: 0,
    requestIds: [],
    maybeCreated: false,
    priorAttempts: prior?.attempts ?? 0,
    priorRequestIds: [...(prior?.requestIds ?? [])],
  };
}

/** Every request id of the row: the journal's earlier ones, then this run's (bounded). */
export function allRequestIds(rr: RowRun, before: readonly string[] = rr.priorRequestIds): string[] {
  const seen = new Set(before);
  return [...before, ...rr.requestIds.filter((id) => !seen.has(id))].slice(-MAX_REQUEST_IDS);
}

/** The row's result value for this run. `attempts` counts every run's requests for the row. */
export function result(ctx: ExecContext, rr: RowRun, status: ResultStatus, extra: Partial<RowResult> = {}): RowResult {
  return {
    ref: rr.row.ref,
    status,
    action: rr.row.action,
    inRun: true,
    requestIds: allRequestIds(rr),
    attempts: rr.priorAttempts + rr.attempts,
    durationMs: ctx.clock.now() - rr.started,
    echo: rr.row.row?.echo ?? {},
    ...extra,
  };
}

/**
 * What the journal records about the gateway a row asks for (the spec; the AuthKey only as its fingerprint). A key
 * this run could not read (plan/secret-refs.ts) was not sent: the journal keeps the fingerprint it had.
 */
export function describe(ctx: ExecContext, row: PlannedRow): JournalPatch {
  const spec = row.row!.spec;
  const fp = spec.authKey ? ctx.fingerprint(spec.authKey) : undefined;
  const keyUnknown = row.row!.unresolved?.some((u) => u.field === 'auth_key') === true;
  return {
    region: row.ref.region,
    ip: row.ref.ip,
    line: row.ref.line,
    ...(keyUnknown ? { specHash: undefined } : { specHash: specHash(spec, fp), authKeyFingerprint: fp }),
    name: spec.name,
    description: spec.description,
    asn: spec.asn,
    resourceGroupId: spec.resourceGroupId,
    tags: spec.tags,
    echo: row.row!.echo,
  };
}

/** describe() of the run's row, with the site row a second gateway belongs to. */
export function describeRun(ctx: ExecContext, rr: RowRun): JournalPatch {
  return { ...describe(ctx, rr.row), ...(rr.siteKey !== undefined ? { siteKey: rr.siteKey } : {}) };
}

/** Journal fields for an operation that ended well: status, no error, attempts and request ids so far. */
export function finished(ctx: ExecContext, rr: RowRun, status: RowStatus, key = rr.row.ref.key): JournalPatch {
  return {
    status,
    errorCode: undefined,
    errorMessage: undefined,
    errorClass: undefined,
    ...counts(ctx, rr, key),
    finishedAt: new Date(ctx.clock.now()).toISOString(),
    durationMs: ctx.clock.now() - rr.started,
  };
}

/** Journal fields for a failure that leaves the status as it is (an owned gateway stays owned). */
export function errorFields(ctx: ExecContext, rr: RowRun, err: { code: string; message: string; errorClass?: string }, key = rr.row.ref.key): JournalPatch {
  return {
    errorCode: err.code,
    errorMessage: err.message,
    errorClass: err.errorClass,
    ...counts(ctx, rr, key),
    finishedAt: new Date(ctx.clock.now()).toISOString(),
    // The journal holds how long the row took, so status and the reports say the same.
    durationMs: ctx.clock.now() - rr.started,
  };
}

/** Attempts and request ids for the journal row `key`: its own earlier ones plus this run's (a replace's old key has its own). */
function counts(ctx: ExecContext, rr: RowRun, key: string): { attempts: number; requestIds: string[] } {
  if (key === rr.row.ref.key) return { attempts: rr.priorAttempts + rr.attempts, requestIds: allRequestIds(rr) };
  const other = ctx.journal.get(key);
  return { attempts: (other?.attempts ?? 0) + rr.attempts, requestIds: allRequestIds(rr, other?.requestIds ?? []) };
}

/** A row that never got to send: its journal row stays as it was. */
export function notStarted(ctx: ExecContext, rr: RowRun, reason: string): RowResult {
  const prior = ctx.journal.get(rr.row.ref.key);
  const message = `not started: ${reason}`;
  return result(ctx, rr, prior?.status ?? 'pending', {
    gatewayId: prior?.gatewayId,
    errorCode: 'NotStarted',
    errorMessage: message,
    note: message,
  });
}

