// `cgw-batch refresh`: what changed in the cloud behind the journal's back (deleted, renamed, retagged, re-keyed);
// exit 1 when there is drift; `--write` records what the cloud has.
import { EXIT } from '../errors.js';
import type { ManifestOptions } from '../options.js';
import { currentOf, describeChanges, driftOf, unmanagedTags } from '../plan/drift.js';
import type { Context } from '../run/context.js';
import { bindAccount, journalRef, openForAppend, priorRows, readJournalRun, withLockedJournal, type JournalRun, type LockedRun } from '../run/journal-run.js';
import { requireJournal, selector } from '../run/select.js';
import { listRegions, openSession } from '../run/session.js';
import { fingerprint } from '../secrets.js';
import { OWNED, type FieldChange, type PriorRow, type Tag } from '../types.js';

interface DriftRow {
  key: string;
  line: number;
  gatewayId: string;
  drift: 'none' | 'deleted' | 'changed';
  changes: FieldChange[];
  /** Tags added in the console whose keys the manifest does not manage: information, never drift. */
  unmanaged: Tag[];
}

export async function runRefresh(ctx: Context<ManifestOptions>): Promise<number> {
  // --write changes the journal: take its lock before reading, like apply.
  if (ctx.options.write) return withLockedJournal(ctx, (run) => check(ctx, run, run));
  return check(ctx, await readJournalRun(ctx), undefined);
}

async function check(ctx: Context<ManifestOptions>, run: JournalRun, locked: LockedRun | undefined): Promise<number> {
  const o = ctx.options;
  const journal = requireJournal(ctx, run.read);
  const session = await openSession(ctx, journalRef(run));
  try {
    const fp = (k: string): string => fingerprint(journal.header.fingerprintKey, k);
    const inRun = selector(ctx) ?? (() => true);
    const owned = [...journal.rows.values()]
      .filter((r) => inRun(r) && OWNED.has(r.status) && r.gatewayId)
      .sort((a, b) => a.line - b.line || (a.key < b.key ? -1 : 1));
    const inventory = await listRegions(ctx, session, owned.map((r) => r.region));
    const cloud = new Map([...inventory.values()].flat().map((g) => [g.id, g]));
    const priors = priorRows(journal);
    // Every owned row has its prior row (both come from the same journal rows).
    const prior = (key: string): PriorRow => priors.get(key) ?? { key, status: 'created', line: 0, generation: 1 };
    const drift: DriftRow[] = owned.map((r) => {
      const gatewayId = r.gatewayId ?? '';
      const gw = cloud.get(gatewayId);
      if (!gw) return { key: r.key, line: r.line, gatewayId, drift: 'deleted', changes: [], unmanaged: [] };
      const changes = driftOf(prior(r.key), gw, fp);
      return { key: r.key, line: r.line, gatewayId, drift: changes.length ? 'changed' : 'none', changes, unmanaged: unmanagedTags(prior(r.key), gw) };
    });
    const found = drift.filter((d) => d.drift !== 'none');

    // What --write recorded, checked against the cloud again from the journal's rows as written: what is said is so.
    let unrecorded = 0;
    if (locked && found.length > 0) {
      const j = await openForAppend(ctx, locked, session, journal.header.manifest.hash);
      try {
        for (const d of found) {
          const gw = cloud.get(d.gatewayId);
          if (!gw) {
            await j.record(d.key, { status: 'deleted', errorCode: 'Cgw.Drift', errorMessage: 'deleted outside cgw-batch (found by refresh)', finishedAt: new Date().toISOString() });
            continue;
          }
          // Record the cloud's values for what the journal tracks; tags someone else added stay out of the journal.
          const cur = currentOf(prior(d.key), gw, [], fp);
          await j.record(d.key, { name: cur.name, description: cur.description, asn: cur.asn, tags: cur.tags, authKeyFingerprint: cur.authKeyFingerprint, specHash: undefined });
        }
      } finally {
        await j.close();
      }
      const written = priorRows({ rows: j.rows() });
      unrecorded = found.filter((d) => {
        const gw = cloud.get(d.gatewayId);
        const now = written.get(d.key);
        return gw ? !now || driftOf(now, gw, fp).length > 0 : now?.status !== 'deleted';
      }).length;
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
          written: o.write && found.length > 0 && unrecorded === 0,
          summary: { checked: drift.length, deleted, changed },
          rows: drift.map(({ unmanaged, ...d }) => ({ ...d, unmanaged_tags: unmanaged })),
        }) + '\n',
      );
    } else if (!o.quiet) {
      const tagText = (tags: Tag[]): string => tags.map((t) => `${t.key} ${JSON.stringify(t.value)}`).join(', ');
      for (const d of drift) {
        const what = d.drift === 'deleted' ? 'deleted outside cgw-batch' : d.drift === 'changed' ? `changed outside cgw-batch: ${describeChanges(d.changes)}` : undefined;
        if (what) ctx.out.write(`line ${d.line}  ${d.key}  ${d.gatewayId}  ${what}\n`);
        if (d.unmanaged.length > 0) {
          const n = d.unmanaged.length;
          ctx.out.write(`line ${d.line}  ${d.key}  ${d.gatewayId}  unmanaged tag${n > 1 ? 's' : ''} added in the console (not drift; the manifest does not manage ${n > 1 ? 'them' : 'it'}): ${tagText(d.unmanaged)}\n`);
        }
      }
      const recorded = unrecorded === 0 ? '; the journal now records what the cloud has\n' : `; ${unrecorded} of them could not be recorded (run refresh --write again)\n`;
      ctx.out.write(
        `refresh: ${drift.length} gateway(s) checked in account ${session.caller.accountId ?? '(unknown)'} at ${session.endpoint}, ${deleted} deleted outside the tool, ${changed} changed` +
          (found.length === 0 ? ' — no drift\n' : o.write ? recorded : '; run with --write to record it in the journal, or apply to converge\n'),
      );
    }
    if (locked) await bindAccount(ctx, locked, session);
    return found.length > 0 ? EXIT.rowsFailed : EXIT.ok;
  } finally {
    await session.close();
  }
}
