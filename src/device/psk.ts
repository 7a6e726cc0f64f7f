// Pre-shared key rules of the API (site-to-site.md §1.7) and the placeholder written by --redact-psk; pure.

/** Characters the API accepts in a PSK besides letters and digits. No space, `"` or `\`. */
export const PSK_SPECIALS = "~!`@#$%^&*()_-+={}[]|;:',.<>/?";
export const PSK_MAX = 100;

const allowed = new Set([...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', ...PSK_SPECIALS]);

/** Why a PSK is not one the API could hold, or undefined when it is. Never quotes the key. */
export function pskProblem(psk: string): string | undefined {
  if (psk.length === 0) return 'is empty';
  if (psk.length > PSK_MAX) return `is ${psk.length} characters long (the API allows 1 to ${PSK_MAX})`;
  for (let i = 0; i < psk.length; i++) {
    if (!allowed.has(psk[i] as string)) return `has a character the API does not allow at position ${i + 1}`;
  }
  return undefined;
}

/** What --redact-psk writes instead of a tunnel's PSK: letters, digits and underscores only, valid in every syntax. */
export function pskPlaceholder(tunnel: 1 | 2): string {
  return `REPLACE_WITH_PSK_OF_TUNNEL_${tunnel}`;
}

export function bgpKeyPlaceholder(tunnel: 1 | 2): string {
  return `REPLACE_BGP_KEY_${tunnel}`; // short enough for Cisco's 25-character BGP passwords
}
