// The folded progress state and its lines: outcomes, lane phases after a stop or a full quota, the overall line's
// counts, rate and time left on an injected clock, and cutting lines to the terminal width.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyEvent,
  etaMs,
  formatDuration,
  laneLine,
  lanePhase,
  newRunState,
  overallLine,
  recentPace,
  runPhase,
  type RunState,
} from '../../src/ui/lanes.js';
import { outcomeOf } from '../../src/report/outcome.js';
import { displayWidth, fit } from '../../src/text.js';
import type { RunEvent } from '../../src/types.js';
import { ref, result } from '../report/build.js';
import { interrupted, laneStopped, notStarted, rate, rowDone, rowRetry, rowStart, runDoneEv, start, stopping } from './events.js';

const HZ = 'acct/cn-hangzhou';
const SH = 'acct/cn-shanghai';

function fold(events: RunEvent[], at: (i: number) => number = () => 0): RunState {
  const s = newRunState();
  events.forEach((e, i) => applyEvent(s, e, at(i)));
  return s;
}

test('outcomeOf: the executor codes come before the status (an interrupted delete still reads created)', () => {
  assert.equal(outcomeOf(result({ line: 2 })), 'created');
  assert.equal(outcomeOf(result({ line: 2, status: 'adopted' })), 'adopted');
  assert.equal(outcomeOf(result({ line: 2, status: 'updated' })), 'updated');
  assert.equal(outcomeOf(result({ line: 2, status: 'deleted', action: 'delete' })), 'deleted');
  assert.equal(outcomeOf(result({ line: 2, status: 'failed', errorCode: 'IllegalParam.Asn' })), 'failed');
  assert.equal(outcomeOf(result({ line: 2, status: 'unknown', errorCode: 'ECONNRESET' })), 'unknown');
  assert.equal(outcomeOf(result({ line: 2, status: 'in-flight' })), 'unknown');
  assert.equal(outcomeOf(notStarted(2)), 'not started');
  // An update the stop caught before its first request keeps the journal's status.
  assert.equal(outcomeOf(notStarted(2, { status: 'created', action: 'update' })), 'not started');
  assert.equal(outcomeOf(interrupted(2)), 'interrupted');
  assert.equal(outcomeOf(interrupted(2, { status: 'created', action: 'delete' })), 'interrupted');
  // Nothing to send (no gateway left to delete) is not a failure; a row the run never sent is not started.
  assert.equal(outcomeOf(result({ line: 2, status: 'skipped', action: 'delete' })), 'unchanged');
  assert.equal(outcomeOf(result({ line: 2, status: 'pending', action: 'delete' })), 'not started');
  assert.equal(outcomeOf(result({ line: 2, status: 'pending', errorCode: 'NotExecutable' })), 'failed');
});

/** 40 rows in one lane: 32 created, then Ctrl-C with 3 on the wire and 5 waiting. */
function ctrlC(): RunEvent[] {
  const ev: RunEvent[] = [start([[HZ, 40]])];
  for (let i = 1; i <= 35; i++) ev.push(rowStart(HZ, ref(i)));
  for (let i = 1; i <= 32; i++) ev.push(rowDone(HZ, result({ line: i })));
  ev.push(stopping('interrupt', 'interrupted: finishing the requests on the wire'));
  return ev;
}

test('after Ctrl-C a lane reads interrupted with its counts, never finished, at every step', () => {
  const ev = ctrlC();
  let s = fold(ev);
  const hz = s.lanes.get(HZ)!;
  assert.deepEqual(lanePhase(hz, s), { kind: 'interrupted' });
  assert.equal(laneLine(hz, s), 'cn-hangzhou  interrupted  32/40 created  3 in flight  5 not started');
  // The three on the wire end (one created, one maybe created), the five waiting are reported as never sent.
  ev.push(rowDone(HZ, result({ line: 33 })), rowDone(HZ, interrupted(34)), rowDone(HZ, interrupted(35, { status: 'pending' })));
  for (let i = 36; i <= 40; i++) ev.push(rowDone(HZ, notStarted(i)));
  s = fold(ev);
  assert.equal(laneLine(s.lanes.get(HZ)!, s), 'cn-hangzhou  interrupted  33/40 created  2 interrupted  5 not started');
  ev.push(runDoneEv('interrupt'));
  s = fold(ev);
  assert.deepEqual(lanePhase(s.lanes.get(HZ)!, s), { kind: 'interrupted' });
  assert.deepEqual(runPhase(s), { kind: 'interrupted' });
  assert.equal(overallLine(s, 0), 'overall  interrupted  33/40 created  0 failed  2 interrupted  5 not started');
});

