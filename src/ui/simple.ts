// Plain-line progress for pipes and CI: no ANSI, no cursor movement, a bounded number of lines per lane.
import type { Redactor } from '../secrets.js';
import type { RunEvent } from '../types.js';
import { applyEvent, failureLine, laneLine, newRunState, oneLine, type LaneState } from './lanes.js';
import type { ProgressUi } from './progress.js';

export interface SimpleOptions {
  redactor?: Redactor;
  now?: () => number;
  /** A lane prints a count line at most this often… */
  intervalMs?: number;
  /** …or when it has finished another tenth of its rows. */
  steps?: number;
}

const complete = (l: LaneState) => l.total !== undefined && l.done >= l.total;

export function simpleProgress(out: { write(s: string): void }, opts: SimpleOptions = {}): ProgressUi {
  const now = opts.now ?? Date.now;
  const intervalMs = opts.intervalMs ?? 2000;
  const steps = opts.steps ?? 10;
  const state = newRunState();
  const last = new Map<string, { at: number; done: number }>();
  let finalPrinted = false;
  const print = (s: string) => out.write((opts.redactor ? opts.redactor.redact(s) : s) + '\n');

  const maybeCount = (l: LaneState) => {
    const prev = last.get(l.lane) ?? { at: now(), done: 0 };
    if (!last.has(l.lane)) last.set(l.lane, prev);
    const step = l.total ? Math.max(1, Math.ceil(l.total / steps)) : Infinity;
    if (complete(l)) return; // the final line says it
    if (l.done - prev.done >= step || (now() - prev.at >= intervalMs && l.done !== prev.done)) {
      last.set(l.lane, { at: now(), done: l.done });
      print(laneLine(l));
    }
  };

  const printFinal = () => {
    if (finalPrinted) return;
    finalPrinted = true;
    for (const l of state.lanes.values()) if (!complete(l)) print(laneLine(l, { final: true }));
  };

  return {
    onEvent(e: RunEvent) {
      const lane = applyEvent(state, e);
      switch (e.type) {
        case 'run:start': {
          const rows = e.lanes.reduce((n, l) => n + l.total, 0);
          print(`run ${e.runId}: ${rows} rows in ${e.lanes.length} lane${e.lanes.length === 1 ? '' : 's'}`);
          break;
        }
        case 'row:done':
          if (e.result.status === 'failed') print(`FAILED  ${failureLine(e.result)}`);
          if (lane) {
            maybeCount(lane);
            if (lane.done === lane.total) print(laneLine(lane, { final: true }));
          }
          break;
        case 'run:stopping':
          print(`stopping (${e.reason}): ${oneLine(e.message)}`);
          break;
        case 'run:done':
          // Lanes that already printed their final line at completion are not repeated unless the run was cut short.
          printFinal();
          print(`done in ${(e.durationMs / 1000).toFixed(1)} s${e.interrupted ? ' (interrupted)' : ''}`);
          break;
        default:
          // row:start, row:retry and lane:rate only feed the counters; printing them would flood a CI log.
          break;
      }
    },
    close() {
      // Interrupted before run:done: still leave one line per lane with where it got to.
      printFinal();
      return Promise.resolve();
    },
  };
}
