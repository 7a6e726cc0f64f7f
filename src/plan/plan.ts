// The planner: manifest + journal + inventory + flags in, a Plan out, every row with its action and reason. Pure.
import type { CustomerGateway } from '../cloud/types.js';
import { rowKey, splitKey } from '../keys.js';
import {
  MAYBE_CREATED,
  OWNED,
  type FieldChange,
  type GatewaySpec,
  type Manifest,
  type Plan,
  type PlanFlags,
  type PlannedRow,
  type PriorRow,
  type QuotaGiven,
  type RowRef,
  type Severity,
  type Tag,
} from '../types.js';
import { asnOf, currentOf, describeChanges, driftOf, fieldChange, opt } from './drift.js';
import { identityDiff, sameIdentity, specHash } from './identity.js';
import { asnValue } from './rules.js';
import { DEFAULT_VPN_CONNECTION_QUOTA, asImportSite, createsNewPart, decideSecondGateways, foldSecondGateways, planSites, resourceSummary, type VpnInventory } from './site.js';
import { isSiteRow, siteRuleOptions } from './site-rules.js';
import { isUnknown, settleSecrets } from './secret-refs.js';
import { DEFAULT_QUOTA, quotaText, regionQuota, type Learned } from './quota.js';
import { quotaUse, summarize } from './summary.js';
import { hasError, refOf, validateRow, type ValidateOptions } from './validate.js';

export interface PlanContext {
  /** Default 'plan' (import turns creates into "no match" and drops orphans). */
  command?: 'plan' | 'apply' | 'import';
  online: boolean;
  /** region -> every existing gateway (online only). A region missing here was not listed (e.g. unknown region). */
  inventory?: ReadonlyMap<string, CustomerGateway[]>;
  /** From DescribeRegions (online); a region outside it -> InvalidRegionId.NotFound. */
  regions?: ReadonlySet<string>;
  /** Customer gateways per region assumed when nothing better is known (default 100). */
  quota: number;
  /** `--quota`: given per region or for every region (wins over what was learned). */
  quotaGiven?: QuotaGiven;
  /** Ceilings a Resource.QuotaFull recorded in the journal, per region (plan/quota.ts learnedQuotas). */
  learnedQuota?: ReadonlyMap<string, Learned>;
  /** From the journal (read under the lock by apply/import), keyed by row key `region/ip`. */
  prior?: ReadonlyMap<string, PriorRow>;
  /** Keyed fingerprint to compare AuthKeys with PriorRow.authKeyFingerprint. */
  fingerprint?: (authKey: string) => string;
  /** Default: none of --allow-replace, --prune, --retry-failed, --skip-invalid. */
  flags?: PlanFlags;
  /** `--only`: whether a row is part of this run. Absent: every row is. */
  select?: (ref: RowRef) => boolean;
  /**
   * The manifest is not the journal's own but works on it (a saved results file, the retry loop): the journal's
   * manifest path. Journal rows it does not list are outside it: shown as they are, never orphans, never deleted.
   */
  subsetOf?: string;
  target?: Plan['target'];
  /** Site rows, online: region -> VPN gateways and connections (a region missing here: its sites are planned offline). */
  vpn?: ReadonlyMap<string, VpnInventory>;
  /** The journal's id (header runId): the tool's tag on a connection is `<journal id>:<row key>`. */
  journalId?: string;
  /** IPsec connections allowed per VPN gateway (default 10, --quota-vpn-connections N). */
  vpnQuota?: number;
  /** Device types the `device` column may name (src/device's DEVICE_TYPES); absent: not checked. */
  deviceTypes?: ReadonlySet<string>;
}

type Decision = Pick<PlannedRow, 'action' | 'reason'> & Partial<Pick<PlannedRow, 'existingId' | 'changes' | 'generation' | 'needs'>>;

const owned = (p: PriorRow | undefined): p is PriorRow & { gatewayId: string } =>
  p !== undefined && OWNED.has(p.status) && typeof p.gatewayId === 'string' && p.gatewayId !== '';

const failedWith = (p: PriorRow): string => `${p.errorCode ?? 'an error'}${p.errorMessage ? `: ${p.errorMessage}` : ''}`;

