// Field predicates for CreateCustomerGateway (the API's documented parameter rules): each returns a verdict with a human reason, never throws.
import { isIPv4, isIPv6 } from 'node:net';

/** A failed check: what is wrong and what to do, phrased for the person fixing the spreadsheet. */
export interface Problem {
  message: string;
}

// Spreadsheet autocorrect turns typed quotes into these (a spreadsheet's autocorrect, or a copy from a word processor).
const SMART_QUOTES = /[\u201C\u201D\u2018\u2019\u201E\u201A\u00AB\u00BB]/;
const ZERO_WIDTH = /[\u200B\u200C\u200D\u2060\uFEFF\u00AD]/;
// Full-width forms (U+FF01-U+FF5E) and the ideographic full stop an IME types for '.'.
const FULL_WIDTH = /[\uFF01-\uFF5E\u3002]/;
const WHITESPACE = /\s/;

export function hasSmartQuotes(s: string): boolean {
  return SMART_QUOTES.test(s);
}

/** True when the value is wrapped in a smart quote at either end (a typed `"Branch"` turned into `“Branch”`). */
export function wrappedInSmartQuotes(s: string): boolean {
  return s.length > 0 && (SMART_QUOTES.test(s[0]!) || SMART_QUOTES.test(s[s.length - 1]!));
}

/** Number of Unicode code points: the API counts characters, and a CJK name must not be penalised for UTF-16. */
export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * A user value as quoted in a message: whole when short, else its start and its length. Keeps a pasted 60 KB cell
 * from being echoed several times per row (valid region ids and tag keys are far shorter than the limit).
 */
export function clip(s: string, max = 130): string {
  return s.length <= max ? s : `${s.slice(0, 40)}... (${s.length} characters)`;
}

// --- IP address -------------------------------------------------------------------------------------------------

/** IPv4 dotted quad as the API accepts it; `undefined` when fine, else why not. `ip` is already trimmed. */
export function checkIpv4(ip: string): Problem | undefined {
  // Fast path first: net.isIPv4 already refuses leading zeros, full-width digits and zero-width characters.
  if (isIPv4(ip)) return undefined;
  if (SMART_QUOTES.test(ip)) {
    return { message: 'the IP contains smart quotes (“ ” ‘ ’), usually added by spreadsheet autocorrect; remove them and type the bare address, e.g. 203.0.113.10' };
  }
  if (ZERO_WIDTH.test(ip)) {
    return { message: 'the IP contains an invisible zero-width character (often pasted from a web page or chat); retype the address' };
  }
  if (FULL_WIDTH.test(ip)) {
    // NFKC gives the intended ASCII form; we suggest it rather than silently sending something the user did not write.
    const ascii = ip.normalize('NFKC').replace(/\u3002/g, '.');
    const hint = isIPv4(ascii) ? ` (did you mean ${ascii}?)` : '';
    return { message: `the IP contains full-width characters${hint}; retype it with ASCII digits and dots` };
  }
  if (WHITESPACE.test(ip)) return { message: 'the IP contains a space; remove it' };
  if (isIPv6(ip)) return { message: 'IPv6 is not supported: a customer gateway needs an IPv4 address' };
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip) && ip.split('.').some((p) => p.length > 1 && p.startsWith('0'))) {
    const fixed = ip.split('.').map((p) => String(Number(p))).join('.');
    const hint = isIPv4(fixed) ? `; write ${fixed}` : '';
    return { message: `leading zeros are not allowed in an IPv4 address (some systems read them as octal)${hint}` };
  }
  const m = /^(.+)\/(\d{1,2})$/.exec(ip);
  if (m && isIPv4(m[1]!)) return { message: `give a single address without a prefix length: ${m[1]}` };
  const p = /^(.+):(\d{1,5})$/.exec(ip);
  if (p && isIPv4(p[1]!)) return { message: `give the address without a port: ${p[1]}` };
  return { message: 'not a valid IPv4 address: expected a dotted quad such as 203.0.113.10' };
}

