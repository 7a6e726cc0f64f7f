// `cgw-batch refresh`: what changed in the cloud behind the journal's back (deleted, renamed, retagged, re-keyed), for
// customer gateways and site connections (subnets, IKE/IPsec parameters, the PSK by keyed fingerprint, the tool's tag);
// exit 1 when there is drift; `--write` records what the cloud has.
import { existsSync } from 'node:fs';
import { EXIT } from '../errors.js';
import type { ManifestOptions } from '../options.js';
import { currentOf, describeChanges, driftOf } from '../plan/drift.js';
import { connectionDrift, type ConnectionDrift } from '../plan/site-drift.js';
import type { Context } from '../run/context.js';
import { journalRef, openForAppend, priorRows, readJournalRun, withLockedJournal, type JournalRun, type LockedRun } from '../run/journal-run.js';
import { listConnections, pskFingerprints } from '../run/live.js';
import { planOfJournal } from '../run/plan-from.js';
import { requireJournal, selector } from '../run/select.js';
import { listRegions, openSession } from '../run/session.js';
import { fingerprint } from '../secrets.js';
import { OWNED, type FieldChange, type PriorRow, type SiteSpec } from '../types.js';

interface DriftRow {
  key: string;
  line: number;
  gatewayId: string;
  drift: 'none' | 'deleted' | 'changed';
  changes: FieldChange[];
}

/** A site connection's drift, as refresh reports it (JSON: `connections`). */
interface ConnectionDriftRow extends ConnectionDrift {
  key: string;
  line: number;
  connectionId: string;
  region: string;
}

/** The manifest rows' sites by key (an offline plan of the manifest), when the manifest is at hand. */
async function manifestSites(ctx: Context<ManifestOptions>, journal: NonNullable<JournalRun['read']>): Promise<Map<string, SiteSpec>> {
  if (!existsSync(ctx.options.manifest)) return new Map();
  const { plan } = await planOfJournal(ctx, journal);
  return new Map(plan.rows.flatMap((r) => (r.row?.site ? [[r.ref.key, r.row.site] as const] : [])));
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
      if (!gw) return { key: r.key, line: r.line, gatewayId, drift: 'deleted', changes: [] };
      const changes = driftOf(prior(r.key), gw, fp);
      return { key: r.key, line: r.line, gatewayId, drift: changes.length ? 'changed' : 'none', changes };
    });
    const found = drift.filter((d) => d.drift !== 'none');

    // Site connections the journal owns: listed per region; each PSK read, fingerprinted at once and dropped.
    const sited = [...journal.rows.values()]
      .filter((r) => inRun(r) && r.connection && OWNED.has(r.connection.status) && r.connection.connectionId)
      .sort((a, b) => a.line - b.line || (a.key < b.key ? -1 : 1));
    const conns: ConnectionDriftRow[] = [];
    if (sited.length > 0) {
      const listed = await listConnections(session, sited.map((r) => r.region));
      const sites = await manifestSites(ctx, journal);
      for (const r of sited) {
        const pc = r.connection!;
        const id = pc.connectionId!;
        const cloud = listed.get(id);
        const fps = cloud ? await pskFingerprints(session, r.region, id, fp) : undefined;
        const d = connectionDrift({ key: r.key, journalId: journal.header.runId, prior: pc, cloud, ...(fps ? { cloudPskFingerprints: fps } : {}), ...(sites.get(r.key) ? { site: sites.get(r.key) } : {}), fingerprint: fp });
        conns.push({ key: r.key, line: r.line, connectionId: id, region: r.region, ...d });
      }
    }
    const connFound = conns.filter((d) => d.drift !== 'none');

    if (locked && (found.length > 0 || connFound.length > 0)) {
      const j = await openForAppend(ctx, locked, session, journal.header.manifest.hash);
      try {
        for (const d of connFound) {
          if (d.drift === 'deleted') {
            await j.record(d.key, { connection: { status: 'deleted', errorCode: 'Cgw.Drift', errorMessage: 'deleted outside cgw-batch (found by refresh)', state: undefined, negotiation: undefined, finishedAt: new Date().toISOString() } });
            continue;
          }
          // What the cloud has: its keys' fingerprints; the hash no longer says "as asked" (the plan compares with the cloud).
          await j.record(d.key, { connection: { specHash: undefined, ...(d.pskFingerprints ? { pskFingerprints: d.pskFingerprints } : {}) } });
        }
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
    }

    const deleted = found.filter((d) => d.drift === 'deleted').length + connFound.filter((d) => d.drift === 'deleted').length;
    const changed = found.length + connFound.length - deleted;
    if (o.format === 'json') {
      ctx.out.write(
        JSON.stringify({
          type: 'refresh',
          state: o.statePath,
          account: session.caller.accountId ?? null,
          endpoint: session.endpoint,
          written: o.write && found.length + connFound.length > 0,
          summary: { checked: drift.length + conns.length, deleted, changed },
          rows: drift,
          ...(conns.length > 0 ? { connections: conns } : {}),
        }) + '\n',
      );
    } else if (!o.quiet) {
      for (const d of found) {
        const what = d.drift === 'deleted' ? 'deleted outside cgw-batch' : `changed outside cgw-batch: ${describeChanges(d.changes)}`;
        ctx.out.write(`line ${d.line}  ${d.key}  ${d.gatewayId}  ${what}\n`);
      }
      for (const d of conns) {
        const what = d.drift === 'deleted' ? 'deleted outside cgw-batch' : d.drift === 'changed' ? `changed outside cgw-batch: ${describeChanges(d.changes)}` : undefined;
        if (what) ctx.out.write(`line ${d.line}  ${d.key}  ${d.connectionId}  ${what}\n`);
        for (const n of d.notes) ctx.out.write(`line ${d.line}  ${d.key}  ${d.connectionId}  note: ${n}\n`);
      }
      const connections = conns.length > 0 ? ` and ${conns.length} connection(s)` : '';
      ctx.out.write(
        `refresh: ${drift.length} gateway(s)${connections} checked in account ${session.caller.accountId ?? '(unknown)'} at ${session.endpoint}, ${deleted} deleted outside the tool, ${changed} changed` +
          (found.length + connFound.length === 0 ? ' — no drift\n' : o.write ? '; the journal now records what the cloud has\n' : '; run with --write to record it in the journal, or apply to converge\n'),
      );
    }
    return found.length + connFound.length > 0 ? EXIT.rowsFailed : EXIT.ok;
  } finally {
    await session.close();
  }
}
