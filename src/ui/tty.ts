// Live terminal progress through listr2: an overall line, then one task per lane, titles refreshed from the folded
// event state. Every line is cut to the terminal width so redraws never scroll, and a lane gets a check mark only
// when it carried out every row it was given.
import {
  DefaultRenderer,
  Listr,
  ListrLogger,
  ListrTaskState,
  ProcessOutput,
  createWritable,
  type ListrTaskObject,
  type ListrTaskWrapper,
} from 'listr2';
import type { Redactor } from '../secrets.js';
import type { RunEvent } from '../types.js';
import { colors, type Palette } from '../color.js';
import { failureLine, outcomeOf } from '../report/outcome.js';
import { fit, oneLine } from '../text.js';
import {
  applyEvent,
  laneCounts,
  laneParts,
  lanePhase,
  laneSettled,
  newRunState,
  overallParts,
  plain,
  runCounts,
  runPhase,
  type Counts,
  type LaneState,
  type Part,
  type Phase,
} from './lanes.js';
import type { ProgressUi } from './types.js';

export interface TtyOptions {
  redactor?: Redactor;
  color: boolean;
  /** Terminal width: every line is cut to it, and log-update counts lines with it. */
  columns?: number;
  /** How often titles are refreshed; events only mark lanes dirty, so 500 rows/s cost no more than this. */
  refreshMs?: number;
  /** Failed rows kept visible under each lane. */
  maxFailureLines?: number;
  /** Clock for the time-left estimate (tests pass a virtual one). */
  now?: () => number;
}

/**
 * listr2's default renderer, also when process.stdout is not a TTY: the CLI picked tty mode for a terminal already,
 * and this way tests see exactly the frames a user sees (listr2 would otherwise fall back to its line renderer).
 */
class LaneRenderer extends DefaultRenderer {
  static override nonTTY = true;
}

/** How a task ends: ✔ everything done, ✖ finished with failures, ↓ cut short (interrupted, stopped). */
type End = 'ok' | 'failed' | 'cut';

interface Line {
  parts: () => Part[];
  end: () => End;
  /** Output lines not yet handed to listr2 (its output bar appends each value set). */
  pending: string[];
  title: string;
  finish: () => void;
  finished: Promise<void>;
  wrapper?: ListrTaskWrapper<unknown, typeof LaneRenderer, typeof LaneRenderer>;
  /** Set for a lane first seen after listr2 started: we drive its Task object directly. */
  late?: ListrTaskObject<unknown, typeof LaneRenderer, typeof LaneRenderer>;
}

function endOf(phase: Phase, c: Counts): End {
  if (phase.kind !== 'finished') return 'cut';
  return c.outcomes['failed'] + c.outcomes['unknown'] > 0 ? 'failed' : 'ok';
}

/** Joins parts with two spaces, cut to `width` cells (ending in `…`), colouring whole parts only (ANSI never counts). */
export function paint(parts: readonly Part[], width: number, c: Palette): string {
  const cut = fit(plain(parts), width);
  let out = '';
  let at = 0;
  for (const [i, p] of parts.entries()) {
    const sep = i === 0 ? '' : '  ';
    const end = at + sep.length + p.text.length;
    if (end > cut.length || (end === cut.length && cut.endsWith('…') && !p.text.endsWith('…'))) {
      // The part that was cut, and nothing after it: plain text up to the ellipsis.
      out += cut.slice(at);
      break;
    }
    out += sep + tone(p, c);
    at = end;
  }
  return out;
}

function tone(p: Part, c: Palette): string {
  switch (p.tone) {
    case 'red':
      return c.red(p.text);
    case 'yellow':
      return c.yellow(p.text);
    case 'green':
      return c.green(p.text);
    case 'dim':
      return c.dim(p.text);
    default:
      return p.text;
  }
}

