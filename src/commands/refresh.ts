// `cgw-batch refresh`: what changed in the cloud behind the journal's back (deleted, renamed, retagged, re-keyed);
// exit 1 when there is drift; `--write` records what the cloud has.
import { EXIT, StateError } from '../errors.js';
import { currentOf, describeChanges, driftOf } from '../plan/drift.js';
import { fingerprint, scrubber } from '../secrets.js';
import { Journal, lockJournal, toPriorRows, type JournalLock, type JournalRow } from '../state/journal.js';
import { OWNED, type FieldChange } from '../types.js';
import { warn, type Context } from './context.js';
import { listRegions, readState } from './planning.js';
import { openSession, type Session } from './session.js';

export interface DriftRow {
  key: string;
  line: number;
  gatewayId: string;
  drift: 'none' | 'deleted' | 'changed';
  changes: FieldChange[];
}

function picked(ctx: Context, rows: Iterable<JournalRow>): JournalRow[] {
  const only = ctx.options.only;
  return [...rows].filter((r) => !only || only.lines.has(r.line) || only.keys.has(r.key)).sort((a, b) => a.line - b.line || (a.key < b.key ? -1 : 1));
}

export async function runRefresh(ctx: Context): Promise<number> {
  const o = ctx.options;
  const session = (await openSession(ctx, true)) as Session;
  let lock: JournalLock | undefined;
  try {
    // --write changes the journal: take its lock before reading, like apply.
    if (o.write) lock = await lockJournal(o.statePath!, { forceUnlock: o.forceUnlock, onWarning: (m) => warn(ctx, m) });
    return await check(ctx, session, lock);
  } finally {
    await lock?.release();
    await session.close();
  }
}

async function check(ctx: Context, session: Session, lock: JournalLock | undefined): Promise<number> {
  const o = ctx.options;
  {
    const state = await readState(ctx, session);
    if (!state) throw new StateError(`no journal at ${o.statePath}: nothing has been applied with this manifest yet (or pass --state FILE)`);
    const fp = (k: string): string => fingerprint(state.header.fingerprintKey, k);
    const owned = picked(ctx, state.rows.values()).filter((r) => OWNED.has(r.status) && r.gatewayId);
    const inventory = await listRegions(ctx, session, owned.map((r) => r.region));
    const cloud = new Map<string, import('../cloud/types.js').CustomerGateway>();
    for (const list of inventory.values()) for (const g of list) cloud.set(g.id, g);
    const prior = toPriorRows(state.rows);
    const drift: DriftRow[] = owned.map((r) => {
      const gw = cloud.get(r.gatewayId!);
      if (!gw) return { key: r.key, line: r.line, gatewayId: r.gatewayId!, drift: 'deleted', changes: [] };
      const changes = driftOf(prior.get(r.key)!, gw, fp);
      return { key: r.key, line: r.line, gatewayId: r.gatewayId!, drift: changes.length ? 'changed' : 'none', changes };
    });
    const found = drift.filter((d) => d.drift !== 'none');

    if (o.write && found.length > 0) {
      const journal = await Journal.open(o.statePath!, {
        lock,
        manifest: { path: o.manifest!, hash: state.header.manifest.hash },
        endpoint: session.endpoint,
        caller: session.caller,
        redact: scrubber(ctx.redactor),
        onWarning: (m) => warn(ctx, m),
      });
      try {
        for (const d of found) {
          const gw = cloud.get(d.gatewayId);
          if (!gw) {
            await journal.record(d.key, { status: 'deleted', errorCode: 'Cgw.Drift', errorMessage: 'deleted outside cgw-batch (found by refresh)', finishedAt: new Date().toISOString() });
            continue;
          }
          // Record the cloud's values for what the journal tracks; tags someone else added stay out of the journal.
          const cur = currentOf(prior.get(d.key)!, gw, [], fp);
          await journal.record(d.key, { name: cur.name, description: cur.description, asn: cur.asn, tags: cur.tags, authKeyFingerprint: cur.authKeyFingerprint, specHash: undefined });
        }
      } finally {
        await journal.close();
      }
    }

    const deleted = found.filter((d) => d.drift === 'deleted').length;
    const changed = found.length - deleted;
    if (o.format === 'json') {
      ctx.out.write(
        JSON.stringify({
          type: 'refresh',
          state: o.statePath,
          account: session.caller.accountId ?? null,
          endpoint: session.endpoint,
          written: o.write && found.length > 0,
          summary: { checked: drift.length, deleted, changed },
          rows: drift,
        }) + '\n',
      );
    } else if (!o.quiet) {
      for (const d of found) {
        const what = d.drift === 'deleted' ? 'deleted outside cgw-batch' : `changed outside cgw-batch: ${describeChanges(d.changes)}`;
        ctx.out.write(`line ${d.line}  ${d.key}  ${d.gatewayId}  ${what}\n`);
      }
      ctx.out.write(
        `refresh: ${drift.length} gateway(s) checked in account ${session.caller.accountId ?? '(unknown)'} at ${session.endpoint}, ${deleted} deleted outside the tool, ${changed} changed` +
          (found.length === 0 ? ' — no drift\n' : o.write ? '; the journal now records what the cloud has\n' : '; run with --write to record it in the journal, or apply to converge\n'),
      );
    }
    return found.length > 0 ? EXIT.rowsFailed : EXIT.ok;
  }
}
