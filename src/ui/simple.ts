// Plain-line progress for pipes and CI logs: no ANSI, no cursor movement, and a number of lines that does not grow
// with the rows (a tenth of each lane, a capped list of failures, a heartbeat while nothing else is printed).
import type { Redactor } from '../secrets.js';
import type { RunEvent } from '../types.js';
import { failureLine, outcomeOf } from '../report/outcome.js';
import { oneLine } from '../text.js';
import { applyEvent, formatDuration, laneLine, laneSettled, newRunState, overallLine, runPhase, type LaneState } from './lanes.js';
import type { ProgressUi } from './types.js';

export interface SimpleOptions {
  redactor?: Redactor;
  now?: () => number;
  /** A lane prints a count line each time it has done another 1/steps of its rows. */
  steps?: number;
  /** With nothing printed for this long, one overall line (CI systems kill jobs that stay silent). */
  heartbeatMs?: number;
  /** FAILED lines printed before the rest are left to the summary. */
  maxFailureLines?: number;
}

export function simpleProgress(out: { write(s: string): void }, opts: SimpleOptions = {}): ProgressUi {
  const now = opts.now ?? Date.now;
  const steps = opts.steps ?? 10;
  const heartbeatMs = opts.heartbeatMs ?? 60_000;
  const maxFailureLines = opts.maxFailureLines ?? 20;
  const state = newRunState();
  /** Per lane: the last step printed, and whether its final line was printed. */
  const step = new Map<string, number>();
  const finalPrinted = new Set<string>();
  let failureLines = 0;
  let lastPrint = now();
  let ended = false;
  const redact = (s: string): string => (opts.redactor ? opts.redactor.redact(s) : s);
  // Messages from elsewhere are redacted before oneLine: collapsing whitespace first could split a secret.
  const message = (s: string): string => oneLine(redact(s));
  const print = (s: string): void => {
    out.write(s + '\n');
    lastPrint = now();
  };

  const done = (l: LaneState): number => l.reported - l.outcomes['not started'] - l.outcomes['interrupted'];

  const finalLine = (l: LaneState): void => {
    if (finalPrinted.has(l.lane)) return;
    finalPrinted.add(l.lane);
    print(laneLine(l, state));
  };

  const progressLine = (l: LaneState): void => {
    if (finalPrinted.has(l.lane) || !l.total) return;
    const size = Math.max(1, Math.ceil(l.total / steps));
    const at = Math.floor(done(l) / size);
    if (at > (step.get(l.lane) ?? 0)) {
      step.set(l.lane, at);
      if (!laneSettled(l, state)) print(laneLine(l, state));
    }
  };

  const finish = (): void => {
    if (ended) return;
    ended = true;
    for (const l of state.lanes.values()) finalLine(l);
    print(overallLine(state, now()));
  };

  return {
    onEvent(e: RunEvent) {
      if (ended) return;
      const lane = applyEvent(state, e, now());
      switch (e.type) {
        case 'run:start': {
          // Connection lanes count the same rows again (their connections): the rows are the region lanes'.
          const regionLanes = e.lanes.filter((l) => l.kind !== 'connection');
          const rows = regionLanes.reduce((n, l) => n + l.total, 0);
          const vpn = e.lanes.length - regionLanes.length;
          print(`run ${e.runId}: ${rows} row${rows === 1 ? '' : 's'} in ${regionLanes.length} lane${regionLanes.length === 1 ? '' : 's'}${vpn > 0 ? ` and ${vpn} VPN gateway lane${vpn === 1 ? '' : 's'}` : ''}`);
          break;
        }
        case 'row:done': {
          const o = outcomeOf(e.result);
          if (o === 'failed' || o === 'unknown') {
            failureLines++;
            if (failureLines <= maxFailureLines) print(`${o === 'failed' ? 'FAILED' : 'UNKNOWN'}  ${failureLine(e.result, redact)}`);
            else if (failureLines === maxFailureLines + 1) print(`(further failed rows are not listed here; the summary and results.csv have every row)`);
          }
          if (lane) {
            progressLine(lane);
            // A lane whose rows all came back says how it ended, even while other lanes go on.
            if (laneSettled(lane, state)) finalLine(lane);
          }
          break;
        }
        case 'part:done':
          // A connection that did not end well is printed with its row (row:done); here only its lane's count moves.
          if (lane) {
            progressLine(lane);
            if (laneSettled(lane, state)) finalLine(lane);
          }
          break;
        case 'lane:stopped':
          if (lane) print(`${lane.label}  stopped (${e.reason}): ${message(e.message)}`);
          break;
        case 'run:stopping':
          print(`stopping (${e.reason}): ${message(e.message)}`);
          // Lanes that had finished before the stop are finished; the others say so at the end.
          break;
        case 'run:done': {
          finish();
          const took = formatDuration(e.durationMs);
          const phase = runPhase(state);
          print(
            phase.kind === 'finished'
              ? `run finished in ${took}`
              : phase.kind === 'stopped'
                ? `run stopped after ${took} (${phase.reason})`
                : `run interrupted after ${took}`,
          );
          return;
        }
        default:
          // row:start, row:retry and lane:rate only feed the counters; printing them would flood a CI log.
          break;
      }
      if (now() - lastPrint >= heartbeatMs && state.runId !== undefined && runPhase(state).kind === 'running') print(overallLine(state, now()));
    },
    close() {
      // Closed before run:done (second Ctrl-C, an error): still leave one line per lane with where it got to.
      state.closed = true;
      finish();
      return Promise.resolve();
    },
  };
}
