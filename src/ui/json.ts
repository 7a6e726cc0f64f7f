// NDJSON progress: one JSON object per event per line, written as it happens, secrets masked.
import type { Redactor } from '../secrets.js';
import { safeJson } from '../text.js';
import type { RunEvent } from '../types.js';
import type { ProgressUi } from './types.js';

export function jsonProgress(out: { write(s: string): void }, opts: { redactor?: Redactor; now?: () => Date }): ProgressUi {
  const now = opts.now ?? (() => new Date());
  return {
    onEvent(e: RunEvent) {
      // Redact values before serialising (JSON escaping would hide a secret containing `"` or `\` from a text
      // match), then the whole line once more for `name=value` shapes that span fields.
      const value = opts.redactor ? redactDeep(e, opts.redactor) : e;
      let line = safeJson({ ts: now().toISOString(), ...value });
      if (opts.redactor) line = opts.redactor.redact(line);
      // One write per event so a consumer reading line by line never sees half an event.
      out.write(line + '\n');
    },
    close: () => Promise.resolve(),
  };
}

/** The Redactor over every string inside plain data, keys included. */
function redactDeep<T>(value: T, redactor: Redactor): T {
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
