// printable(): what came from a file or a server is shown with control characters and invisible marks escaped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasUnprintable, printable } from '../../src/text.js';

test('terminal escapes, line breaks, C1 controls, bidi overrides and zero-width marks are shown escaped', () => {
  assert.equal(printable('\u001b[2J\u001b]0;title\u0007'), '\\x1b[2J\\x1b]0;title\\x07');
  assert.equal(printable('a\tb\r\nc\u0000'), 'a\\tb\\r\\nc\\x00');
  assert.equal(printable('x\u007fy\u009bz'), 'x\\x7fy\\x9bz');
  assert.equal(printable('admin\u202egpj.exe'), 'admin\\u202egpj.exe');
  assert.equal(printable('ip\u200b'), 'ip\\u200b');
  assert.equal(printable('\ufeffregion\u2028'), '\\ufeffregion\\u2028');
  assert.ok(hasUnprintable('\u001b') && !hasUnprintable('plain'));
});

test('everything else is kept as it is: letters of every script, emoji sequences, backslashes', () => {
  for (const s of ['杭州分部 hz-01', 'Zürich / Köln', 'C:\\Users\\x', '👨\u200d👩\u200d👧', 'नमस्ते', '']) {
    assert.equal(printable(s), s);
    assert.equal(hasUnprintable(s), false, s);
  }
  // Repeated calls do not depend on regular-expression state.
  for (let i = 0; i < 3; i++) assert.equal(printable('\u001b'), '\\x1b');
});