/**
 * Fields that differ between what the journal recorded (or the cloud has) and what the manifest now asks for.
 * `keyUnknown`: the row refers to an AuthKey this run cannot read: taken as unchanged when one is set, and as a key
 * to set when none is (plan/secret-refs.ts then decides whether the row may go ahead).
 */
function diffPrior(spec: GatewaySpec, prior: PriorRow, fingerprint: ((k: string) => string) | undefined, keyUnknown = false): { changes: FieldChange[]; asnChanged: boolean } {
  const changes: FieldChange[] = [];
  const change = (field: string, before: string | undefined, after: string | undefined): void => {
    changes.push(fieldChange(field, before, after));
  };
  const asnChanged = asnOf(prior.asn) !== asnValue(spec.asn);
  if (asnChanged) change('asn', opt(prior.asn), spec.asn);
  if (opt(prior.name) !== spec.name) change('name', opt(prior.name), spec.name);
  if (opt(prior.description) !== spec.description) change('description', opt(prior.description), spec.description);
  // AuthKey: only markers, never the value. Without a fingerprint function a present key is assumed unchanged.
  const wasSet = prior.authKeyFingerprint !== undefined;
  if (keyUnknown) {
    if (!wasSet) change('auth_key', '(none)', '(set)');
  } else if (!wasSet && spec.authKey !== undefined) change('auth_key', '(none)', '(set)');
  else if (wasSet && spec.authKey === undefined) change('auth_key', '(set)', '(none)');
  else if (wasSet && spec.authKey !== undefined && fingerprint && fingerprint(spec.authKey) !== prior.authKeyFingerprint) {
    change('auth_key', '(set)', '(changed)');
  }
  changes.push(...diffTags(prior.tags ?? [], spec.tags));
  return { changes, asnChanged };
}

/** Per-key tag changes (`tag:<key>`): added (no before), removed (no after), or a new value. Order-insensitive. */
export function diffTags(before: readonly Tag[], after: readonly Tag[]): FieldChange[] {
  const b = new Map(before.map((t) => [t.key, t.value]));
  const a = new Map(after.map((t) => [t.key, t.value]));
  const out: FieldChange[] = [];
  for (const [k, v] of b) {
    if (!a.has(k)) out.push({ field: `tag:${k}`, before: v });
    else if (a.get(k) !== v) out.push({ field: `tag:${k}`, before: v, after: a.get(k)! });
  }
  for (const [k, v] of a) if (!b.has(k)) out.push({ field: `tag:${k}`, after: v });
  return out;
}

/** What adopting `gw` for `spec` leaves to change: description, AuthKey and the manifest's own tag keys (identity matched). */
function adoptChanges(spec: GatewaySpec, gw: CustomerGateway, keyUnknown: boolean): FieldChange[] {
  const out: FieldChange[] = [];
  if (opt(gw.description) !== spec.description) out.push(fieldChange('description', opt(gw.description), spec.description));
  const cloudKey = opt(gw.authKey);
  // Both values are in memory here; only markers leave this function. An unknown key is taken as the one there.
  if (keyUnknown) {
    if (cloudKey === undefined) out.push(fieldChange('auth_key', '(none)', '(set)'));
  } else if (cloudKey === undefined && spec.authKey !== undefined) out.push(fieldChange('auth_key', '(none)', '(set)'));
  else if (cloudKey !== undefined && spec.authKey !== undefined && cloudKey !== spec.authKey) out.push(fieldChange('auth_key', '(set)', '(changed)'));
  const keys = new Set(spec.tags.map((t) => t.key));
  out.push(...diffTags(gw.tags.filter((t) => keys.has(t.key)), spec.tags));
  return out;
}

interface RowState {
  r: PlannedRow;
  spec: GatewaySpec;
  prior: PriorRow | undefined;
  /** The region's listing (online and listed), keyed by IP; undefined when we cannot see the region. */
  listed: ReadonlyMap<string, CustomerGateway> | undefined;
  /** The row refers to an AuthKey this run cannot read (plan/secret-refs.ts). */
  keyUnknown: boolean;
}

export const NO_FLAGS: PlanFlags = { allowReplace: false, prune: false, retryFailed: false, skipInvalid: false };

