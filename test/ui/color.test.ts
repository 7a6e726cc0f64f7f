// Colour decisions (NO_COLOR, TERM=dumb, FORCE_COLOR, TTY) and the yes/no prompt.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { colors, shouldColor, stripAnsi } from '../../src/color.js';
import { confirm } from '../../src/ui/prompt.js';

test('shouldColor: TTY only, NO_COLOR (any value) and TERM=dumb disable, FORCE_COLOR overrides', () => {
  const tty = { isTTY: true };
  assert.equal(shouldColor(tty, {}), true);
  assert.equal(shouldColor({ isTTY: false }, {}), false);
  assert.equal(shouldColor({}, {}), false);
  assert.equal(shouldColor(tty, { NO_COLOR: '1' }), false);
  assert.equal(shouldColor(tty, { NO_COLOR: '' }), false);
  assert.equal(shouldColor(tty, { TERM: 'dumb' }), false);
  assert.equal(shouldColor({ isTTY: false }, { FORCE_COLOR: '1' }), true);
  assert.equal(shouldColor(tty, { FORCE_COLOR: '1', NO_COLOR: '1' }), true);
  assert.equal(shouldColor(tty, { FORCE_COLOR: '0' }), false);
});

test('colors: ANSI when enabled, identity when disabled (NO_COLOR path)', () => {
  const off = colors(shouldColor({ isTTY: true }, { NO_COLOR: '1' }));
  for (const f of [off.red, off.green, off.yellow, off.dim, off.bold]) assert.equal(f('x'), 'x');
  const on = colors(true);
  assert.equal(on.red('x'), '\u001b[31mx\u001b[39m');
  assert.equal(stripAnsi(on.bold(on.green('ok'))), 'ok');
});

async function ask(answer: string | null): Promise<{ ok: boolean; printed: string }> {
  const input = new PassThrough();
  let printed = '';
  const p = confirm('Create 40 gateways?', { input, output: { write: (s) => void (printed += s) } });
  if (answer === null) input.end();
  else input.write(answer + '\n');
  return { ok: await p, printed };
}

test('confirm: y / yes (any case) are yes; anything else or EOF is no', async () => {
  for (const a of ['y', 'Y', 'yes', ' YES ']) assert.equal((await ask(a)).ok, true, a);
  for (const a of ['', 'n', 'no', 'yess', 'sure']) assert.equal((await ask(a)).ok, false, a);
  assert.equal((await ask(null)).ok, false);
  assert.equal((await ask('y')).printed, 'Create 40 gateways? ');
});
