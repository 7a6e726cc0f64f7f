// Progress renderers: NDJSON shape and secrecy; simple lines for CI (bounded, saying how each lane ended); the
// tty view (marks that tell the truth, the overall line, lines cut to the width) that always closes and leaks nothing.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '../../src/secrets.js';
import type { RunEvent } from '../../src/types.js';
import { stripAnsi } from '../../src/color.js';
import { displayWidth } from '../../src/text.js';
import { createProgress } from '../../src/ui/progress.js';
import { simpleProgress } from '../../src/ui/simple.js';
import { ref, result } from '../report/build.js';
import { MARKER, interrupted, laneStopped, notStarted, rate, rowDone, rowStart, runDone, runDoneEv, script, sink, start, stopping } from './events.js';

const HZ = 'acct/cn-hangzhou';
const SH = 'acct/cn-shanghai';

function redactor(): Redactor {
  const r = new Redactor();
  r.add(MARKER);
  return r;
}

/** 40 rows: 32 created, Ctrl-C with 3 on the wire, then the executor reports every row. */
function ctrlC40(): RunEvent[] {
  const ev: RunEvent[] = [start([[HZ, 40]])];
  for (let i = 1; i <= 35; i++) ev.push(rowStart(HZ, ref(i)));
  for (let i = 1; i <= 32; i++) ev.push(rowDone(HZ, result({ line: i })));
  ev.push(stopping('interrupt', 'interrupted: finishing the requests on the wire, sending nothing new'));
  ev.push(rowDone(HZ, result({ line: 33 })), rowDone(HZ, interrupted(34)), rowDone(HZ, interrupted(35, { status: 'pending' })));
  for (let i = 36; i <= 40; i++) ev.push(rowDone(HZ, notStarted(i)));
  ev.push(runDoneEv('interrupt'));
  return ev;
}

test('json: exactly one parseable object per line per event, with ts, refs as objects, and no secret', async () => {
  const out = sink();
  const ui = createProgress('json', out, { redactor: redactor(), color: true });
  const events = [...script(), runDone];
  for (const e of events) ui.onEvent(e);
  await ui.close();
  const text = out.text();
  assert.ok(text.endsWith('\n'));
  const lines = text.slice(0, -1).split('\n');
  assert.equal(lines.length, events.length);
  lines.forEach((line, i) => {
    const obj = JSON.parse(line);
    assert.equal(obj.type, events[i]!.type);
    assert.ok(!Number.isNaN(Date.parse(obj.ts)));
  });
  assert.equal(text.includes(MARKER), false);
  assert.equal(JSON.parse(lines[0]!).runId, 'run-1');
  const objs = lines.map((l) => JSON.parse(l));
  assert.deepEqual(objs[1].ref, { key: 'cn-hangzhou/10.0.0.2', file: 'branches.csv', line: 2, region: 'cn-hangzhou', ip: '10.0.0.2' });
  assert.equal(objs[1].action, 'create');
  const failed = objs.find((o) => o.type === 'row:done' && o.result.status === 'failed');
  assert.equal(failed.result.errorCode, 'IllegalParam.AuthKey');
  assert.match(failed.result.errorMessage, /AuthKey \*\*\* rejected/);
});

test('json: each event is written with a single write call (flushed as it happens)', () => {
  const writes: string[] = [];
  const ui = createProgress('json', { write: (s) => void writes.push(s) }, { color: false });
  for (const e of script()) ui.onEvent(e);
  assert.equal(writes.length, script().length);
  for (const w of writes) assert.equal(w.indexOf('\n'), w.length - 1);
});

