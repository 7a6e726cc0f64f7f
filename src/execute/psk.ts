// Pre-shared keys made by the tool (`psk: generate`): a CSPRNG over the characters the API accepts (site-to-site.md §1.7).
import { randomInt } from 'node:crypto';

/** Letters, digits and the API's specials: no space, `"` or `\`. */
export const PSK_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz' + "~!`@#$%^&*()_-+={}[]|;:',.<>/?";

/** 32 characters (about 200 bits). Each is drawn uniformly (randomInt rejects biased draws); the key lives only in the cloud. */
export function generatePsk(length = 32): string {
  let out = '';
  for (let i = 0; i < length; i++) out += PSK_ALPHABET[randomInt(PSK_ALPHABET.length)];
  return out;
}