export function planManifest(manifest: Manifest, context: PlanContext): Plan {
  const ctx: Required<Pick<PlanContext, 'command' | 'flags'>> & PlanContext = { ...context, command: context.command ?? 'plan', flags: context.flags ?? NO_FLAGS };
  const quota = Number.isFinite(ctx.quota) && ctx.quota >= 0 ? ctx.quota : DEFAULT_QUOTA;
  const vopts: ValidateOptions = ctx.online && ctx.regions ? { knownRegions: ctx.regions, regionCode: 'InvalidRegionId.NotFound' } : {};
  const cellOf = cellLocator(manifest);
  if (manifest.profiles || manifest.rows.some((w) => w.site)) {
    vopts.site = siteRuleOptions(manifest.profiles, ctx.deviceTypes);
    if (cellOf) vopts.cellOf = cellOf;
  }
  const select = ctx.select ?? (() => true);

  // region -> ip -> gateway and region -> ids, built once so each row is a constant-time lookup.
  const byIp = new Map<string, Map<string, CustomerGateway>>();
  const ids = new Map<string, Set<string>>();
  if (ctx.online && ctx.inventory) {
    for (const [region, gws] of ctx.inventory) {
      byIp.set(region, new Map(gws.map((g) => [g.ip, g])));
      ids.set(region, new Set(gws.map((g) => g.id)));
    }
  }

  const rows: PlannedRow[] = [];
  const states: RowState[] = [];
  const firstLine = new Map<string, number>();
  const manifestKeys = new Set<string>();
  const siteRows = new Set<PlannedRow>();
  const issue = (r: PlannedRow, severity: Severity, code: string, field: string, message: string): void => {
    r.issues.push({ severity, code, field, message, file: r.ref.file, line: r.ref.line });
  };

  for (const w of manifest.rows) {
    const ref = refOf(w);
    const v = validateRow(w, vopts, ref);
    const r: PlannedRow = { ref, action: 'create', reason: '', issues: v.issues, inRun: select(ref) };
    if (v.row) r.row = v.row;
    rows.push(r);
    if (ref.region === '' || ref.ip === '') {
      invalid(r);
      continue;
    }
    manifestKeys.add(ref.key);
    const first = firstLine.get(ref.key);
    if (first !== undefined) {
      issue(r, 'error', 'InvalidIpAddress.AlreadyExist', 'ip', `same region and IP as line ${first}; each gateway may appear only once: remove or merge this row`);
      invalid(r);
      continue;
    }
    firstLine.set(ref.key, ref.line);
    if (isSiteRow(w)) {
      siteRows.add(r);
      // A second customer gateway (ip_2) is one gateway of the region like any other: its key is the manifest's, and unique.
      const ip2 = w.site?.ip_2?.trim();
      if (ip2) {
        const k2 = rowKey(ref.region, ip2);
        manifestKeys.add(k2);
        const first2 = firstLine.get(k2);
        if (first2 !== undefined && first2 !== ref.line) issue(r, 'error', 'InvalidIpAddress.AlreadyExist', 'ip_2', `ip_2 has the same region and IP as line ${first2}; each gateway may appear only once: remove or merge one`);
        else firstLine.set(k2, ref.line);
      }
    }
    if (!v.row || hasError(r.issues)) {
      invalid(r);
      continue;
    }
    const st: RowState = { r, spec: v.row.spec, prior: ctx.prior?.get(ref.key), listed: byIp.get(ref.region), keyUnknown: isUnknown(v.row.unresolved, 'auth_key') };
    Object.assign(r, decide(st, ctx, issue));
    if (hasError(r.issues)) invalid(r);
    else states.push(st);
  }

  const matched = matchIpChanges(states, ctx, manifestKeys, byIp, ids);
  const sctx = {
    online: ctx.online,
    inventory: ctx.online ? ctx.inventory : undefined,
    vpn: ctx.online ? ctx.vpn : undefined,
    prior: ctx.prior,
    fingerprint: ctx.fingerprint,
    flags: ctx.flags,
    journalId: ctx.journalId,
    vpnQuota: ctx.vpnQuota !== undefined && Number.isFinite(ctx.vpnQuota) && ctx.vpnQuota >= 0 ? ctx.vpnQuota : DEFAULT_VPN_CONNECTION_QUOTA,
    cellOf,
  };
  if (siteRows.size > 0) {
    const decideSecond = (t: PlannedRow, spec: GatewaySpec, p: PriorRow | undefined) => decide({ r: t, spec, prior: p, listed: byIp.get(t.ref.region), keyUnknown: isUnknown(t.row?.unresolved, 'auth_key') }, ctx, issue);
    for (const k of decideSecondGateways(rows, sctx, decideSecond, invalid)) matched.add(k);
  }
  if (ctx.subsetOf !== undefined) rows.push(...outside(manifest.file, ctx, ctx.subsetOf, manifestKeys, matched));
  else if (ctx.command !== 'import') rows.push(...orphans(manifest.file, ctx, manifestKeys, matched, byIp, ids, select, issue));
  for (const r of rows) gate(r, ctx.flags);
  // A removed site's second customer gateway is a part of its orphan row, as in destroy: prune counts sites.
  if (ctx.prior) foldSecondGateways(rows, ctx.prior, (g, site) => g.orphan === true && site.orphan === true);
  if (siteRows.size > 0 || [...(ctx.prior?.values() ?? [])].some((p) => p.connection)) planSites(rows, sctx, invalid, (r) => siteRows.has(r));
  // Unreadable secrets block only the rows that send them (import sends nothing: settled after it records).
  if (ctx.command !== 'import') settleAll(rows);
  applyQuota(rows, ctx, quota, issue);
  if (ctx.command === 'import') {
    for (const r of rows) {
      asImport(r, issue);
      asImportSite(r);
    }
    settleAll(rows);
  }

  const { summary, byRegion } = summarize(rows);
  const resources = resourceSummary(rows);
  return {
    version: 2,
    command: ctx.command,
    manifest: { file: manifest.file, hash: manifest.hash, format: manifest.format },
    ...(ctx.target ? { target: ctx.target } : {}),
    rows,
    issues: [...manifest.issues],
    summary,
    byRegion,
    quota: quotaUse(rows, ctx.online ? ctx.inventory : undefined, (region, existing) => regionQuota(region, quota, ctx.quotaGiven, ctx.learnedQuota, existing)),
    online: ctx.online,
    flags: ctx.flags,
    ...(resources ? { resources } : {}),
  };
}

