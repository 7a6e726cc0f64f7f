// Every name and value from a file or a server reaches the terminal without control characters: ESC sequences, C1
// controls (CSI U+009B), bidi overrides and zero-width characters are written as escapes at each sink, and JSON output
// escapes what JSON.stringify leaves (C1, bidi, zero-width) as \uXXXX. Redaction still masks a secret either way.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { failureLine } from '../../src/report/outcome.js';
import { formatIssue, planToJson, renderPlanText } from '../../src/report/plan-output.js';
import { renderSummaryTable } from '../../src/report/summary.js';
import { Redactor } from '../../src/secrets.js';
import { oneLine, printable, safeJson } from '../../src/text.js';
import type { Issue, PlanSummary } from '../../src/types.js';
import { PLAN_ACTIONS } from '../../src/types.js';
import { createProgress } from '../../src/ui/progress.js';
import { plan, planned, ref, result } from './build.js';
import { rowDone, sink, start, stopping } from '../ui/events.js';

/** ESC [2J (clear screen), CSI as one C1 character, a bidi override, a zero-width space, an OSC title with BEL. */
const EVIL = '\x1b[2J\u009b31m\u202eevil\u200b\x1b]0;pwned\x07';
const UNPRINTABLE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]/;
/** What JSON.stringify leaves and safeJson must escape. */
const JSON_RAW = /[\u007f-\u009f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]/;

function clean(text: string, where: string): void {
  const m = UNPRINTABLE.exec(text);
  assert.equal(m, null, `${where}: U+${m?.[0].charCodeAt(0).toString(16).padStart(4, '0')} in ${JSON.stringify(text)}`);
}

function hostilePlan() {
  const file = `sites${EVIL}.csv`;
  const r = { ...ref(2, { region: `cn-${EVIL}`, ip: `1.2.3.4${EVIL}`, file }) };
  const issue: Issue = { severity: 'error', code: `Code${EVIL}`, field: `field${EVIL}`, message: `message ${EVIL}`, file, line: 2, cell: `Sheet${EVIL}!A2` };
  const p = plan([
    planned(2, { ref: r, action: 'invalid', reason: `reason ${EVIL}`, issues: [issue], row: undefined }),
    planned(3, {
      ref: { ...ref(3, { file }), key: `cn-hangzhou/${EVIL}` },
      action: 'update',
      reason: `reason ${EVIL}`,
      changes: [
        { field: 'name', before: `old${EVIL}`, after: `new${EVIL}` },
        { field: `tag:k${EVIL}`, before: undefined, after: `v${EVIL}` },
        { field: 'asn', before: `1${EVIL}`, after: '2' },
      ],
    }),
  ]);
  const zero = (): PlanSummary => ({ rows: 1, notInRun: 0, ...Object.fromEntries(PLAN_ACTIONS.map((a) => [a, 0])) }) as PlanSummary;
  return {
    ...p,
    manifest: { file, hash: 'h', format: 'csv' },
    target: { accountId: `1234${EVIL}`, endpoint: `http://127.0.0.1:1/${EVIL}` },
    flags: { ...p.flags, only: `2,${EVIL}` },
    byRegion: { [`cn-${EVIL}`]: zero(), 'cn-hangzhou': zero() },
    quota: [{ region: `cn-${EVIL}`, quota: 100, existing: 1, creates: 1, deletes: 0 }],
    issues: [{ ...issue, line: 0, cell: undefined }],
  };
}

test('plan text: file, target, --only, region labels, keys, reasons, change fields and values, tag keys, quota and issues', () => {
  const text = renderPlanText(hostilePlan() as never, { color: false });
  clean(text, 'plan text');
  // Shown, not dropped: the escapes say what was there.
  assert.match(text, /\\x1b\[2J\\x9b31m\\u202eevil\\u200b\\x1b\]0;pwned\\x07/);
  const issue: Issue = { severity: 'warning', code: 'C', field: `f${EVIL}`, message: `m${EVIL}`, file: `x${EVIL}`, line: 0, cell: `S${EVIL}!B3` };
  clean(formatIssue(issue), 'formatIssue');
});

test('plan JSON: the same values for a parser, with C1, bidi and zero-width characters escaped as \\uXXXX', () => {
  const doc = planToJson(hostilePlan() as never);
  const text = safeJson(doc);
  assert.equal(JSON_RAW.test(text), false, text);
  clean(text, 'plan json');
  assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(doc)));
  assert.match(text, /\\u009b31m\\u202eevil\\u200b/);
});

test('summary table: region labels; failure lines: file, key, error code and message', () => {
  const rows = [
    result({ line: 2, region: `cn-${EVIL}`, status: 'failed', errorCode: `Bad${EVIL}`, errorMessage: `msg ${EVIL}` }),
    result({ line: 3, ref: { ...ref(3), key: `cn-hangzhou/${EVIL}`, file: `f${EVIL}.csv` }, status: 'failed', errorCode: `X${EVIL}`, errorMessage: 'm' }),
  ];
  clean(renderSummaryTable(rows, { color: false }), 'summary');
  for (const r of rows) clean(failureLine(r), 'failureLine');
  // oneLine leaves no bidi or zero-width character either (it turned C0/C1 into spaces before, and nothing else).
  clean(oneLine(`a\u202eb\u200bc\u2028d\ufeffe`), 'oneLine');
});

test('progress, simple and tty: lane messages and failure lines; json: escaped', async () => {
  const events = [
    start([['acct/cn-hangzhou', 2]]),
    rowDone('acct/cn-hangzhou', result({ line: 2, status: 'failed', errorCode: `Bad${EVIL}`, errorMessage: `msg ${EVIL}` })),
    stopping('auth', `stopping: the credentials were rejected (${EVIL})`),
  ];
  for (const mode of ['simple', 'tty', 'json'] as const) {
    const out = sink();
    const ui = createProgress(mode, out, { color: false, columns: 200, redactor: new Redactor() });
    for (const e of events) ui.onEvent(e);
    await ui.close();
    // The tty view draws with its own cursor codes; what came from the events must not add any.
    const text = mode === 'tty' ? out.text().replace(/\x1b\[(?:2K|1A|0G|\d*[A-G])/g, '') : out.text();
    if (mode === 'json') assert.equal(JSON_RAW.test(text), false, text);
    clean(text, mode);
  }
});

test('redaction comes first and masks a secret either way round', () => {
  const secret = 'Zq7^x~]secret-value-01';
  const withTab = 'pass\tword-secret-02';
  const r = new Redactor();
  r.add(secret);
  r.add(withTab);
  for (const v of [`\x1b[31m${secret}\u202e`, `${EVIL}${secret}${EVIL}`, `proxy ${withTab} \u200b`]) {
    for (const shown of [r.redact(printable(v)), printable(r.redact(v)), oneLine(r.redact(v))]) {
      assert.ok(!shown.includes(secret) && !shown.includes('word-secret-02'), shown);
      assert.match(shown, /\*\*\*/);
    }
  }
});
