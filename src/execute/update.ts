// In-place update: only the plan's changed fields are sent (Modify for name/description/AuthKey, UnTag, Tag);
// the journal learns each part as it lands, and a failed part keeps the gateway owned with its error.
import type { JournalPatch, RowResult } from '../types.js';
import { describe, describeRun, errorFields, finished, notStarted, result, type ExecContext, type RowRun } from './context.js';
import { send, type Sent } from './send.js';

export async function runUpdate(ctx: ExecContext, rr: RowRun): Promise<RowResult> {
  const row = rr.row;
  const key = row.ref.key;
  const spec = row.row!.spec;
  const id = row.existingId!;
  const prior = ctx.journal.get(key);
  const changed = new Set((row.changes ?? []).map((c) => c.field));
  const fp = spec.authKey ? ctx.fingerprint(spec.authKey) : undefined;
  const notes: string[] = [];
  let sentAny = false;

  /** A part ended without success: the gateway stays ours (status unchanged); the error or the stop is recorded. */
  const unfinished = async (what: string, s: Exclude<Sent<unknown>, { kind: 'ok' }>): Promise<RowResult> => {
    const status = ctx.journal.get(key)?.status ?? 'created';
    if (s.kind === 'stopped') {
      if (!s.sent && !sentAny) return notStarted(ctx, rr, s.reason);
      const message = `stopped during the update (${s.reason}); the next run finishes it`;
      await ctx.journal.record(key, errorFields(ctx, rr, { code: 'Interrupted', message, errorClass: 'interrupted' }));
      return result(ctx, rr, status, { gatewayId: id, errorCode: 'Interrupted', errorMessage: message, errorClass: 'interrupted', note: message });
    }
    const err = { code: s.err.code, message: `${what} failed: ${s.message ?? s.err.message}`, errorClass: s.errorClass ?? s.err.errorClass };
    await ctx.journal.record(key, errorFields(ctx, rr, err));
    return result(ctx, rr, 'failed', { gatewayId: id, errorCode: err.code, errorMessage: err.message, errorClass: err.errorClass });
  };

  await ctx.journal.record(key, { operation: 'update', startedAt: new Date(ctx.clock.now()).toISOString(), line: row.ref.line, echo: row.row!.echo });

  const modify: { name?: string; description?: string; authKey?: string } = {};
  if (changed.has('name')) {
    if (spec.name !== undefined) modify.name = spec.name;
    else notes.push('the API cannot clear a name; the old one stays');
  }
  if (changed.has('description')) {
    if (spec.description !== undefined) modify.description = spec.description;
    else notes.push('the API cannot clear a description; the old one stays');
  }
  if (changed.has('auth_key')) {
    if (spec.authKey !== undefined) modify.authKey = spec.authKey;
    else notes.push('the API cannot remove an AuthKey; the old one stays');
  }
  if (Object.keys(modify).length > 0) {
    const generation = prior?.generation ?? 1;
    const token = ctx.makeToken(ctx.journalId, row.ref.region, `${row.ref.ip}/modify/${String(describe(ctx, row).specHash)}`, generation);
    const s = await send(ctx, rr, { api: 'ModifyCustomerGatewayAttribute', call: () => rr.client.modifyCustomerGatewayAttribute({ regionId: row.ref.region, id, ...modify, clientToken: token }) });
    if (s.kind !== 'ok') return unfinished('ModifyCustomerGatewayAttribute', s);
    sentAny = true;
    const patch: JournalPatch = {};
    if ('name' in modify) patch.name = modify.name;
    if ('description' in modify) patch.description = modify.description;
    if ('authKey' in modify) patch.authKeyFingerprint = fp;
    await ctx.journal.record(key, patch);
  }

  const removed = (row.changes ?? []).filter((c) => c.field.startsWith('tag:') && c.after === undefined).map((c) => c.field.slice(4));
  const set = spec.tags.filter((t) => changed.has(`tag:${t.key}`));
  if (removed.length > 0) {
    const s = await send(ctx, rr, { api: 'UnTagResources', call: () => rr.client.untagResources({ regionId: row.ref.region, resourceIds: [id], tagKeys: removed }) });
    if (s.kind !== 'ok') return unfinished('UnTagResources', s);
    sentAny = true;
  }
  if (set.length > 0) {
    const s = await send(ctx, rr, { api: 'TagResources', call: () => rr.client.tagResources({ regionId: row.ref.region, resourceIds: [id], tags: set }) });
    if (s.kind !== 'ok') return unfinished('TagResources', s);
  }
  const now = ctx.journal.get(key);
  const status = now?.status === 'adopted' ? 'adopted' : 'updated';
  await ctx.journal.record(key, {
    ...describeRun(ctx, rr),
    // What the API could not change stays as it was in the journal.
    ...(changed.has('name') && spec.name === undefined ? { name: now?.name } : {}),
    ...(changed.has('description') && spec.description === undefined ? { description: now?.description } : {}),
    ...(changed.has('auth_key') && spec.authKey === undefined ? { authKeyFingerprint: now?.authKeyFingerprint } : {}),
    ...finished(ctx, rr, status),
  });
  return result(ctx, rr, status, { gatewayId: id, note: notes.length ? `${row.reason}; ${notes.join('; ')}` : row.reason });
}
