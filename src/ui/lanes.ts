// Progress state folded from RunEvents, and the pure one-line renderings (lane, overall) tty and simple print.
import { OUTCOMES, SUCCESS, isSettled, outcomeOf, partOutcome, type Outcome } from '../report/outcome.js';
import type { RunEvent, StopReason } from '../types.js';

/** Completion times kept per lane for its recent pace (a bounded ring: memory does not grow with the rows). */
const RECENT = 64;
/** How far back the pace looks: long enough to smooth bursts, short enough to follow throttling. */
const PACE_WINDOW_MS = 30_000;

export interface LaneState {
  lane: string;
  /** What titles show: the region, or the whole lane name when two lanes share a region (several accounts). */
  label: string;
  region: string;
  /** Rows the lane was given; undefined for a lane first seen after run:start. */
  total?: number;
  /** Rows with a row:done, whatever their outcome. */
  reported: number;
  outcomes: Record<Outcome, number>;
  retries: number;
  /** Rows sent (row:start) and not yet done, including those waiting to retry. */
  inFlight: Set<string>;
  /** The pacer's rate (lane:rate): write requests per second. */
  ratePerSec?: number;
  /** The lane stopped sending creates (its quota is full) while the run may go on. */
  stopped?: { reason: string; message: string };
  /** When the lane began (ms), and when its latest rows ended (oldest first, at most RECENT). */
  startedAt: number;
  recent: number[];
  /**
   * `connection`: a VPN gateway's lane of IPsec connections (one write at a time); its rows are counted on their
   * region's lane too, so the overall line leaves it out.
   */
  kind?: 'connection';
}

export interface RunState {
  runId?: string;
  lanes: Map<string, LaneState>;
  stopping?: { reason: StopReason; message: string };
  finished?: Extract<RunEvent, { type: 'run:done' }>;
  /** The renderer closed; run:done may never have come (second Ctrl-C, an error in the run). */
  closed: boolean;
}

export function newRunState(): RunState {
  return { lanes: new Map(), closed: false };
}

function zero(): Record<Outcome, number> {
  return Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
}

function laneFor(state: RunState, lane: string, now: number, region?: string): LaneState {
  let l = state.lanes.get(lane);
  if (!l) {
    // Events for a lane run:start did not announce: track it anyway, labelled by its full name.
    const r = region ?? lane.slice(lane.lastIndexOf('/') + 1);
    l = { lane, label: lane, region: r, reported: 0, outcomes: zero(), retries: 0, inFlight: new Set(), startedAt: now, recent: [] };
    state.lanes.set(lane, l);
  }
  return l;
}

/** Applies one event at time `now` (ms); returns the lane it touched (if any) so renderers can refresh just that lane. */
export function applyEvent(state: RunState, e: RunEvent, now = 0): LaneState | undefined {
  switch (e.type) {
    case 'run:start': {
      state.runId = e.runId;
      const regions = new Map<string, number>();
      for (const l of e.lanes) if (l.kind !== 'connection') regions.set(l.region, (regions.get(l.region) ?? 0) + 1);
      for (const l of e.lanes) {
        const s = laneFor(state, l.lane, now, l.region);
        s.region = l.region;
        s.total = l.total;
        if (l.kind === 'connection') {
          // `<account>/<region>/<vpn gateway>`: titled by region and gateway.
          s.kind = 'connection';
          s.label = l.lane.split('/').slice(-2).join('/');
        } else {
          s.label = (regions.get(l.region) ?? 0) > 1 ? l.lane : l.region;
        }
      }
      return undefined;
    }
    case 'row:start': {
      const l = laneFor(state, e.lane, now, e.ref.region);
      l.inFlight.add(e.ref.key);
      return l;
    }
    case 'row:retry': {
      const l = laneFor(state, e.lane, now, e.ref.region);
      l.retries += 1;
      return l;
    }
    case 'row:done': {
      const l = laneFor(state, e.lane, now, e.result.ref.region);
      l.inFlight.delete(e.result.ref.key);
      l.reported += 1;
      const o = outcomeOf(e.result);
      l.outcomes[o] += 1;
      // Only rows that were worked on set the pace; a burst of "not started" at a stop says nothing about speed.
      if (o !== 'not started' && o !== 'interrupted') {
        l.recent.push(now);
        if (l.recent.length > RECENT) l.recent.shift();
      }
      return l;
    }
    case 'part:done': {
      const l = laneFor(state, e.lane, now, e.ref.region);
      l.inFlight.delete(e.ref.key);
      l.reported += 1;
      const o = partOutcome(e.result);
      l.outcomes[o] += 1;
      if (o !== 'not started' && o !== 'interrupted') {
        l.recent.push(now);
        if (l.recent.length > RECENT) l.recent.shift();
      }
      return l;
    }
    case 'lane:rate': {
      const l = laneFor(state, e.lane, now);
      l.ratePerSec = e.ratePerSec;
      return l;
    }
    case 'lane:stopped': {
      const l = laneFor(state, e.lane, now);
      l.stopped = { reason: e.reason, message: e.message };
      return l;
    }
    case 'run:stopping':
      state.stopping = { reason: e.reason, message: e.message };
      return undefined;
    case 'run:done':
      state.finished = e;
      return undefined;
  }
}

