// The one identity rule ("same region, IP, name and ASN") and the spec hash: used by plan, executor and destroy alike.
import { createHash } from 'node:crypto';
import type { CustomerGateway } from '../cloud/types.js';
import type { GatewaySpec, PskSource, SiteSpec, Tag } from '../types.js';
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

/** The PSK's part of a connection's hash: a reference by its keyed fingerprint, `generate` and "the API's" as words. */
export function pskHashPart(psk: PskSource | undefined, fingerprint: (secret: string) => string): string | null {
  if (psk === undefined) return null;
  return psk.kind === 'generate' ? 'generate' : fingerprint(psk.value);
}

/**
 * Stable hash of what a site row asks of its IPsec connection: the VPN gateway, the customer gateway(s) it joins, the
 * selectors, the profile's parameters, name, effect_immediately, BGP and the PSK's part (pskHashPart). A change of any
 * of them tells the planner the connection is not what the row asks for; it never holds a PSK.
 */
export function connectionSpecHash(site: SiteSpec, customerGatewayIds: readonly string[], pskPart: string | null): string {
  const p = site.profile;
  const canonical = JSON.stringify([
    site.vpnGatewayId,
    [...customerGatewayIds],
    [...site.localSubnet],
    [...site.remoteSubnet],
    [p.ike.version, p.ike.mode, p.ike.encAlg, p.ike.authAlg, p.ike.pfs, p.ike.lifetime, p.ike.localId ?? null, p.ike.remoteId ?? null],
    [p.ipsec.encAlg, p.ipsec.authAlg, p.ipsec.pfs, p.ipsec.lifetime],
    [p.enableDpd, p.enableNatTraversal],
    site.name ?? null,
    site.effectImmediately ?? null,
    site.bgp ? [site.bgp.tunnelCidr, site.bgp.localBgpIp] : null,
    site.bgp2 ? [site.bgp2.tunnelCidr, site.bgp2.localBgpIp] : null,
    pskPart,
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}
