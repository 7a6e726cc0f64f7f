// load -> the run's journal read -> (online) regions and inventory -> the pure planner. One code path for plan, apply
// and import; and the plan-shaped view of a journal that status and report tell the truth about.
import { existsSync } from 'node:fs';
import type { CustomerGateway } from '../cloud/types.js';
// The names only: the renderers themselves are loaded by `configs`, not by every plan.
import { DEVICE_TYPE_IDS } from '../device/types.js';
import { EXIT } from '../errors.js';
import { splitKey } from '../keys.js';
import { loadManifest, shownPath } from '../load/index.js';
import type { JournalOptions, ManifestOptions } from '../options.js';
import { planDestroy } from '../plan/destroy.js';
import { planManifest } from '../plan/plan.js';
import { DEFAULT_QUOTA, learnedQuotas } from '../plan/quota.js';
import type { VpnInventory } from '../plan/site.js';
import { emptySummary } from '../plan/summary.js';
import { planToJson, renderPlanText } from '../report/plan-output.js';
import { fingerprint } from '../secrets.js';
import { safeJson } from '../text.js';
import { toPriorRows, type JournalFile, type JournalRow } from '../state/journal.js';
import { MAYBE_CREATED, OWNED, type Manifest, type Plan, type PlannedRow, type PriorRow, type WrittenProfile } from '../types.js';
import { warn, type Context } from './context.js';
import { journalRef, readJournalRun, type JournalRun } from './journal-run.js';
import { journalForManifest, manifestMembership } from './locate.js';
import { planFlags, requireSelected, selector } from './select.js';
import { listRegions, listVpn, readCloud, tryOpenSession, type Session, type SessionReads } from './session.js';

/** Reads the manifest: first of all, so a manifest that cannot be read costs no request at all. */
export async function readManifest(ctx: Context, file: string): Promise<Manifest> {
  const o = ctx.options;
  // Under the working directory, messages name the file relative to it; the journal keys on the file itself.
  return loadManifest(file, { env: ctx.io.env, redactor: ctx.redactor, cwd: ctx.io.cwd, ...(o.sheet ? { sheet: o.sheet } : {}), ...(o.profiles ? { profilesFile: o.profiles } : {}) });
}

/** What the `device` column may name: the types `cgw-batch configs` renders. */
const DEVICES: ReadonlySet<string> = new Set(DEVICE_TYPE_IDS);

/** Regions whose VPN gateways and connections a plan lists: the site rows' and the journal's connections'. */
function vpnRegions(manifest: Manifest | undefined, prior: ReadonlyMap<string, PriorRow>): string[] {
  const out = new Set<string>();
  for (const w of manifest?.rows ?? []) if (w.site) out.add((w.fields.region ?? '').trim());
  for (const p of prior.values()) if (p.connection) out.add(splitKey(p.key).region);
  out.delete('');
  return [...out];
}

const VPN_UNLISTED = 'VPN gateways and IPsec connections are not listed (this client cannot list them yet): site rows are planned as offline, without checking the VPN gateways';

/** The VPN listing of the site regions, or undefined (and a note) when the client cannot list it yet. */
async function vpnListing(ctx: Context, session: Session, regions: string[]): Promise<Map<string, VpnInventory> | undefined> {
  if (regions.length === 0) return undefined;
  const vpn = await listVpn(session, regions);
  if (vpn === undefined) warn(ctx, VPN_UNLISTED);
  return vpn;
}

/** The regions of gateways the journal owns or may have made: listed too, so orphans there are seen. */
function journalRegions(prior: ReadonlyMap<string, PriorRow>): string[] {
  return [...prior.values()].filter((p) => OWNED.has(p.status) || MAYBE_CREATED.has(p.status)).map((p) => splitKey(p.key).region);
}

/**
 * The reads an online plan of `manifest` makes, for the session to start beside STS GetCallerIdentity. Refuses a
 * journal of another manifest first, so such a refusal still costs no request.
 */
export function planReads(ctx: Context<ManifestOptions>, manifest: Manifest, run: JournalRun): SessionReads {
  manifestMembership(ctx, manifest, run);
  const prior = run.read ? toPriorRows(run.read.rows) : new Map<string, PriorRow>();
  const wanted = [...new Set(manifest.rows.map((r) => (r.fields.region ?? '').trim()).filter(Boolean)), ...journalRegions(prior)];
  const vpnWanted = vpnRegions(manifest, prior);
  return (s) => readCloud(ctx, s, wanted, vpnWanted);
}

export async function planFrom(
  ctx: Context<ManifestOptions>,
  manifest: Manifest,
  session: Session | undefined,
  run: JournalRun,
  command: 'plan' | 'apply' | 'import',
): Promise<Plan> {
  const o = ctx.options;
  // Before any request: the manifest must be the journal's, or work on it (a saved results file of it).
  const subsetOf = manifestMembership(ctx, manifest, run);
  if (subsetOf !== undefined) run.derivedFrom = subsetOf;
  const prior = run.read ? toPriorRows(run.read.rows) : new Map<string, PriorRow>();
  const fpKey = run.read?.header.fingerprintKey;
  const online = session !== undefined && !o.offline;
  let inventory: Map<string, CustomerGateway[]> | undefined;
  let regions: Set<string> | undefined;
  let vpn: Map<string, VpnInventory> | undefined;
  if (session && online) {
    const view = await (session.view ?? planReads(ctx, manifest, run)(session));
    regions = view.regions;
    inventory = view.inventory;
    vpn = view.vpn;
    if (view.vpnUnlisted) warn(ctx, VPN_UNLISTED);
  }
  const plan = planManifest(manifest, {
    command,
    online,
    inventory,
    regions,
    quota: DEFAULT_QUOTA,
    ...(o.quota ? { quotaGiven: o.quota } : {}),
    learnedQuota: learnedQuotas(prior),
    prior,
    fingerprint: fpKey ? (k: string) => fingerprint(fpKey, k) : undefined,
    flags: planFlags(ctx),
    select: selector(ctx),
    ...(subsetOf !== undefined ? { subsetOf } : {}),
    ...(session ? { target: { accountId: session.caller.accountId, endpoint: session.endpoint } } : {}),
    ...(vpn ? { vpn } : {}),
    ...(run.read ? { journalId: run.read.header.runId } : {}),
    vpnQuota: o.vpnQuota,
    deviceTypes: DEVICES,
  });
  requireSelected(ctx, plan.rows, manifest.file);
  return plan;
}

