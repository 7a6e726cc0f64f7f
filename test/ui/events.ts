// Scripted RunEvent streams for progress tests: builders for each event, and a run with two announced lanes, a retry,
// a failure with a secret, one unannounced lane and a Ctrl-C.
import type { PlanAction, RowRef, RowResult, RunEvent, StopReason } from '../../src/types.js';
import { ref, result } from '../report/build.js';

export const MARKER = 'SECRET-MARKER-1234';

export const start = (lanes: Array<[lane: string, total: number]>, runId = 'run-1'): RunEvent => ({
  type: 'run:start',
  runId,
  lanes: lanes.map(([lane, total]) => ({ lane, region: lane.slice(lane.lastIndexOf('/') + 1), total })),
});
export const rowStart = (lane: string, r: RowRef, action: PlanAction = 'create', attempt = 1): RunEvent => ({ type: 'row:start', lane, ref: r, action, attempt });
export const rowRetry = (lane: string, r: RowRef, code = 'Throttling.User', attempt = 1): RunEvent => ({ type: 'row:retry', lane, ref: r, attempt, code, delayMs: 250 });
export const rowDone = (lane: string, res: RowResult): RunEvent => ({ type: 'row:done', lane, result: res });
export const rate = (lane: string, ratePerSec: number, inFlight = 0): RunEvent => ({ type: 'lane:rate', lane, ratePerSec, inFlight });
export const laneStopped = (lane: string, message = 'Resource.QuotaFull: no more creates are sent'): RunEvent => ({ type: 'lane:stopped', lane, reason: 'quota', message });
export const stopping = (reason: StopReason, message = `stopping: ${reason}`): RunEvent => ({ type: 'run:stopping', reason, message });
export const runDoneEv = (stopReason?: StopReason, durationMs = 1234): RunEvent => ({
  type: 'run:done',
  interrupted: stopReason === 'interrupt',
  ...(stopReason ? { stopReason } : {}),
  counts: {},
  durationMs,
});

/** Results the executor gives rows a stop caught: never sent, or sent and then stopped. */
export const notStarted = (line: number, over: Partial<RowResult> & { region?: string; ip?: string } = {}): RowResult =>
  result({ line, status: 'pending', errorCode: 'NotStarted', errorMessage: 'not started: interrupted (Ctrl-C)', requestIds: [], attempts: 0, ...over });
export const interrupted = (line: number, over: Partial<RowResult> & { region?: string; ip?: string } = {}): RowResult =>
  result({ line, status: 'unknown', errorCode: 'Interrupted', errorMessage: 'stopped before the outcome was known', ...over });

const HZ = 'acct/cn-hangzhou';
const SH = 'acct/cn-shanghai';

export function script(): RunEvent[] {
  const ev: RunEvent[] = [start([[HZ, 3], [SH, 1]])];
  for (let i = 2; i <= 4; i++) ev.push(rowStart(HZ, ref(i)));
  ev.push(rowRetry(HZ, ref(3)));
  ev.push(rate(HZ, 2, 3));
  ev.push(rowDone(HZ, result({ line: 2 })));
  ev.push(rowDone(HZ, result({ line: 3, status: 'failed', errorCode: 'IllegalParam.AuthKey', errorMessage: `AuthKey ${MARKER} rejected\n\u001b[2Jstack` })));
  // A lane nobody announced: the UI must cope.
  const eu = ref(9, { region: 'eu-central-1', ip: '10.1.0.1' });
  ev.push(rowStart('acct/eu-central-1', eu));
  ev.push(rowDone('acct/eu-central-1', result({ line: 9, ref: eu })));
  ev.push(rowDone(HZ, result({ line: 4 })));
  ev.push(rowStart(SH, ref(5, { region: 'cn-shanghai', ip: '10.2.0.1' })));
  ev.push(stopping('interrupt', 'Interrupted: finishing 1 in-flight request'));
  return ev;
}

export const runDone: RunEvent = runDoneEv('interrupt');

export function sink(): { write(s: string): void; text(): string } {
  const chunks: string[] = [];
  return { write: (s) => void chunks.push(s), text: () => chunks.join('') };
}
