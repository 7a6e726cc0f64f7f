// The options resolver: argv + env + terminal in, one frozen value per command out, with the paths that command
// always has; every refusal is a UsageError naming the flag and what to do.
import './helpers/env.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../src/errors.js';
import { parseMaxFailures, parseOnly, resolveOptions, type Options, type Terminal } from '../src/options.js';

const TERM: Terminal = { cwd: '/work/site', env: {}, stdoutIsTTY: false, stderrIsTTY: false, stdinIsTTY: false };

function run(argv: string[], term: Partial<Terminal> = {}): Options {
  const p = resolveOptions(argv, { ...TERM, ...term });
  assert.equal(p.kind, 'run');
  if (p.kind !== 'run') throw new Error('unreachable');
  return p.options;
}

const refused = (argv: string[], re: RegExp, term: Partial<Terminal> = {}) => assert.throws(() => resolveOptions(argv, { ...TERM, ...term }), (e: unknown) => e instanceof UsageError && re.test(e.message));

test('manifest commands: absolute paths, the journal beside the manifest, the reports beside the journal', () => {
  const o = run(['apply', 'branches.csv', '--yes']);
  assert.equal(o.command, 'apply');
  if (o.command !== 'apply') return;
  assert.equal(o.manifest, '/work/site/branches.csv');
  assert.equal(o.statePath, '/work/site/branches.csv.state.jsonl');
  assert.equal(o.reportDir, '/work/site/branches.csv.results');
  assert.equal(o.yes, true);
  assert.ok(Object.isFrozen(o));
  const s = run(['apply', 'b.csv', '--state', 'j/x.jsonl', '--report-dir', '/tmp/r']);
  if (s.command !== 'apply') return;
  assert.equal(s.statePath, '/work/site/j/x.jsonl');
  assert.equal(s.reportDir, '/tmp/r');
  refused(['plan'], /needs a manifest file/);
});

test('status and report: the manifest, --state, or nothing (the folder\'s journal, found by run/locate.ts); export and init have no journal', () => {
  const st = run(['status', '--state', 'x.state.jsonl']);
  assert.equal(st.command, 'status');
  if (st.command === 'status') {
    assert.equal(st.manifest, undefined);
    assert.equal(st.statePath, '/work/site/x.state.jsonl');
    assert.equal(st.reportDir, '/work/site/x.results');
  }
  const bare = run(['status']);
  assert.equal(bare.command, 'status');
  if (bare.command === 'status') assert.equal(bare.statePath, undefined, 'looked for in the working directory when the command runs');
  const ex = run(['export', '--region', 'cn-hangzhou,cn-shanghai', '--region', 'cn-beijing', '-o', 'out.yaml']);
  assert.deepEqual(ex.regions, ['cn-hangzhou', 'cn-shanghai', 'cn-beijing']);
  assert.equal(ex.output, '/work/site/out.yaml');
  assert.equal('statePath' in ex, false);
  refused(['export'], /needs --region/);
  refused(['export', 'm.csv', '--region', 'x'], /takes no manifest/);
  assert.equal(run(['init', 'sites.xlsx']).output, '/work/site/sites.xlsx');
});

test('a flag the command does not take is refused with the commands that take it; secrets never on the command line', () => {
  refused(['status', 'm.csv', '--prune'], /cgw-batch status does not take --prune \(plan, apply take it\)/);
  refused(['plan', 'm.csv', '--auth-key', 'x'], /--auth-key is not accepted/);
  refused(['plan', 'm.csv', '--sandbox', '--endpoint', 'http://127.0.0.1:1'], /cannot be used together/);
  refused(['plan', 'm.csv', '--endpoint', 'ftp://x'], /--endpoint must be an http\(s\) URL/);
  refused(['plan', 'm.csv', '--format', 'xml'], /--format must be text or json/);
  refused(['init', '--format', 'json'], /--format must be csv, yaml or xlsx/);
  refused(['plan', 'm.csv', '--sheet', 'S'], /--sheet picks a sheet of an \.xlsx workbook/);
  refused(['apply', 'm.csv', '--rate', '0'], /--rate needs a number above 0 and at most 100000/);
  refused(['apply', 'm.csv', '--concurrency', '1.5'], /--concurrency needs a whole number from 1 to 1000/);
  refused(['nope'], /unknown command 'nope'/);
  refused(['plan', 'a.csv', 'b.csv'], /one manifest at a time/);
});

