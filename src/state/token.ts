// ClientToken derivation: stable per (state run id, region, ip, generation[, resource]), so retries and resumes replay, never duplicate.
import { createHash } from 'node:crypto';

const PREFIX = 'cgw-';
/** 4 + 48 = 52 ASCII characters, inside the API's 64; 192 bits leave no room for collisions between rows. */
const HEX_CHARS = 48;

/**
 * Never derived from the AuthKey (tokens appear in logs and API records) nor from a line number (lines shift when
 * the user edits the manifest). The JSON array encoding keeps the parts unambiguous ("a/b"+"c" != "a"+"b/c").
 * `resource` names a row's other resource (`vco`: its IPsec connection); without it the token is the customer
 * gateway's, byte for byte what earlier versions made (journals in flight keep replaying the same tokens).
 */
export function clientToken(runId: string, region: string, ip: string, generation: number, resource: string | undefined = undefined): string {
  if (!Number.isInteger(generation) || generation < 1) throw new RangeError(`generation must be a positive integer, got ${generation}`);
  const parts: unknown[] = ['cgw-batch/1', runId, region, ip, generation];
  if (resource !== undefined) parts.push(resource);
  const digest = createHash('sha256').update(JSON.stringify(parts), 'utf8').digest('hex');
  return PREFIX + digest.slice(0, HEX_CHARS);
}
