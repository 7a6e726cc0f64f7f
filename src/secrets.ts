// Secret hygiene: a by-value redactor for every byte we print or write, and keyed fingerprints instead of stored AuthKeys.
import { createHmac, timingSafeEqual } from 'node:crypto';

const MASK = '***';
/**
 * Values shorter than this are not masked: a 5-character AuthKey would mangle every word that contains it
 * ("vpn01" inside "vpn012-branch"). The planner refuses or warns about such weak keys instead.
 */
export const MIN_SECRET_LENGTH = 8;
/** Encoded fragments (base64 at an odd offset) shorter than this are too likely to occur by chance. */
const MIN_FORM_LENGTH = 6;
// V8 refuses a regular expression holding a literal of 32 K characters or more ("Regular expression too large"), and
// a manifest may hold an absurd AuthKey; secrets longer than this are replaced with split/join instead.
const MAX_IN_PATTERN = 1024;

/** RFC 3986 as pop-core and the API signer encode: encodeURIComponent plus ! ' ( ) *. */
function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function lowerHex(s: string): string {
  return s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
}

function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/**
 * The base64 text of `secret` wherever it sits inside a larger base64 blob: for each of the three byte alignments,
 * the characters that depend on the secret's bytes only (the first and last partial groups mix in neighbours).
 */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const out: string[] = [];
  for (const shift of [0, 1, 2]) {
    const enc = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const start = shift === 0 ? 0 : 4;
    const end = Math.floor((shift + bytes.length) / 3) * 4;
    const middle = enc.slice(start, end);
    out.push(middle, middle.replace(/\+/g, '-').replace(/\//g, '_')); // and the base64url spelling
  }
  // The whole padded encoding too, so a lone base64 value is masked to the last character.
  out.push(bytes.toString('base64'));
  return out;
}

/** Every text form a secret may take in a message, a URL, a JSON or XML document, a header or a form body. */
export function secretForms(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  const jsonAscii = json.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  const forms = new Set<string>([
    secret,
    json,
    jsonAscii,
    json.replace(/\//g, '\\/'),
    JSON.stringify(json).slice(1, -1), // a JSON document quoted inside another one
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%20/g, '+'),
    rfc3986(secret),
    rfc3986(secret).replace(/%20/g, '+'),
    lowerHex(encodeURIComponent(secret)),
    rfc3986(rfc3986(secret)), // the server's string to sign encodes the canonical query twice
    xmlEscape(secret),
    secret.replace(/"/g, '""'), // a CSV cell doubles its quotes
    ...base64Forms(secret),
  ]);
  return [...forms].filter((f) => f === secret || f.length >= MIN_FORM_LENGTH);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Masks every registered secret value: raw, URL-encoded (%20 and + forms), JSON- and XML-escaped, base64.
 * Matching is by value only; our own messages that name a field ("use auth_key: env:NAME") are never touched.
 * One instance per process; loaders register AuthKeys as they read them, the CLI the access key secret and STS token.
 */
export class Redactor {
  private readonly secrets = new Set<string>();
  private pattern: RegExp | null | undefined;
  private long: string[] = [];
  private readonly minLength: number;

  constructor(opts: { minLength?: number } = {}) {
    this.minLength = opts.minLength ?? MIN_SECRET_LENGTH;
  }

  /** Registers a value; returns false when it is too short to mask safely (the caller may warn). */
  add(secret: string | undefined): boolean {
    if (!secret || secret.length < this.minLength) return false;
    if (this.secrets.has(secret)) return true;
    this.secrets.add(secret);
    this.pattern = undefined;
    return true;
  }

  get size(): number {
    return this.secrets.size;
  }

  redact(text: string): string {
    if (this.secrets.size === 0 || text === '') return text;
    if (this.pattern === undefined) {
      const forms = new Set<string>();
      for (const s of this.secrets) for (const f of secretForms(s)) forms.add(f);
      // Longest first, so a long secret is masked before a shorter one inside it.
      const all = [...forms].sort((a, b) => b.length - a.length);
      this.long = all.filter((s) => s.length > MAX_IN_PATTERN);
      const short = all.filter((s) => s.length <= MAX_IN_PATTERN);
      this.pattern = short.length === 0 ? null : new RegExp(short.map(escapeRegExp).join('|'), 'g');
    }
    for (const s of this.long) if (text.includes(s)) text = text.split(s).join(MASK);
    if (this.pattern) text = text.replace(this.pattern, MASK);
    return text;
  }

  /** The redactor as a plain function, e.g. the journal's `redact` option. */
  readonly scrub = (text: string): string => this.redact(text);
}

/** A plain `(s) => s` masking function over a Redactor, for sinks that take one (the journal's `redact` option). */
export function scrubber(redactor: Redactor): (text: string) => string {
  return redactor.scrub;
}

/** Keyed fingerprint of an AuthKey: detects a change without storing the key or an unkeyed hash of it. */
export function fingerprint(key: string, secret: string): string {
  return 'hmac-sha256:' + createHmac('sha256', key).update(secret, 'utf8').digest('hex').slice(0, 32);
}

export function sameFingerprint(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