export type IpRange = { kind: 'unsupported' | 'private'; label: string };

/** Classifies a valid IPv4 address into the documented unsupported ranges or the private ranges. */
export function classifyIpv4(ip: string): IpRange | undefined {
  // Only the first two octets matter; parsed by hand because this runs for every row of large manifests.
  const d1 = ip.indexOf('.');
  const d2 = ip.indexOf('.', d1 + 1);
  const a = Number(ip.slice(0, d1));
  const b = Number(ip.slice(d1 + 1, d2));
  if (a === 0) return { kind: 'unsupported', label: '0.0.0.0/8 ("this network")' };
  if (a === 100 && b >= 64 && b <= 127) return { kind: 'unsupported', label: '100.64.0.0/10 (carrier-grade NAT)' };
  if (a === 127) return { kind: 'unsupported', label: '127.0.0.0/8 (loopback)' };
  if (a === 169 && b === 254) return { kind: 'unsupported', label: '169.254.0.0/16 (link-local)' };
  if (a >= 224 && a <= 239) return { kind: 'unsupported', label: '224.0.0.0-239.255.255.255 (multicast)' };
  if (a === 255) return { kind: 'unsupported', label: '255.0.0.0/8 (broadcast)' };
  if (a === 10) return { kind: 'private', label: '10.0.0.0/8' };
  if (a === 172 && b >= 16 && b <= 31) return { kind: 'private', label: '172.16.0.0/12' };
  if (a === 192 && b === 168) return { kind: 'private', label: '192.168.0.0/16' };
  return undefined;
}

// --- Name / Description -----------------------------------------------------------------------------------------

