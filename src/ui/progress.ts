// Progress entry point: picks the renderer for the mode; the executor only ever calls onEvent.
import type { ProgressMode } from '../options.js';
import type { Redactor } from '../secrets.js';
import { jsonProgress } from './json.js';
import { simpleProgress } from './simple.js';
import { ttyProgress } from './tty.js';
import type { ProgressUi } from './types.js';

export type { ProgressUi } from './types.js';



export interface ProgressOptions {
  /**
   * Masks secrets in row errors before lines are collapsed or cut to the width (and before JSON escaping), which the
   * redacting sink could no longer match; the sink still redacts every byte.
   */
  redactor?: Redactor;
  color: boolean;
  /** tty: terminal width (process.stdout.columns); every live line is cut to it so redraws never scroll. */
  columns?: number;
  /** Milliseconds clock for rates and the time-left estimate; tests pass a virtual one. */
  now?: () => number;
}

/**
 * `quiet` prints nothing at all: the CLI prints the summary table itself, and failed rows are in it.
 * `simple` never emits ANSI, whatever `color` says: it is for logs.
 */
export function createProgress(mode: ProgressMode, out: { write(s: string): void }, opts: ProgressOptions): ProgressUi {
  switch (mode) {
    case 'tty':
      return ttyProgress(out, { redactor: opts.redactor, color: opts.color, columns: opts.columns, now: opts.now });
    case 'simple':
      return simpleProgress(out, { redactor: opts.redactor, now: opts.now });
    case 'json': {
      const clock = opts.now;
      return jsonProgress(out, { redactor: opts.redactor, now: clock && (() => new Date(clock())) });
    }
    case 'quiet':
      return { onEvent: () => {}, close: () => Promise.resolve() };
  }
}
