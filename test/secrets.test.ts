// Redactor: exact-match masking of registered secrets, including ones too long for a regular expression.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redactor } from '../src/secrets.js';

test('a secret of 40 K characters (over V8 regex literal limit) is masked, not a crash', () => {
  const r = new Redactor();
  const huge = 'SECRET-MARKER-' + 'a'.repeat(40_000);
  r.add(huge);
  r.add('SECRET-MARKER-1234');
  assert.equal(r.redact(`x ${huge} y SECRET-MARKER-1234 z`), 'x *** y *** z');
});

test('a long secret that contains a short one is masked whole', () => {
  const r = new Redactor();
  const short = 'SECRET-MARKER-1234';
  const long = short + 'b'.repeat(2000);
  r.add(short);
  r.add(long);
  assert.equal(r.redact(`[${long}] [${short}]`), '[***] [***]');
});

test('secrets added after a redaction are picked up', () => {
  const r = new Redactor();
  assert.equal(r.redact('plain'), 'plain');
  r.add('first-secret');
  assert.equal(r.redact('first-secret'), '***');
  r.add('c'.repeat(5000));
  assert.equal(r.redact(`first-secret ${'c'.repeat(5000)}`), '*** ***');
});
