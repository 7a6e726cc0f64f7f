// Progress entry point: picks the renderer for the mode; the executor only ever calls onEvent.
import type { Redactor } from '../secrets.js';
import type { RunEvent } from '../types.js';
import { jsonProgress } from './json.js';
import { simpleProgress } from './simple.js';
import { ttyProgress } from './tty.js';

export type ProgressMode = 'tty' | 'simple' | 'json' | 'quiet';

export interface ProgressUi {
  onEvent(e: RunEvent): void;
  /** Stops timers and renderers; resolves even when run:done never came (interrupt). Safe to call twice. */
  close(): Promise<void>;
}

export interface ProgressOptions {
  redactor?: Redactor;
  color: boolean;
  /** tty: terminal width (process.stdout.columns) for correct redraws. */
  columns?: number;
}

/**
 * `quiet` prints nothing at all: the CLI prints the summary table itself, and failed rows are in it.
 * `simple` never emits ANSI, whatever `color` says: it is for logs.
 */
export function createProgress(mode: ProgressMode, out: { write(s: string): void }, opts: ProgressOptions): ProgressUi {
  switch (mode) {
    case 'tty':
      return ttyProgress(out, { redactor: opts.redactor, color: opts.color, columns: opts.columns });
    case 'simple':
      return simpleProgress(out, { redactor: opts.redactor });
    case 'json':
      return jsonProgress(out, { redactor: opts.redactor });
    case 'quiet':
      return { onEvent: () => {}, close: () => Promise.resolve() };
  }
}
