// load -> journal -> (online) regions and inventory -> the pure planner. One code path for plan, apply and import.
import { fetchInventory, fetchRegions } from '../cloud/inventory.js';
import type { CustomerGateway } from '../cloud/types.js';
import { loadManifest } from '../load/index.js';
import { planManifest } from '../plan/plan.js';
import { fingerprint } from '../secrets.js';
import { checkAccount, readJournal, toPriorRows, type JournalHeader, type JournalRow } from '../state/journal.js';
import { MAYBE_CREATED, OWNED, type Manifest, type Plan, type PlanFlags, type PriorRow, type RowRef } from '../types.js';
import { warn, type Context } from './context.js';
import type { Session } from './session.js';

export interface Planned {
  manifest: Manifest;
  plan: Plan;
  prior: Map<string, PriorRow>;
  journal?: { header: JournalHeader; rows: Map<string, JournalRow> };
}

export function planFlags(ctx: Context): PlanFlags {
  const o = ctx.options;
  return {
    allowReplace: o.allowReplace,
    prune: o.prune,
    retryFailed: o.retryFailed,
    skipInvalid: o.skipInvalid,
    ...(o.only ? { only: o.only.text } : {}),
  };
}

/** `--only`: a row is in this run when its line or its key was named. */
export function selector(ctx: Context): ((ref: RowRef) => boolean) | undefined {
  const only = ctx.options.only;
  if (!only) return undefined;
  return (ref) => only.lines.has(ref.line) || only.keys.has(ref.key);
}

/** Reads the journal (no lock of its own: apply and import hold it already; plan only reads). */
export async function readState(ctx: Context, session: Session | undefined): Promise<Planned['journal']> {
  const sp = ctx.options.statePath!;
  const journal = await readJournal(sp);
  for (const w of journal?.warnings ?? []) warn(ctx, w);
  // A journal of another account or endpoint is refused before anything is listed or sent.
  if (journal && session) checkAccount(sp, journal.header, session.endpoint, session.caller);
  return journal ? { header: journal.header, rows: journal.rows } : undefined;
}

/** A listing longer than this shows its progress on stderr (one line per thousand gateways). */
const LONG_LISTING = 1000;

/** Every gateway of the regions (listing progress on stderr for long listings). */
export async function listRegions(ctx: Context, session: Session, regions: Iterable<string>): Promise<Map<string, CustomerGateway[]>> {
  const shown = new Map<string, number>();
  return fetchInventory([...new Set(regions)], (r) => session.conn.clientFor(r), {
    onProgress: (region, listed, total) => {
      if (total <= LONG_LISTING) return;
      const step = Math.floor(listed / LONG_LISTING);
      if (listed < total && step === (shown.get(region) ?? 0)) return;
      shown.set(region, step);
      ctx.err.write(`listing ${region}: ${listed} of ${total} gateways\n`);
    },
  });
}

/** Reads the manifest: first of all, so a manifest that cannot be read costs no request at all. */
export async function readManifest(ctx: Context): Promise<Manifest> {
  const o = ctx.options;
  return loadManifest(o.manifest!, { env: ctx.io.env, redactor: ctx.redactor, ...(o.sheet ? { sheet: o.sheet } : {}) });
}

export async function planFrom(ctx: Context, manifest: Manifest, session: Session | undefined, command: Plan['command'] & ('plan' | 'apply' | 'import')): Promise<Planned> {
  const o = ctx.options;
  const journal = await readState(ctx, session);
  const prior = journal ? toPriorRows(journal.rows) : new Map<string, PriorRow>();
  const fpKey = journal?.header.fingerprintKey;

  const online = session !== undefined && !o.offline;
  let inventory: Map<string, CustomerGateway[]> | undefined;
  let regions: Set<string> | undefined;
  if (online) {
    const wanted = [...new Set(manifest.rows.map((r) => (r.fields.region ?? '').trim()).filter(Boolean))];
    // The journal's gateways in regions the manifest no longer names are orphans: list those regions too.
    for (const p of prior.values()) if (OWNED.has(p.status) || MAYBE_CREATED.has(p.status)) wanted.push(p.key.slice(0, p.key.indexOf('/')));
    const first = wanted[0] ?? 'cn-hangzhou';
    regions = new Set((await fetchRegions(session.conn.clientFor(first))).map((r) => r.regionId));
    inventory = await listRegions(ctx, session, wanted.filter((r) => regions!.has(r)));
  }
  const plan = planManifest(manifest, {
    command,
    online,
    inventory,
    regions,
    quota: o.quota,
    prior,
    fingerprint: fpKey ? (k: string) => fingerprint(fpKey, k) : undefined,
    flags: planFlags(ctx),
    select: selector(ctx),
    ...(session ? { target: { accountId: session.caller.accountId, endpoint: session.endpoint } } : {}),
  });
  const out: Planned = { manifest, plan, prior };
  if (journal) out.journal = journal;
  return out;
}