test('simple: readable lines, no ANSI, one per failed row, a final line per lane saying how it ended, no secret', async () => {
  const out = sink();
  const ui = createProgress('simple', out, { redactor: redactor(), color: true });
  for (const e of script()) ui.onEvent(e);
  ui.onEvent(runDone);
  await ui.close();
  const text = out.text();
  assert.equal(text.includes('\u001b'), false, 'no ANSI or control sequences');
  assert.equal(text.includes(MARKER), false);
  assert.deepEqual(text.trimEnd().split('\n'), [
    'run run-1: 4 rows in 2 lanes',
    'cn-hangzhou  1/3 done  2 in flight  1 retries  2.0/s',
    'FAILED  branches.csv:3  cn-hangzhou/10.0.0.3  IllegalParam.AuthKey  AuthKey *** rejected [2Jstack',
    'cn-hangzhou  2/3 done  1 failed  1 in flight  1 retries  2.0/s',
    'cn-hangzhou  finished  3/3 done (2 created)  1 failed  1 retries',
    'stopping (interrupt): Interrupted: finishing 1 in-flight request',
    'cn-shanghai  interrupted  0/1 done  1 in flight',
    // The unannounced lane is shown by its full name with an unknown total.
    'acct/eu-central-1  finished  1/? created',
    'overall  interrupted  4/? done (3 created)  1 failed  1 in flight  1 retries',
    'run interrupted after 1s',
  ]);
});

test('simple: an interrupted run never says finished; its lane ends with what was done and what was not', async () => {
  const out = sink();
  const ui = createProgress('simple', out, { color: false });
  for (const e of ctrlC40()) ui.onEvent(e);
  await ui.close();
  const lines = out.text().trimEnd().split('\n');
  assert.equal(lines.some((l) => /finished/.test(l)), false, out.text());
  assert.ok(lines.includes('cn-hangzhou  interrupted  33/40 created  2 interrupted  5 not started'), out.text());
  assert.ok(lines.includes('overall  interrupted  33/40 created  0 failed  2 interrupted  5 not started'), out.text());
  assert.equal(lines.at(-1), 'run interrupted after 1s');
});

test('simple: a quota-stopped lane says so, and how it ended, while the other lane goes on', async () => {
  const out = sink();
  const ui = createProgress('simple', out, { color: false });
  const ev: RunEvent[] = [start([[HZ, 2], [SH, 3]])];
  ev.push(rowDone(SH, result({ line: 10, region: 'cn-shanghai' })));
  ev.push(rowDone(SH, result({ line: 11, region: 'cn-shanghai', status: 'failed', errorCode: 'Resource.QuotaFull', errorMessage: 'quota full' })));
  ev.push(laneStopped(SH, 'Resource.QuotaFull: no more creates are sent in cn-shanghai'));
  ev.push(rowDone(SH, notStarted(12, { region: 'cn-shanghai', errorMessage: 'not started: quota full' })));
  const before = ev.length;
  ev.push(rowDone(HZ, result({ line: 2 })), rowDone(HZ, result({ line: 3 })), runDoneEv());
  for (const e of ev.slice(0, before)) ui.onEvent(e);
  const mid = out.text().trimEnd().split('\n');
  assert.ok(mid.includes('cn-shanghai  stopped (quota): Resource.QuotaFull: no more creates are sent in cn-shanghai'), out.text());
  assert.equal(mid.at(-1), 'cn-shanghai  stopped (quota)  2/3 done (1 created)  1 failed  1 not started');
  for (const e of ev.slice(before)) ui.onEvent(e);
  await ui.close();
  const lines = out.text().trimEnd().split('\n');
  assert.ok(lines.includes('cn-hangzhou  finished  2/2 created'), out.text());
  assert.equal(lines.filter((l) => l.startsWith('cn-shanghai  stopped (quota)  ')).length, 1, 'its final line once');
  assert.equal(lines.at(-2), 'overall  stopped (quota)  4/5 done (3 created)  1 failed  1 not started');
  assert.equal(lines.at(-1), 'run stopped after 1s (quota)');
});

test('simple: close() without run:done still prints where each lane got to, once', async () => {
  const out = sink();
  const ui = createProgress('simple', out, { color: false });
  for (const e of script()) ui.onEvent(e);
  await ui.close();
  await ui.close();
  ui.onEvent(runDone);
  const lines = out.text().trimEnd().split('\n');
  assert.equal(lines.filter((l) => l.startsWith('cn-shanghai  interrupted  0/1 done')).length, 1, out.text());
  assert.equal(lines.filter((l) => l.startsWith('cn-hangzhou  finished  3/3 done')).length, 1);
  assert.equal(lines.filter((l) => l.startsWith('overall  ')).length, 1);
});

