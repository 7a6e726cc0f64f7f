// The executor on a fake cloud and a virtual clock: exactly-once creates, outcomes that are never forgotten, the first
// request alone, stops (Ctrl-C, --max-failures, quota, auth, permissions) that cancel every send not on the wire.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CloudError } from '../../src/cloud/errors.js';
import { executePlan } from '../../src/execute/execute.js';
import { specHash } from '../../src/plan/identity.js';
import type { RowResult } from '../../src/types.js';
import { FakeVpc, type Script } from '../helpers/fake-vpc.js';
import { MemoryJournal } from '../helpers/memory-journal.js';
import { REGION, creates, opts, planAndRun, planned } from './fixture.js';

const byIp = (rs: RowResult[], ip: string): RowResult => rs.find((r) => r.ref.ip === ip)!;

test('creates every row once; the intent with its token is journaled before the send; results carry the plan refs', async () => {
  const fake = new FakeVpc();
  const journal = new MemoryJournal();
  const sentBeforeIntent: string[] = [];
  const origCreate = fake.createCustomerGateway.bind(fake);
  fake.createCustomerGateway = async (input) => {
    const key = `${input.regionId}/${input.ipAddress}`;
    if (journal.get(key)?.token !== input.clientToken || journal.get(key)?.status !== 'in-flight') sentBeforeIntent.push(key);
    return origCreate(input);
  };
  const o = opts({ fake, journal });
  const r = await executePlan(o);
  assert.deepEqual(r.results.map((x) => x.status), ['created', 'created', 'created', 'created', 'created']);
  assert.equal(fake.gateways.length, 5);
  assert.deepEqual(sentBeforeIntent, []);
  assert.ok(r.results.every((x, i) => x.ref === o.rows[i]!.ref && x.action === 'create' && x.gatewayId?.startsWith('cgw-')));
  assert.equal(o.events[0]?.type, 'run:start');
  assert.equal(o.events.filter((e) => e.type === 'row:done').length, 5);
});

test('a dropped response is retried with the same token: exactly one gateway (case 38)', async () => {
  const fake = new FakeVpc((_i, call) => (call === 1 ? 'commit-drop' : 'ok'));
  const r = await executePlan(opts({ fake, rows: creates(1) }));
  assert.equal(r.results[0]?.status, 'created');
  assert.equal(r.results[0]?.attempts, 2);
  assert.equal(fake.gateways.length, 1);
  assert.equal(fake.calls[0]?.clientToken, fake.calls[1]?.clientToken);
});

test('throttling and 5xx bursts: each row created once, tokens stable, validation errors not retried (case 44)', async () => {
  const script: Script = (input, call) => {
    if (input.ipAddress === '203.0.113.3') return 'InvalidName';
    if (call % 3 === 0) return 'Throttling.User';
    if (call % 5 === 0) return 'ServiceUnavailable';
    if (call % 7 === 0) return 'commit-drop';
    return 'ok';
  };
  const fake = new FakeVpc(script);
  const r = await executePlan(opts({ fake, rows: creates(30), concurrency: 10 }));
  const bad = byIp(r.results, '203.0.113.3');
  assert.equal(bad.status, 'failed');
  assert.equal(bad.errorCode, 'InvalidName');
  assert.equal(fake.calls.filter((c) => c.ipAddress === '203.0.113.3').length, 1, 'terminal errors are not retried');
  assert.equal(r.results.filter((x) => x.status === 'created').length, 29);
  assert.equal(fake.gateways.length, 29);
  const tokens = new Map<string, Set<string>>();
  for (const c of fake.calls) tokens.set(c.ipAddress, (tokens.get(c.ipAddress) ?? new Set()).add(c.clientToken!));
  for (const [ip, toks] of tokens) assert.equal(toks.size, 1, `one token for ${ip}`);
  assert.ok(r.throttled > 0);
});

