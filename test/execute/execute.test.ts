import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { executePlan, specHash, type ExecRow, type ExecuteOptions } from '../../src/execute/execute.js';
import { seededRandom } from '../../src/execute/clock.js';
import type { RunEvent } from '../../src/types.js';
import { VirtualClock } from '../helpers/fake-clock.js';
import { FakeVpc, asClient, type Script } from '../helpers/fake-vpc.js';
import { MemoryJournal } from '../helpers/memory-journal.js';

const token = (runId: string, region: string, ip: string, gen: number) => `tok-${runId}-${region}-${ip}-${gen}`;

function rows(n: number, region = 'cn-hangzhou', base = 1): ExecRow[] {
  return Array.from({ length: n }, (_, i) => {
    const ip = `203.0.113.${base + i}`;
    return { key: `${region}/${ip}`, file: 'm.csv', line: i + 2, region, ip, spec: { region, ip, name: `site-${base + i}`, tags: [] }, echo: {}, action: 'create' as const };
  });
}

function opts(over: Partial<ExecuteOptions> & { fake: FakeVpc; journal?: MemoryJournal }): ExecuteOptions & { events: RunEvent[] } {
  const events: RunEvent[] = [];
  const { fake, ...rest } = over;
  return {
    rows: rows(5),
    runId: 'run1',
    journal: over.journal ?? new MemoryJournal(),
    clientFor: () => asClient(fake),
    account: 'AK',
    makeToken: token,
    fingerprint: (k) => `fp(${k.length})`,
    rate: 1000,
    clock: new VirtualClock(),
    random: seededRandom(1),
    onEvent: (e) => events.push(e),
    events,
    ...rest,
  };
}

test('creates every row once; the intent with its token is journaled before the send', async () => {
  const fake = new FakeVpc();
  const journal = new MemoryJournal();
  const sentBeforeIntent: string[] = [];
  const origCreate = fake.createCustomerGateway.bind(fake);
  fake.createCustomerGateway = async (input) => {
    const key = `${input.regionId}/${input.ipAddress}`;
    if (journal.get(key)?.token !== input.clientToken) sentBeforeIntent.push(key);
    return origCreate(input);
  };
  const o = opts({ fake, journal });
  const r = await executePlan(o);
  assert.deepEqual(r.results.map((x) => x.status), ['created', 'created', 'created', 'created', 'created']);
  assert.equal(fake.gateways.length, 5);
  assert.deepEqual(sentBeforeIntent, []);
  assert.ok(r.results.every((x) => x.gatewayId?.startsWith('cgw-')));
  assert.equal(o.events[0]?.type, 'run:start');
  assert.equal(o.events.filter((e) => e.type === 'row:done').length, 5);
});

test('a dropped response is retried with the same token: exactly one gateway (case 38)', async () => {
  const fake = new FakeVpc((_i, call) => (call === 1 ? 'commit-drop' : 'ok'));
  const r = await executePlan(opts({ fake, rows: rows(1) }));
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
  const r = await executePlan(opts({ fake, rows: rows(30), concurrency: 10 }));
  const bad = r.results.find((x) => x.ip === '203.0.113.3');
  assert.equal(bad?.status, 'failed');
  assert.equal(bad?.errorCode, 'InvalidName');
  assert.equal(fake.calls.filter((c) => c.ipAddress === '203.0.113.3').length, 1, 'terminal errors are not retried');
  assert.equal(r.results.filter((x) => x.status === 'created').length, 29);
  assert.equal(fake.gateways.length, 29);
  const byIp = new Map<string, Set<string>>();
  for (const c of fake.calls) byIp.set(c.ipAddress, (byIp.get(c.ipAddress) ?? new Set()).add(c.clientToken!));
  for (const [ip, toks] of byIp) assert.equal(toks.size, 1, `one token for ${ip}`);
  assert.ok(r.throttled > 0);
});

test('AlreadyExist after a lost first attempt reconciles by IP and adopts when name and ASN match (cases 40, 43)', async () => {
  const fake = new FakeVpc();
  // Someone (our earlier, forgotten attempt) created the gateway with the same attributes and another token.
  fake.gateways.push({ id: 'cgw-existing000000000001', regionId: 'cn-hangzhou', ip: '203.0.113.1', name: 'site-1', createTime: 1, tags: [] });
  fake.gateways.push({ id: 'cgw-other00000000000002', regionId: 'cn-hangzhou', ip: '203.0.113.2', name: 'someone-else', createTime: 1, tags: [] });
  const r = await executePlan(opts({ fake, rows: rows(2) }));
  assert.equal(r.results[0]?.status, 'adopted');
  assert.equal(r.results[0]?.gatewayId, 'cgw-existing000000000001');
  assert.equal(r.results[1]?.status, 'failed');
  assert.equal(r.results[1]?.errorClass, 'conflict');
  assert.match(r.results[1]?.errorMessage ?? '', /cgw-other00000000000002/);
  assert.equal(fake.gateways.length, 2, 'nothing new created');
});

