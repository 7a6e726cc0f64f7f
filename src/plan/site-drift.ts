// Drift of a site's connection: what the cloud has versus what was applied (the manifest row, when the journal's hash
// says it is what was applied), the PSK by keyed fingerprint, the tool's tag, and a connection deleted outside. Pure.
import type { VpnConnection } from '../cloud/types.js';
import { sameFingerprint } from '../secrets.js';
import type { ConnectionFields, FieldChange, SiteSpec } from '../types.js';
import { fieldChange } from './drift.js';
import { diffCloud } from './site.js';
import { connectionSpecHash, pskMark, SITE_TAG_KEY, siteTagValue } from './site-identity.js';

export interface ConnectionDrift {
  drift: 'none' | 'deleted' | 'changed';
  changes: FieldChange[];
  /** Said about the comparison itself (the manifest changed since apply, no fingerprint recorded). */
  notes: string[];
  /** What --write records: the fingerprints of the keys the cloud has now. */
  pskFingerprints?: string[];
}

export interface ConnectionDriftInput {
  /** The journal row's key (the tool's tag names it). */
  key: string;
  journalId: string;
  prior: ConnectionFields;
  /** The connection in the cloud now, or undefined when it is gone. */
  cloud: VpnConnection | undefined;
  /** Fingerprints of the keys the cloud has now, per tunnel (read with readVpnConnectionPsks, never stored as keys). */
  cloudPskFingerprints?: string[];
  /** The manifest row's site, when the row is still in the manifest. */
  site?: SiteSpec;
  fingerprint: (secret: string) => string;
}

/**
 * `before` = what was applied (the manifest row, or the journal for the PSK), `after` = the cloud. Subnets and IKE /
 * IPsec parameters are compared with the manifest row only while the journal's hash says the row is what was applied:
 * otherwise the manifest changed, which is plan's business, not drift.
 */
export function connectionDrift(x: ConnectionDriftInput): ConnectionDrift {
  const notes: string[] = [];
  if (!x.cloud) return { drift: 'deleted', changes: [], notes };
  const c = x.cloud;
  const changes: FieldChange[] = [];
  if (x.site) {
    const applied = x.prior.customerGatewayIds && x.prior.specHash === connectionSpecHash(x.site, x.prior.customerGatewayIds, pskMark(x.site.psk, x.fingerprint));
    if (applied) {
      // diffCloud reads after = manifest; drift reads after = cloud.
      for (const d of diffCloud(x.site, c, undefined, undefined, c.dualTunnel, false)) changes.push(fieldChange(d.field, d.after, d.before));
    } else {
      notes.push('the manifest row changed since it was applied: parameters are not compared (plan shows what apply would change)');
    }
  }
  const had = x.prior.pskFingerprints ?? [];
  const now = x.cloudPskFingerprints;
  if (now !== undefined) {
    if (had.length === 0) notes.push('no pre-shared key fingerprint was recorded (the API made the key): not compared');
    else if (now.some((f, i) => !sameFingerprint(f, had[i] ?? had[0]))) changes.push(fieldChange('psk', '(set)', '(changed)'));
  }
  const tag = siteTagValue(x.journalId, x.key);
  const tagNow = c.tags.find((t) => t.key === SITE_TAG_KEY)?.value;
  if (x.prior.operation !== 'adopt' && !x.prior.adopted && tagNow !== tag) changes.push(fieldChange(`tag:${SITE_TAG_KEY}`, tag, tagNow));
  return { drift: changes.length > 0 ? 'changed' : 'none', changes, notes, ...(now !== undefined ? { pskFingerprints: now } : {}) };
}