test('simple: the number of lines does not grow with the rows (tenths of each lane, capped failures)', () => {
  let now = 0;
  const out = sink();
  const ui = simpleProgress(out, { now: () => now });
  ui.onEvent(start([['a/cn-hangzhou', 1000]]));
  for (let i = 0; i < 1000; i++) {
    now += 10; // 10 s in all: no heartbeat
    ui.onEvent(rowDone('a/cn-hangzhou', result({ line: i + 2 })));
  }
  ui.onEvent(runDoneEv());
  const lines = out.text().trimEnd().split('\n');
  // header + 9 tenths + the lane's final line + overall + the run's last line
  assert.equal(lines.length, 13, lines.join('\n'));
  assert.equal(lines[10], 'cn-hangzhou  finished  1000/1000 created');

  const out2 = sink();
  const ui2 = simpleProgress(out2, { now: () => 0, maxFailureLines: 20 });
  ui2.onEvent(start([['a/x', 1000]]));
  for (let i = 0; i < 1000; i++) ui2.onEvent(rowDone('a/x', result({ line: i + 2, region: 'x', status: 'failed', errorCode: 'E' })));
  ui2.onEvent(runDoneEv());
  const lines2 = out2.text().trimEnd().split('\n');
  assert.equal(lines2.filter((l) => l.startsWith('FAILED')).length, 20);
  assert.equal(lines2.filter((l) => l.startsWith('(further failed rows')).length, 1);
  assert.ok(lines2.length <= 20 + 1 + 13, String(lines2.length));
});

test('simple: a heartbeat overall line when nothing was printed for a minute (CI jobs must not look hung)', () => {
  let now = 0;
  const out = sink();
  const ui = simpleProgress(out, { now: () => now });
  ui.onEvent(start([['a/x', 1000]]));
  ui.onEvent(rate('a/x', 1.5));
  now = 30_000;
  ui.onEvent(rate('a/x', 1.5));
  assert.equal(out.text().trimEnd().split('\n').length, 1);
  now = 61_000;
  ui.onEvent(rate('a/x', 1.5));
  assert.deepEqual(out.text().trimEnd().split('\n').slice(1), ['overall  0/1000 done  0 failed  0 in flight  1.5/s']);
  now = 62_000;
  ui.onEvent(rate('a/x', 1.5));
  assert.equal(out.text().trimEnd().split('\n').length, 2);
});

test('quiet: prints nothing at all', async () => {
  const out = sink();
  const ui = createProgress('quiet', out, { color: false });
  for (const e of script()) ui.onEvent(e);
  ui.onEvent(runDone);
  await ui.close();
  assert.equal(out.text(), '');
});

// ---- tty: the in-place renderer, captured through our writer ----

