// Drift: what the cloud says about a journal's gateway versus what the journal recorded. Pure; used by plan and refresh.
import type { CustomerGateway } from '../cloud/types.js';
import { sameFingerprint } from '../secrets.js';
import type { FieldChange, PriorRow, Tag } from '../types.js';
import { asnValue } from './rules.js';

/** Blank and absent are the same for optional attributes (the API returns "" for an unset name). */
export const opt = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);

/** An ASN as a number; "0" or "" (as the inventory reports "none") is no ASN. */
export const asnOf = (s: string | undefined): number | undefined => {
  const v = asnValue(opt(s));
  return v === 0 ? undefined : v;
};

/** A change record without `undefined` members (JSON output and deepEqual stay clean). */
export function fieldChange(field: string, before: string | undefined, after: string | undefined): FieldChange {
  const c: FieldChange = { field };
  if (before !== undefined) c.before = before;
  if (after !== undefined) c.after = after;
  return c;
}

/** The cloud's tags restricted to `keys` (tags someone else manages on the same gateway are left out of comparisons). */
function tagsWithin(tags: readonly Tag[], keys: ReadonlySet<string>): Tag[] {
  return tags.filter((t) => keys.has(t.key));
}

/**
 * Fields whose cloud value differs from the journal's record (`before` = journal, `after` = cloud).
 * AuthKeys are compared through the journal's keyed fingerprint and shown only as markers.
 * Tags: the keys the journal recorded (the manifest's); a key someone added in the console is not ours to compare
 * (see unmanagedTags), so it is never drift.
 */
export function driftOf(prior: PriorRow, gw: CustomerGateway, fingerprint?: (authKey: string) => string): FieldChange[] {
  const out: FieldChange[] = [];
  const change = (field: string, before: string | undefined, after: string | undefined): void => {
    out.push(fieldChange(field, before, after));
  };
  if (opt(prior.name) !== opt(gw.name)) change('name', opt(prior.name), opt(gw.name));
  if (opt(prior.description) !== opt(gw.description)) change('description', opt(prior.description), opt(gw.description));
  if (asnOf(prior.asn) !== asnOf(gw.asn)) change('asn', opt(prior.asn), opt(gw.asn));
  const cloudKey = opt(gw.authKey);
  const had = prior.authKeyFingerprint !== undefined;
  if (had && cloudKey === undefined) change('auth_key', '(set)', '(none)');
  else if (!had && cloudKey !== undefined) change('auth_key', '(none)', '(set)');
  else if (had && cloudKey !== undefined && fingerprint && !sameFingerprint(fingerprint(cloudKey), prior.authKeyFingerprint)) {
    change('auth_key', '(set)', '(changed)');
  }
  const before = new Map((prior.tags ?? []).map((t) => [t.key, t.value]));
  const after = new Map(gw.tags.map((t) => [t.key, t.value]));
  for (const [k, v] of before) {
    if (!after.has(k)) change(`tag:${k}`, v, undefined);
    else if (after.get(k) !== v) change(`tag:${k}`, v, after.get(k));
  }
  return out;
}

/** Tags on the gateway whose keys the journal does not record (added in the console, managed by someone else). */
export function unmanagedTags(prior: PriorRow, gw: CustomerGateway): Tag[] {
  const managed = new Set((prior.tags ?? []).map((t) => t.key));
  return gw.tags.filter((t) => !managed.has(t.key));
}

/**
 * The journal row with the cloud's current values, so the planner diffs the manifest against reality.
 * Only tag keys the manifest or the journal manage count; the AuthKey keeps the journal's fingerprint
 * unless the cloud shows a different key (then the fingerprint of what is there).
 */
export function currentOf(prior: PriorRow, gw: CustomerGateway, manifestTagKeys: readonly string[], fingerprint?: (authKey: string) => string): PriorRow {
  const keys = new Set([...manifestTagKeys, ...(prior.tags ?? []).map((t) => t.key)]);
  const cur: PriorRow = { ...prior, tags: tagsWithin(gw.tags, keys) };
  const put = (k: 'name' | 'description' | 'asn', v: string | undefined): void => {
    if (opt(v) === undefined) delete cur[k];
    else cur[k] = v!;
  };
  put('name', gw.name);
  put('description', gw.description);
  put('asn', asnOf(gw.asn) === undefined ? undefined : gw.asn);
  const cloudKey = opt(gw.authKey);
  if (cloudKey === undefined) delete cur.authKeyFingerprint;
  else if (fingerprint) cur.authKeyFingerprint = fingerprint(cloudKey);
  return cur;
}

/** One line for humans: `name "a" -> "b", tag:env prod -> (none), auth_key (set) -> (changed)`. */
export function describeChanges(changes: readonly FieldChange[]): string {
  const show = (field: string, v: string | undefined): string => (v === undefined ? '(none)' : field === 'auth_key' ? v : JSON.stringify(v));
  return changes.map((c) => `${c.field} ${show(c.field, c.before)} -> ${show(c.field, c.after)}`).join(', ');
}