test('AlreadyExist reconciles by listing: the row\'s own gateway is recorded, another one fails the row (cases 40, 43)', async () => {
  const fake = new FakeVpc();
  fake.gateways.push({ id: 'cgw-existing000000000001', regionId: REGION, ip: '203.0.113.1', name: 'site-1', createTime: 1, tags: [] });
  fake.gateways.push({ id: 'cgw-other00000000000002', regionId: REGION, ip: '203.0.113.2', name: 'someone-else', createTime: 1, tags: [] });
  const r = await executePlan(opts({ fake, rows: creates(2) }));
  assert.equal(r.results[0]?.status, 'created');
  assert.equal(r.results[0]?.gatewayId, 'cgw-existing000000000001');
  assert.match(r.results[0]?.note ?? '', /made by an earlier attempt/);
  assert.equal(r.results[1]?.status, 'failed');
  assert.equal(r.results[1]?.errorClass, 'conflict');
  assert.match(r.results[1]?.errorMessage ?? '', /cgw-other00000000000002/);
  assert.equal(fake.gateways.length, 2, 'nothing new created');
});

test('the reconciliation listing is a request of the run: each page through send(), throttling retried and counted like any other', async () => {
  const fake = new FakeVpc();
  // 120 gateways: the listing is three pages; the row's own gateway is on the last one.
  for (let i = 0; i < 119; i++) fake.gateways.push({ id: `cgw-filler${String(i).padStart(14, '0')}`, regionId: REGION, ip: `198.18.0.${i}`, createTime: 1, tags: [] });
  fake.gateways.push({ id: 'cgw-existing000000000001', regionId: REGION, ip: '203.0.113.1', name: 'site-1', createTime: 1, tags: [] });
  const pages: number[] = [];
  const describe = fake.describeCustomerGateways.bind(fake);
  let throttledOnce = false;
  fake.describeCustomerGateways = async (input) => {
    pages.push(input.pageNumber ?? 1);
    if (input.pageNumber === 2 && !throttledOnce) {
      throttledOnce = true;
      throw new CloudError({ code: 'Throttling.User', message: 'slow down', status: 400, errorClass: 'throttled', retryAfterMs: 50 });
    }
    return describe(input);
  };
  const o = opts({ fake, rows: creates(1) });
  const r = await executePlan(o);
  assert.equal(r.results[0]?.status, 'created');
  assert.equal(r.results[0]?.gatewayId, 'cgw-existing000000000001');
  assert.deepEqual(pages, [1, 2, 2, 3], 'the throttled page is retried where it failed');
  // One create, four listing requests (one throttled): all in the run's counts; the row's attempts are its creates.
  assert.equal(r.requests, 5);
  assert.equal(r.throttled, 1);
  assert.equal(r.results[0]?.attempts, 1);
  assert.equal(o.events.filter((e) => e.type === 'row:start').length, 1, 'listing pages are not row attempts');
});

test('an answer lost on every attempt is never "failed": the row stays maybe-created, and the next plan resumes it (no duplicate)', async () => {
  // The server commits the first create and every answer is lost.
  const fake = new FakeVpc(() => 'commit-drop');
  const journal = new MemoryJournal();
  const retry = { maxAttempts: 3, maxThrottledAttempts: 5, maxThrottledMs: 60_000, baseMs: 1, capMs: 1 };
  const first = await planAndRun(fake, journal, [{ ip: '203.0.113.1', name: 'HQ' }], {}, { retry });
  const r1 = first.exec.results[0]!;
  assert.equal(r1.status, 'unknown');
  assert.equal(r1.errorCode, 'ECONNRESET');
  assert.equal(journal.get(`${REGION}/203.0.113.1`)?.status, 'unknown');
  assert.equal(fake.gateways.length, 1, 'the server did create it');

  // The next plan sees the gateway in the listing: resume records it without a request.
  const calls = fake.calls.length;
  const second = await planAndRun(fake, journal, [{ ip: '203.0.113.1', name: 'HQ' }]);
  assert.deepEqual(second.plan.rows.map((r) => [r.action, r.existingId]), [['resume', fake.gateways[0]!.id]]);
  assert.equal(second.exec.results[0]!.status, 'created');
  assert.equal(fake.calls.length, calls, 'recorded without a request');
  assert.equal(journal.get(`${REGION}/203.0.113.1`)?.gatewayId, fake.gateways[0]!.id);
  const third = await planAndRun(fake, journal, [{ ip: '203.0.113.1', name: 'HQ' }]);
  assert.deepEqual(third.plan.rows.map((r) => r.action), ['skip']);
  assert.equal(fake.gateways.length, 1);
});

