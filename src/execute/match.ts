// Does an existing gateway correspond to a manifest row? Used to adopt after InvalidIpAddress.AlreadyExist.
import type { CustomerGateway } from '../cloud/types.js';
import { asnValue } from '../plan/rules.js';
import type { GatewaySpec } from '../types.js';

/** Attributes that differ between the row and the gateway, by the identity rule "same IP, name and ASN". */
export function identityDiff(spec: GatewaySpec, gw: CustomerGateway): string[] {
  const diff: string[] = [];
  if ((spec.name ?? '') !== (gw.name ?? '')) diff.push('name');
  const a = asnValue(spec.asn);
  const b = asnValue(gw.asn);
  if ((a ?? 0) !== (b ?? 0)) diff.push('asn');
  return diff;
}