/** Name and Description share one rule: 1-100 characters, not starting with http:// or https://. */
export function checkLabel(value: string, what: 'name' | 'description'): Problem | undefined {
  if (wrappedInSmartQuotes(value)) {
    return { message: `the ${what} is wrapped in smart quotes (“ ” ‘ ’), usually added by spreadsheet autocorrect; remove them` };
  }
  const n = codePoints(value);
  if (n > 100) return { message: `the ${what} is ${n} characters long; at most 100 are allowed` };
  if (/^https?:\/\//i.test(value)) return { message: `the ${what} must not start with http:// or https://` };
  return undefined;
}

// --- ASN --------------------------------------------------------------------------------------------------------

export const ALIBABA_ASN = 45104;
const ASN_MAX = 4294967295;

/**
 * The numeric value of a written ASN (`65000` or asdot `1.10` = 1*65536+10), or undefined when it is not one.
 * Used to compare ASNs across notations (manifest vs inventory vs journal); not a validator.
 */
export function asnValue(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (/^\d{1,10}$/.test(t)) return Number(t);
  const m = /^(\d{1,5})\.(\d{1,5})$/.exec(t);
  if (!m) return undefined;
  return Number(m[1]) * 65536 + Number(m[2]);
}

const hasLeadingZero = (digits: string): boolean => digits.length > 1 && digits.startsWith('0');

/** ASN rule: 1..4294967295 or asdot a.b (each part 0..65535, value >= 1), not 45104, no leading zeros. */
export function checkAsn(asn: string): Problem | undefined {
  if (/^[+-]?\d+(\.\d+)?[eE][+-]?\d+$/.test(asn)) {
    return {
      message:
        'Excel converted this ASN to scientific notation, which loses digits; format the column as Text and re-enter the ASN',
    };
  }
  if (FULL_WIDTH.test(asn)) {
    return { message: 'the ASN contains full-width digits; retype it with ASCII digits' };
  }
  if (/^\d+$/.test(asn)) {
    // Leading zeros are refused, not stripped: a spreadsheet or the API may read `065530` differently than meant.
    if (hasLeadingZero(asn)) return { message: `leading zeros are not allowed in an ASN; write ${asn.replace(/^0+(?=\d)/, '')}` };
    if (asn.length > 10 || Number(asn) > ASN_MAX) return { message: 'the ASN must be at most 4294967295' };
    const v = Number(asn);
    if (v < 1) return { message: 'the ASN must be at least 1' };
    if (v === ALIBABA_ASN) return { message: '45104 is Alibaba Cloud\'s own ASN and cannot be used; use your device\'s ASN (a private ASN such as 65000)' };
    return undefined;
  }
  const m = /^(\d+)\.(\d+)$/.exec(asn);
  if (m) {
    const hi = m[1]!;
    const lo = m[2]!;
    if (hasLeadingZero(hi) || hasLeadingZero(lo)) {
      return { message: 'leading zeros are not allowed in an asdot ASN (a.b); write each part without them' };
    }
    if (hi.length > 5 || lo.length > 5 || Number(hi) > 65535 || Number(lo) > 65535) {
      return { message: 'in an asdot ASN (a.b) each part must be 0..65535' };
    }
    const v = Number(hi) * 65536 + Number(lo);
    if (v < 1) return { message: 'the ASN must be at least 1 (0.0 is not an ASN)' };
    if (v === ALIBABA_ASN) return { message: `${asn} is 45104, Alibaba Cloud's own ASN, and cannot be used` };
    return undefined;
  }
  if (/^-\d+$/.test(asn)) return { message: 'the ASN must be a positive number' };
  return { message: 'the ASN must be a whole number 1..4294967295 or asdot a.b (e.g. 65000 or 1.10)' };
}

// --- AuthKey ----------------------------------------------------------------------------------------------------

/** AuthKey rule: 1-64 printable ASCII, no space, no `?`. Reasons never quote the key. */
export function checkAuthKey(key: string): Problem | undefined {
  const reasons: string[] = [];
  if (/[^\x00-\x7F]/.test(key)) reasons.push('contains non-ASCII characters (e.g. Chinese or full-width characters)');
  if (/ /.test(key)) reasons.push('contains a space');
  if (/\?/.test(key)) reasons.push("contains '?'");
  if (/[\x00-\x1F\x7F]/.test(key)) reasons.push('contains control characters (tab, line break)');
  if (key.length > 64) reasons.push(`is ${key.length} characters long (at most 64)`);
  if (reasons.length === 0) return undefined;
  return { message: `the AuthKey ${reasons.join(', ')}; use 1-64 printable ASCII characters without spaces or '?'` };
}

// --- Tags -------------------------------------------------------------------------------------------------------

export const MAX_TAGS = 20;

const reservedPrefix = (s: string): boolean => /^(aliyun|acs:)/i.test(s);
const containsUrl = (s: string): boolean => /https?:\/\//i.test(s);

/** Keys and values share the rules (reserved prefixes, no URLs); only the length limit differs. */
function checkTagText(what: 'key' | 'value', s: string, max: number): Problem | undefined {
  const n = codePoints(s);
  if (n > max) return { message: `the tag ${what} is ${n} characters long; at most ${max} are allowed` };
  if (reservedPrefix(s)) return { message: `tag ${what}s must not start with "aliyun" or "acs:" (reserved by Alibaba Cloud)` };
  if (containsUrl(s)) return { message: `tag ${what}s must not contain http:// or https://` };
  return undefined;
}

export function checkTagKey(key: string): Problem | undefined {
  if (key.length === 0) return { message: 'a tag has an empty key; give every tag a key (k=v)' };
  return checkTagText('key', key, 64);
}

export function checkTagValue(value: string): Problem | undefined {
  return checkTagText('value', value, 128);
}

// --- Resource group ---------------------------------------------------------------------------------------------

/** Resource group ids look like `rg-aek2qo2h4jy...`; anything else would fail at the API. */
export function checkResourceGroupId(id: string): Problem | undefined {
  if (/^rg-[a-z0-9]+$/.test(id)) return undefined;
  return { message: 'a resource group id looks like rg-aek2qo2h4jyxxxx (rg- then lowercase letters and digits); copy it from the console' };
}