/** xlsx manifests with site columns: the cell of a field on a line (`Sites!G4`). */
function cellLocator(manifest: Manifest): ((field: string, line: number) => string | undefined) | undefined {
  const cells = manifest.cells;
  if (!cells) return undefined;
  return (field, line) => {
    const col = Object.hasOwn(cells.columns, field) ? cells.columns[field] : undefined;
    return col === undefined ? undefined : `${cells.sheet}!${col}${line}`;
  };
}

/** Each row's unresolved secrets: invalid when it must send one now, else a note that it was not compared. */
function settleAll(rows: PlannedRow[]): void {
  for (const r of rows) {
    const unresolved = r.row?.unresolved;
    if (!unresolved || r.action === 'invalid') continue;
    r.issues.push(...settleSecrets(r, unresolved));
    if (hasError(r.issues)) invalid(r);
  }
}

function invalid(r: PlannedRow): void {
  const first = r.issues.find((i) => i.severity === 'error');
  r.action = 'invalid';
  r.reason = first ? `${first.code}: ${first.message}` : 'the row is invalid';
  // An invalid row does nothing, so it maps to no gateway and changes nothing (the issues say why).
  delete r.existingId;
  delete r.changes;
  delete r.generation;
}

/** The decision for one valid manifest row from its journal state and (online) the region's listing. */
function decide(st: RowState, ctx: PlanContext & { flags: PlanFlags }, issue: (r: PlannedRow, s: Severity, c: string, f: string, m: string) => void): Decision {
  const { r, spec, prior, listed, keyUnknown } = st;
  const gw = listed?.get(r.ref.ip);
  const fp = ctx.fingerprint;
  const gen = prior?.generation ?? 1;

  if (owned(prior)) {
    if (listed && !gw) {
      issue(r, 'warning', 'Cgw.Drift', 'ip', `gateway ${prior.gatewayId} recorded by an earlier run no longer exists in ${r.ref.region} (deleted outside the tool?); it is created again`);
      return { action: 'create', reason: `gateway ${prior.gatewayId} was deleted outside cgw-batch: create it again (new ClientToken)`, generation: gen + 1 };
    }
    if (listed && gw && gw.id !== prior.gatewayId) {
      issue(r, 'warning', 'Cgw.Drift', 'ip', `the journal records gateway ${prior.gatewayId} for this IP but ${r.ref.region} now has ${gw.id}; treating it as not ours`);
      return existing(r, spec, gw, keyUnknown, issue);
    }
    // Online, the cloud is the truth: report what changed behind the journal's back, then converge from there.
    let current: PriorRow = prior;
    if (gw) {
      const drift = driftOf(prior, gw, fp);
      if (drift.length > 0) issue(r, 'warning', 'Cgw.Drift', drift[0]!.field, `gateway ${prior.gatewayId} was changed outside cgw-batch: ${describeChanges(drift)}`);
      current = currentOf(prior, gw, spec.tags.map((t) => t.key), fp);
    }
    if (prior.resourceGroupId !== undefined && opt(prior.resourceGroupId) !== spec.resourceGroupId) {
      issue(r, 'warning', 'Cgw.ResourceGroupChanged', 'resource_group_id', `resource group changed from ${prior.resourceGroupId} to ${spec.resourceGroupId ?? '(none)'}; existing gateways are not moved between resource groups (move it in the console)`);
    }
    const { changes, asnChanged } = diffPrior(spec, current, fp, keyUnknown);
    const base = { existingId: prior.gatewayId };
    if (asnChanged) return { ...base, action: 'replace', reason: `the ASN changed: delete ${prior.gatewayId}, then create the new gateway`, changes, generation: gen + 1 };
    if (changes.length > 0) return { ...base, action: 'update', reason: `change ${changes.map((c) => c.field).join(', ')} of ${prior.gatewayId} in place`, changes };
    return { ...base, action: 'skip', reason: `up to date (${prior.gatewayId})` };
  }

  if (prior && MAYBE_CREATED.has(prior.status)) {
    const what = prior.status === 'in-flight' ? 'an earlier create was interrupted before its answer' : 'an earlier create gave up with its outcome unknown';
    if (!listed) {
      return { action: 'resume', reason: `${what}: apply lists the region, records the gateway if it exists, else replays the same ClientToken`, generation: gen };
    }
    if (gw) {
      if (sameIdentity(prior, gw)) {
        const current = currentOf({ ...prior, status: 'created', gatewayId: gw.id }, gw, spec.tags.map((t) => t.key), fp);
        const { changes, asnChanged } = diffPrior(spec, current, fp, keyUnknown);
        if (asnChanged) issue(r, 'warning', 'Cgw.Changed', 'asn', `the ASN changed since the lost create; once ${gw.id} is recorded, the next plan replaces it`);
        const rest = changes.filter((c) => c.field !== 'asn');
        const d: Decision = { action: 'resume', reason: `${what}; it made ${gw.id}: record it without a request${rest.length ? ', then update it' : ''}`, existingId: gw.id };
        if (rest.length > 0) d.changes = rest;
        return d;
      }
      return existing(r, spec, gw, keyUnknown, issue);
    }
    if (changedSince(prior, spec, fp, keyUnknown)) {
      return { action: 'resume', reason: `${what} and made no gateway; the row changed since: create it with a new ClientToken`, generation: gen + 1 };
    }
    return { action: 'resume', reason: `${what} and made no gateway: create it with the same ClientToken`, generation: gen };
  }

  if (gw) return existing(r, spec, gw, keyUnknown, issue);

  if (prior?.status === 'failed') {
    if (changedSince(prior, spec, fp, keyUnknown)) return { action: 'retry', reason: `failed earlier (${prior.errorCode ?? 'error'}); the row changed since: create it with a new ClientToken`, generation: gen + 1 };
    if (ctx.flags.retryFailed) return { action: 'retry', reason: `failed earlier with ${failedWith(prior)}; retried (--retry-failed)`, generation: gen + 1 };
    return { action: 'blocked', reason: `failed earlier with ${failedWith(prior)}; fix the row, or pass --retry-failed to try again`, needs: '--retry-failed' };
  }
  if (prior?.status === 'deleted') return { action: 'create', reason: 'deleted by an earlier run: create it again (new ClientToken)', generation: gen + 1 };
  return { action: 'create', reason: 'new gateway', generation: gen };
}

