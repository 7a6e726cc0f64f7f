import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CloudError, toCloudError } from '../../src/cloud/errors.js';
import { backoffMs, DEFAULT_RETRY, RetryBudget } from '../../src/execute/retry.js';
import { pastRateCheck } from '../../src/execute/send.js';
import { seededRandom } from '../../src/clock.js';

test('full-jitter backoff stays within [0, min(cap, base*2^(n-1))]', () => {
  const rnd = seededRandom(7);
  for (let n = 1; n <= 12; n++) {
    const bound = Math.min(DEFAULT_RETRY.capMs, DEFAULT_RETRY.baseMs * 2 ** (n - 1));
    for (let i = 0; i < 50; i++) {
      const d = backoffMs(DEFAULT_RETRY, n, rnd);
      assert.ok(d >= 0 && d <= bound, `n=${n} d=${d} bound=${bound}`);
    }
  }
  assert.equal(backoffMs(DEFAULT_RETRY, 3, () => 0.5), 400);
  assert.equal(backoffMs(DEFAULT_RETRY, 30, () => 0.999999), DEFAULT_RETRY.capMs - 1);
});

test('retry budget: transient retries drain it, successes refill it, throttles are cheap', () => {
  const b = new RetryBudget(20);
  const transient = new CloudError({ code: 'ServiceUnavailable', message: 'x', errorClass: 'transient' });
  const throttled = new CloudError({ code: 'Throttling.User', message: 'x', errorClass: 'throttled' });
  assert.equal(b.trySpend(transient), true);
  assert.equal(b.trySpend(transient), true);
  assert.equal(b.trySpend(transient), true);
  assert.equal(b.trySpend(transient), true);
  assert.equal(b.trySpend(transient), false, 'empty after four transient retries');
  assert.equal(b.trySpend(throttled), false);
  b.refund();
  assert.equal(b.trySpend(throttled), true);
});

test('only an answer from the API about the request itself tells the scheduler a token was taken', () => {
  const api = (code: string, status: number) =>
    toCloudError(Object.assign(new Error(code), { data: { Code: code, Message: 'm', RequestId: 'R-1' }, entry: { response: { statusCode: status, headers: {} } } }));
  for (const [code, status] of [['OperationConflict', 409], ['ServiceUnavailable', 503], ['InvalidIpAddress.AlreadyExist', 400], ['QuotaExceeded.CustomerGateway', 400]] as const) {
    assert.equal(pastRateCheck(api(code, status)), true, code);
  }
  // Refused before the request is looked at, or never the API's answer at all.
  for (const [code, status] of [['Throttling.User', 400], ['InvalidAccessKeyId.NotFound', 404], ['SignatureDoesNotMatch', 400]] as const) {
    assert.equal(pastRateCheck(api(code, status)), false, code);
  }
  for (const e of [Object.assign(new Error('reset'), { code: 'ECONNRESET' }), { name: 'SyntaxError' }, { name: 'RequestTimeoutError' }]) {
    assert.equal(pastRateCheck(toCloudError(e)), false, JSON.stringify(e));
  }
});
