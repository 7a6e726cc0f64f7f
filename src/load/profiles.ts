// IPsec profile parameters as the manifest names them (`profiles:` maps, the Profiles sheet, `--profiles FILE`).
import { printable } from '../text.js';
import type { WrittenProfile } from '../types.js';
import { ManifestError } from '../errors.js';
import { closest } from './suggest.js';

/** The parameters a profile may set; each absent one keeps Alibaba Cloud's default (site-to-site.md §1.1). */
export const PROFILE_PARAMS = [
  'ike_version',
  'ike_mode',
  'ike_enc_alg',
  'ike_auth_alg',
  'ike_pfs',
  'ike_lifetime',
  'local_id',
  'remote_id',
  'ipsec_enc_alg',
  'ipsec_auth_alg',
  'ipsec_pfs',
  'ipsec_lifetime',
  'enable_dpd',
  'enable_nat_traversal',
] as const;

const norm = (k: string): string => k.normalize('NFKC').toLowerCase().replace(/[\s_\-\uFEFF]+/g, '');
const BY_NORM = new Map<string, string>(PROFILE_PARAMS.map((p) => [norm(p), p]));

/** The parameter a key or header names (case, spaces, `_` and `-` aside), or undefined. */
export function profileParam(key: string): string | undefined {
  return BY_NORM.get(norm(key));
}

/** The parameter an unknown key most likely misspells (`ike_enc_alog` -> ike_enc_alg). */
export function likelyParam(key: string): string | undefined {
  const hit = closest(norm(key), BY_NORM.keys());
  return hit === undefined ? undefined : BY_NORM.get(hit);
}

/** Profiles from several places joined; a name defined twice stops the load, naming both places. */
export function joinProfiles(file: string, ...lists: Array<readonly WrittenProfile[] | undefined>): WrittenProfile[] | undefined {
  const out: WrittenProfile[] = [];
  const seen = new Map<string, WrittenProfile>();
  for (const list of lists) {
    for (const p of list ?? []) {
      const first = seen.get(p.name);
      if (first) {
        throw new ManifestError(
          file,
          undefined,
          `profile "${printable(p.name)}" is defined twice (${where(first)} and ${where(p)}); keep one definition`,
        );
      }
      seen.set(p.name, p);
      out.push(p);
    }
  }
  return out.length > 0 ? out : undefined;
}

function where(p: WrittenProfile): string {
  return p.cells?.name !== undefined ? `${p.file}:${p.cells.name}` : `${p.file}:${p.line}`;
}
