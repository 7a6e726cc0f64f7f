// Live terminal progress: one listr2 task per lane, titles refreshed from the folded event state.
import { Listr, ListrLogger, ListrTaskState, ProcessOutput, createWritable, type ListrTaskObject, type ListrTaskWrapper } from 'listr2';
import type { Redactor } from '../secrets.js';
import type { RunEvent } from '../types.js';
import { colors } from './color.js';
import { applyEvent, failureLine, laneLine, newRunState, oneLine, type LaneState } from './lanes.js';
import type { ProgressUi } from './progress.js';

export interface TtyOptions {
  redactor?: Redactor;
  color: boolean;
  /** Terminal width for log-update's line accounting; listr2 otherwise assumes an endless line. */
  columns?: number;
  /** How often titles are refreshed; events only mark lanes dirty, so 500 rows/s cost no more than this. */
  refreshMs?: number;
  /** Failed rows kept visible under each lane. */
  maxFailureLines?: number;
}

interface LaneTask {
  state: LaneState;
  finish: () => void;
  finished: Promise<void>;
  wrapper?: ListrTaskWrapper<unknown, any, any>;
  /** Set for a lane first seen after listr2 started: we drive its Task object directly. */
  late?: ListrTaskObject<unknown, any, any>;
  /** Failures already sent to listr2: its output bar appends every value set, so only new lines are set. */
  shown: number;
}

export function ttyProgress(out: { write(s: string): void }, opts: TtyOptions): ProgressUi {
  const c = colors(opts.color);
  const red = (s: string) => (opts.redactor ? opts.redactor.redact(s) : s);
  const maxFailures = opts.maxFailureLines ?? 10;
  const state = newRunState();
  const tasks = new Map<string, LaneTask>();
  const dirty = new Set<LaneTask>();
  let listr: Listr<unknown, 'default', 'simple'> | undefined;
  let running: Promise<unknown> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const writable = createWritable((chunk) => out.write(red(chunk)));
  (writable as unknown as { columns: number }).columns = opts.columns ?? 80;
  const logger = new ListrLogger({ processOutput: new ProcessOutput(writable as NodeJS.WriteStream, writable as NodeJS.WriteStream) });

  const title = (t: LaneTask) => {
    const l = t.state;
    // A finished lane drops the live parts (in flight, rate); an unfinished one keeps them for the last frame.
    let s = laneLine(l, { final: laneComplete(t) });
    if (l.failed > 0) s = s.replace(`${l.failed} failed`, c.red(`${l.failed} failed`));
    if (state.stopping) s += c.yellow(`  (stopping: ${state.stopping.reason})`);
    return red(s);
  };
  const refresh = (t: LaneTask) => {
    const fresh = t.state.failures.slice(t.shown).map((r) => red(oneLine(failureLine(r))));
    if (t.wrapper) {
      t.wrapper.title = title(t);
      for (const line of fresh) t.wrapper.output = line;
    } else if (t.late) {
      t.late.title$ = title(t);
      for (const line of fresh) t.late.output$ = line;
    } else {
      return;
    }
    t.shown = t.state.failures.length;
  };
  const flush = () => {
    for (const t of dirty) refresh(t);
    dirty.clear();
  };

  const makeTask = (l: LaneState): LaneTask => {
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const t: LaneTask = { state: l, finish, finished, shown: 0 };
    tasks.set(l.lane, t);
    return t;
  };
  const laneComplete = (t: LaneTask) => t.state.total !== undefined && t.state.done >= t.state.total;

  const start = () => {
    for (const l of state.lanes.values()) makeTask(l);
    listr = new Listr<unknown, 'default', 'simple'>(
      [...tasks.values()].map((t) => ({
        title: title(t),
        task: async (_ctx: unknown, wrapper: ListrTaskWrapper<unknown, any, any>) => {
          t.wrapper = wrapper;
          refresh(t);
          if (laneComplete(t)) t.finish();
          await t.finished;
          refresh(t);
          // Cut short (interrupt, max-failures): a check mark would claim the lane finished.
          if (!laneComplete(t)) wrapper.skip(`${title(t)}  (not finished)`);
        },
        rendererOptions: { persistentOutput: true, outputBar: maxFailures },
      })),
      {
        concurrent: true,
        exitOnError: false,
        // cli.ts owns SIGINT (first: stop launching, second: abort); listr2's own handler would exit the process.
        registerSignalListeners: false,
        renderer: 'default',
        // The CLI picked tty mode; when process.stdout still is not a TTY listr2 falls back to its simple renderer.
        fallbackRenderer: 'simple',
        rendererOptions: { logger, formatOutput: 'truncate', collapseErrors: false },
        fallbackRendererOptions: { logger },
      },
    );
    running = listr.run().catch(() => undefined);
    timer = setInterval(flush, opts.refreshMs ?? 100);
    timer.unref();
  };

  const addLate = (l: LaneState) => {
    // listr2 runs only the tasks it had when run() began; a late lane is added for display and driven by hand.
    const t = makeTask(l);
    if (!listr) return;
    listr.add({ title: title(t), task: () => t.finished });
    const task = listr.tasks[listr.tasks.length - 1];
    if (task) {
      t.late = task;
      // check() marks it enabled (the renderer hides tasks it has not checked); then it shows as running.
      const checked = task.check(undefined).then(() => {
        task.state$ = ListrTaskState.STARTED;
        dirty.add(t);
      });
      void Promise.all([checked, t.finished]).then(() => {
        refresh(t);
        task.state$ = ListrTaskState.COMPLETED;
      });
    }
  };

  return {
    onEvent(e: RunEvent) {
      if (closed) return;
      const known = new Set(state.lanes.keys());
      const lane = applyEvent(state, e);
      if (!listr && state.lanes.size > 0) start();
      else if (listr) for (const l of state.lanes.values()) if (!known.has(l.lane) && !tasks.has(l.lane)) addLate(l);
      if (e.type === 'run:stopping') for (const t of tasks.values()) dirty.add(t);
      const t = lane && tasks.get(lane.lane);
      if (t) {
        dirty.add(t);
        if (laneComplete(t)) {
          refresh(t);
          t.finish();
        }
      }
      if (e.type === 'run:done') for (const t of tasks.values()) t.finish();
    },
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      flush();
      // Resolves every lane task (interrupt or a missing run:done included), then lets listr2 draw its last frame.
      for (const t of tasks.values()) t.finish();
      await running;
      if (state.stopping) out.write(red(`stopping (${state.stopping.reason}): ${oneLine(state.stopping.message)}`) + '\n');
    },
  };
}
