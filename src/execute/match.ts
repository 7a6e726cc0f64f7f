// Does an existing gateway correspond to a manifest row? Used to adopt after InvalidIpAddress.AlreadyExist.
import type { CustomerGateway } from '../cloud/types.js';
import type { GatewaySpec } from '../types.js';

/** ASN as the API stores it: asdot `a.b` is a*65536+b. Undefined for absent or unparsable values. */
export function asnNumber(asn: string | undefined): number | undefined {
  if (asn === undefined || asn === '') return undefined;
  const m = /^(\d+)\.(\d+)$/.exec(asn);
  if (m) return Number(m[1]) * 65536 + Number(m[2]);
  return /^\d+$/.test(asn) ? Number(asn) : undefined;
}

/** Attributes that differ between the row and the gateway, by the identity rule "same IP, name and ASN". */
export function identityDiff(spec: GatewaySpec, gw: CustomerGateway): string[] {
  const diff: string[] = [];
  if ((spec.name ?? '') !== (gw.name ?? '')) diff.push('name');
  const a = asnNumber(spec.asn);
  const b = asnNumber(gw.asn);
  if ((a ?? 0) !== (b ?? 0)) diff.push('asn');
  return diff;
}
