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

// Issue 17: every-byte %XX, \u escapes, &#NN; / &#xNN; references, hex, another letter case, and any mix of them.
test('a registered secret is masked whole in every encoding, letter case and mix of them', async () => {
  const { exactForms, blobForms } = await import('./hostile/encodings.js');
  const keys = [KEY, 'Hk"q\\/+=x7Z%&<>-AuthKey', 'plainAuthKey0123'];
  const r = new Redactor();
  for (const k of keys) assert.equal(r.add(k), true);
  const misses: string[] = [];
  for (const k of keys) {
    for (const [label, form] of exactForms(k)) {
      const out = r.redact(`x:[${form}]:y`);
      if (out !== 'x:[***]:y') misses.push(`${label} of ${JSON.stringify(k)}: ${JSON.stringify(form)} -> ${JSON.stringify(out)}`);
    }
    for (const [label, blob] of blobForms(k)) {
      const out = r.redact(`blob ${blob} end`);
      // Only the characters that mix in the neighbouring bytes may stay: at most a group of 4 on each side, plus the
      // base64 of the surrounding bytes themselves (at most 12 bytes here -> 16 characters).
      const kept = out.replace('***', '').length - 'blob  end'.length;
      if (!out.includes('***') || kept > 16 + 8) misses.push(`${label} of ${JSON.stringify(k)}: ${blob} -> ${out}`);
    }
  }
  assert.deepEqual(misses, []);
});

test('several encoded secrets in one string, beside ordinary escaped text, are each masked and nothing else', () => {
  const r = new Redactor();
  r.add('FirstSecret-1234');
  r.add('second/secret+5678');
  const text = `{"Message":"a \\u0022quoted\\u0022 word, %2Fpath, &lt;tag&gt;, ` +
    `FIRSTSECRET-1234 and second%2Fsecret%2B5678 and &#70;irstSecret&#x2d;1234 and ` +
    `${Buffer.from('second/secret+5678').toString('hex').toUpperCase()}"}`;
  assert.equal(r.redact(text), `{"Message":"a \\u0022quoted\\u0022 word, %2Fpath, &lt;tag&gt;, *** and *** and *** and ***"}`);
});

test('short or common fragments of escaped text are not mangled by decoding', () => {
  const r = new Redactor();
  r.add('abcd1234');
  for (const s of ['%41%42%43%44', '&#97;&#98;&#99;&#100;12', 'ABCD123', '\\u0061bcd123', '61626364313233', 'abcd 1234', '%%%%&&&&\\\\\\\\']) {
    assert.equal(r.redact(s), s);
  }
});

/** CPU time (not wall time) of `fn`, the least of `n` runs: a loaded machine slows both sides alike. */
function cpuMicros(fn: () => void, n = 3): number {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = process.cpuUsage();
    fn();
    const d = process.cpuUsage(t0);
    best = Math.min(best, d.user + d.system);
  }
  return Math.max(best, 1);
}

/** The cheapest honest scan of a string in JavaScript: touch every code unit once. */
function plainScan(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

test('redaction of 1 MB strings, hostile ones included, is linear: bounded by a plain scan, no quadratic blow-up', () => {
  const r = new Redactor();
  r.add('Hk"q\\/+=x7Z%&<>-AuthKey');
  r.add('a'.repeat(39_999) + 'b'); // a long secret whose prefix repeats through the text below
  r.add('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
  const MB = 1 << 20;
  const fill = (unit: string, n: number) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
  const inputs: Array<[string, (n: number) => string]> = [
    ['prose', (n) => fill('The quick brown fox jumps over the lazy dog. ', n)],
    ['all a', (n) => fill('a', n)],
    ['%25 chains', (n) => fill('%25', n)],
    ['unterminated &#000', (n) => '&#' + fill('0', n - 2)],
    ['&#x starts', (n) => fill('&#x4', n)],
    ['backslashes', (n) => fill('\\', n)],
    ['\\u without digits', (n) => fill('\\u00', n)],
    ['doubled quotes', (n) => fill('"', n)],
    ['encoded secret prefixes', (n) => fill('%48%6b%22%71\\u005c&#47;+=x7Z', n)],
  ];
  const report: string[] = [];
  for (const [label, make] of inputs) {
    const big = make(MB);
    const quarter = make(MB / 4);
    let out = '';
    const tBig = cpuMicros(() => void (out = r.redact(big)));
    const tQuarter = cpuMicros(() => void r.redact(quarter));
    const tPlain = cpuMicros(() => void plainScan(big));
    report.push(`${label}: redact 1 MB ${tBig} us, 256 KB ${tQuarter} us, plain scan ${tPlain} us`);
    assert.ok(out.length <= big.length, label);
    // Linear: four times the input costs about four times the time (quadratic would be 16x).
    assert.ok(tBig < 10 * tQuarter + 20_000, report.join('\n'));
    // And a bounded multiple of touching every character once (a quadratic scan of 1 MB would be ~10^5 times more).
    assert.ok(tBig < 400 * tPlain + 50_000, report.join('\n'));
  }
});

// Issue 17 (control characters): the sinks will pass values from files and servers through a terminal sanitizer that
// writes control characters as escapes (`\x1b`, `\u202e`, `\t`). Whichever runs first, the secret stays masked: the
// sanitizer's escapes are spellings the redactor decodes.
test('a value escaped for the terminal (\\xNN, \\uNNNN, \\t \\n \\r) still has its secret masked, and the escapes around it stay', () => {
  const terminalEscape = (s: string): string =>
    // eslint-disable-next-line no-control-regex
    s.replace(/[\u0000-\u001f\u007f-\u009f\u200b\u202a-\u202e\u2066-\u2069]/g, (c) =>
      c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : c.charCodeAt(0) <= 0xff ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  const secret = 'proxy\tpass\u001b[0m\u202eword-42';
  const r = new Redactor();
  r.add(secret);
  const value = `\u001b[2J name ${secret} \u009b31m`;
  // Sanitized first, then masked (the sink masks every byte it is given) ...
  assert.equal(r.redact(terminalEscape(value)), '\\x1b[2J name *** \\x9b31m');
  // ... or masked first, then sanitized (the order a leaf should use).
  assert.equal(terminalEscape(r.redact(value)), '\\x1b[2J name *** \\x9b31m');
});
