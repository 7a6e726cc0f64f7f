// Every numeric flag has a range, and a value outside it is refused naming the flag and the range; --only is parsed
// into ranges (time and memory follow the number of parts, never the number of lines); an --only that matches no row
// is a usage error (exit 2), not a run that did nothing.
import './helpers/env.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../src/errors.js';
import { MAX_LINE, parseOnly, resolveOptions, type Terminal } from '../src/options.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const TERM: Terminal = { cwd: '/work/site', env: {}, stdoutIsTTY: false, stderrIsTTY: false, stdinIsTTY: false };
const refused = (argv: string[], re: RegExp) =>
  assert.throws(
    () => resolveOptions(argv, TERM),
    (e: unknown) => e instanceof UsageError && re.test(e.message),
  );

test('numeric flags outside their range are refused, naming the flag and the range', () => {
  refused(['apply', 'm.csv', '--timeout', '2147483648'], /^--timeout needs a whole number from 1 to 600000 \(milliseconds\), got '2147483648'$/);
  refused(['apply', 'm.csv', '--timeout', '0'], /--timeout needs a whole number from 1 to 600000/);
  refused(['apply', 'm.csv', '--timeout', '1e3'], /--timeout needs a whole number/);
  refused(['apply', 'm.csv', '--timeout', '0x10'], /--timeout needs a whole number/);
  refused(['apply', 'm.csv', '--timeout', ''], /--timeout needs a whole number/);
  refused(['apply', 'm.csv', '--quota', '9007199254740993'], /--quota needs a whole number from 1 to 1000000 \(customer gateways per region\)/);
  refused(['apply', 'm.csv', '--rate', 'Infinity'], /--rate needs a number above 0 and at most 100000 \(write requests per second per region\)/);
  refused(['apply', 'm.csv', '--rate=-1'], /--rate needs a number above 0/);
  refused(['apply', 'm.csv', '--concurrency', '100000'], /--concurrency needs a whole number from 1 to 1000/);
  refused(['apply', 'm.csv', '--max-failures', '1e9'], /--max-failures takes a count/);
  refused(['apply', 'm.csv', '--max-failures', '9007199254740993'], /--max-failures needs a whole number from 1 to 100000000 \(failed rows\)/);
  refused(['apply', 'm.csv', '--only', '9007199254740993'], new RegExp(`^--only: line numbers go from 1 to ${MAX_LINE}, got '9007199254740993'$`));
  refused(['apply', 'm.csv', '--only', '0'], /--only: line numbers go from 1/);
  refused(['apply', 'm.csv', '--only', '5-2'], /--only: bad line range '5-2'/);
  const ok = resolveOptions(['apply', 'm.csv', '--timeout', '600000', '--quota', '1000000', '--rate', '.5', '--concurrency', '1000', '--max-failures', '100000000'], TERM);
  assert.ok(ok.kind === 'run');
  assert.deepEqual([ok.options.timeoutMs, ok.options.quota, ok.options.rate, ok.options.concurrency, ok.options.maxFailures], [600_000, { all: 1_000_000, regions: {} }, 0.5, 1000, { count: 100_000_000 }]);
});

test('--only: twenty ranges of a million lines are twenty entries; membership is a search, not a set of lines', () => {
  const parts = Array.from({ length: 20 }, (_, i) => `${i * 2_000_000 + 1}-${i * 2_000_000 + 1_000_000}`);
  const before = process.memoryUsage().heapUsed;
  const only = parseOnly([...parts, '99999999-100000000', '7', '5-9', 'cn-hangzhou/1.2.3.4'].join(','));
  // Twenty million lines as a Set would take hundreds of MB; twenty ranges take nothing worth measuring.
  assert.ok(process.memoryUsage().heapUsed - before < 16 * 1024 * 1024);
  assert.equal(only.lines.toArray().length, 21, '5-9 and 7 merged into 1-1000000, which holds them');
  assert.equal(only.lines.has(1), true);
  assert.equal(only.lines.has(1_000_000), true);
  assert.equal(only.lines.has(1_000_001), false);
  assert.equal(only.lines.has(38_000_001), true);
  assert.equal(only.lines.has(100_000_000), true);
  assert.equal(only.lines.has(0), false);
  assert.deepEqual([...only.keys], ['cn-hangzhou/1.2.3.4']);
  assert.deepEqual(parseOnly('3,4,5-6,1').lines.toArray(), [
    [1, 1],
    [3, 6],
  ]);
});

