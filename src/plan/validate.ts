// Per-row validation: one WrittenRow in, a normalised Row plus every issue the API (or we) would raise; never throws.
import { rowKey } from '../keys.js';
import type { Field, GatewaySpec, Issue, Row, RowRef, Severity, Tag, WrittenRow } from '../types.js';
import { CLOSED_REGIONS, KNOWN_REGIONS, suggestRegion } from './regions.js';
import { validateSite, type SiteRuleOptions } from './site-rules.js';
import { closestName } from './suggest-name.js';
import {
  MAX_TAGS,
  checkAsn,
  checkAuthKey,
  checkIpv4,
  checkLabel,
  checkResourceGroupId,
  checkTagKey,
  checkTagValue,
  classifyIpv4,
  clip,
  hasSmartQuotes,
} from './rules.js';

/**
 * AuthKeys shorter than this get a warning: the API accepts 1-64 characters and existing BGP peers use short keys,
 * but they are easy to guess. (They are never printed: reports and the journal never hold a key.)
 */
export const MIN_AUTH_KEY = 8;

export interface ValidateOptions {
  /** Region ids to accept; default the built-in list (offline). */
  knownRegions?: ReadonlySet<string>;
  /**
   * Code for a region outside `knownRegions`: `Cgw.UnknownRegion` (default, offline list) or
   * `InvalidRegionId.NotFound` when the set comes from DescribeRegions.
   */
  regionCode?: 'Cgw.UnknownRegion' | 'InvalidRegionId.NotFound';
  /** Site rows: the profiles and device types the site columns may name. */
  site?: SiteRuleOptions;
  /** xlsx: the cell of a field in the row at `line` (issues about site fields name it). */
  cellOf?: (field: string, line: number) => string | undefined;
}

export interface Validated {
  row?: Row;
  issues: Issue[];
}

