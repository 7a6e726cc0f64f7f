// What identifies a site's connection across runs: the tool's tag on it, its spec hash, and how a PSK enters both. Pure;
// the planner and the executor use these same functions, so what apply records is what the next plan compares.
import { createHash } from 'node:crypto';
import type { PskSource, SiteSpec } from '../types.js';

/** The tag cgw-batch sends with CreateVpnConnection: `cgw-batch:site` = `<journal id>:<row key>`. */
export const SITE_TAG_KEY = 'cgw-batch:site';

export function siteTagValue(journalId: string, rowKey: string): string {
  return `${journalId}:${rowKey}`;
}

/**
 * How a row's PSK enters the spec hash: a reference by the keyed fingerprint of its value, `generate` as the word
 * (a generated key is new on every try, and must not make the row look changed), none as null.
 */
export function pskMark(psk: PskSource | undefined, fingerprint: ((secret: string) => string) | undefined): string | null {
  if (psk === undefined) return null;
  if (psk.kind === 'generate') return 'generate';
  return fingerprint ? fingerprint(psk.value) : 'ref';
}

/**
 * Stable hash of what a connection asks for (ConnectionFields.specHash): the VPN gateway, the customer gateway ids
 * (tunnel order), subnets, profile, name, effect_immediately, BGP per tunnel and the PSK mark. Never a PSK.
 */
export function connectionSpecHash(site: SiteSpec, customerGatewayIds: readonly string[], psk: string | null): string {
  const p = site.profile;
  const canonical = JSON.stringify([
    'vco/1',
    site.vpnGatewayId,
    [...customerGatewayIds],
    [...site.localSubnet].sort(),
    [...site.remoteSubnet].sort(),
    [p.ike.version, p.ike.mode, p.ike.encAlg, p.ike.authAlg, p.ike.pfs, p.ike.lifetime, p.ike.localId ?? null, p.ike.remoteId ?? null],
    [p.ipsec.encAlg, p.ipsec.authAlg, p.ipsec.pfs, p.ipsec.lifetime],
    [p.enableDpd, p.enableNatTraversal],
    site.name ?? null,
    site.effectImmediately ?? false,
    site.bgp ? [site.bgp.tunnelCidr, site.bgp.localBgpIp] : null,
    site.bgp2 ? [site.bgp2.tunnelCidr, site.bgp2.localBgpIp] : null,
    psk,
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}
