// Delete (destroy, prune) and replace (delete, then create the next generation): NotFound counts as done.
import type { RowResult } from '../types.js';
import { errorFields, finished, notStarted, result, type ExecContext, type RowRun } from './context.js';
import { runCreate } from './create.js';
import { send, type Verdict } from './send.js';

/**
 * Deletes the plan's gateway, recorded under `key` (a replace after an IP change deletes under the old key). The intent
 * goes to the journal first and the status stays as it was until the delete is confirmed, so a crash here leaves a row
 * the next run deletes again.
 */
export async function runDelete(ctx: ExecContext, rr: RowRun, key = rr.row.replacesKey ?? rr.row.ref.key): Promise<RowResult> {
  const row = rr.row;
  const id = row.existingId;
  if (!id) return result(ctx, rr, 'skipped', { note: 'no gateway to delete' });
  const prior = ctx.journal.get(key);
  const token = ctx.makeToken(ctx.journalId, row.ref.region, `${key}/delete/${id}`, prior?.generation ?? 1);
  const sent = await send(ctx, rr, {
    api: 'DeleteCustomerGateway',
    beforeFirstSend: () => ctx.journal.record(key, { operation: 'delete', gatewayId: id, startedAt: new Date(ctx.clock.now()).toISOString() }),
    call: () => rr.client.deleteCustomerGateway({ regionId: row.ref.region, id, clientToken: token }),
    onError: async (err): Promise<Verdict<{ requestId?: string }>> => {
      if (err.code === 'InvalidCustomerGatewayInstanceId.NotFound') return { kind: 'ok', value: {} };
      if (err.code === 'DependencyViolation.VpnConnection') {
        return { kind: 'fail', message: `an IPsec connection still uses ${id}; delete that VPN connection first, then run this again` };
      }
      return undefined;
    },
  });
  if (sent.kind === 'ok') {
    await ctx.journal.record(key, { gatewayId: id, ...finished(ctx, rr, 'deleted', key) });
    return result(ctx, rr, 'deleted', { gatewayId: id, note: row.reason });
  }
  const status = ctx.journal.get(key)?.status ?? 'created';
  if (sent.kind === 'stopped') {
    if (!sent.sent) return notStarted(ctx, rr, sent.reason);
    const message = `stopped before the delete was confirmed (${sent.reason}); the next run deletes it again`;
    await ctx.journal.record(key, errorFields(ctx, rr, { code: 'Interrupted', message, errorClass: 'interrupted' }, key));
    return result(ctx, rr, status, { gatewayId: id, errorCode: 'Interrupted', errorMessage: message, errorClass: 'interrupted', note: message });
  }
  const err = { code: sent.err.code, message: sent.message ?? sent.err.message, errorClass: sent.errorClass ?? sent.err.errorClass };
  await ctx.journal.record(key, errorFields(ctx, rr, err, key));
  return result(ctx, rr, 'failed', { gatewayId: id, errorCode: err.code, errorMessage: err.message, errorClass: err.errorClass });
}

/** Delete first (the IP cannot have two gateways), then create the new generation with the usual idempotency. */
export async function runReplace(ctx: ExecContext, rr: RowRun): Promise<RowResult> {
  const del = await runDelete(ctx, rr);
  if (del.status !== 'deleted') {
    if (del.status === 'failed') del.errorMessage = `could not delete the old gateway ${rr.row.existingId ?? ''} to replace it: ${del.errorMessage ?? del.errorCode ?? ''}`;
    return del;
  }
  if (ctx.run.stopped) {
    const message = `old gateway ${rr.row.existingId ?? ''} deleted; the new one is created on the next run`;
    return result(ctx, rr, 'pending', { errorCode: 'NotStarted', errorMessage: message, note: message });
  }
  return runCreate(ctx, rr);
}
