// Progress state folded from RunEvents, plus the pure one-line renderings both the tty and simple modes print.
import type { RowResult, RunEvent } from '../types.js';

export interface LaneState {
  lane: string;
  /** What titles show: the region, or the whole lane name when two lanes share a region (several accounts). */
  label: string;
  region: string;
  /** Rows the lane was given; undefined for a lane first seen after run:start. */
  total?: number;
  done: number;
  failed: number;
  retries: number;
  inFlight: Set<string>;
  ratePerSec?: number;
  failures: RowResult[];
}

export interface RunState {
  runId?: string;
  lanes: Map<string, LaneState>;
  stopping?: { reason: string; message: string };
  finished?: Extract<RunEvent, { type: 'run:done' }>;
}

export function newRunState(): RunState {
  return { lanes: new Map() };
}

function laneFor(state: RunState, lane: string, region?: string): LaneState {
  let l = state.lanes.get(lane);
  if (!l) {
    // Events for a lane run:start did not announce: track it anyway, labelled by its full name.
    const r = region ?? lane.slice(lane.lastIndexOf('/') + 1);
    l = { lane, label: lane, region: r, done: 0, failed: 0, retries: 0, inFlight: new Set(), failures: [] };
    state.lanes.set(lane, l);
  }
  return l;
}

/** Applies one event; returns the lane it touched (if any) so renderers can refresh just that lane. */
export function applyEvent(state: RunState, e: RunEvent): LaneState | undefined {
  switch (e.type) {
    case 'run:start': {
      state.runId = e.runId;
      const regions = new Map<string, number>();
      for (const l of e.lanes) regions.set(l.region, (regions.get(l.region) ?? 0) + 1);
      for (const l of e.lanes) {
        const s = laneFor(state, l.lane, l.region);
        s.region = l.region;
        s.total = l.total;
        s.label = (regions.get(l.region) ?? 0) > 1 ? l.lane : l.region;
      }
      return undefined;
    }
    case 'row:start': {
      const l = laneFor(state, e.lane);
      l.inFlight.add(e.ref.key);
      return l;
    }
    case 'row:retry': {
      const l = laneFor(state, e.lane);
      l.retries += 1;
      return l;
    }
    case 'row:done': {
      const l = laneFor(state, e.lane, e.result.ref.region);
      l.inFlight.delete(e.result.ref.key);
      l.done += 1;
      if (e.result.status === 'failed') {
        l.failed += 1;
        l.failures.push(e.result);
      }
      return l;
    }
    case 'lane:rate': {
      const l = laneFor(state, e.lane);
      l.ratePerSec = e.ratePerSec;
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

/** `cn-hangzhou  12/40 done  1 failed  3 in flight  2.0/s` */
export function laneLine(l: LaneState, opts: { final?: boolean } = {}): string {
  const parts = [l.label, `${l.done}/${l.total ?? '?'} done`];
  if (l.failed > 0 || opts.final) parts.push(`${l.failed} failed`);
  if (!opts.final) parts.push(`${l.inFlight.size} in flight`);
  if (l.retries > 0) parts.push(`${l.retries} retries`);
  if (l.ratePerSec !== undefined && !opts.final) parts.push(`${l.ratePerSec.toFixed(1)}/s`);
  return parts.join('  ');
}

/** `FAILED  branches.csv:12  cn-hangzhou/1.2.3.4  IllegalParam.Asn  message` on one line. */
export function failureLine(r: RowResult): string {
  const where = r.ref.line > 0 ? `${r.ref.file}:${r.ref.line}` : r.ref.file;
  const what = r.errorCode ?? (r.action === 'blocked' || r.action === 'invalid' ? r.action : r.status);
  const msg = oneLine(r.errorMessage ?? r.note ?? '');
  return [where, r.ref.key, what, msg].filter((s) => s !== '').join('  ');
}

/** Collapses line breaks and drops stack-trace frames: every progress and summary line is one line. */
export function oneLine(s: string, max = 300): string {
  const flat = s
    .split(/\r\n|\r|\n/)
    .filter((ln) => !/^\s+at\s/.test(ln))
    .join(' ')
    // Other control characters could move the cursor or hide text in a terminal.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
    .replace(/\s{2,}/g, ' ')
    .trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}
