// The one identity rule ("same region, IP, name and ASN") and the spec hash: used by plan, executor and destroy alike.
import { createHash } from 'node:crypto';
import type { CustomerGateway } from '../cloud/types.js';
import type { GatewaySpec, Tag } from '../types.js';
import { asnOf, opt } from './drift.js';

/** What identifies a gateway beyond its region and IP: the attributes a create sets and nobody else would match. */
export interface Identity {
  name?: string;
  asn?: string;
}

/**
 * Attributes that differ between what we asked for (or recorded) and an existing gateway at the same region + IP,
 * described for people (`name "a" there vs "b" here`). Empty: the gateway is the row's.
 */
export function identityDiff(want: Identity, gw: CustomerGateway): string[] {
  const diffs: string[] = [];
  const show = (s: string | undefined): string => (s === undefined ? '(none)' : `"${s}"`);
  if (opt(gw.name) !== opt(want.name)) diffs.push(`name ${show(opt(gw.name))} there vs ${show(opt(want.name))} here`);
  if (asnOf(gw.asn) !== asnOf(want.asn)) diffs.push(`ASN ${opt(gw.asn) ?? '(none)'} there vs ${opt(want.asn) ?? '(none)'} here`);
  return diffs;
}

export function sameIdentity(want: Identity, gw: CustomerGateway): boolean {
  return identityDiff(want, gw).length === 0;
}

/** Stable hash of what a row asks for (AuthKey only through its keyed fingerprint): tells "the user changed this row". */
export function specHash(spec: GatewaySpec, authKeyFingerprint: string | undefined): string {
  const tags = [...spec.tags].sort((a: Tag, b: Tag) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const canonical = JSON.stringify([
    spec.region,
    spec.ip,
    spec.name ?? null,
    spec.description ?? null,
    spec.asn ?? null,
    spec.resourceGroupId ?? null,
    tags.map((t) => [t.key, t.value]),
    authKeyFingerprint ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

