// Report hygiene: the Redactor over every string inside plain data (keys included), and no stack traces.
import type { Redactor } from '../secrets.js';

export function redactDeep<T>(value: T, redactor: Redactor): T {
  return walk(value, redactor) as T;
}

function walk(v: unknown, r: Redactor): unknown {
  if (typeof v === 'string') return r.redact(v);
  if (Array.isArray(v)) return v.map((x) => walk(x, r));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[r.redact(k)] = walk(x, r);
    return out;
  }
  return v;
}

/** Reports never carry stack traces: drop `    at fn (file:line)` frames an error message may have picked up. */
export function cleanMessage(s: string | undefined): string {
  if (!s) return '';
  // Only whole frame lines go; other line breaks are kept exactly (the CSV round trip preserves them).
  return s.replace(/(?:\r\n|\r|\n)[ \t]+at [^\r\n]*/g, '').trimEnd();
}