test('a lane that finished every row before the stop stays finished; the others say why they stopped', () => {
  const ev: RunEvent[] = [start([[HZ, 1], [SH, 2]]), rowDone(HZ, result({ line: 2 })), rowDone(SH, result({ line: 3, region: 'cn-shanghai', status: 'failed', errorCode: 'X' }))];
  ev.push(stopping('max-failures'), rowDone(SH, notStarted(4, { region: 'cn-shanghai' })), runDoneEv('max-failures'));
  const s = fold(ev);
  assert.equal(laneLine(s.lanes.get(HZ)!, s), 'cn-hangzhou  finished  1/1 created');
  assert.equal(laneLine(s.lanes.get(SH)!, s), 'cn-shanghai  stopped (max-failures)  1/2 done  1 failed  1 not started');
  assert.deepEqual(runPhase(s), { kind: 'stopped', reason: 'max-failures' });
  for (const reason of ['auth', 'forbidden', 'retry-budget'] as const) {
    const t = fold([start([[HZ, 2]]), rowDone(HZ, result({ line: 2 })), stopping(reason)]);
    assert.match(laneLine(t.lanes.get(HZ)!, t), new RegExp(`^cn-hangzhou  stopped \\(${reason}\\)  1/2 created  1 not started$`));
  }
});

test('a full quota stops its lane at once while the other lanes go on', () => {
  const ev: RunEvent[] = [start([[HZ, 3], [SH, 4]])];
  ev.push(rowDone(SH, result({ line: 10, region: 'cn-shanghai' })));
  ev.push(rowStart(SH, ref(11, { region: 'cn-shanghai' })));
  ev.push(rowDone(SH, result({ line: 12, region: 'cn-shanghai', status: 'failed', errorCode: 'Resource.QuotaFull' })));
  ev.push(laneStopped(SH));
  ev.push(rowDone(HZ, result({ line: 2 })));
  let s = fold(ev);
  assert.deepEqual(lanePhase(s.lanes.get(SH)!, s), { kind: 'stopped', reason: 'quota' });
  // Rows not yet back may still be deletes or updates that go on: pending, not yet "not started".
  assert.equal(laneLine(s.lanes.get(SH)!, s), 'cn-shanghai  stopped (quota)  2/4 done (1 created)  1 failed  1 in flight  1 pending');
  assert.deepEqual(lanePhase(s.lanes.get(HZ)!, s), { kind: 'running' });
  assert.deepEqual(runPhase(s), { kind: 'running' });
  ev.push(rowDone(SH, result({ line: 11, region: 'cn-shanghai' })), rowDone(SH, notStarted(13, { region: 'cn-shanghai', errorMessage: 'not started: quota' })));
  ev.push(rowDone(HZ, result({ line: 3 })), rowDone(HZ, result({ line: 4 })), runDoneEv());
  s = fold(ev);
  assert.equal(laneLine(s.lanes.get(SH)!, s), 'cn-shanghai  stopped (quota)  3/4 done (2 created)  1 failed  1 not started');
  assert.equal(laneLine(s.lanes.get(HZ)!, s), 'cn-hangzhou  finished  3/3 created');
  assert.deepEqual(runPhase(s), { kind: 'stopped', reason: 'quota' });
});

test('closed without run:done or a stop (second Ctrl-C, an error): unfinished lanes read interrupted', () => {
  const s = fold([start([[HZ, 2]]), rowDone(HZ, result({ line: 2 }))]);
  assert.deepEqual(lanePhase(s.lanes.get(HZ)!, s), { kind: 'running' });
  s.closed = true;
  assert.equal(laneLine(s.lanes.get(HZ)!, s), 'cn-hangzhou  interrupted  1/2 created  1 not started');
});

test('running lines: done/total, failures, in flight, retries and the told rate', () => {
  const s = fold([start([[HZ, 3]]), rowStart(HZ, ref(2)), rowStart(HZ, ref(3)), rowRetry(HZ, ref(3)), rate(HZ, 2), rowDone(HZ, result({ line: 2, status: 'failed', errorCode: 'X' }))]);
  assert.equal(laneLine(s.lanes.get(HZ)!, s), 'cn-hangzhou  1/3 done  1 failed  1 in flight  1 retries  2.0/s');
});

/** Two lanes of 100 rows: A ends a row every 500 ms, B every second, for 10 s; told rates 5/s and 1/s. */
function paced(): { events: RunEvent[]; times: number[] } {
  const events: RunEvent[] = [start([['a/cn-a', 100], ['a/cn-b', 100]]), rate('a/cn-a', 5), rate('a/cn-b', 1)];
  const times = [0, 0, 0];
  for (let t = 500; t <= 10_000; t += 500) {
    events.push(rowDone('a/cn-a', result({ line: t / 500, region: 'cn-a' })));
    times.push(t);
    if (t % 1000 === 0) {
      events.push(rowDone('a/cn-b', result({ line: t / 1000, region: 'cn-b' })));
      times.push(t);
    }
  }
  return { events, times };
}