test('help, version and the emulator are not runs', () => {
  assert.equal(resolveOptions([], TERM).kind, 'help');
  assert.equal(resolveOptions(['--version'], TERM).kind, 'version');
  const h = resolveOptions(['apply', '--help'], TERM);
  assert.ok(h.kind === 'help' && h.text.includes('--max-failures'));
  assert.deepEqual(resolveOptions(['emulator', '--port', '0'], TERM), { kind: 'emulator', argv: ['--port', '0'] });
});

test('progress, colour and prompts follow the terminal, CI, --quiet, --format json and NO_COLOR', () => {
  assert.equal(run(['apply', 'm.csv']).progress, 'simple');
  assert.equal(run(['apply', 'm.csv'], { stdoutIsTTY: true }).progress, 'tty');
  assert.equal(run(['apply', 'm.csv'], { stdoutIsTTY: true, env: { CI: 'true' } }).progress, 'simple');
  assert.equal(run(['apply', 'm.csv', '--quiet'], { stdoutIsTTY: true }).progress, 'quiet');
  assert.equal(run(['apply', 'm.csv', '--format', 'json'], { stdoutIsTTY: true }).progress, 'json');
  assert.equal(run(['apply', 'm.csv'], { stdoutIsTTY: true }).color, true);
  assert.equal(run(['apply', 'm.csv', '--no-color'], { stdoutIsTTY: true }).color, false);
  assert.equal(run(['apply', 'm.csv'], { stdoutIsTTY: true, env: { NO_COLOR: '' } }).color, false);
  assert.equal(run(['apply', 'm.csv'], { stdinIsTTY: true }).canPrompt, true);
  assert.equal(run(['apply', 'm.csv'], { columns: 132 }).columns, 132);
  assert.equal(run(['apply', 'm.csv'], { columns: 5 }).columns, 80);
});

test('numbers, --only, --max-failures and the retry backoff from the environment', () => {
  const o = run(['apply', 'm.csv', '--rate', '2.5', '--concurrency', '4', '--timeout', '3000', '--quota', '7', '--only', '4,7-9,cn-hangzhou/1.2.3.4', '--max-failures', '10%'], {
    env: { CGW_BATCH_RETRY_BASE_MS: '20', CGW_BATCH_RETRY_CAP_MS: '200' },
  });
  assert.equal(o.rate, 2.5);
  assert.equal(o.concurrency, 4);
  assert.equal(o.timeoutMs, 3000);
  assert.deepEqual(o.quota, { all: 7, regions: {} });
  assert.deepEqual(o.only?.lines.toArray(), [
    [4, 4],
    [7, 9],
  ]);
  assert.deepEqual([...(o.only?.keys ?? [])], ['cn-hangzhou/1.2.3.4']);
  assert.deepEqual(o.maxFailures, { percent: 10 });
  assert.deepEqual(o.retryBackoff, { baseMs: 20, capMs: 200 });
  const d = run(['apply', 'm.csv']);
  assert.equal(d.concurrency, 16);
  assert.equal(d.timeoutMs, 10_000);
  assert.equal(d.quota, undefined, 'not given: learned from the journal, else the documented default assumed');
  assert.deepEqual(d.retryBackoff, { baseMs: 200, capMs: 20_000 });
  refused(['apply', 'm.csv'], /CGW_BATCH_RETRY_BASE_MS must be a whole number/, { env: { CGW_BATCH_RETRY_BASE_MS: 'soon' } });
  assert.deepEqual(parseMaxFailures('3'), { count: 3 });
  assert.throws(() => parseMaxFailures('0'), UsageError);
  assert.throws(() => parseMaxFailures('120%'), UsageError);
  assert.throws(() => parseOnly('9-4'), /bad line range/);
  assert.throws(() => parseOnly('x y'), /--only takes line numbers/);
});

