// Pre-shared keys made by the tool (`psk: generate`): a CSPRNG over letters and digits.
import { randomInt } from 'node:crypto';

/**
 * Letters and digits only, though the API accepts 30 specials too (site-to-site.md §1.7): nobody chose this key, so
 * it must work on every branch device `configs` writes for, and some cannot take some specials (Huawei VRP and H3C
 * Comware read `?` as a help request; `#`, `;`, `'`, `` ` ``, `$` are comment, separator or quote characters in others).
 */
export const PSK_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** 32 characters (about 190 bits). Each is drawn uniformly (randomInt rejects biased draws); the key lives only in the cloud. */
export function generatePsk(length = 32): string {
  let out = '';
  for (let i = 0; i < length; i++) out += PSK_ALPHABET[randomInt(PSK_ALPHABET.length)];
  return out;
}