test('overall line: counts, the sum of the lane rates, and time left from the slowest lane recent pace', () => {
  const { events, times } = paced();
  const s = fold(events, (i) => times[i]!);
  assert.equal(recentPace(s.lanes.get('a/cn-a')!, 10_000), 2);
  assert.equal(recentPace(s.lanes.get('a/cn-b')!, 10_000), 1);
  // A: 80 left at 2/s = 40 s; B: 90 left at 1/s = 90 s. The run ends with its slowest lane.
  assert.equal(etaMs(s, 10_000), 90_000);
  assert.equal(overallLine(s, 10_000), 'overall  30/200 done  0 failed  0 in flight  6.0/s  ~1m 30s left');
  // B's pacer slowed down (throttled) below its recent pace: the estimate follows the pacer, not the past.
  applyEvent(s, rate('a/cn-b', 0.5), 10_000);
  assert.equal(etaMs(s, 10_000), 180_000);
  assert.equal(overallLine(s, 10_000), 'overall  30/200 done  0 failed  0 in flight  5.5/s  ~3m 00s left');
  // Once the run is stopping nothing new is sent: no estimate, no rate.
  applyEvent(s, stopping('interrupt'), 10_000);
  assert.equal(etaMs(s, 10_000), undefined);
  assert.doesNotMatch(overallLine(s, 10_000), /left|\/s/);
});

test('time left is hidden until every lane with rows left has a pace (the told rate alone is not enough)', () => {
  const s = fold([start([['a/cn-a', 10], ['a/cn-b', 10]]), rate('a/cn-a', 5), rate('a/cn-b', 5)]);
  assert.equal(etaMs(s, 5000), undefined);
  assert.equal(overallLine(s, 5000), 'overall  0/20 done  0 failed  0 in flight  10.0/s');
  applyEvent(s, rowDone('a/cn-a', result({ line: 2, region: 'cn-a' })), 1000);
  applyEvent(s, rowDone('a/cn-a', result({ line: 3, region: 'cn-a' })), 2000);
  assert.equal(etaMs(s, 2000), undefined, 'lane b has no pace yet');
  for (let i = 0; i < 10; i++) applyEvent(s, rowDone('a/cn-b', result({ line: 20 + i, region: 'cn-b' })), 2000);
  // b is done, a has 8 left at 1 row/s.
  assert.equal(etaMs(s, 2000), 8000);
  assert.match(overallLine(s, 2000), /  ~8s left$/);
});

test('the pace is recent: a lane that slowed down is estimated at its slower pace', () => {
  const s = newRunState();
  applyEvent(s, start([[HZ, 100]]), 0);
  // 20 rows in the first 10 s, then one row every 10 s.
  for (let i = 1; i <= 20; i++) applyEvent(s, rowDone(HZ, result({ line: i })), i * 500);
  for (let t = 20_000; t <= 70_000; t += 10_000) applyEvent(s, rowDone(HZ, result({ line: t })), t);
  const pace = recentPace(s.lanes.get(HZ)!, 70_000)!;
  // 30-second window [40 s, 70 s]: the rows at 40, 50, 60 and 70 s.
  assert.equal(pace, 4 / 30);
  // 74 rows left at 4 rows per 30 s: 555 s.
  assert.ok(Math.abs(etaMs(s, 70_000)! - 555_000) < 1);
  assert.match(overallLine(s, 70_000), /~9m 15s left$/);
  // Not-started results at a stop do not count as pace.
  const t = newRunState();
  applyEvent(t, start([[HZ, 10]]), 0);
  for (let i = 1; i <= 10; i++) applyEvent(t, rowDone(HZ, notStarted(i)), 5000);
  assert.equal(recentPace(t.lanes.get(HZ)!, 6000), undefined);
});

test('formatDuration', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(44_600), '45s');
  assert.equal(formatDuration(185_000), '3m 05s');
  assert.equal(formatDuration(3_720_000), '1h 02m');
});

test('fit cuts by terminal cells: wide characters take two, combining marks none', () => {
  assert.equal(displayWidth('abc'), 3);
  assert.equal(displayWidth('北京'), 4);
  assert.equal(displayWidth('e\u0301'), 1);
  assert.equal(fit('short', 10), 'short');
  assert.equal(fit('cn-hangzhou  12/40 done', 10), 'cn-hangzh…');
  assert.equal(displayWidth(fit('cn-hangzhou  12/40 done', 10)), 10);
  assert.equal(fit('北京北京北京', 6), '北京…');
  assert.ok(displayWidth(fit('北京北京北京', 6)) <= 6);
  assert.equal(fit('x', 0), '');
});