test('the CLI: --only naming no row exits 2 saying so; one out-of-range flag exits 2 naming it', async () => {
  const t = tempDir({ 'm.csv': 'region,ip,name\ncn-hangzhou,203.0.113.1,a\ncn-hangzhou,203.0.113.2,b\ncn-hangzhou,203.0.113.3,c\n' });
  try {
    const none = await runCli(['plan', t.path('m.csv'), '--offline', '--only', '99'], { cwd: t.dir });
    assert.equal(none.code, 2, none.stdout + none.stderr);
    assert.match(none.stderr, /--only 99 matches no row of .*m\.csv \(its rows are on lines 2-4\); nothing was done/);
    assert.equal(none.stdout, '');
    const some = await runCli(['plan', t.path('m.csv'), '--offline', '--only', '3,99'], { cwd: t.dir });
    assert.equal(some.code, 0, some.stdout + some.stderr);
    const huge = await runCli(['plan', t.path('m.csv'), '--offline', '--only', '9007199254740993'], { cwd: t.dir });
    assert.equal(huge.code, 2);
    assert.match(huge.stderr, /--only: line numbers go from 1 to 100000000/);
    const timeout = await runCli(['plan', t.path('m.csv'), '--timeout', '2147483648'], { cwd: t.dir });
    assert.equal(timeout.code, 2);
    assert.match(timeout.stderr, /--timeout needs a whole number from 1 to 600000 \(milliseconds\)/);
    assert.doesNotMatch(timeout.stderr, /TimeoutOverflowWarning/);
  } finally {
    t.cleanup();
  }
});

test('did you mean: misspelt commands and flags get the nearest name; a flag of another command says who takes it', () => {
  refused(['aply', 'm.csv'], /^unknown command 'aply'; did you mean 'apply'\? commands: plan, apply/);
  refused(['stauts'], /did you mean 'status'\?/);
  refused(['frobnicate'], /^unknown command 'frobnicate'; commands: /);
  refused(['apply', 'm.csv', '--dry-runn'], /^apply has no option --dry-runn; did you mean --dry-run\? \(see cgw-batch apply --help\)$/);
  refused(['apply', 'm.csv', '--regoin', 'cn-hangzhou'], /has no option --regoin; did you mean --region\? \(export takes it\)/);
  refused(['export', '--regoin', 'cn-hangzhou'], /^export has no option --regoin; did you mean --region\? \(see/);
  refused(['plan', 'm.csv', '--offlien'], /did you mean --offline\?/);
  refused(['plan', 'm.csv', '--only=2', '--zzzzzz'], /^plan has no option --zzzzzz \(see cgw-batch plan --help\)$/);
  // The value of an option is not an option, nor is anything after `--`.
  const ok = resolveOptions(['plan', '--sheet=--dry-runn', 'm.xlsx'], TERM);
  assert.ok(ok.kind === 'run' && ok.options.sheet === '--dry-runn');
  refused(['plan', 'm.xlsx', '--', '--dry-runn'], /one manifest at a time/);
});

test('each --help lists only the values its command takes', () => {
  const help = (cmd: string): string => {
    const h = resolveOptions([cmd, '--help'], TERM);
    assert.ok(h.kind === 'help');
    return h.text;
  };
  for (const cmd of ['init', 'export']) {
    assert.match(help(cmd), /--format csv\|yaml\|xlsx/);
    assert.doesNotMatch(help(cmd), /text\|json/);
  }
  for (const cmd of ['plan', 'apply', 'import', 'destroy', 'refresh', 'status']) {
    assert.match(help(cmd), /--format text\|json/);
    assert.doesNotMatch(help(cmd), /csv\|yaml/);
  }
  assert.doesNotMatch(help('report'), /--format/);
});