/** Whether the row asks for something else than the create the journal recorded (its spec hash differs). An unknown AuthKey counts as the one recorded. */
function changedSince(prior: PriorRow, spec: GatewaySpec, fp: ((k: string) => string) | undefined, keyUnknown: boolean): boolean {
  const keyFp = keyUnknown ? prior.authKeyFingerprint : spec.authKey && fp ? fp(spec.authKey) : undefined;
  return prior.specHash !== undefined && prior.specHash !== specHash(spec, keyFp);
}

/** A row whose IP already has a gateway we do not own: adopt it when name and ASN agree, else a conflict. */
function existing(r: PlannedRow, spec: GatewaySpec, gw: CustomerGateway, keyUnknown: boolean, issue: (r: PlannedRow, s: Severity, c: string, f: string, m: string) => void): Decision {
  const diffs = identityDiff(spec, gw);
  if (diffs.length > 0) {
    issue(r, 'error', 'InvalidIpAddress.AlreadyExist', 'ip', `${r.ref.region} already has gateway ${gw.id} for this IP with a different ${diffs.join(' and ')}; make this row match it to adopt it, or delete that gateway first`);
    return { action: 'invalid', reason: '' };
  }
  const changes = adoptChanges(spec, gw, keyUnknown);
  const d: Decision = { action: 'adopt', reason: `${gw.id} already exists with this IP, name and ASN: record it without creating${changes.length ? ', then update it' : ''}`, existingId: gw.id };
  if (changes.length > 0) d.changes = changes;
  return d;
}

