// The planner: manifest + inventory + quota + journal in, a Plan out. Pure: no fs, env, clock or network.
import type { CustomerGateway } from '../cloud/types.js';
import { sameFingerprint } from '../secrets.js';
import { OWNED, type FieldChange, type GatewaySpec, type Manifest, type Plan, type PlannedRow, type PriorRow, type Severity, type Tag } from '../types.js';
import { asnOf, currentOf, describeChanges, driftOf, fieldChange, opt } from './drift.js';
import { asnValue } from './rules.js';
import { summarize } from './summary.js';
import { fieldValue, hasError, rowKey, validateRow, type ValidateOptions } from './validate.js';

export interface PlanContext {
  online: boolean;
  /** region -> every existing gateway (online only). A region missing here was not listed (e.g. unknown region). */
  inventory?: ReadonlyMap<string, CustomerGateway[]>;
  /** From DescribeRegions (online); a region outside it -> InvalidRegionId.NotFound. */
  regions?: ReadonlySet<string>;
  /** Customer gateways allowed per region (default 100, --quota N). */
  quota: number;
  /** From the journal of a previous apply, keyed by row key `region/ip`. */
  prior?: ReadonlyMap<string, PriorRow>;
  /** Keyed fingerprint to compare AuthKeys with PriorRow.authKeyFingerprint. */
  fingerprint?: (authKey: string) => string;
}

export const DEFAULT_QUOTA = 100;


function owned(p: PriorRow | undefined): p is PriorRow & { gatewayId: string } {
  return p !== undefined && OWNED.has(p.status) && typeof p.gatewayId === 'string' && p.gatewayId !== '';
}


const show = (s: string | undefined): string => (s === undefined ? '(none)' : `"${s}"`);

function splitKey(key: string): { region: string; ip: string } {
  const i = key.indexOf('/');
  return i < 0 ? { region: key, ip: '' } : { region: key.slice(0, i), ip: key.slice(i + 1) };
}

