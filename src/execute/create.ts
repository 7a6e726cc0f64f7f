// Create, retry, resume and adopt: exactly-once creation through the journaled ClientToken of the plan's generation.
import { toCloudError } from '../cloud/errors.js';
import type { CustomerGateway } from '../cloud/types.js';
import { identityDiff } from '../plan/identity.js';
import type { FieldChange, JournalPatch, RowResult } from '../types.js';
import { describeRun, errorFields, finished, notStarted, result, type ExecContext, type RowRun } from './context.js';
import { listForReconcile } from './reconcile.js';
import { send, type Verdict } from './send.js';
import { runUpdate } from './update.js';

/** The journal's attributes for a gateway found or adopted: the manifest's, except fields still to change keep their old value. */
function attributesBefore(ctx: ExecContext, rr: RowRun, changes: readonly FieldChange[] | undefined): JournalPatch {
  const d = describeRun(ctx, rr);
  for (const c of changes ?? []) {
    if (c.field === 'name' || c.field === 'description') d[c.field] = c.before;
    else if (c.field === 'auth_key') d.authKeyFingerprint = undefined;
    else if (c.field.startsWith('tag:')) {
      const key = c.field.slice(4);
      const tags = (d.tags ?? []).filter((t) => t.key !== key);
      if (c.before !== undefined) tags.push({ key, value: c.before });
      d.tags = tags;
    }
  }
  // The hash says "this is what was asked for"; a row still to update must not look up to date.
  if (changes && changes.length > 0) d.specHash = undefined;
  return d;
}

/** adopt, or resume of a create whose gateway the listing showed: record it without a request, then update what differs. */
async function record(ctx: ExecContext, rr: RowRun): Promise<RowResult> {
  const row = rr.row;
  const id = row.existingId!;
  const generation = row.generation ?? ctx.journal.get(row.ref.key)?.generation ?? 1;
  const status = row.action === 'adopt' ? 'adopted' : 'created';
  await ctx.journal.record(row.ref.key, {
    ...attributesBefore(ctx, rr, row.changes),
    token: ctx.makeToken(ctx.journalId, row.ref.region, row.ref.ip, generation),
    generation,
    gatewayId: id,
    operation: row.action === 'adopt' ? 'adopt' : 'create',
    ...(row.action === 'adopt' ? { adopted: true } : {}),
    ...finished(ctx, rr, status),
  });
  if (row.changes && row.changes.length > 0) return runUpdate(ctx, rr);
  return result(ctx, rr, status, { gatewayId: id, note: row.reason });
}

/** `found`: the gateway came from the listing, after `exists` (an earlier attempt made it) or after an unanswered create. */
type Created = { id: string; requestId?: string; found?: 'exists' | 'unanswered' };

/**
 * Lists the row's region and looks for the row's gateway by IP: the row's own (same identity) settles the create as
 * made. After `exists`, a gateway not listed yet means "ask again"; after an answer that was `unanswered` (no refusal),
 * it leaves the outcome unknown for the next run's listing.
 */
async function findOwn(ctx: ExecContext, rr: RowRun, after: 'exists' | 'unanswered', answer?: string): Promise<Verdict<Created>> {
  const row = rr.row;
  const spec = row.row!.spec;
  const what = after === 'exists' ? 'the IP already exists' : `the answer was no refusal (${answer ?? 'unknown'})`;
  let listed: CustomerGateway[];
  try {
    listed = await rr.lane.listSince(ctx.clock.now(), () => listForReconcile(ctx, rr));
  } catch (e) {
    return { kind: 'fail', message: `${what}, and listing ${row.ref.region} to reconcile failed: ${toCloudError(e).message}`, errorClass: 'transient' };
  }
  const gw = listed.find((g) => g.ip === spec.ip);
  if (!gw) {
    if (after === 'exists') return { kind: 'retry' };
    return { kind: 'fail', message: `${what}; listing ${row.ref.region} does not show the gateway (yet): the next run lists the region again and records it if it exists` };
  }
  const diff = identityDiff(spec, gw);
  if (diff.length === 0) return { kind: 'ok', value: { id: gw.id, found: after } };
  return {
    kind: 'fail',
    errorClass: 'conflict',
    message: `IP ${spec.ip} is already used by ${gw.id} in ${row.ref.region} with a different ${diff.join(' and ')}; delete or rename one of them, or change the row`,
  };
}