test('resume: an in-flight row is resolved with its journaled token; a changed row gets IdempotentParameterMismatch as a conflict (case 41)', async () => {
  const fake = new FakeVpc((_i, call) => (call <= 2 ? 'commit-drop' : 'ok'));
  const journal = new MemoryJournal();
  // First run: both attempts "time out" after the server committed; hard-abort leaves the row in flight.
  const ac = new AbortController();
  const first = opts({ fake, journal, rows: rows(1), retry: { maxAttempts: 2, maxThrottledAttempts: 5, baseMs: 1, capMs: 1 } });
  const r1 = await executePlan({ ...first, abortSignal: ac.signal });
  assert.equal(r1.results[0]?.status, 'failed');
  assert.equal(r1.results[0]?.errorClass, 'transient');
  // Second run with the same row: same token, the server replays -> created, still one gateway.
  const r2 = await executePlan(opts({ fake, journal, rows: rows(1) }));
  assert.equal(r2.results[0]?.status, 'created');
  assert.equal(fake.gateways.length, 1);
  assert.equal(new Set(fake.calls.map((c) => c.clientToken)).size, 1);

  // A row left in flight, then edited by the user: the same token with new params -> conflict, no new token.
  const fake2 = new FakeVpc((_i, call) => (call === 1 ? 'commit-drop' : 'ok'));
  const j2 = new MemoryJournal();
  const ac2 = new AbortController();
  const o = opts({ fake: fake2, journal: j2, rows: rows(1) });
  o.onEvent = (e) => { if (e.type === 'row:retry') ac2.abort(); };
  const r3 = await executePlan({ ...o, abortSignal: ac2.signal });
  assert.equal(r3.results[0]?.status, 'in-flight');
  const edited = rows(1);
  edited[0]!.spec.name = 'renamed';
  const r4 = await executePlan(opts({ fake: fake2, journal: j2, rows: edited }));
  assert.equal(r4.results[0]?.status, 'failed');
  assert.equal(r4.results[0]?.errorCode, 'IdempotentParameterMismatch');
  assert.equal(fake2.gateways.length, 1);
  assert.equal(new Set(fake2.calls.map((c) => c.clientToken)).size, 1, 'never a silent new token');
});

test('a definitive failure keeps its generation until the row is fixed; the fix gets a new token (case 42)', async () => {
  const fake = new FakeVpc((i) => (i.name === 'bad' ? 'InvalidName' : 'ok'));
  const journal = new MemoryJournal();
  const bad = rows(1);
  bad[0]!.spec.name = 'bad';
  const r1 = await executePlan(opts({ fake, journal, rows: bad }));
  assert.equal(r1.results[0]?.status, 'failed');
  const r2 = await executePlan(opts({ fake, journal, rows: bad }));
  assert.equal(r2.results[0]?.status, 'failed', 'unchanged row is not resent');
  assert.equal(fake.calls.length, 1);
  const fixed = rows(1);
  const r3 = await executePlan(opts({ fake, journal, rows: fixed }));
  assert.equal(r3.results[0]?.status, 'created');
  assert.notEqual(fake.calls[0]?.clientToken, fake.calls[1]?.clientToken);
  assert.equal(journal.get(fixed[0]!.key)?.generation, 2);
});

test('authentication errors stop the run: nothing else is launched', async () => {
  const fake = new FakeVpc(() => 'InvalidAccessKeyId.NotFound');
  const r = await executePlan(opts({ fake, rows: rows(20), concurrency: 1 }));
  assert.equal(r.stopReason, 'auth');
  assert.ok(r.authError);
  assert.equal(fake.calls.length, 1);
  assert.equal(r.results.filter((x) => x.status === 'pending').length, 19);
});

test('--max-failures stops launching after the threshold; a systemic outage trips the retry budget', async () => {
  const fake = new FakeVpc(() => 'Forbidden');
  const r = await executePlan(opts({ fake, rows: rows(20), concurrency: 1, maxFailures: { count: 3 } }));
  assert.equal(r.stopReason, 'max-failures');
  assert.equal(r.results.filter((x) => x.status === 'failed').length, 3);
  assert.equal(fake.calls.length, 3);

  const down = new FakeVpc(() => 'ServiceUnavailable');
  const r2 = await executePlan(opts({ fake: down, rows: rows(50), concurrency: 4, retryBudget: 50 }));
  assert.equal(r2.stopReason, 'retry-budget');
  assert.ok(down.calls.length < 40, `bounded requests: ${down.calls.length}`);
});

test('soft stop: nothing new is launched, the run reports interrupt', async () => {
  const fake = new FakeVpc();
  const stop = new AbortController();
  const o = opts({ fake, rows: rows(10), concurrency: 1 });
  let done = 0;
  o.onEvent = (e) => { if (e.type === 'row:done' && ++done === 3) stop.abort(); };
  const r = await executePlan({ ...o, stopSignal: stop.signal });
  assert.equal(r.stopReason, 'interrupt');
  assert.equal(r.results.filter((x) => x.status === 'created').length, 3);
  assert.equal(r.results.filter((x) => x.status === 'pending').length, 7);
});

test('specHash ignores tag order and never contains the AuthKey', () => {
  const a = specHash({ region: 'r', ip: '1.1.1.1', tags: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }] }, 'fp');
  const b = specHash({ region: 'r', ip: '1.1.1.1', tags: [{ key: 'b', value: '2' }, { key: 'a', value: '1' }] }, 'fp');
  assert.equal(a, b);
  assert.notEqual(a, specHash({ region: 'r', ip: '1.1.1.1', tags: [] }, 'other'));
});
