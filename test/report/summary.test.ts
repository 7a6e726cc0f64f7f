// Summary counts and the terminal table: per-region rows, totals, rows not done capped, colour only when asked, and
// only the rows this run was asked to do.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderSummaryTable, summarize } from '../../src/report/summary.js';
import { stripAnsi } from '../../src/color.js';
import { result } from './build.js';

const rows = [
  result({ line: 2 }),
  result({ line: 3, status: 'adopted', action: 'adopt' }),
  result({ line: 4, region: 'cn-shanghai', status: 'failed', errorCode: 'IllegalParam.Asn', errorMessage: 'ASN 0 is\nout of range' }),
  result({ line: 5, region: 'cn-shanghai', status: 'skipped', action: 'skip' }),
  result({ line: 6, region: 'cn-shanghai', status: 'failed', errorCode: 'IllegalParam.Asn', errorMessage: 'again' }),
  result({ line: 7, region: 'cn-beijing', status: 'failed' }),
];

test('summarize counts by outcome, region and failure code', () => {
  assert.deepEqual(summarize(rows), {
    total: 6,
    byOutcome: { created: 1, adopted: 1, unchanged: 1, failed: 3 },
    byRegion: { 'cn-hangzhou': { created: 1, adopted: 1 }, 'cn-shanghai': { unchanged: 1, failed: 2 }, 'cn-beijing': { failed: 1 } },
    failedByCode: { 'IllegalParam.Asn': 2, Unknown: 1 },
  });
  assert.deepEqual(summarize([]), { total: 0, byOutcome: {}, byRegion: {}, failedByCode: {} });
  // Invalid rows and outcomes left unknown count as not done, by code.
  const more = summarize([result({ line: 2, status: 'invalid', errorCode: 'IllegalParam.Asn' }), result({ line: 3, status: 'unknown', errorCode: 'ECONNRESET' })]);
  assert.deepEqual(more.failedByCode, { 'IllegalParam.Asn': 1, ECONNRESET: 1 });
});

test('renderSummaryTable: regions x statuses, totals, then the rows not done, one per line', () => {
  const text = renderSummaryTable(rows, { color: false });
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], 'region       created  adopted  unchanged  failed  total');
  assert.equal(lines[1], 'cn-beijing         0        0          0       1      1');
  assert.equal(lines[2], 'cn-hangzhou        1        1          0       0      2');
  assert.equal(lines[3], 'cn-shanghai        0        0          1       2      3');
  assert.equal(lines[4], 'total              1        1          1       3      6');
  assert.equal(lines[6], 'Rows not done (3):');
  assert.equal(lines[7], '  branches.csv:4  cn-shanghai/10.0.0.4  IllegalParam.Asn  ASN 0 is out of range');
  assert.equal(lines[9], '  branches.csv:7  cn-beijing/10.0.0.7  failed');
  assert.equal(text.includes('\u001b['), false);
});

test('renderSummaryTable: always shows failed, even at 0; other statuses only when present', () => {
  const text = renderSummaryTable([result({ line: 2, status: 'deleted', action: 'delete' })], { color: false });
  assert.equal(text.split('\n')[0], 'region       deleted  failed  total');
  assert.equal(text.includes('Rows not done'), false);
});

test('renderSummaryTable counts only the rows in this run, and says how many were left out', () => {
  const all = [...rows, result({ line: 8, status: 'failed', errorCode: 'OLD', inRun: false }), result({ line: 9, inRun: false })];
  const text = renderSummaryTable(all, { color: false });
  assert.equal(text, renderSummaryTable(rows, { color: false }).replace('\n\nRows not done', '\n2 row(s) not in this run (--only): their last state is kept in the reports\n\nRows not done'));
  assert.equal(text.includes('OLD'), false);
});

test('renderSummaryTable: blocked, invalid and not-started rows are not done; a skip is', () => {
  const text = renderSummaryTable(
    [
      result({ line: 2, status: 'pending', action: 'blocked', note: 'replace needs --allow-replace', requestIds: [] }),
      result({ line: 3, status: 'invalid', action: 'invalid', errorCode: 'InvalidIpAddress.WrongFormat', errorMessage: 'invalid row, not sent: bad IP' }),
      result({ line: 4, status: 'pending', note: 'not started: interrupted (Ctrl-C)', requestIds: [] }),
      result({ line: 5, status: 'created', action: 'skip' }),
    ],
    { color: false },
  );
  const lines = text.trimEnd().split('\n');
  assert.ok(lines.includes('Rows not done (3):'), text);
  assert.ok(lines.includes('  branches.csv:2  cn-hangzhou/10.0.0.2  blocked  replace needs --allow-replace'), text);
  assert.ok(lines.includes('  branches.csv:3  cn-hangzhou/10.0.0.3  InvalidIpAddress.WrongFormat  invalid row, not sent: bad IP'), text);
  assert.ok(lines.includes('  branches.csv:4  cn-hangzhou/10.0.0.4  not started  not started: interrupted (Ctrl-C)'), text);
});

test('renderSummaryTable caps the list of rows not done and points at results.csv', () => {
  const many = Array.from({ length: 120 }, (_, i) => result({ line: i + 2, status: 'failed', errorCode: 'X' }));
  const lines = renderSummaryTable(many, { color: false }).trimEnd().split('\n');
  assert.equal(lines.filter((l) => l.startsWith('  branches.csv:')).length, 50);
  assert.equal(lines.at(-1), '  ... and 70 more; see results.csv');
});

test('renderSummaryTable with colour keeps the same text and alignment', () => {
  const colored = renderSummaryTable(rows, { color: true });
  assert.ok(colored.includes('\u001b[31m'));
  assert.equal(stripAnsi(colored), renderSummaryTable(rows, { color: false }));
});