test('a create interrupted before its answer is resumed with the same ClientToken when nothing was made', async () => {
  const fake = new FakeVpc((_i, call) => (call === 1 ? 'ServiceUnavailable' : 'ok'));
  const journal = new MemoryJournal();
  const stop = new AbortController();
  const o = opts({ fake, journal, rows: creates(1) });
  o.onEvent = (e) => {
    if (e.type === 'row:retry') stop.abort();
  };
  const r1 = await executePlan({ ...o, stopSignal: stop.signal });
  // ServiceUnavailable may have been committed: maybe created, recorded so.
  assert.equal(r1.results[0]!.status, 'unknown');
  assert.equal(r1.results[0]!.errorCode, 'Interrupted');
  const tokenBefore = journal.get(`${REGION}/203.0.113.1`)!.token;
  const next = await planAndRun(fake, journal, [{ ip: '203.0.113.1', name: 'site-1' }]);
  assert.deepEqual(next.plan.rows.map((r) => [r.action, r.generation]), [['resume', 1]]);
  assert.equal(next.exec.results[0]!.status, 'created');
  assert.equal(fake.calls.at(-1)!.clientToken, tokenBefore);
  assert.equal(fake.gateways.length, 1);
});

test('a definitive failure is blocked until the row is fixed or --retry-failed; the retry gets a new token (case 42)', async () => {
  const fake = new FakeVpc((i) => (i.name === 'bad' ? 'InvalidName' : 'ok'));
  const journal = new MemoryJournal();
  const r1 = await planAndRun(fake, journal, [{ ip: '203.0.113.1', name: 'bad' }]);
  assert.equal(r1.exec.results[0]!.status, 'failed');
  const again = await planAndRun(fake, journal, [{ ip: '203.0.113.1', name: 'bad' }]);
  assert.deepEqual(again.plan.rows.map((r) => [r.action, r.needs]), [['blocked', '--retry-failed']]);
  assert.equal(again.exec.results.length, 0, 'nothing carried out');
  assert.equal(fake.calls.length, 1);
  const forced = await planAndRun(fake, journal, [{ ip: '203.0.113.1', name: 'bad' }], { retryFailed: true });
  assert.deepEqual(forced.plan.rows.map((r) => [r.action, r.generation]), [['retry', 2]]);
  assert.equal(fake.calls.length, 2);
  const fixed = await planAndRun(fake, journal, [{ ip: '203.0.113.1', name: 'good' }]);
  assert.deepEqual(fixed.plan.rows.map((r) => [r.action, r.generation]), [['retry', 3]]);
  assert.equal(fixed.exec.results[0]!.status, 'created');
  assert.equal(new Set(fake.calls.map((c) => c.clientToken)).size, 3);
});

test('the first request goes alone: a wrong secret sends exactly one request, whatever the concurrency', async () => {
  const fake = new FakeVpc(() => 'InvalidAccessKeyId.NotFound');
  const a = creates(20);
  const b = creates(20, 'cn-shanghai');
  const r = await executePlan(opts({ fake, rows: [...a, ...b], concurrency: 16 }));
  assert.equal(r.stopReason, 'auth');
  assert.equal(r.stopError?.code, 'InvalidAccessKeyId.NotFound');
  assert.equal(fake.calls.length, 1);
  assert.equal(r.results.filter((x) => x.errorCode === 'NotStarted').length, 39);
  assert.ok(r.results.every((x) => x.status !== 'unknown'), 'a refused request created nothing');
});

