// Live terminal progress: an overall line, then one line per lane with its recent failures under it, redrawn in
// place from the folded event state. Every line is cut to the terminal width so a redraw never scrolls, and a lane
// gets a check mark only when it carried out every row it was given.
import { colors, type Palette } from '../color.js';
import { failureLine, outcomeOf } from '../report/outcome.js';
import type { Redactor } from '../secrets.js';
import { fit, oneLine } from '../text.js';
import type { RunEvent } from '../types.js';
import { applyEvent, laneCounts, laneParts, lanePhase, laneSettled, newRunState, overallParts, plain, runCounts, runPhase, type Counts, type Part, type Phase } from './lanes.js';
import type { ProgressUi } from './types.js';

export interface TtyOptions {
  redactor?: Redactor;
  color: boolean;
  /** Terminal width: every line is cut to it. */
  columns?: number;
  /** How often the frame is redrawn; events only change the state, so 500 rows/s cost no more than this. */
  refreshMs?: number;
  /** Failed rows kept visible under each lane. */
  maxFailureLines?: number;
  /** Clock for the time-left estimate (tests pass a virtual one). */
  now?: () => number;
}

/** How a line ends: ✔ everything done, ✖ finished with failures, ↓ cut short (interrupted, stopped). */
type End = 'ok' | 'failed' | 'cut';

const MARK: Record<End, string> = { ok: '✔', failed: '✖', cut: '↓' };
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
// Erase one line, move up one, and back to the first column (what log-update writes between frames).
const ERASE_LINE = '\u001b[2K';
const UP = '\u001b[1A';
const LEFT = '\u001b[G';

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
  return p.tone ? c[p.tone](p.text) : p.text;
}

export function ttyProgress(out: { write(s: string): void }, opts: TtyOptions): ProgressUi {
  const c = colors(opts.color);
  const now = opts.now ?? Date.now;
  const redact = (s: string): string => (opts.redactor ? opts.redactor.redact(s) : s);
  const maxOutput = opts.maxFailureLines ?? 10;
  const columns = Math.max(20, opts.columns ?? 80);
  // `✔ ` before a title and `  › ` before an output line; two columns stay free at the right edge (a line that fills
  // the last column makes some terminals wrap, and the redraw would then scroll).
  const titleWidth = columns - 4;
  const outputWidth = columns - 6;
  const state = newRunState();
  /** Output lines under the overall line ('') and under each lane, oldest first, at most maxOutput each. */
  const said = new Map<string, string[]>();
  let drawn = 0;
  let last = '';
  let tick = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  // Messages from elsewhere are redacted raw: collapsing or cutting them first could split a secret.
  const say = (under: string, text: string): void => {
    const lines = said.get(under) ?? [];
    lines.push(fit(text, outputWidth));
    if (lines.length > maxOutput) lines.shift();
    said.set(under, lines);
  };

  const block = (under: string, parts: Part[], end: End | undefined): string[] => {
    const mark = end ? (end === 'ok' ? c.green(MARK.ok) : end === 'failed' ? c.red(MARK.failed) : c.yellow(MARK.cut)) : c.yellow(SPINNER[tick % SPINNER.length] ?? '-');
    const bullet = end === 'cut' ? '↓' : '›';
    return [`${mark} ${paint(parts, titleWidth, c)}`, ...(said.get(under) ?? []).map((l) => `  ${c.dim(bullet)} ${l}`)];
  };

  const frame = (): string[] => {
    const runEnded = state.finished !== undefined || state.closed;
    const lines = block('', overallParts(state, now()), runEnded ? endOf(runPhase(state), runCounts(state)) : undefined);
    for (const l of state.lanes.values()) {
      const ended = laneSettled(l, state) || runEnded;
      lines.push(...block(l.lane, laneParts(l, state), ended ? endOf(lanePhase(l, state), laneCounts(l)) : undefined));
    }
    return lines;
  };

  const draw = (): void => {
    if (state.lanes.size === 0) return;
    const text = frame().join('\n') + '\n';
    if (text === last) return;
    // The cursor sits under the last frame: erase its lines (and the empty one the cursor is on), then draw.
    const erase = drawn === 0 ? '' : Array.from({ length: drawn + 1 }, (_, i) => ERASE_LINE + (i < drawn ? UP : '')).join('') + LEFT;
    out.write(erase + text);
    drawn = text.split('\n').length - 1;
    last = text;
  };

  return {
    onEvent(e: RunEvent) {
      if (closed) return;
      const lane = applyEvent(state, e, now());
      switch (e.type) {
        case 'row:done': {
          const o = outcomeOf(e.result);
          if (lane && (o === 'failed' || o === 'unknown')) say(lane.lane, failureLine(e.result, redact));
          break;
        }
        case 'lane:stopped':
          if (lane) say(lane.lane, `stopped (${e.reason}): ${oneLine(redact(e.message))}`);
          break;
        case 'run:stopping':
          // Every lane's phase changes (interrupted / stopped); the overall line carries the reason.
          say('', `stopping (${e.reason}): ${oneLine(redact(e.message))}`);
          break;
        default:
          break;
      }
      if (!timer && state.lanes.size > 0) {
        timer = setInterval(() => {
          tick++;
          draw();
        }, opts.refreshMs ?? 100);
        timer.unref();
      }
      if (e.type === 'run:done') draw();
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      state.closed = true;
      if (timer) clearInterval(timer);
      // The last frame: every line with its mark, also when run:done never came (interrupt, an error in the run).
      draw();
      return Promise.resolve();
    },
  };
}