/** Fields that differ between what the journal recorded and what the manifest now asks for. */
function diffPrior(
  spec: GatewaySpec,
  prior: PriorRow,
  fingerprint: ((k: string) => string) | undefined,
): { changes: FieldChange[]; asnChanged: boolean } {
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
  if (!wasSet && spec.authKey !== undefined) change('auth_key', '(none)', '(set)');
  else if (wasSet && spec.authKey === undefined) change('auth_key', '(set)', '(none)');
  else if (wasSet && spec.authKey !== undefined && fingerprint) {
    if (!sameFingerprint(fingerprint(spec.authKey), prior.authKeyFingerprint)) change('auth_key', '(set)', '(changed)');
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

export function planManifest(manifest: Manifest, ctx: PlanContext): Plan {
  const quota = Number.isFinite(ctx.quota) && ctx.quota >= 0 ? ctx.quota : DEFAULT_QUOTA;
  const vopts: ValidateOptions =
    ctx.online && ctx.regions ? { knownRegions: ctx.regions, regionCode: 'InvalidRegionId.NotFound' } : {};

  // region -> ip -> gateway, built once so each row is a constant-time lookup.
  const inventory = new Map<string, Map<string, CustomerGateway>>();
  const inventoryIds = new Map<string, Set<string>>();
  if (ctx.online && ctx.inventory) {
    for (const [region, gws] of ctx.inventory) {
      inventory.set(region, new Map(gws.map((g) => [g.ip, g])));
      inventoryIds.set(region, new Set(gws.map((g) => g.id)));
    }
  }

  const rows: PlannedRow[] = [];
  const firstLine = new Map<string, number>();
  const manifestKeys = new Set<string>();

  const issue = (r: PlannedRow, severity: Severity, code: string, field: string, message: string): void => {
    r.issues.push({ severity, code, field, message, file: r.file, line: r.line });
  };

  // Pass 1: per-row validation, duplicates, journal and inventory.
  for (const w of manifest.rows) {
    const v = validateRow(w, vopts);
    const region = fieldValue(w, 'region') ?? '';
    const ip = fieldValue(w, 'ip') ?? '';
    const key = rowKey(region, ip);
    const r: PlannedRow = { file: w.file, line: w.line, key, region, ip, action: 'create', issues: v.issues };
    if (v.row) r.row = v.row;
    rows.push(r);
    if (region === '' || ip === '') {
      r.action = 'invalid';
      continue;
    }
    manifestKeys.add(key);
    const first = firstLine.get(key);
    if (first !== undefined) {
      issue(r, 'error', 'InvalidIpAddress.AlreadyExist', 'ip', `same region and IP as line ${first}; each gateway may appear only once: remove or merge this row`);
      r.action = 'invalid';
      continue;
    }
    firstLine.set(key, w.line);

    const spec = v.row!.spec;
    const prior = ctx.prior?.get(key);
    const listed = inventory.get(region);
    const existing = listed?.get(ip);

    if (owned(prior)) {
      if (listed && !existing) {
        issue(r, 'warning', 'Cgw.Drift', 'ip', `gateway ${prior.gatewayId} recorded by the previous apply no longer exists in ${region} (deleted outside the tool?); it will be created again`);
      } else if (listed && existing && existing.id !== prior.gatewayId) {
        issue(r, 'warning', 'Cgw.Drift', 'ip', `the journal records gateway ${prior.gatewayId} for this IP but ${region} now has ${existing.id}; treating it as not ours`);
        resolveExisting(r, spec, existing);
      } else {
        // Online, the cloud is the truth: report what changed behind the journal's back, then converge from there.
        let current: PriorRow = prior;
        if (existing) {
          const drift = driftOf(prior, existing, ctx.fingerprint);
          if (drift.length > 0) {
            issue(r, 'warning', 'Cgw.Drift', drift[0]!.field, `gateway ${prior.gatewayId} was changed outside cgw-batch: ${describeChanges(drift)}`);
          }
          current = currentOf(prior, existing, spec.tags.map((t) => t.key), ctx.fingerprint);
        }
        const { changes, asnChanged } = diffPrior(spec, current, ctx.fingerprint);
        r.existingId = prior.gatewayId;
        r.action = asnChanged ? 'replace' : changes.length > 0 ? 'update' : 'skip';
        if (changes.length > 0) r.changes = changes;
        if (opt(prior.resourceGroupId) !== spec.resourceGroupId && prior.resourceGroupId !== undefined) {
          issue(r, 'warning', 'Cgw.ResourceGroupChanged', 'resource_group_id', `resource group changed from ${show(opt(prior.resourceGroupId))} to ${show(spec.resourceGroupId)}; existing gateways are not moved between resource groups (move it in the console)`);
        }
      }
    } else if (existing) {
      resolveExisting(r, spec, existing);
    }
    if (hasError(r.issues)) r.action = 'invalid';
  }

  const matchedPrior = matchIpChanges(rows, ctx, manifestKeys, inventoryIds);
  applyQuota(rows, ctx, quota, issue);
  for (const r of rows) {
    if (r.action !== 'invalid' && hasError(r.issues)) r.action = 'invalid';
    // An invalid row does nothing, so it maps to no gateway and changes nothing (the issues say why).
    if (r.action === 'invalid') {
      delete r.existingId;
      delete r.changes;
    }
  }

  // Journal rows whose key left the manifest: shown as orphans, deleted only with --prune.
  const orphans: PlannedRow[] = [];
  for (const [key, p] of ctx.prior ?? new Map<string, PriorRow>()) {
    if (!owned(p) || manifestKeys.has(key) || matchedPrior.has(key)) continue;
    const { region, ip } = splitKey(key);
    const o: PlannedRow = { file: manifest.file, line: 0, key, region, ip, action: 'orphan', issues: [], existingId: p.gatewayId };
    const gone = inventoryIds.get(region)?.has(p.gatewayId) === false;
    issue(
      o,
      'info',
      'Cgw.Orphan',
      'ip',
      gone
        ? `gateway ${p.gatewayId} is no longer in the manifest and already gone from ${region}; --prune forgets it`
        : `gateway ${p.gatewayId} is no longer in the manifest; it is deleted only with --prune`,
    );
    orphans.push(o);
  }
  orphans.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  rows.push(...orphans);

  const { summary, byRegion } = summarize(rows);
  return {
    version: 1,
    manifest: { file: manifest.file, hash: manifest.hash, format: manifest.format },
    rows,
    issues: [...manifest.issues],
    summary,
    byRegion,
    online: ctx.online,
  };
}

/** A row whose IP already has a gateway we do not own: adopt it when name and ASN agree, else a conflict. */
function resolveExisting(r: PlannedRow, spec: GatewaySpec, g: CustomerGateway): void {
  const diffs: string[] = [];
  if (opt(g.name) !== spec.name) diffs.push(`name ${show(opt(g.name))} there vs ${show(spec.name)} here`);
  if (asnOf(g.asn) !== asnValue(spec.asn)) diffs.push(`ASN ${opt(g.asn) ?? '(none)'} there vs ${spec.asn ?? '(none)'} here`);
  if (diffs.length === 0) {
    r.action = 'adopt';
    r.existingId = g.id;
    return;
  }
  r.issues.push({
    severity: 'error',
    code: 'InvalidIpAddress.AlreadyExist',
    field: 'ip',
    message: `${r.region} already has gateway ${g.id} for this IP with a different ${diffs.join(' and ')}; make this row match it to adopt it, or delete that gateway first`,
    file: r.file,
    line: r.line,
  });
}

/**
 * An IP change: a new row that would be created, and a journal gateway in the same region whose key left the
 * manifest and whose name is the row's name (unique on both sides) -> replace that gateway. Returns matched keys.
 */
function matchIpChanges(
  rows: PlannedRow[],
  ctx: PlanContext,
  manifestKeys: ReadonlySet<string>,
  inventoryIds: ReadonlyMap<string, Set<string>>,
): Set<string> {
  const matched = new Set<string>();
  if (!ctx.prior || ctx.prior.size === 0) return matched;
  const nameKey = (region: string, name: string): string => `${region}\u0000${name}`;
  const candidates = new Map<string, Array<{ key: string; prior: PriorRow & { gatewayId: string } }>>();
  for (const [key, p] of ctx.prior) {
    if (!owned(p) || manifestKeys.has(key) || opt(p.name) === undefined) continue;
    const { region } = splitKey(key);
    // Online and the old gateway is already gone: nothing to replace, the row is a plain create.
    if (inventoryIds.get(region)?.has(p.gatewayId) === false) continue;
    const k = nameKey(region, p.name!);
    const list = candidates.get(k) ?? [];
    list.push({ key, prior: p });
    candidates.set(k, list);
  }
  if (candidates.size === 0) return matched;
  const creates = new Map<string, PlannedRow[]>();
  for (const r of rows) {
    const name = r.row?.spec.name;
    if (r.action !== 'create' || name === undefined || owned(ctx.prior.get(r.key))) continue;
    const k = nameKey(r.region, name);
    const list = creates.get(k) ?? [];
    list.push(r);
    creates.set(k, list);
  }
  for (const [k, list] of creates) {
    const c = candidates.get(k);
    if (list.length !== 1 || !c || c.length !== 1) continue;
    const r = list[0]!;
    const { key, prior } = c[0]!;
    const { changes } = diffPrior(r.row!.spec, prior, ctx.fingerprint);
    r.action = 'replace';
    r.existingId = prior.gatewayId;
    r.changes = [{ field: 'ip', before: splitKey(key).ip, after: r.ip }, ...changes];
    matched.add(key);
  }
  return matched;
}

/** Existing + planned creates over the quota: the creates that do not fit (manifest order) get Resource.QuotaFull. */
function applyQuota(
  rows: PlannedRow[],
  ctx: PlanContext,
  quota: number,
  issue: (r: PlannedRow, s: Severity, code: string, field: string, message: string) => void,
): void {
  const byRegion = new Map<string, PlannedRow[]>();
  for (const r of rows) {
    if (r.action !== 'create') continue;
    const list = byRegion.get(r.region) ?? [];
    list.push(r);
    byRegion.set(r.region, list);
  }
  for (const [region, creates] of byRegion) {
    // Offline we cannot see existing gateways, so only the planned creates count.
    const existing = ctx.online ? (ctx.inventory?.get(region)?.length ?? 0) : 0;
    const fit = Math.max(0, quota - existing);
    if (creates.length <= fit) continue;
    const where = ctx.online ? `${region} already has ${existing} customer gateway(s)` : `${region} (offline: existing gateways not counted)`;
    for (const r of creates.slice(fit)) {
      issue(
        r,
        'error',
        'Resource.QuotaFull',
        'region',
        `quota exceeded: ${where}, the quota is ${quota}, and only ${fit} of the ${creates.length} new gateway(s) fit; this row does not. Remove rows, delete unused gateways, or pass --quota N if your quota is higher`,
      );
      r.action = 'invalid';
    }
  }
}
