// Summary counts and the terminal table: per-region rows, totals, failed rows capped, colour only when asked.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '../../src/secrets.js';
import { renderSummaryTable, summarize } from '../../src/report/summary.js';
import { stripAnsi } from '../../src/ui/color.js';
import { result } from './build.js';

const rows = [
  result({ line: 2 }),
  result({ line: 3, status: 'adopted' }),
  result({ line: 4, region: 'cn-shanghai', status: 'failed', errorCode: 'IllegalParam.Asn', errorMessage: 'ASN 0 is\nout of range' }),
  result({ line: 5, region: 'cn-shanghai', status: 'skipped' }),
  result({ line: 6, region: 'cn-shanghai', status: 'failed', errorCode: 'IllegalParam.Asn', errorMessage: 'again' }),
  result({ line: 7, region: 'cn-beijing', status: 'failed' }),
];

test('summarize counts by status, region and failure code', () => {
  assert.deepEqual(summarize(rows), {
    total: 6,
    byStatus: { created: 1, adopted: 1, failed: 3, skipped: 1 },
    byRegion: { 'cn-hangzhou': { created: 1, adopted: 1 }, 'cn-shanghai': { failed: 2, skipped: 1 }, 'cn-beijing': { failed: 1 } },
    failedByCode: { 'IllegalParam.Asn': 2, Unknown: 1 },
  });
  assert.deepEqual(summarize([]), { total: 0, byStatus: {}, byRegion: {}, failedByCode: {} });
});

test('renderSummaryTable: regions x statuses, totals, then failed rows one per line', () => {
  const text = renderSummaryTable(rows, { color: false });
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], 'region       created  adopted  skipped  failed  total');
  assert.equal(lines[1], 'cn-beijing         0        0        0       1      1');
  assert.equal(lines[2], 'cn-hangzhou        1        1        0       0      2');
  assert.equal(lines[3], 'cn-shanghai        0        0        1       2      3');
  assert.equal(lines[4], 'total              1        1        1       3      6');
  assert.equal(lines[6], 'Failed rows (3):');
  assert.equal(lines[7], '  branches.csv:4  cn-shanghai/10.0.0.4  IllegalParam.Asn  ASN 0 is out of range');
  assert.equal(lines[9], '  branches.csv:7  cn-beijing/10.0.0.7  Unknown');
  assert.equal(text.includes('\u001b['), false);
});

test('renderSummaryTable: always shows failed, even at 0; other statuses only when present', () => {
  const text = renderSummaryTable([result({ line: 2, status: 'deleted' })], { color: false });
  assert.equal(text.split('\n')[0], 'region       deleted  failed  total');
  assert.equal(text.includes('Failed rows'), false);
});

test('renderSummaryTable caps the failed list and points at results.csv', () => {
  const many = Array.from({ length: 120 }, (_, i) => result({ line: i + 2, status: 'failed', errorCode: 'X' }));
  const lines = renderSummaryTable(many, { color: false }).trimEnd().split('\n');
  assert.equal(lines.filter((l) => l.startsWith('  branches.csv:')).length, 50);
  assert.equal(lines.at(-1), '  ... and 70 more; see results.csv');
});

test('renderSummaryTable with colour keeps the same text and alignment; redactor applies', () => {
  const redactor = new Redactor();
  redactor.add('SECRET-MARKER-1234');
  const r = [...rows, result({ line: 9, status: 'failed', errorCode: 'E', errorMessage: 'key SECRET-MARKER-1234' })];
  const colored = renderSummaryTable(r, { color: true, redactor });
  assert.ok(colored.includes('\u001b[31m'));
  assert.equal(stripAnsi(colored), renderSummaryTable(r, { color: false, redactor }));
  assert.equal(colored.includes('SECRET-MARKER-1234'), false);
});
