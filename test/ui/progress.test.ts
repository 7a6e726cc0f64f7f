// Progress renderers: NDJSON shape and secrecy, plain simple lines, listr2 tty mode that always closes.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '../../src/secrets.js';
import { createProgress } from '../../src/ui/progress.js';
import { simpleProgress } from '../../src/ui/simple.js';
import { applyEvent, laneLine, newRunState } from '../../src/ui/lanes.js';
import { MARKER, runDone, script, sink } from './events.js';

function redactor(): Redactor {
  const r = new Redactor();
  r.add(MARKER);
  return r;
}

test('json: exactly one parseable object per line per event, with ts, and no secret', async () => {
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
  const failed = lines.map((l) => JSON.parse(l)).find((o) => o.type === 'row:done' && o.result.status === 'failed');
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

test('simple: readable lines, no ANSI, one per failed row, final line per lane, no secret', async () => {
  const out = sink();
  const ui = createProgress('simple', out, { redactor: redactor(), color: true });
  for (const e of script()) ui.onEvent(e);
  ui.onEvent(runDone);
  await ui.close();
  const text = out.text();
  assert.equal(text.includes('\u001b'), false, 'no ANSI or control sequences');
  assert.equal(text.includes(MARKER), false);
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], 'run run-1: 4 rows in 2 lanes');
  assert.equal(lines.filter((l) => l.startsWith('FAILED')).length, 1);
  assert.match(lines.find((l) => l.startsWith('FAILED'))!, /^FAILED {2}branches\.csv:3 {2}cn-hangzhou\/10\.0\.0\.3 {2}IllegalParam\.AuthKey {2}AuthKey \*\*\* rejected \[2Jstack$/);
  assert.ok(lines.includes('cn-hangzhou  3/3 done  1 failed  1 retries'), text);
  assert.ok(lines.includes('cn-shanghai  0/1 done  0 failed'), text);
  assert.ok(lines.includes('stopping (interrupt): Interrupted: finishing 1 in-flight request'));
  assert.equal(lines.at(-1), 'done in 1.2 s (interrupted)');
  // The unannounced lane is shown by its full name with an unknown total.
  assert.ok(lines.includes('acct/eu-central-1  1/? done  0 failed'), text);
});

test('simple: close() without run:done still prints where each unfinished lane got to, once', async () => {
  const out = sink();
  const ui = createProgress('simple', out, { color: false });
  for (const e of script()) ui.onEvent(e);
  await ui.close();
  await ui.close();
  const lines = out.text().trimEnd().split('\n');
  assert.equal(lines.filter((l) => l.startsWith('cn-shanghai  0/1 done')).length, 1);
  assert.equal(lines.filter((l) => l.startsWith('cn-hangzhou  3/3 done')).length, 1);
});

test('simple: count lines are bounded (every tenth of the lane or every 2 s)', () => {
  const out = sink();
  let now = 0;
  const ui = simpleProgress(out, { now: () => now });
  ui.onEvent({ type: 'run:start', runId: 'r', lanes: [{ lane: 'a/cn-hangzhou', region: 'cn-hangzhou', total: 1000 }] });
  for (let i = 0; i < 1000; i++) {
    now += 1; // 1 s in all: the time trigger never fires
    ui.onEvent({ type: 'row:done', lane: 'a/cn-hangzhou', result: { ...baseResult(i), status: 'created' } });
  }
  const lines = out.text().trimEnd().split('\n');
  // header + 9 step lines + the final line
  assert.equal(lines.length, 11, lines.join('\n'));
  const out2 = sink();
  now = 0;
  const ui2 = simpleProgress(out2, { now: () => now });
  ui2.onEvent({ type: 'run:start', runId: 'r', lanes: [{ lane: 'a/x', region: 'x', total: 1000 }] });
  for (let i = 0; i < 5; i++) {
    now += 2500;
    ui2.onEvent({ type: 'row:done', lane: 'a/x', result: baseResult(i) });
  }
  assert.equal(out2.text().trimEnd().split('\n').length, 1 + 4, out2.text());
});

function baseResult(i: number) {
  return { key: `k${i}`, file: 'f.csv', line: i + 2, region: 'cn-hangzhou', ip: `10.0.${i >> 8}.${i & 255}`, status: 'created' as const, attempts: 1, durationMs: 1, echo: {} };
}

test('lane state: in-flight counts started rows until done; titles as specified', () => {
  const s = newRunState();
  for (const e of script()) applyEvent(s, e);
  const hz = s.lanes.get('acct/cn-hangzhou')!;
  assert.equal(laneLine(hz), 'cn-hangzhou  3/3 done  1 failed  0 in flight  1 retries  2.0/s');
  assert.equal(laneLine(s.lanes.get('acct/cn-shanghai')!), 'cn-shanghai  0/1 done  1 in flight');
  assert.equal(s.stopping?.reason, 'interrupt');
});

test('lanes sharing a region (two accounts) are labelled by lane name', () => {
  const s = newRunState();
  applyEvent(s, { type: 'run:start', runId: 'r', lanes: [{ lane: 'a/x', region: 'x', total: 1 }, { lane: 'b/x', region: 'x', total: 1 }, { lane: 'a/y', region: 'y', total: 1 }] });
  assert.deepEqual([...s.lanes.values()].map((l) => l.label), ['a/x', 'b/x', 'y']);
});

test('quiet: prints nothing at all', async () => {
  const out = sink();
  const ui = createProgress('quiet', out, { color: false });
  for (const e of script()) ui.onEvent(e);
  ui.onEvent(runDone);
  await ui.close();
  assert.equal(out.text(), '');
});

test('tty: listr2 renders lanes, copes with an unannounced lane, and close() resolves without run:done', async () => {
  const out = sink();
  const ui = createProgress('tty', out, { redactor: redactor(), color: false });
  for (const e of script()) ui.onEvent(e);
  await new Promise((r) => setTimeout(r, 150));
  const closing = ui.close();
  const outcome = await Promise.race([closing.then(() => 'closed'), new Promise((r) => setTimeout(() => r('timeout'), 3000))]);
  assert.equal(outcome, 'closed');
  const text = out.text();
  assert.equal(text.includes(MARKER), false);
  assert.match(text, /cn-hangzhou {2}3\/3 done {2}1 failed/);
  assert.match(text, /cn-shanghai {2}0\/1 done/);
  assert.match(text, /IllegalParam\.AuthKey/);
  assert.match(text, /stopping \(interrupt\)/);
  // Events after close are ignored rather than throwing.
  ui.onEvent(runDone);
});

test('tty: a normal run with run:done closes promptly; no events at all also closes', async () => {
  const out = sink();
  const ui = createProgress('tty', out, { color: true });
  ui.onEvent({ type: 'run:start', runId: 'r', lanes: [{ lane: 'a/x', region: 'x', total: 1 }] });
  ui.onEvent({ type: 'row:done', lane: 'a/x', result: baseResult(0) });
  ui.onEvent({ type: 'run:done', interrupted: false, counts: { created: 1 }, durationMs: 5 });
  await ui.close();
  const empty = createProgress('tty', sink(), { color: false });
  await empty.close();
});