/** A field's trimmed value, or undefined when absent or blank (a blank optional field is simply not sent). */
export function fieldValue(w: WrittenRow, f: Field): string | undefined {
  const v = w.fields[f];
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

// Memo of region -> suggestion: a 100k-row manifest with one misspelt default region costs one distance scan.
const suggestions = new WeakMap<ReadonlySet<string>, Map<string, string | undefined>>();
function suggestionFor(region: string, known: ReadonlySet<string>): string | undefined {
  let m = suggestions.get(known);
  if (!m) suggestions.set(known, (m = new Map()));
  if (!m.has(region)) m.set(region, suggestRegion(region, known));
  return m.get(region);
}

/** The row's identity from its trimmed region and IP (blank when missing: such a row is invalid anyway). */
export function refOf(w: WrittenRow): RowRef {
  const region = fieldValue(w, 'region') ?? '';
  const ip = fieldValue(w, 'ip') ?? '';
  return { key: rowKey(region, ip), file: w.file, line: w.line, region, ip };
}

/** `ref` is the row's identity when the caller (the planner) already made it; it is carried, never rebuilt. */
export function validateRow(w: WrittenRow, opts: ValidateOptions = {}, ref: RowRef = refOf(w)): Validated {
  // An unresolved secret's issue is the planner's to raise (plan/secret-refs.ts): only a row that must send it fails.
  const pending = new Set((w.unresolved ?? []).map((u) => u.issue));
  const kept = pending.size ? w.issues.filter((i) => !pending.has(i)) : w.issues;
  const issues: Issue[] = w.site === undefined ? kept.map((i) => ({ ...i })) : kept.map((i) => deferPsk(i, w));
  const add = (severity: Severity, code: string, field: string, message: string): void => {
    issues.push({ severity, code, field, message, file: w.file, line: w.line });
  };

  // Region
  const region = fieldValue(w, 'region');
  if (region === undefined) {
    add('error', 'MissingRegionId', 'region', 'the region is empty; give a region id such as cn-hangzhou (or a defaults: region in YAML)');
  } else {
    const known = opts.knownRegions ?? KNOWN_REGIONS;
    if (!known.has(region)) {
      const code = opts.regionCode ?? 'Cgw.UnknownRegion';
      const closed = CLOSED_REGIONS.get(region);
      const guess = suggestionFor(region, known);
      const hint = guess ? ` (did you mean ${guess}?)` : '; use a region id such as cn-hangzhou';
      const msg = closed
        ? `region ${region} (${closed}) has been closed; choose another region`
        : code === 'InvalidRegionId.NotFound'
          ? `region "${clip(region)}" is not offered to this account (DescribeRegions)${hint}`
          : `unknown region "${clip(region)}"${hint}`;
      add('error', code, 'region', msg);
    }
  }

  // IP address
  const ip = fieldValue(w, 'ip');
  if (ip === undefined) {
    add('error', 'MissingIpAddress', 'ip', 'the IP address is empty; give the public IPv4 address of the on-premises VPN device');
  } else {
    const bad = checkIpv4(ip);
    if (bad) add('error', 'InvalidIpAddress.WrongFormat', 'ip', bad.message);
    else {
      const range = classifyIpv4(ip);
      if (range?.kind === 'unsupported') {
        add(
          'warning',
          'Cgw.UnsupportedIpRange',
          'ip',
          `IPsec-VPN connections cannot be established to ${range.label} addresses; use the device's public IP`,
        );
      } else if (range?.kind === 'private') {
        add('info', 'Cgw.PrivateIp', 'ip', `private IP (${range.label}): only for private-network IPsec-VPN`);
      }
    }
  }

  // Name / Description
  const name = fieldValue(w, 'name');
  const description = fieldValue(w, 'description');
  for (const [field, value, code] of [
    ['name', name, 'InvalidName'],
    ['description', description, 'InvalidDescription'],
  ] as const) {
    if (value === undefined) continue;
    const bad = checkLabel(value, field);
    if (bad) add('error', code, field, bad.message);
    else if (hasSmartQuotes(value)) {
      // Inside the text a curly apostrophe may be intended (O’Brien); the API takes it, so only point it out.
      add('warning', 'Cgw.SmartQuotes', field, `the ${field} contains smart quotes (spreadsheet autocorrect?); check that they are intended`);
    }
  }

  // ASN and AuthKey
  const asn = fieldValue(w, 'asn');
  if (asn !== undefined) {
    const bad = checkAsn(asn);
    if (bad) add('error', 'IllegalParam.Asn', 'asn', bad.message);
  }
  const authKey = fieldValue(w, 'auth_key');
  const keyUnknown = w.unresolved?.some((u) => u.field === 'auth_key') === true;
  if (keyUnknown && asn === undefined) {
    add('error', 'OperationDenied.MissingAsn', 'auth_key', 'the row asks for an AuthKey but asn is empty: BGP authentication needs the ASN of the device; add asn or remove the AuthKey');
  }
  if (authKey !== undefined) {
    const bad = checkAuthKey(authKey);
    if (bad) add('error', 'InvalidAuthkey.Malformed', 'auth_key', bad.message);
    else if (authKey.length < MIN_AUTH_KEY) {
      add(
        'warning',
        'Cgw.WeakAuthKey',
        'auth_key',
        `the AuthKey has ${authKey.length} character${authKey.length === 1 ? '' : 's'}: the API accepts it, but a key this short is easy to guess; use ${MIN_AUTH_KEY} or more where the BGP peer allows`,
      );
    }
    if (asn === undefined) {
      add(
        'error',
        'OperationDenied.MissingAsn',
        'auth_key',
        'the AuthKey is set but asn is empty: BGP authentication needs the ASN of the device; add asn or remove the AuthKey',
      );
    }
  }

  // The AuthKey pasted into another cell (name, description, a tag, an extra column) would be sent, stored and
  // reported there as plain text: refuse the row, naming the column, never quoting the key.
  if (authKey !== undefined && authKey.length >= 4) {
    const where = new Set<string>();
    for (const [column, value] of Object.entries(w.echo)) if (value.includes(authKey)) where.add(column);
    for (const f of ['name', 'description', 'resource_group_id'] as const) if (w.fields[f]?.includes(authKey)) where.add(f);
    for (const t of w.tags) if (t.key.includes(authKey) || t.value.includes(authKey)) where.add('tags');
    for (const column of where) {
      add('error', 'Cgw.AuthKeyElsewhere', column, `the AuthKey of this row also appears in ${column}; remove it there (it would be sent and stored as plain text)`);
    }
  }

  // Resource group
  const resourceGroupId = fieldValue(w, 'resource_group_id');
  if (resourceGroupId !== undefined) {
    const bad = checkResourceGroupId(resourceGroupId);
    if (bad) add('error', 'InvalidResourceGroupId', 'resource_group_id', bad.message);
  }

  // Tags
  const tags: Tag[] = w.tags.map((t) => ({ key: t.key.trim(), value: t.value.trim() }));
  if (tags.length > MAX_TAGS) {
    add('error', 'SizeLimitExceeded.TagNum', 'tags', `${tags.length} tags given; at most ${MAX_TAGS} are allowed per gateway`);
  }
  const seen = new Set<string>();
  const seenLower = new Map<string, string>();
  for (const t of tags) {
    const field = t.key === '' ? 'tags' : `tag:${clip(t.key)}`;
    const badKey = checkTagKey(t.key);
    if (badKey) add('error', 'InvalidParameter.TagKey', field, badKey.message);
    const badValue = checkTagValue(t.value);
    if (badValue) add('error', 'InvalidParameter.TagValue', field, badValue.message);
    if (t.key === '') continue;
    if (seen.has(t.key)) {
      add('error', 'Duplicated.TagKey', field, `the tag key "${clip(t.key)}" is given twice; keep one value per key`);
    } else {
      const other = seenLower.get(t.key.toLowerCase());
      // Keys differing only in case: the emulator (and our reading of the API docs) answers Forbidden.TagKey.Duplicated.
      if (other !== undefined) {
        add('error', 'Forbidden.TagKey.Duplicated', field, `the tag keys "${clip(other)}" and "${clip(t.key)}" differ only in letter case; keep one`);
      }
    }
    seen.add(t.key);
    seenLower.set(t.key.toLowerCase(), t.key);
  }

  // Site columns (absent on a customer-gateway-only row, whose issues and row stay exactly as they were).
  const site =
    w.site === undefined
      ? undefined
      : validateSite(w, ip, asn, opts.site ?? {}, (severity, code, field, message) => {
          const issue: Issue = { severity, code, field, message, file: w.file, line: w.line };
          const cell = opts.cellOf?.(field, w.line);
          if (cell !== undefined) issue.cell = cell;
          issues.push(issue);
        }, closestName);

  if (region === undefined || ip === undefined) return { issues };
  const spec: GatewaySpec = { region, ip, tags };
  if (name !== undefined) spec.name = name;
  if (description !== undefined) spec.description = description;
  if (asn !== undefined) spec.asn = asn;
  if (authKey !== undefined) spec.authKey = authKey;
  if (resourceGroupId !== undefined) spec.resourceGroupId = resourceGroupId;
  const row: Row = { ref, spec, echo: w.echo, ...(w.unresolved?.length ? { unresolved: w.unresolved } : {}) };
  if (site !== undefined) row.site = site;
  return { row, issues };
}

/**
 * The loader's "psk env var not set" is an error only for rows that must send the key in this run (a connection
 * created or replaced): it is held as a warning here, and the planner raises it again for those rows (issue 17's rule).
 */
export const PSK_ENV_MISSING = 'Cgw.PskEnvMissing';

function deferPsk(i: Issue, w: WrittenRow): Issue {
  if (i.code !== PSK_ENV_MISSING || w.pskValue !== undefined || !w.site?.psk?.startsWith('env:')) return { ...i };
  return { ...i, severity: 'warning' };
}

export function hasError(issues: readonly Issue[]): boolean {
  return issues.some((i) => i.severity === 'error');
}