/** The frames drawn (each redraw starts after the erase sequence), ANSI stripped, as lines. */
function frames(raw: string): string[][] {
  return raw
    .split('\u001b[G')
    .map((f) => stripAnsi(f).split('\n').filter((l) => l.trim() !== ''))
    .filter((f) => f.length > 0);
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const TICK = /^[✔√] /;

test('tty: renders lanes, copes with an unannounced lane, and close() resolves without run:done', async () => {
  const out = sink();
  const ui = createProgress('tty', out, { redactor: redactor(), color: false });
  for (const e of script()) ui.onEvent(e);
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([ui.close().then(() => 'closed'), new Promise((r) => (timer = setTimeout(() => r('timeout'), 5000)))]);
  clearTimeout(timer);
  assert.equal(outcome, 'closed');
  const text = out.text();
  assert.equal(text.includes(MARKER), false);
  const last = frames(text).at(-1)!;
  assert.match(last[0]!, /^↓ overall {2}interrupted {2}4\/\? done/);
  assert.ok(last.some((l) => /^  ↓ stopping \(interrupt\): Interrupted: finishing 1 in-flight request$/.test(l)), last.join('\n'));
  // The lane with a failed row finished every row: a cross, not a tick; its failure stays listed under it.
  assert.ok(last.includes('✖ cn-hangzhou  finished  3/3 done (2 created)  1 failed  1 retries'), last.join('\n'));
  assert.ok(last.some((l) => /^ {2}› branches\.csv:3 {2}cn-hangzhou\/10\.0\.0\.3 {2}IllegalParam\.AuthKey {2}AuthKey \*\*\*/.test(l)), last.join('\n'));
  assert.ok(last.includes('↓ cn-shanghai  interrupted  0/1 done  1 in flight'), last.join('\n'));
  assert.ok(last.includes('✔ acct/eu-central-1  finished  1/? created'), last.join('\n'));
  // Events after close are ignored rather than throwing.
  ui.onEvent(runDone);
});

test('tty: after Ctrl-C the lane is never shown with a check mark, in any frame', async () => {
  const out = sink();
  const ui = createProgress('tty', out, { color: false, columns: 80 });
  for (const e of ctrlC40()) ui.onEvent(e);
  await ui.close();
  const all = frames(out.text());
  for (const f of all) for (const l of f) assert.doesNotMatch(l, TICK, l);
  const last = all.at(-1)!;
  assert.ok(last.includes('↓ cn-hangzhou  interrupted  33/40 created  2 interrupted  5 not started'), last.join('\n'));
  assert.equal(last[0], '↓ overall  interrupted  33/40 created  0 failed  2 interrupted  5 not started');
});

test('tty: a quota-stopped lane gets its mark while the other lane still runs; a clean lane gets a tick', async () => {
  const out = sink();
  const ui = createProgress('tty', out, { color: false, columns: 80 });
  ui.onEvent(start([[HZ, 2], [SH, 2]]));
  ui.onEvent(rowStart(HZ, ref(2)));
  ui.onEvent(rowDone(SH, result({ line: 10, region: 'cn-shanghai', status: 'failed', errorCode: 'Resource.QuotaFull', errorMessage: 'quota full' })));
  ui.onEvent(laneStopped(SH, 'Resource.QuotaFull: no more creates are sent in cn-shanghai'));
  ui.onEvent(rowDone(SH, notStarted(11, { region: 'cn-shanghai', errorMessage: 'not started: quota' })));
  try {
    await until(() => frames(out.text()).at(-1)?.some((l) => l.startsWith('↓ cn-shanghai  stopped (quota)')) ?? false);
    const mid = frames(out.text()).at(-1)!;
    assert.ok(mid.includes('↓ cn-shanghai  stopped (quota)  1/2 done  1 failed  1 not started'), mid.join('\n'));
    assert.ok(mid.some((l) => /^ {2}[›↓] stopped \(quota\): Resource\.QuotaFull: no more creates are sent/.test(l)), mid.join('\n'));
    assert.ok(mid.some((l) => /^. cn-hangzhou {2}0\/2 done {2}1 in flight$/.test(l) && !TICK.test(l)), mid.join('\n'));
    ui.onEvent(rowDone(HZ, result({ line: 2 })));
    ui.onEvent(rowDone(HZ, result({ line: 3 })));
    ui.onEvent(runDoneEv());
  } finally {
    await ui.close();
  }
  const last = frames(out.text()).at(-1)!;
  assert.ok(last.includes('✔ cn-hangzhou  finished  2/2 created'), last.join('\n'));
  assert.equal(last[0], '↓ overall  stopped (quota)  3/4 done (2 created)  1 failed  1 not started');
});

test('tty: the overall line shows the total rate and the time left from an injected clock', async () => {
  let now = 0;
  const out = sink();
  const ui = createProgress('tty', out, { color: false, columns: 80, now: () => now });
  ui.onEvent(start([['a/cn-a', 100], ['a/cn-b', 100]]));
  ui.onEvent(rate('a/cn-a', 5));
  ui.onEvent(rate('a/cn-b', 1));
  for (let t = 500; t <= 10_000; t += 500) {
    now = t;
    ui.onEvent(rowDone('a/cn-a', result({ line: t / 500, region: 'cn-a' })));
    if (t % 1000 === 0) ui.onEvent(rowDone('a/cn-b', result({ line: t / 1000, region: 'cn-b' })));
  }
  try {
    await until(() => frames(out.text()).at(-1)?.[0]?.includes('left') ?? false);
    assert.equal(frames(out.text()).at(-1)![0]!.slice(2), 'overall  30/200 done  0 failed  0 in flight  6.0/s  ~1m 30s left');
    // Time passes with no event: the estimate is redrawn from the clock (the pace falls, the time left grows).
    now = 20_000;
    await until(() => frames(out.text()).at(-1)?.[0]?.includes('~3m 00s left') ?? false);
  } finally {
    await ui.close();
  }
});

test('tty: every line of every frame fits the terminal width, colour on, wide characters included', async () => {
  const columns = 60;
  const out = sink();
  const ui = createProgress('tty', out, { color: true, columns, redactor: redactor() });
  const long = 'acct-with-a-rather-long-account-name/cn-hangzhou';
  ui.onEvent(start([[long, 5], [SH, 3]]));
  ui.onEvent(rate(long, 12.5));
  ui.onEvent(rowStart(long, ref(2)));
  ui.onEvent(rowDone(long, result({ line: 2, status: 'failed', errorCode: 'E', errorMessage: `北京分公司名称 ${MARKER} `.repeat(8) })));
  ui.onEvent(rowDone(SH, result({ line: 3, region: 'cn-shanghai', status: 'unknown', errorCode: 'ECONNRESET', errorMessage: 'socket hang up '.repeat(10) })));
  ui.onEvent(laneStopped(SH, 'Resource.QuotaFull: '.repeat(6)));
  ui.onEvent(stopping('max-failures', 'stopping: 2 row(s) failed (--max-failures); nothing more is sent'));
  ui.onEvent(runDoneEv('max-failures'));
  await ui.close();
  const text = out.text();
  assert.equal(text.includes(MARKER), false);
  assert.match(text, /\u001b\[3\dm/, 'coloured');
  const all = frames(text);
  assert.ok(all.length >= 1);
  for (const f of all) for (const l of f) assert.ok(displayWidth(l) <= columns, `${displayWidth(l)} > ${columns}: ${l}`);
  const last = all.at(-1)!;
  assert.ok(last.some((l) => l.startsWith('↓ cn-hangzhou  stopped (max-failures)') && l.endsWith('…')), last.join('\n'));
  assert.ok(last.some((l) => /^ {2}[›↓] branches\.csv:2 {2}cn-hangzhou\/10\.0\.0\.2 {2}E {2}北京/.test(l) && l.endsWith('…')), last.join('\n'));
});

test('tty: leaves no listeners, no timers and no hijacked streams behind; close() is idempotent', async () => {
  const signals = ['SIGINT', 'SIGTERM', 'exit', 'SIGWINCH'] as const;
  const before = signals.map((s) => process.listenerCount(s));
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const timersBefore = timers();
  const stdoutWrite = process.stdout.write;
  const out = sink();
  const ui = createProgress('tty', out, { color: false });
  for (const e of ctrlC40()) ui.onEvent(e);
  await ui.close();
  await ui.close();
  assert.deepEqual(
    signals.map((s) => process.listenerCount(s)),
    before,
  );
  assert.equal(process.stdout.write, stdoutWrite, 'process.stdout is not hijacked');
  await until(() => timers() <= timersBefore, 2000);
  // A ui that never saw an event closes too.
  await createProgress('tty', sink(), { color: false }).close();
});

test('tty: a normal run with run:done closes promptly with ticks', async () => {
  const out = sink();
  const ui = createProgress('tty', out, { color: true });
  ui.onEvent(start([['a/x', 1]]));
  ui.onEvent(rowDone('a/x', result({ line: 2, region: 'x' })));
  ui.onEvent(runDoneEv());
  await ui.close();
  const last = frames(out.text()).at(-1)!;
  assert.deepEqual(last, ['✔ overall  finished  1/1 created  0 failed', '✔ x  finished  1/1 created']);
});

test('simple: the first line counts one row and one lane in the singular', async () => {
  const out = sink();
  const ui = createProgress('simple', out, { color: false });
  ui.onEvent(start([[HZ, 1]]));
  await ui.close();
  assert.equal(out.text().split('\n')[0], 'run run-1: 1 row in 1 lane');
});
