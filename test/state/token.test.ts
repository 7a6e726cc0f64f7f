// Case 45: ClientTokens are deterministic, short ASCII, distinct per row and generation, free of line numbers and AuthKeys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { clientToken } from '../../src/state/token.js';

const run = '3f0c1a52-8d1e-4c55-9a39-7c1b2d9e0f11';

test('case 45: deterministic, <= 64 printable ASCII', () => {
  const a = clientToken(run, 'cn-hangzhou', '1.2.3.4', 1);
  assert.equal(a, clientToken(run, 'cn-hangzhou', '1.2.3.4', 1));
  assert.ok(a.length <= 64);
  assert.match(a, /^cgw-[0-9a-f]+$/);
});

test('case 45: distinct across rows, regions, generations and runs; no concatenation ambiguity', () => {
  const seen = new Set<string>();
  for (const region of ['cn-hangzhou', 'cn-shanghai', 'ap-southeast-1'])
    for (let i = 0; i < 300; i++) for (const g of [1, 2, 3]) seen.add(clientToken(run, region, `10.0.${i >> 8}.${i & 255}`, g));
  assert.equal(seen.size, 3 * 300 * 3);
  assert.notEqual(clientToken(run, 'cn-hangzhou', '1.2.3.4', 1), clientToken('another-run', 'cn-hangzhou', '1.2.3.4', 1));
  assert.notEqual(clientToken(run, 'a', 'b1.2.3.4', 1), clientToken(run, 'ab', '1.2.3.4', 1));
});

test('case 45: depends on nothing else (the signature has no line and no AuthKey), and rejects bad generations', () => {
  assert.equal(clientToken.length, 4);
  assert.throws(() => clientToken(run, 'cn-hangzhou', '1.2.3.4', 0), RangeError);
  assert.throws(() => clientToken(run, 'cn-hangzhou', '1.2.3.4', 1.5), RangeError);
});

test('a row\'s connection token: its own per generation, apart from the gateway\'s; the gateway\'s is unchanged by the resource part', () => {
  const gw = clientToken(run, 'cn-hangzhou', '1.2.3.4', 1);
  // The digest of the same parts as before the resource part existed: tokens journaled by earlier versions replay.
  assert.equal(gw, 'cgw-' + createHash('sha256').update(JSON.stringify(['cgw-batch/1', run, 'cn-hangzhou', '1.2.3.4', 1])).digest('hex').slice(0, 48));
  const vco = clientToken(run, 'cn-hangzhou', '1.2.3.4', 1, 'vco');
  assert.notEqual(vco, gw);
  assert.equal(vco, clientToken(run, 'cn-hangzhou', '1.2.3.4', 1, 'vco'));
  assert.notEqual(vco, clientToken(run, 'cn-hangzhou', '1.2.3.4', 2, 'vco'));
  assert.match(vco, /^cgw-[0-9a-f]{48}$/);
});
