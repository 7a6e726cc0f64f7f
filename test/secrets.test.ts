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

// Issue 11 part 1: masking by value in every encoding a server, a URL or a document may give the key.
const KEY = 'Br4nch "quoted" \\ key/+=é SECRET';

test('a registered AuthKey is masked raw, URL-encoded (%20 and +), JSON-escaped, XML-escaped and base64', async () => {
  const { Redactor } = await import('../src/secrets.js');
  const r = new Redactor();
  assert.equal(r.add(KEY), true);
  const samples = [
    `The AuthKey ${KEY} contains invalid characters.`,
    JSON.stringify({ AuthKey: KEY }),
    JSON.stringify({ Message: JSON.stringify({ AuthKey: KEY }) }),
    `a=1&AuthKey%3D${encodeURIComponent(encodeURIComponent(KEY))}`,
    `AuthKey=${encodeURIComponent(KEY)}&x=1`,
    `AuthKey=${encodeURIComponent(KEY).replace(/%20/g, '+')}&x=1`,
    `AuthKey=${encodeURIComponent(KEY).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`,
    `<Message>${KEY.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')}</Message>`,
    `blob ${Buffer.from(KEY).toString('base64')} end`,
    `blob ${Buffer.from(`AuthKey=${KEY}`).toString('base64')} end`,
    `blob ${Buffer.from(`x${KEY}`).toString('base64')} end`,
    `url ${Buffer.from(`ab${KEY}`).toString('base64url')} end`,
  ];
  for (const s of samples) {
    const out = r.redact(s);
    assert.ok(out.includes('***'), `not masked: ${s}`);
    // The key's distinctive middle never survives, in any of the forms.
    assert.ok(!out.includes('SECRET') && !out.includes('U0VDUkVU') && !out.includes('quoted'), `${s}\n-> ${out}`);
  }
});

test("our own messages and ordinary text are not mangled: masking is by value, never by a field's name", async () => {
  const { Redactor } = await import('../src/secrets.js');
  const r = new Redactor();
  r.add('SECRET-MARKER-1234');
  for (const s of [
    'use auth_key: env:NAME to keep AuthKeys out of the manifest',
    'auth_key: *** -> (changed)',
    'Authorization: CHG0012345 approved',
    'signature=abc security_token: x AccessKeySecret=nothing',
  ]) {
    assert.equal(r.redact(s), s);
  }
});

test('values under 8 characters are not registered (the planner warns about weak keys); 8 and more are masked', async () => {
  const { Redactor, MIN_SECRET_LENGTH } = await import('../src/secrets.js');
  assert.equal(MIN_SECRET_LENGTH, 8);
  const r = new Redactor();
  assert.equal(r.add('vpn01'), false);
  assert.equal(r.redact('branch vpn01 and vpn012'), 'branch vpn01 and vpn012');
  assert.equal(r.add('abcd1234'), true);
  assert.equal(r.redact('x abcd1234 y'), 'x *** y');
});

test('scrubber() is a plain function over the same registrations (the journal redact option)', async () => {
  const { Redactor, scrubber } = await import('../src/secrets.js');
  const r = new Redactor();
  const scrub = scrubber(r);
  assert.equal(scrub('late-registered-key'), 'late-registered-key');
  r.add('late-registered-key');
  assert.equal(scrub(`"late-registered-key"`), '"***"');
});