/**
 * An IP change: a row that would be created, and a journal gateway in the same region whose key left the manifest and
 * whose name is the row's (unique on both sides) -> replace that gateway. A create whose outcome is unknown counts
 * when the listing shows the gateway it made. Returns the journal keys matched.
 */
function matchIpChanges(
  states: RowState[],
  ctx: PlanContext,
  manifestKeys: ReadonlySet<string>,
  byIp: ReadonlyMap<string, ReadonlyMap<string, CustomerGateway>>,
  ids: ReadonlyMap<string, ReadonlySet<string>>,
): Set<string> {
  const matched = new Set<string>();
  if (!ctx.prior || ctx.prior.size === 0) return matched;
  const nameKey = (region: string, name: string): string => `${region}\u0000${name}`;
  const candidates = new Map<string, Array<{ key: string; id: string; prior: PriorRow }>>();
  for (const [key, p] of ctx.prior) {
    // A site's second gateway shares its row's name: its own ip_2 rule (plan/site.ts) replaces it, never this one.
    if (manifestKeys.has(key) || opt(p.name) === undefined || p.siteKey !== undefined) continue;
    const { region, ip } = splitKey(key);
    const id = gatewayOf(p, region, ip, byIp, ids);
    if (!id) continue;
    const k = nameKey(region, p.name!);
    const list = candidates.get(k) ?? [];
    list.push({ key, id, prior: p });
    candidates.set(k, list);
  }
  if (candidates.size === 0) return matched;
  const creates = new Map<string, RowState[]>();
  for (const st of states) {
    const name = st.spec.name;
    if (st.r.action !== 'create' || name === undefined || st.prior !== undefined) continue;
    const k = nameKey(st.r.ref.region, name);
    const list = creates.get(k) ?? [];
    list.push(st);
    creates.set(k, list);
  }
  for (const [k, list] of creates) {
    const c = candidates.get(k);
    if (list.length !== 1 || !c || c.length !== 1) continue;
    const { r, spec, keyUnknown } = list[0]!;
    const { key, id, prior } = c[0]!;
    const { changes } = diffPrior(spec, prior, ctx.fingerprint, keyUnknown);
    r.action = 'replace';
    r.reason = `the IP changed from ${splitKey(key).ip}: delete ${id}, then create the new gateway`;
    r.existingId = id;
    r.replacesKey = key;
    r.changes = [{ field: 'ip', before: splitKey(key).ip, after: r.ref.ip }, ...changes];
    matched.add(key);
  }
  return matched;
}

/**
 * The gateway a journal row stands for, if it may exist: its recorded id (not listed as gone), or for a create
 * with an unknown outcome the listed gateway at its IP that matches what was sent. Offline: the recorded id only.
 */