/** destroy's plan: the journal's gateways against the listing of their regions. */
export async function destroyPlanFrom(ctx: Context<ManifestOptions>, session: Session, journal: JournalFile): Promise<Plan> {
  const prior = toPriorRows(journal.rows);
  const vpn = await vpnListing(ctx, session, vpnRegions(undefined, prior));
  const plan = planDestroy({
    file: ctx.options.manifest,
    manifestHash: journal.header.manifest.hash,
    prior,
    // Creates whose outcome is unknown may have made a gateway: their regions are listed too, and such a gateway is deleted.
    inventory: await listRegions(ctx, session, journalRegions(prior)),
    select: selector(ctx),
    flags: planFlags(ctx),
    target: { accountId: session.caller.accountId, endpoint: session.endpoint },
    ...(vpn ? { vpn } : {}),
    journalId: journal.header.runId,
  });
  requireSelected(ctx, plan.rows, `the journal ${ctx.options.statePath}`);
  return plan;
}

/** 0: apply would carry out every row of the run; 1: rows are invalid or blocked (apply refuses them). */
export function planExitCode(plan: Plan): number {
  return plan.summary.invalid > 0 || plan.summary.blocked > 0 ? EXIT.rowsFailed : EXIT.ok;
}

export function printPlan(ctx: Context, plan: Plan): void {
  if (ctx.options.format === 'json') ctx.out.write(safeJson({ type: 'plan', ...planToJson(plan) }) + '\n');
  else ctx.out.write(renderPlanText(plan, { color: ctx.options.color, file: shownPath(plan.manifest.file, ctx.io.cwd) }));
}

/** A plan-shaped view of the journal's rows, for when no manifest is at hand. */
function journalOnly(file: string, rows: ReadonlyMap<string, JournalRow>): Plan {
  const planned: PlannedRow[] = [...rows.values()]
    .sort((a, b) => a.line - b.line || (a.key < b.key ? -1 : 1))
    .map((j) => ({ ref: { key: j.key, file, line: j.line, region: j.region, ip: j.ip }, action: 'skip', reason: '', issues: [], inRun: true }));
  return {
    version: 2,
    command: 'plan',
    manifest: { file, hash: '', format: 'journal' },
    rows: planned,
    issues: [],
    summary: emptySummary(),
    byRegion: {},
    quota: [],
    online: false,
    flags: { allowReplace: false, prune: false, retryFailed: false, skipInvalid: false },
  };
}

/** The rows status and report tell the truth about: the manifest's (offline plan against the journal), else the journal's. */
export async function planOfJournal(ctx: Context<JournalOptions | ManifestOptions>, journal: JournalFile, loaded?: Manifest): Promise<{ plan: Plan; columns?: string[]; profiles?: readonly WrittenProfile[] }> {
  const file = ctx.options.manifest;
  if (loaded || (file && existsSync(file))) {
    // Every manifest row (never started included), plus the journal's gateways whose rows left the manifest.
    const manifest = loaded ?? (await readManifest(ctx, file!));
    const subsetOf = manifestMembership(ctx, manifest, { path: ctx.options.statePath, read: journal });
    const plan = planManifest(manifest, {
      command: 'plan',
      online: false,
      quota: DEFAULT_QUOTA,
      ...(ctx.options.quota ? { quotaGiven: ctx.options.quota } : {}),
      prior: toPriorRows(journal.rows),
      flags: planFlags(ctx),
      ...(subsetOf !== undefined ? { subsetOf } : {}),
      journalId: journal.header.runId,
      vpnQuota: ctx.options.vpnQuota,
      deviceTypes: DEVICES,
    });
    return { plan, columns: manifest.columns, profiles: manifest.profiles };
  }
  return { plan: journalOnly(file ?? journal.header.manifest.path, journal.rows) };
}

/** `plan`, and apply / import with --dry-run: the plan from the journal as it is (no lock), online when it can be. */
export async function showPlan(given: Context<ManifestOptions>, as: 'plan' | 'apply' | 'import'): Promise<number> {
  const manifest = await readManifest(given, given.options.manifest);
  const ctx = journalForManifest(given, manifest);
  const run = await readJournalRun(ctx);
  let session: Session | undefined;
  if (!ctx.options.offline) {
    const s = await tryOpenSession(ctx, journalRef(run), planReads(ctx, manifest, run));
    if ('conn' in s) session = s;
    else warn(ctx, `planning offline: ${s.offline.replace(/^no Alibaba Cloud credentials found: /, 'no credentials found (')}${s.offline.startsWith('no Alibaba') ? ')' : ''}; existing gateways, drift, quota and regions are not checked (pass --offline to plan offline on purpose)`);
  }
  try {
    const plan = await planFrom(ctx, manifest, session, run, as);
    printPlan(ctx, plan);
    return planExitCode(plan);
  } finally {
    await session?.close();
  }
}
