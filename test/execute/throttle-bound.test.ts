// Throttling that does not lift holds a row for a bounded time (RetryPolicy.maxThrottledMs, 60 s), on the virtual
// clock: the server's Retry-After is honoured and counted, and a lane that makes progress is pacing, not stuck.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CloudError } from '../../src/cloud/errors.js';
import { executePlan } from '../../src/execute/execute.js';
import { DEFAULT_RETRY } from '../../src/execute/retry.js';
import { VirtualClock } from '../helpers/fake-clock.js';
import { FakeVpc } from '../helpers/fake-vpc.js';
import { creates, opts } from './fixture.js';

const throttled = (retryAfterMs: number): CloudError =>
  new CloudError({ code: 'Throttling.User', message: 'Request was denied due to user flow control.', status: 400, errorClass: 'throttled', retryAfterMs });

test('permanent throttling with Retry-After 5 s: the row gives up within 60 s of throttling, not after 40 attempts', async () => {
  const fake = new FakeVpc();
  fake.createCustomerGateway = async (input) => {
    fake.calls.push(input);
    throw throttled(5000);
  };
  const clock = new VirtualClock();
  const r = await executePlan(opts({ fake, clock, rows: creates(1) }));
  const row = r.results[0]!;
  assert.equal(row.status, 'failed', JSON.stringify(row));
  assert.equal(row.errorCode, 'Throttling.User');
  assert.match(row.errorMessage ?? '', /still throttled after \d+ attempts in \d+ s; a row waits out at most 60 s of throttling/);
  // Every attempt waited at least the server's 5 s; none went out that would be answered past the bound.
  assert.ok(fake.calls.length < DEFAULT_RETRY.maxThrottledAttempts, `${fake.calls.length} attempts`);
  assert.ok(clock.now() <= DEFAULT_RETRY.maxThrottledMs, `held ${clock.now()} ms`);
  assert.ok(clock.now() >= DEFAULT_RETRY.maxThrottledMs - 5000 - 5000, `gave up early, at ${clock.now()} ms`);
});

test('permanent throttling with a 60 s Retry-After: two attempts, then the row gives up at 60 s', async () => {
  const fake = new FakeVpc();
  fake.createCustomerGateway = async (input) => {
    fake.calls.push(input);
    throw throttled(60_000);
  };
  const clock = new VirtualClock();
  const r = await executePlan(opts({ fake, clock, rows: creates(1) }));
  assert.equal(r.results[0]!.status, 'failed');
  assert.equal(fake.calls.length, 2);
  assert.ok(clock.now() <= DEFAULT_RETRY.maxThrottledMs + 1000, `held ${clock.now()} ms`);
});

test('throttling that lets some requests through: every row is created although the run takes minutes', async () => {
  const fake = new FakeVpc();
  const create = fake.createCustomerGateway.bind(fake);
  let n = 0;
  fake.createCustomerGateway = async (input) => {
    // Every other request throttled with a 5 s Retry-After: the lane makes progress at its own pace.
    if (n++ % 2 === 0) {
      fake.calls.push(input);
      throw throttled(5000);
    }
    return create(input);
  };
  const clock = new VirtualClock();
  const r = await executePlan(opts({ fake, clock, rows: creates(40), concurrency: 2 }));
  assert.deepEqual(new Set(r.results.map((x) => x.status)), new Set(['created']));
  assert.ok(clock.now() > 2 * DEFAULT_RETRY.maxThrottledMs, `the run took ${clock.now()} ms (longer than the bound, on purpose)`);
});