/** Counts a line is made of: one lane's, or all lanes' summed. */
export interface Counts {
  /** Undefined when a lane's total is unknown. */
  total?: number;
  reported: number;
  outcomes: Record<Outcome, number>;
  inFlight: number;
  retries: number;
}

export function laneCounts(l: LaneState): Counts {
  return { total: l.total, reported: l.reported, outcomes: l.outcomes, inFlight: l.inFlight.size, retries: l.retries };
}

export function runCounts(state: RunState): Counts {
  const c: Counts = { total: 0, reported: 0, outcomes: zero(), inFlight: 0, retries: 0 };
  for (const l of state.lanes.values()) {
    if (l.kind === 'connection') continue;
    c.total = c.total === undefined || l.total === undefined ? undefined : c.total + l.total;
    c.reported += l.reported;
    c.inFlight += l.inFlight.size;
    c.retries += l.retries;
    for (const o of OUTCOMES) c.outcomes[o] += l.outcomes[o];
  }
  return c;
}

/** Rows this run settled: carried out, failed, or given up with the outcome unknown. Not: interrupted, not started. */
export function doneOf(c: Counts): number {
  return OUTCOMES.filter(isSettled).reduce((n, o) => n + c.outcomes[o], 0);
}

export type Phase = { kind: 'running' } | { kind: 'finished' } | { kind: 'interrupted' } | { kind: 'stopped'; reason: string };

const ended = (run: RunState): boolean => run.finished !== undefined || run.closed;

/** Every row of the lane has its row:done (a lane of unknown size: the run ended). */
export function laneSettled(l: LaneState, run: RunState): boolean {
  return l.total !== undefined ? l.reported >= l.total : ended(run);
}

const cut = (c: Counts): boolean => c.outcomes['interrupted'] + c.outcomes['not started'] > 0;

function stopPhase(reason: StopReason | undefined): Phase {
  if (reason === undefined || reason === 'interrupt') return { kind: 'interrupted' };
  return { kind: 'stopped', reason };
}

/**
 * A lane is `finished` only when every row it was given was carried out or failed; a stop or Ctrl-C that left rows
 * unsent makes it `interrupted` / `stopped (<reason>)`, and a full quota shows at once, while the other lanes go on.
 */
export function lanePhase(l: LaneState, run: RunState): Phase {
  if (l.stopped) return { kind: 'stopped', reason: l.stopped.reason };
  if (laneSettled(l, run) && !cut(laneCounts(l))) return { kind: 'finished' };
  if (run.stopping) return stopPhase(run.stopping.reason);
  if (ended(run)) return stopPhase(run.finished?.stopReason);
  return { kind: 'running' };
}

export function runPhase(run: RunState): Phase {
  const phases = [...run.lanes.values()].map((l) => lanePhase(l, run));
  if (phases.every((p) => p.kind === 'finished')) return { kind: 'finished' };
  if (run.stopping) return stopPhase(run.stopping.reason);
  if (ended(run)) {
    if (run.finished?.stopReason) return stopPhase(run.finished.stopReason);
    const stopped = phases.find((p) => p.kind === 'stopped');
    return stopped ?? { kind: 'interrupted' };
  }
  return { kind: 'running' };
}

export function phaseWord(p: Phase): string {
  return p.kind === 'stopped' ? `stopped (${p.reason})` : p.kind;
}

/** Rows per second the lane has recently completed; undefined until two rows ended (too little to go on). */
export function recentPace(l: LaneState, now: number): number | undefined {
  const from = Math.max(now - PACE_WINDOW_MS, l.startedAt);
  const inWindow = l.recent.filter((t) => t >= from);
  if (inWindow.length < 2) return undefined;
  // A full ring may have dropped rows inside the window: measure from its oldest entry, counting the intervals.
  const full = l.recent.length === RECENT && inWindow.length === RECENT;
  const span = now - (full ? inWindow[0]! : from);
  // Under a second of history says little about the pace (a burst of fast answers would promise a bogus "0s left").
  if (span < 1000) return undefined;
  return (full ? inWindow.length - 1 : inWindow.length) / (span / 1000);
}

/**
 * Time left: the slowest lane's remaining rows over its recent completion pace, capped by the pacer's told rate (it
 * will not go faster than that, and throttling lowers it before completions show it). Undefined when any lane with
 * rows left has no pace yet, or once the run is stopping (nothing new is sent).
 */