function gatewayOf(
  p: PriorRow,
  region: string,
  ip: string,
  byIp: ReadonlyMap<string, ReadonlyMap<string, CustomerGateway>>,
  ids: ReadonlyMap<string, ReadonlySet<string>>,
): string | undefined {
  if (owned(p)) return ids.get(region)?.has(p.gatewayId) === false ? undefined : p.gatewayId;
  if (MAYBE_CREATED.has(p.status)) {
    const gw = byIp.get(region)?.get(ip);
    return gw && sameIdentity(p, gw) ? gw.id : undefined;
  }
  return undefined;
}

/** Journal rows whose key left the manifest: deleted with --prune, else blocked; gone or never created: skipped. */
function orphans(
  file: string,
  ctx: PlanContext & { flags: PlanFlags },
  manifestKeys: ReadonlySet<string>,
  matched: ReadonlySet<string>,
  byIp: ReadonlyMap<string, ReadonlyMap<string, CustomerGateway>>,
  ids: ReadonlyMap<string, ReadonlySet<string>>,
  select: (ref: RowRef) => boolean,
  issue: (r: PlannedRow, s: Severity, c: string, f: string, m: string) => void,
): PlannedRow[] {
  const out: PlannedRow[] = [];
  for (const [key, p] of ctx.prior ?? new Map<string, PriorRow>()) {
    if (manifestKeys.has(key) || matched.has(key)) continue;
    if (!owned(p) && !MAYBE_CREATED.has(p.status)) continue;
    const { region, ip } = splitKey(key);
    const ref: RowRef = { key, file, line: 0, region, ip };
    const o: PlannedRow = { ref, action: 'delete', reason: '', issues: [], inRun: select(ref), orphan: true };
    const listed = ids.has(region);
    const id = gatewayOf(p, region, ip, byIp, ids);
    if (owned(p)) {
      o.existingId = p.gatewayId;
      if (!id) {
        // Listed and gone: nothing exists; with --prune the delete just records it (NotFound counts as done).
        o.action = ctx.flags.prune ? 'delete' : 'skip';
        o.reason = `${p.gatewayId} was removed from the manifest and is already gone from ${region}${ctx.flags.prune ? ': recorded as deleted' : ''}`;
      } else {
        o.reason = `${p.gatewayId} was removed from the manifest: delete it`;
      }
    } else if (!listed) {
      o.reason = `removed from the manifest; an earlier create's outcome is unknown: apply lists ${region} and deletes the gateway it made, if any`;
    } else if (id) {
      o.existingId = id;
      o.reason = `removed from the manifest; an earlier create whose answer was lost made ${id}: delete it`;
    } else {
      o.action = 'skip';
      o.reason = 'removed from the manifest; the earlier create whose answer was lost made no gateway (not in the listing)';
    }
    issue(o, 'info', 'Cgw.Orphan', 'ip', o.reason);
    out.push(o);
  }
  return out.sort((a, b) => (a.ref.key < b.ref.key ? -1 : a.ref.key > b.ref.key ? 1 : 0));
}

/**
 * The journal's rows a subset manifest leaves out: each as the journal has it (status, gateway), not in this run.
 * They are not orphans (the rows were left out of this file, not removed from the batch): nothing deletes them.
 */
function outside(file: string, ctx: PlanContext, journalManifest: string, manifestKeys: ReadonlySet<string>, matched: ReadonlySet<string>): PlannedRow[] {
  const out: PlannedRow[] = [];
  for (const [key, p] of ctx.prior ?? new Map<string, PriorRow>()) {
    if (manifestKeys.has(key) || matched.has(key)) continue;
    const { region, ip } = splitKey(key);
    const o: PlannedRow = {
      ref: { key, file, line: p.line, region, ip },
      action: 'skip',
      reason: `not in this manifest (a row of ${journalManifest}, the journal's manifest): kept as it is`,
      issues: [],
      inRun: false,
      outside: true,
    };
    if (p.gatewayId !== undefined) o.existingId = p.gatewayId;
    out.push(o);
  }
  return out.sort((a, b) => a.ref.line - b.ref.line || (a.ref.key < b.ref.key ? -1 : a.ref.key > b.ref.key ? 1 : 0));
}