test('a permission error stops the run; nothing more is sent', async () => {
  const fake = new FakeVpc((_i, call) => (call === 2 ? 'Forbidden.SubUser' : 'ok'));
  const r = await executePlan(opts({ fake, rows: creates(10), concurrency: 1 }));
  assert.equal(r.stopReason, 'forbidden');
  assert.equal(fake.calls.length, 2);
  assert.equal(r.results.filter((x) => x.status === 'created').length, 1);
  assert.equal(r.results.filter((x) => x.errorCode === 'NotStarted').length, 8);
});

test('--max-failures: after the Nth failure nothing new is sent; only requests already on the wire may fail later', async () => {
  const fake = new FakeVpc(() => 'InvalidName');
  const r = await executePlan(opts({ fake, rows: creates(60), concurrency: 16, maxFailures: { count: 4 } }));
  assert.equal(r.stopReason, 'max-failures');
  const failed = r.results.filter((x) => x.status === 'failed').length;
  assert.ok(failed >= 4, `${failed}`);
  // Every failure beyond the 4th was already on the wire when the 4th came back: at most the lane's concurrency.
  assert.ok(fake.calls.length <= 4 + 16, `requests ${fake.calls.length}`);
  assert.equal(fake.calls.length, failed);
  assert.equal(r.results.filter((x) => x.errorCode === 'NotStarted').length, 60 - failed);

  const one = new FakeVpc(() => 'InvalidName');
  const serial = await executePlan(opts({ fake: one, rows: creates(20), concurrency: 1, maxFailures: { count: 3 } }));
  assert.equal(one.calls.length, 3);
  assert.equal(serial.results.filter((x) => x.status === 'failed').length, 3);
});

test('a systemic outage trips the retry budget: bounded requests', async () => {
  const down = new FakeVpc(() => 'ServiceUnavailable');
  const r = await executePlan(opts({ fake: down, rows: creates(50), concurrency: 4, retryBudget: 50 }));
  assert.equal(r.stopReason, 'retry-budget');
  assert.ok(down.calls.length < 40, `bounded requests: ${down.calls.length}`);
  // Rows whose create may have been committed are never reported as certainly failed.
  for (const x of r.results) if (x.attempts > 0) assert.equal(x.status, 'unknown');
});

test('a full quota stops the creates of that lane at once; the other lane goes on', async () => {
  let hz = 0;
  const fake = new FakeVpc((input) => (input.regionId === REGION && ++hz > 3 ? 'Resource.QuotaFull' : 'ok'));
  const o = opts({ fake, rows: [...creates(20), ...creates(20, 'cn-shanghai')], concurrency: 1 });
  const r = await executePlan(o);
  assert.equal(r.stopReason, undefined);
  const mine = r.results.filter((x) => x.ref.region === REGION);
  assert.equal(mine.filter((x) => x.status === 'created').length, 3);
  assert.equal(mine.filter((x) => x.status === 'failed' && x.errorCode === 'Resource.QuotaFull').length, 1);
  assert.equal(mine.filter((x) => x.errorCode === 'NotStarted').length, 16);
  assert.match(mine.find((x) => x.errorCode === 'NotStarted')!.errorMessage!, /quota is full/);
  assert.equal(r.results.filter((x) => x.ref.region === 'cn-shanghai' && x.status === 'created').length, 20);
  assert.equal(fake.calls.filter((c) => c.regionId === REGION).length, 4);
  assert.ok(o.events.some((e) => e.type === 'lane:stopped' && e.reason === 'quota'));
});