export function etaMs(run: RunState, now: number): number | undefined {
  if (run.stopping || ended(run)) return undefined;
  let worst = 0;
  for (const l of run.lanes.values()) {
    if (l.total === undefined) return undefined;
    if (l.stopped) continue; // its queued creates end as not started at once
    const left = l.total - l.reported;
    if (left <= 0) continue;
    const pace = recentPace(l, now);
    if (pace === undefined || pace <= 0) return undefined;
    const rate = l.ratePerSec !== undefined && l.ratePerSec > 0 ? Math.min(pace, l.ratePerSec) : pace;
    worst = Math.max(worst, (left / rate) * 1000);
  }
  return worst;
}

/** `45s`, `3m 05s`, `1h 02m`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** A piece of a line and how the tty colours it (simple mode ignores tones). */
export interface Part {
  text: string;
  tone?: 'red' | 'yellow' | 'green' | 'dim';
}

/**
 * The parts of a lane or overall line. Running: `12/40 done  2 failed  3 in flight  2.0/s`. Otherwise the phase
 * and what happened: `interrupted  32/40 created  8 not started`, `finished  40/40 done (30 created, 8 updated)  2 failed`. Failures show when there are
 * any (the overall line always shows them).
 */
export function countParts(
  c: Counts,
  phase: Phase,
  live: { ratePerSec?: number; etaMs?: number; stopping?: boolean; alwaysFailed?: boolean } = {},
): Part[] {
  const parts: Part[] = [];
  const running = phase.kind === 'running';
  if (!running) parts.push({ text: phaseWord(phase), tone: phase.kind === 'finished' ? 'green' : 'yellow' });
  const done = doneOf(c);
  const kinds = SUCCESS.filter((o) => c.outcomes[o] > 0);
  const of = `/${c.total ?? '?'}`;
  if (running || kinds.length === 0) parts.push({ text: `${done}${of} done` });
  // One kind that makes up every settled row says it directly: `33/40 created`.
  else if (kinds.length === 1 && c.outcomes[kinds[0]!] === done) parts.push({ text: `${done}${of} ${kinds[0]!}` });
  else parts.push({ text: `${done}${of} done (${kinds.map((o) => `${c.outcomes[o]} ${o}`).join(', ')})` });
  const failed = c.outcomes['failed'];
  if (failed > 0 || live.alwaysFailed) parts.push({ text: `${failed} failed`, tone: failed > 0 ? 'red' : undefined });
  if (c.outcomes['unknown'] > 0) parts.push({ text: `${c.outcomes['unknown']} unknown`, tone: 'yellow' });
  if (c.outcomes['interrupted'] > 0) parts.push({ text: `${c.outcomes['interrupted']} interrupted`, tone: 'yellow' });
  if (running || c.inFlight > 0) parts.push({ text: `${c.inFlight} in flight` });
  if (!running) {
    // Rows with no row:done yet and not on the wire: after a stop they will not be sent; before it they still may be.
    const left = c.total === undefined ? 0 : Math.max(0, c.total - c.reported - c.inFlight);
    const settledLater = live.stopping || phase.kind !== 'stopped';
    const notStarted = c.outcomes['not started'] + (settledLater ? left : 0);
    if (notStarted > 0) parts.push({ text: `${notStarted} not started`, tone: 'yellow' });
    if (!settledLater && left > 0) parts.push({ text: `${left} pending` });
  }
  if (c.retries > 0) parts.push({ text: `${c.retries} retries`, tone: 'dim' });
  if (running && live.ratePerSec !== undefined) parts.push({ text: `${live.ratePerSec.toFixed(1)}/s` });
  if (running && live.etaMs !== undefined) parts.push({ text: `~${formatDuration(live.etaMs)} left` });
  return parts;
}

export function laneParts(l: LaneState, run: RunState): Part[] {
  const phase = lanePhase(l, run);
  return [{ text: l.label }, ...countParts(laneCounts(l), phase, { ratePerSec: l.ratePerSec, stopping: run.stopping !== undefined || ended(run) })];
}

/** The overall line: all lanes' counts, the sum of their told rates and the time left. */
export function overallParts(run: RunState, now: number): Part[] {
  const phase = runPhase(run);
  const rates = [...run.lanes.values()].filter((l) => l.ratePerSec !== undefined && lanePhase(l, run).kind === 'running');
  const ratePerSec = rates.length > 0 ? rates.reduce((n, l) => n + (l.ratePerSec ?? 0), 0) : undefined;
  const eta = etaMs(run, now);
  return [
    { text: 'overall' },
    ...countParts(runCounts(run), phase, {
      ...(ratePerSec !== undefined ? { ratePerSec } : {}),
      ...(eta !== undefined ? { etaMs: eta } : {}),
      stopping: run.stopping !== undefined || ended(run),
      alwaysFailed: true,
    }),
  ];
}

export const plain = (parts: readonly Part[]): string => parts.map((p) => p.text).join('  ');

/** `cn-hangzhou  12/40 done  1 failed  3 in flight  2.0/s`, or its final form with the phase. */
export function laneLine(l: LaneState, run: RunState): string {
  return plain(laneParts(l, run));
}

export function overallLine(run: RunState, now: number): string {
  return plain(overallParts(run, now));
}