export function ttyProgress(out: { write(s: string): void }, opts: TtyOptions): ProgressUi {
  const c = colors(opts.color);
  const now = opts.now ?? Date.now;
  const redact = (s: string): string => (opts.redactor ? opts.redactor.redact(s) : s);
  const maxOutput = opts.maxFailureLines ?? 10;
  const columns = Math.max(20, opts.columns ?? 80);
  // listr2 puts `✔ ` before a title and `  › ` before an output line, and keeps two columns free at the right edge
  // (a line that fills the last column makes some terminals wrap, and the redraw would then scroll).
  const titleWidth = columns - 4;
  const outputWidth = columns - 6;
  const state = newRunState();
  const lanes = new Map<string, Line>();
  const dirty = new Set<Line>();
  let overall: Line | undefined;
  let listr: Listr<unknown, typeof LaneRenderer, typeof LaneRenderer> | undefined;
  let running: Promise<unknown> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const writable = createWritable((chunk) => out.write(chunk));
  (writable as unknown as { columns: number }).columns = columns;
  const logger = new ListrLogger({ processOutput: new ProcessOutput(writable as NodeJS.WriteStream, writable as NodeJS.WriteStream) });

  // Messages from elsewhere are redacted raw: collapsing or cutting them first could split a secret.
  const message = (s: string): string => oneLine(redact(s));
  /** An output line under a task: already one line and redacted; cut to the width here. */
  const say = (line: Line, text: string): void => {
    line.pending.push(fit(text, outputWidth));
    if (line.pending.length > maxOutput) line.pending.shift();
    dirty.add(line);
  };

  const refresh = (line: Line): void => {
    const title = paint(line.parts(), titleWidth, c);
    const target = line.wrapper ?? line.late;
    if (!target) return;
    if (title !== line.title) {
      line.title = title;
      if (line.wrapper) line.wrapper.title = title;
      else if (line.late) line.late.title$ = title;
    }
    for (const text of line.pending.splice(0)) {
      if (line.wrapper) line.wrapper.output = text;
      else if (line.late) line.late.output$ = text;
    }
  };
  const flush = (): void => {
    // The overall line changes with time (its estimate), so it is redrawn on every tick.
    if (overall) dirty.add(overall);
    for (const line of dirty) refresh(line);
    dirty.clear();
  };

  const makeLine = (parts: () => Part[], end: () => End): Line => {
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    return { parts, end, pending: [], title: '', finish, finished };
  };
  const laneLine = (l: LaneState): Line => {
    const line = makeLine(
      () => laneParts(l, state),
      () => endOf(lanePhase(l, state), laneCounts(l)),
    );
    lanes.set(l.lane, line);
    return line;
  };

  /** The task body: wait for the line to end, then leave the right mark. */
  const body = (line: Line) => async (_ctx: unknown, wrapper: ListrTaskWrapper<unknown, typeof LaneRenderer, typeof LaneRenderer>) => {
    line.wrapper = wrapper;
    refresh(line);
    await line.finished;
    refresh(line);
    const end = line.end();
    // The error's text is the title itself, so listr2 prints the line once, with a cross.
    if (end === 'failed') throw new Error(line.title);
    if (end === 'cut') wrapper.skip(line.title);
  };

  const start = (): void => {
    overall = makeLine(
      () => overallParts(state, now()),
      () => endOf(runPhase(state), runCounts(state)),
    );
    for (const l of state.lanes.values()) laneLine(l);
    const options = { persistentOutput: true, outputBar: maxOutput };
    listr = new Listr<unknown, typeof LaneRenderer, typeof LaneRenderer>(
      [overall, ...lanes.values()].map((line) => ({ title: paint(line.parts(), titleWidth, c), task: body(line), rendererOptions: options })),
      {
        concurrent: true,
        exitOnError: false,
        // cli.ts owns SIGINT (first: stop launching, second: abort); listr2's own handler would exit the process.
        registerSignalListeners: false,
        renderer: LaneRenderer,
        fallbackRenderer: LaneRenderer,
        rendererOptions: { logger, formatOutput: 'truncate', collapseErrors: false, collapseSkips: true, showSkipMessage: true },
        fallbackRendererOptions: { logger, formatOutput: 'truncate', collapseErrors: false, collapseSkips: true, showSkipMessage: true },
      },
    );
    running = listr.run().catch(() => undefined);
    timer = setInterval(flush, opts.refreshMs ?? 100);
    timer.unref();
  };

  const addLate = (l: LaneState): void => {
    // listr2 runs only the tasks it had when run() began; a late lane is added for display and driven by hand.
    const line = laneLine(l);
    if (!listr) return;
    listr.add({ title: paint(line.parts(), titleWidth, c), task: () => line.finished });
    const task = listr.tasks[listr.tasks.length - 1];
    if (!task) return;
    line.late = task;
    // check() marks it enabled (the renderer hides tasks it has not checked); then it shows as running.
    const checked = task.check(undefined).then(() => {
      task.state$ = ListrTaskState.STARTED;
      dirty.add(line);
    });
    void Promise.all([checked, line.finished]).then(() => {
      refresh(line);
      const end = line.end();
      task.state$ = end === 'ok' ? ListrTaskState.COMPLETED : end === 'failed' ? ListrTaskState.FAILED : ListrTaskState.SKIPPED;
    });
  };

  return {
    onEvent(e: RunEvent) {
      if (closed) return;
      const known = new Set(state.lanes.keys());
      const lane = applyEvent(state, e, now());
      if (!listr && state.lanes.size > 0) start();
      else if (listr) for (const l of state.lanes.values()) if (!known.has(l.lane) && !lanes.has(l.lane)) addLate(l);
      const line = lane && lanes.get(lane.lane);
      switch (e.type) {
        case 'row:done':
          if (line) {
            const o = outcomeOf(e.result);
            if (o === 'failed' || o === 'unknown') say(line, failureLine(e.result, redact));
          }
          break;
        case 'lane:stopped':
          if (line) say(line, `stopped (${e.reason}): ${message(e.message)}`);
          break;
        case 'run:stopping':
          // Every lane's phase changes (interrupted / stopped); the overall line carries the reason.
          for (const l of lanes.values()) dirty.add(l);
          if (overall) say(overall, `stopping (${e.reason}): ${message(e.message)}`);
          break;
        default:
          break;
      }
      if (line) {
        dirty.add(line);
        // A lane whose rows all came back gets its mark now, while the other lanes go on.
        if (lane && laneSettled(lane, state)) {
          refresh(line);
          line.finish();
        }
      }
      if (e.type === 'run:done') {
        flush();
        for (const l of lanes.values()) l.finish();
        overall?.finish();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      state.closed = true;
      if (timer) clearInterval(timer);
      for (const l of lanes.values()) dirty.add(l);
      flush();
      // Resolves every task (interrupt or a missing run:done included), then lets listr2 draw its last frame.
      for (const l of lanes.values()) l.finish();
      overall?.finish();
      await running;
    },
  };
}