function foundNote(reason: string, v: Created): string {
  if (v.found === 'exists') return `${reason}; found ${v.id} made by an earlier attempt`;
  if (v.found === 'unanswered') return `${reason}; found ${v.id} in the listing: the create was carried out although its answer was an error`;
  return reason;
}

/**
 * Sends CreateCustomerGateway with the token of the plan's generation; the intent (token, spec, `in-flight`) is durable
 * before the first request. An InvalidIpAddress.AlreadyExist is reconciled by listing: the row's own gateway (an
 * earlier attempt whose answer was lost) is recorded, anything else fails the row.
 */
export async function runCreate(ctx: ExecContext, rr: RowRun): Promise<RowResult> {
  const row = rr.row;
  if (row.action === 'adopt' || (row.action === 'resume' && row.existingId !== undefined)) return record(ctx, rr);
  const spec = row.row!.spec;
  const key = row.ref.key;
  const generation = row.generation ?? 1;
  const token = ctx.makeToken(ctx.journalId, row.ref.region, row.ref.ip, generation);
  const startedAt = new Date(ctx.clock.now()).toISOString();

  const sent = await send<Created>(ctx, rr, {
    api: 'CreateCustomerGateway',
    isCreate: true,
    beforeFirstSend: () =>
      ctx.journal.record(key, {
        ...describeRun(ctx, rr),
        token,
        generation,
        status: 'in-flight',
        gatewayId: undefined,
        operation: row.action === 'replace' ? 'replace' : 'create',
        adopted: undefined,
        attempts: rr.priorAttempts,
        startedAt,
        errorCode: undefined,
        errorMessage: undefined,
        errorClass: undefined,
      }),
    call: () =>
      rr.client.createCustomerGateway({
        regionId: spec.region,
        ipAddress: spec.ip,
        name: spec.name,
        description: spec.description,
        asn: spec.asn,
        authKey: spec.authKey,
        resourceGroupId: spec.resourceGroupId,
        tags: spec.tags,
        clientToken: token,
      }),
    onError: async (err): Promise<Verdict<Created>> => {
      if (err.errorClass === 'mismatch') {
        return {
          kind: 'fail',
          message:
            'the ClientToken was already used with other parameters: an earlier attempt created a gateway before the row changed; ' +
            'the next run lists the region and reconciles it',
        };
      }
      if (err.errorClass === 'exists') return findOwn(ctx, rr, 'exists');
      // An answer that is no documented refusal (a 200 with an error body, a code nobody documents) may come after the
      // gateway was made: the listing says whether it was. Not there (yet): the row stays an unknown outcome.
      if (err.outcomeUnknown && (err.errorClass === 'invalid' || err.errorClass === 'not-found')) return findOwn(ctx, rr, 'unanswered', err.message);
      return undefined;
    },
  });

  if (sent.kind === 'ok') {
    const status = 'created';
    await ctx.journal.record(key, { gatewayId: sent.value.id, ...finished(ctx, rr, status) });
    return result(ctx, rr, status, { gatewayId: sent.value.id, note: foundNote(row.reason, sent.value) });
  }
  if (sent.kind === 'stopped') {
    if (!sent.sent) return notStarted(ctx, rr, sent.reason);
    // Sent at least once, then stopped before retrying: maybe created (the next run lists first) or certainly not. A
    // full quota is the row's own error (its code), not an interruption.
    const status = rr.maybeCreated ? 'unknown' : 'pending';
    const message = rr.maybeCreated ? `stopped before the outcome was known (${sent.reason}); the next run lists the region first` : `stopped before a retry (${sent.reason}); nothing was created`;
    const err = sent.code ? { code: sent.code, message, errorClass: 'quota' } : { code: 'Interrupted', message, errorClass: 'interrupted' };
    await ctx.journal.record(key, { status, ...errorFields(ctx, rr, err) });
    return result(ctx, rr, status, { errorCode: err.code, errorMessage: message, errorClass: err.errorClass, note: message });
  }
  const err = { code: sent.err.code, message: sent.message ?? sent.err.message, errorClass: sent.errorClass ?? sent.err.errorClass };
  // A create whose last answers leave the outcome open is never "failed": it stays "maybe created" until a listing settles it.
  const status = rr.maybeCreated ? 'unknown' : 'failed';
  await ctx.journal.record(key, { status, ...errorFields(ctx, rr, err) });
  return result(ctx, rr, status, {
    errorCode: err.code,
    errorMessage: err.message,
    errorClass: err.errorClass,
    note: status === 'unknown' ? 'outcome unknown: the next run lists the region and records the gateway if it exists' : undefined,
  });
}
