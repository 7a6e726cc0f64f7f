// NDJSON progress: one JSON object per event per line, written as it happens, secrets masked.
import type { Redactor } from '../secrets.js';
import type { RunEvent } from '../types.js';
import { redactDeep } from '../report/redact.js';
import type { ProgressUi } from './progress.js';

export function jsonProgress(out: { write(s: string): void }, opts: { redactor?: Redactor; now?: () => Date }): ProgressUi {
  const now = opts.now ?? (() => new Date());
  return {
    onEvent(e: RunEvent) {
      // Redact values before serialising (JSON escaping would hide a secret containing `"` or `\` from a text
      // match), then the whole line once more for `name=value` shapes that span fields.
      const value = opts.redactor ? redactDeep(e, opts.redactor) : e;
      let line = JSON.stringify({ ts: now().toISOString(), ...value });
      if (opts.redactor) line = opts.redactor.redact(line);
      // One write per event so a consumer reading line by line never sees half an event.
      out.write(line + '\n');
    },
    close: () => Promise.resolve(),
  };
}