test('team state: --state URLs are kept as given, CGW_BATCH_STATE and CGW_BATCH_STATE_ENDPOINT, reports stay local, --lock-timeout', () => {
  const o = run(['apply', 'b.csv', '--state', 'oss://team/estates', '--state-endpoint', 'http://127.0.0.1:9000', '--lock-timeout', '90s']);
  if (o.command !== 'apply') return assert.fail();
  assert.equal(o.statePath, 'oss://team/estates');
  assert.equal(o.stateEndpoint, 'http://127.0.0.1:9000');
  assert.equal(o.reportDir, '/work/site/b.csv.results', 'reports beside the manifest');
  assert.equal(o.lockTimeoutMs, 90_000);
  assert.equal(run(['apply', 'b.csv', '--lock-timeout', '2m']).lockTimeoutMs, 120_000);
  assert.equal(run(['apply', 'b.csv']).lockTimeoutMs, 0);
  const env = { CGW_BATCH_STATE: 'postgres://cgw:s3cretpass@db.internal/state', CGW_BATCH_STATE_ENDPOINT: 'https://oss-cn-hangzhou.aliyuncs.com' };
  const e = run(['plan', 'b.csv'], { env });
  if (e.command !== 'plan') return assert.fail();
  assert.equal(e.statePath, env.CGW_BATCH_STATE, 'a password in the environment is accepted (and masked when printed)');
  assert.equal(e.stateEndpoint, env.CGW_BATCH_STATE_ENDPOINT);
  const flag = run(['plan', 'b.csv', '--state', 'x.jsonl'], { env });
  assert.equal(flag.command === 'plan' && flag.statePath, '/work/site/x.jsonl', '--state wins over the environment');
  const st = run(['status'], { env: { CGW_BATCH_STATE: 'postgres://db/state?estate=eu' } });
  assert.equal(st.command === 'status' && st.reportDir, '/work/site/eu.results');
  refused(['plan', 'b.csv', '--state', 'postgres://cgw:pw@db/state'], /--state: a password in the URL is not accepted on the command line/);
  refused(['plan', 'b.csv'], /CGW_BATCH_STATE must be a postgres:\/\/\.\.\. or oss:\/\/\.\.\. URL/, { env: { CGW_BATCH_STATE: 'shared.jsonl' } });
  refused(['plan', 'b.csv', '--state-endpoint', 'oss-cn-hangzhou.aliyuncs.com'], /--state-endpoint must be an http\(s\) URL/);
  refused(['apply', 'b.csv', '--lock-timeout', 'soon'], /--lock-timeout takes a duration/);
  refused(['status', 'b.csv', '--lock-timeout', '5s'], /status does not take --lock-timeout \(apply, import, destroy, refresh, state take it\)/);
});

test('cgw-batch state: show, unlock and migrate with their own flags; did-you-mean for a mistyped action or command', () => {
  const s = run(['state', 'show', 'b.csv']);
  assert.equal(s.command === 'state' && s.action, 'show');
  assert.equal(s.command === 'state' && s.statePath, '/work/site/b.csv.state.jsonl');
  const u = run(['state', 'unlock', '--state', 'postgres://db/state?estate=eu', '--yes']);
  assert.deepEqual(u.command === 'state' && [u.action, u.statePath, u.yes], ['unlock', 'postgres://db/state?estate=eu', true]);
  const m = run(['state', 'migrate', '--from', 'b.csv.state.jsonl', '--to', 'postgres://db/state'], { env: { CGW_BATCH_STATE: 'oss://x/y' } });
  assert.deepEqual(m.command === 'state' && [m.from, m.to, m.statePath], ['/work/site/b.csv.state.jsonl', 'postgres://db/state', undefined]);
  refused(['state', 'migrate', '--from', 'a.jsonl'], /needs --from PATH\|URL and --to PATH\|URL/);
  refused(['state', 'show', '--from', 'a.jsonl', 'b.csv'], /state show does not take --from \(state migrate takes it\)/);
  refused(['state', 'migrate', '--state', 'a', '--from', 'a', '--to', 'b'], /state migrate does not take --state \(state show, state unlock take it\)/);
  refused(['state', 'unlok', 'b.csv'], /unknown action 'state unlok' \(did you mean 'unlock'\?\)/);
  refused(['state'], /needs an action: show, unlock, migrate/);
  refused(['state', 'show'], /state show needs the manifest or --state/);
  refused(['stat', 'b.csv'], /unknown command 'stat'; did you mean 'state'\?/);
  refused(['state', 'migrate', '--from', 'a', '--to', 'oss://b/p?x', '--prune'], /state does not take --prune/);
  const help = resolveOptions(['state', '--help'], TERM);
  assert.equal(help.kind, 'help');
  assert.match(help.kind === 'help' ? help.text : '', /cgw-batch state migrate \[<manifest>\] --from A --to B/);
});
