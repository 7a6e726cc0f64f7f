// What every progress renderer is: the executor's events in, a close that always resolves.
import type { RunEvent } from '../types.js';

export interface ProgressUi {
  onEvent(e: RunEvent): void;
  /** Stops timers and renderers; resolves even when run:done never came (interrupt). Safe to call twice. */
  close(): Promise<void>;
}