/** Actions that need a flag become `blocked` without it; the row keeps what it would do, for the printed plan. */
function gate(r: PlannedRow, flags: PlanFlags): void {
  if (r.action === 'replace' && !flags.allowReplace) {
    r.action = 'blocked';
    r.needs = '--allow-replace';
    r.reason = `${r.reason}; the IP or ASN cannot change in place: pass --allow-replace to delete and create`;
  } else if (r.action === 'delete' && r.orphan && !flags.prune) {
    r.action = 'blocked';
    r.needs = '--prune';
    r.reason = `${r.reason.replace(/: delete it$/, '')}; pass --prune to delete it (or --skip-invalid to leave it)`;
  }
}

/** import only records: rows it would not adopt are skipped with why (no match: apply creates them). */
function asImport(r: PlannedRow, issue: (r: PlannedRow, s: Severity, c: string, f: string, m: string) => void): void {
  if (r.action === 'invalid') return;
  if (r.action === 'adopt' || (r.action === 'resume' && r.existingId)) {
    if (r.changes) {
      r.reason = r.reason.replace(/, then update it$/, '') + ` (${r.changes.map((c) => c.field).join(', ')} differ: the next apply converges them)`;
      delete r.changes;
    }
    return;
  }
  if (r.action === 'create' || r.action === 'retry' || r.action === 'resume') {
    issue(r, 'info', 'Cgw.NoMatch', 'ip', `no gateway with IP ${r.ref.ip} in ${r.ref.region}; import creates nothing (apply creates it)`);
    r.reason = `no gateway with this IP in ${r.ref.region}: nothing to import (apply creates it)`;
  } else {
    r.reason = r.existingId ? `already managed by this journal (${r.existingId})` : `not imported: ${r.reason}`;
  }
  r.action = 'skip';
  delete r.changes;
  delete r.generation;
  delete r.needs;
}

/** Existing + planned creates over the quota: the creates that do not fit (manifest order) get Resource.QuotaFull. */
function applyQuota(rows: PlannedRow[], ctx: PlanContext, fallback: number, issue: (r: PlannedRow, s: Severity, c: string, f: string, m: string) => void): void {
  const byRegion = new Map<string, PlannedRow[]>();
  for (const r of rows) {
    if (!r.inRun || newGateways(r) === 0) continue;
    const list = byRegion.get(r.ref.region) ?? [];
    list.push(r);
    byRegion.set(r.ref.region, list);
  }
  for (const [region, creates] of byRegion) {
    // Offline we cannot see existing gateways, so only the planned creates count.
    const listed = ctx.online ? ctx.inventory?.get(region)?.length : undefined;
    const existingCount = listed ?? 0;
    const q = regionQuota(region, fallback, ctx.quotaGiven, ctx.learnedQuota, listed);
    const fit = Math.max(0, q.quota - existingCount);
    // A site row with ip_2 adds two gateways; rows that do not fit whole are refused (manifest order).
    const total = creates.reduce((n, r) => n + newGateways(r), 0);
    if (total <= fit) continue;
    const where = ctx.online ? `${region} already has ${existingCount} customer gateway(s)` : `${region} (offline: existing gateways not counted)`;
    let used = 0;
    for (const r of creates) {
      used += newGateways(r);
      if (used <= fit) continue;
      issue(r, 'error', 'Resource.QuotaFull', 'region', `quota exceeded: ${where}, the quota is ${quotaText(q)}, and only ${fit} of the ${total} new gateway(s) fit; this row does not. Remove rows, delete unused gateways, or pass --quota ${region}=N if your quota is higher`);
      invalid(r);
      if (r.gateway2) r.gateway2 = { key: r.gateway2.key, action: 'invalid', reason: 'the row is invalid' };
      if (r.connection) r.connection = { key: r.connection.key, action: 'invalid', reason: 'the row is invalid' };
    }
  }
}

/** Customer gateways a row adds to its region: its own, and a site's second one. */
function newGateways(r: PlannedRow): number {
  return (createsNew(r) ? 1 : 0) + (r.gateway2 && createsNewPart(r.gateway2) ? 1 : 0);
}

/** Rows whose action adds a gateway to the region (a replace deletes one first, so it does not count). */
export function createsNew(r: PlannedRow): boolean {
  return r.action === 'create' || r.action === 'retry' || (r.action === 'resume' && r.existingId === undefined);
}
