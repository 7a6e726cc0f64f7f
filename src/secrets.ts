// Secret hygiene: a redactor for every byte we print or write, and keyed fingerprints instead of stored AuthKeys.
import { createHmac, timingSafeEqual } from 'node:crypto';

const MASK = '***';
// Values under these names are masked wherever they appear as `name=value`, `"name":"value"` or `name: value`.
const SECRET_NAMES = 'auth_?key|authkey|access_?key_?secret|accesskeysecret|security_?token|securitytoken|signature|authorization';
const KEYED = new RegExp(`((?:${SECRET_NAMES})["']?\\s*[=:]\\s*["']?)([^"'&\\s,;}]+)`, 'gi');
// V8 refuses a regular expression holding a literal of 32 K characters or more ("Regular expression too large"), and
// a manifest may hold an absurd AuthKey; secrets longer than this are replaced with split/join instead.
const MAX_IN_PATTERN = 1024;

/**
 * Replaces every registered secret value (exact match) and every value under a secret-looking name.
 * One instance per process; loaders register AuthKeys as they read them, cli.ts the access key secret.
 */
export class Redactor {
  private readonly secrets = new Set<string>();
  private pattern: RegExp | null | undefined;
  private long: string[] = [];

  add(secret: string | undefined): void {
    // Very short values would mask ordinary text ("a", "1"); they are still never written by our own code paths.
    if (!secret || secret.length < 4 || this.secrets.has(secret)) return;
    this.secrets.add(secret);
    this.pattern = undefined;
  }

  get size(): number {
    return this.secrets.size;
  }

  redact(text: string): string {
    if (this.secrets.size > 0) {
      if (this.pattern === undefined) {
        const all = [...this.secrets].sort((a, b) => b.length - a.length);
        this.long = all.filter((s) => s.length > MAX_IN_PATTERN);
        const short = all.filter((s) => s.length <= MAX_IN_PATTERN);
        this.pattern = short.length === 0 ? null : new RegExp(short.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
      }
      // Longest first, as the alternation does, so a long secret is masked before a shorter one inside it.
      for (const s of this.long) if (text.includes(s)) text = text.split(s).join(MASK);
      if (this.pattern) text = text.replace(this.pattern, MASK);
    }
    return text.replace(KEYED, `$1${MASK}`);
  }
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