test('soft stop: queued sends are cancelled at once; the run reports interrupt', async () => {
  const fake = new FakeVpc();
  const stop = new AbortController();
  const o = opts({ fake, rows: creates(10), concurrency: 1 });
  let started = 0;
  // Ctrl-C while the third request is on the wire: it finishes; the seven queued behind it are never sent.
  o.onEvent = (e) => {
    if (e.type === 'row:start' && ++started === 3) stop.abort();
  };
  const r = await executePlan({ ...o, stopSignal: stop.signal });
  assert.equal(r.stopReason, 'interrupt');
  assert.equal(r.results.filter((x) => x.status === 'created').length, 3);
  assert.equal(r.results.filter((x) => x.errorCode === 'NotStarted').length, 7);
  assert.equal(fake.calls.length, 3);
});

test('eighty rows backing off at once add no listener per row to a shared signal (no MaxListenersExceededWarning)', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.name);
  process.on('warning', onWarning);
  try {
    const fake = new FakeVpc((_i, call) => (call <= 80 ? 'OperationConflict' : 'ok'));
    const stop = new AbortController();
    const r = await executePlan({ ...opts({ fake, rows: creates(80), concurrency: 100 }), stopSignal: stop.signal });
    assert.equal(r.results.filter((x) => x.status === 'created').length, 80);
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(warnings, []);
  } finally {
    process.off('warning', onWarning);
  }
});

test('adopt and resume-with-gateway record without a request; changes are then sent as an update', async () => {
  const fake = new FakeVpc();
  fake.gateways.push({ id: 'cgw-a', regionId: REGION, ip: '203.0.113.7', name: 'x', description: 'old', createTime: 1, tags: [] });
  const journal = new MemoryJournal();
  const r = await executePlan(
    opts({
      fake,
      journal,
      rows: [planned('203.0.113.7', 'adopt', { name: 'x', description: 'new' }, { existingId: 'cgw-a', changes: [{ field: 'description', before: 'old', after: 'new' }] })],
    }),
  );
  assert.equal(r.results[0]!.status, 'adopted');
  assert.equal(fake.calls.length, 0);
  assert.deepEqual(fake.day2, ['Modify cgw-a description']);
  const j = journal.get(`${REGION}/203.0.113.7`)!;
  assert.equal(j.adopted, true);
  assert.equal(j.description, 'new');
});

test('specHash ignores tag order and never contains the AuthKey', () => {
  const a = specHash({ region: 'r', ip: '1.1.1.1', tags: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }] }, 'fp');
  const b = specHash({ region: 'r', ip: '1.1.1.1', tags: [{ key: 'b', value: '2' }, { key: 'a', value: '1' }] }, 'fp');
  assert.equal(a, b);
  assert.notEqual(a, specHash({ region: 'r', ip: '1.1.1.1', tags: [] }, 'other'));
});

test('fencing: once the journal says its lease is lost, no further request is sent; rows not sent are never reported created', async () => {
  const fake = new FakeVpc();
  const journal = new MemoryJournal();
  const origCreate = fake.createCustomerGateway.bind(fake);
  fake.createCustomerGateway = async (input) => {
    const out = await origCreate(input);
    // The lease is found lost (taken over, broken) while the third create is on the wire.
    if (fake.calls.length === 3) journal.lost = new Error('lost the lease on state oss://b/p: another runner appended to the journal; stopped');
    return out;
  };
  const r = await executePlan(opts({ fake, journal, rows: creates(10), concurrency: 1, rate: 1 }));
  assert.equal(fake.calls.length, 3, 'nothing is sent after the loss');
  assert.ok(journal.asserts >= 4, 'asked before every call');
  assert.deepEqual(r.results.filter((x) => x.status === 'created').length, 3);
  for (const x of r.results.filter((x) => x.status !== 'created')) assert.match(x.errorMessage ?? '', /lost the lease/);
});
