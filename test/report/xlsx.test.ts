// results.xlsx: read back with exceljs, every cell is text with its exact value; the failed rows, saved as a workbook,
// load with the xlsx loader and validate cleanly (the "fix the failed rows and run again" loop).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import ExcelJS from 'exceljs';
import { parseXlsx } from '../../src/load/index.js';
import { validateRow } from '../../src/plan/validate.js';
import { MAX_CELL_CHARS, resultsXlsx } from '../../src/report/xlsx.js';
import { readBack } from '../load/workbook.js';

const INPUT = ['region', 'ip', 'name', 'asn', 'tag:CostCenter', 'description'];
const RESULT = ['status', 'customer_gateway_id', 'error_code', 'error_message', 'request_id', 'attempts', 'duration_ms'];
const HEADER = ['line', ...INPUT, ...RESULT];

const TRICKY = ['0123', '1.10', '=1+1', '+1', '-1', '@SUM(A1)', '1E5', 'TRUE', '2026-12-31', '12/31', '00012', '1234567890123456789', '北京分部', 'a\nb', ''];

function rows(): string[][] {
  return [
    ['2', 'cn-hangzhou', '203.0.113.1', 'hz-01', '1.10', '0123', '=1+1', 'created', 'cgw-1', '', '', 'RID-1', '1', '120'],
    ['3', 'cn-hangzhou', '203.0.113.2', '0042', '65000.100', '007', '+1 room', 'failed', '', 'Throttling', 'slow down "now"', 'RID-2', '5', '3100'],
    ['4', 'cn-shanghai', '203.0.113.3', '北京分部', '65001', '1E5', '@SUM(A1)', 'unknown', '', 'ServiceUnavailable', 'timeout', '', '2', '30000'],
    ['5', 'cn-shanghai', '203.0.113.4', 'sh-02', '4200000000', '12/31', '-1', 'failed', '', 'InvalidName', 'bad name', 'RID-4', '1', '90'],
    ['6', 'cn-shanghai', '203.0.113.5', 'sh-03', '65002', '', '', 'skipped', 'cgw-5', '', '', '', '0', '0'],
  ];
}

test('every cell is a text cell holding the exact string; header frozen, filter on, status coloured, creator set', async () => {
  const bytes = await resultsXlsx({ header: HEADER, rows: rows().concat([['7', ...TRICKY].slice(0, HEADER.length)]), statusColumn: HEADER.indexOf('status'), inputColumns: 1 + INPUT.length });
  const wb = await readBack(bytes);
  assert.equal(wb.creator, 'cgw-batch');
  const ws = wb.worksheets[0]!;
  assert.equal(ws.name, 'Results');
  const expected = [HEADER, ...rows(), ['7', ...TRICKY].slice(0, HEADER.length)];
  for (let r = 0; r < expected.length; r++) {
    for (let c = 0; c < HEADER.length; c++) {
      const cell = ws.getRow(r + 1).getCell(c + 1);
      const want = expected[r]![c] ?? '';
      assert.equal(cell.numFmt, '@', `${cell.address} format`);
      assert.equal(cell.type, ExcelJS.ValueType.String, `${cell.address} (${want}) is ${cell.type}, not a string`);
      assert.equal(cell.value, want, cell.address);
    }
  }
  assert.equal(ws.views[0]?.state, 'frozen');
  assert.equal((ws.views[0] as { ySplit?: number }).ySplit, 1);
  assert.ok(ws.autoFilter, 'autofilter set');
  const statusCol = HEADER.indexOf('status') + 1;
  const fill = (r: number) => ((ws.getRow(r).getCell(statusCol).fill as ExcelJS.FillPattern | undefined)?.fgColor?.argb ?? 'none');
  assert.deepEqual([2, 3, 4, 5, 6].map(fill), ['FFC6EFCE', 'FFFFC7CE', 'FFFFEB9C', 'FFFFC7CE', 'none']);
  assert.match(String(ws.getRow(1).getCell(1 + INPUT.length + 1).note ?? ''), /ignored when this sheet is loaded as a manifest/);
  // The header: bold, input columns blue, result columns grey; a coloured status is bold in its colour; widths set.
  const head = ws.getRow(1);
  const headFill = (c: number) => (head.getCell(c).fill as ExcelJS.FillPattern | undefined)?.fgColor?.argb;
  assert.ok(HEADER.every((_, c) => head.getCell(c + 1).font?.bold === true), 'header bold');
  assert.deepEqual([headFill(1), headFill(1 + INPUT.length), headFill(1 + INPUT.length + 1), headFill(HEADER.length)], ['FFDDEBF7', 'FFDDEBF7', 'FFEDEDED', 'FFEDEDED']);
  assert.deepEqual([2, 3].map((r) => [ws.getRow(r).getCell(statusCol).font?.bold, ws.getRow(r).getCell(statusCol).font?.color?.argb]), [[true, 'FF006100'], [true, 'FF9C0006']]);
  assert.equal(ws.getRow(2).getCell(1).font?.bold, undefined, 'body cells are not bold');
  assert.ok(HEADER.every((_, c) => (ws.getColumn(c + 1).width ?? 0) >= 8), 'every column has a width');
  assert.equal(ws.getColumn(HEADER.length).numFmt, '@', 'rows typed below the table are text too');
});

test('values Excel cannot hold: control characters become U+FFFD, text over 32,767 characters is cut', async () => {
  const bytes = await resultsXlsx({ sheetName: 'Res[ults]: 2026/12 with a very long name', header: ['a', 'b'], rows: [['x\u0001y\u0000', 'z'.repeat(40_000)]], inputColumns: 2 });
  const ws = (await readBack(bytes)).worksheets[0]!;
  assert.equal(ws.name, 'Res_ults__ 2026_12 with a very ');
  assert.equal(ws.getCell('A2').value, 'x\uFFFDy\uFFFD');
  assert.equal(String(ws.getCell('B2').value).length, MAX_CELL_CHARS);
});

test('the failed rows (input + result columns) saved as a workbook load with the xlsx loader and validate cleanly', async () => {
  const failed = rows().filter((r) => r[HEADER.indexOf('status')] === 'failed');
  const bytes = await resultsXlsx({ header: HEADER, rows: failed, statusColumn: HEADER.indexOf('status'), inputColumns: 1 + INPUT.length });
  const m = await parseXlsx(bytes, 'retry.xlsx', { env: {} });
  assert.deepEqual(m.columns, INPUT);
  assert.deepEqual(m.issues.map((i) => i.code), ['Cgw.ResultColumns'], 'the result columns are recognised and ignored');
  assert.deepEqual(
    m.rows.map((r) => [r.line, r.fields.ip, r.fields.name, r.fields.asn, r.tags, r.fields.description]),
    [
      [2, '203.0.113.2', '0042', '65000.100', [{ key: 'CostCenter', value: '007' }], '+1 room'],
      [3, '203.0.113.4', 'sh-02', '4200000000', [{ key: 'CostCenter', value: '12/31' }], '-1'],
    ],
  );
  const cellIssues = m.rows.flatMap((r) => r.issues).filter((i) => i.code !== 'Cgw.SpreadsheetChanged');
  assert.deepEqual(cellIssues, [], 'every cell is text: no cell-type issue');
  for (const r of m.rows) assert.ok(!validateRow(r).issues.some((i) => i.severity === 'error'), JSON.stringify(validateRow(r).issues));
});

test('the whole results sheet filtered in a spreadsheet (other rows hidden) and saved still loads, with the hidden rows named', async () => {
  const bytes = await resultsXlsx({ header: HEADER, rows: rows(), statusColumn: HEADER.indexOf('status'), inputColumns: 1 + INPUT.length });
  const wb = await readBack(bytes);
  const ws = wb.worksheets[0]!;
  for (const r of [2, 4, 6]) ws.getRow(r).hidden = true;
  const saved = Buffer.from(await wb.xlsx.writeBuffer());
  const m = await parseXlsx(saved, 'results.xlsx', { env: {} });
  assert.equal(m.rows.length, 5);
  assert.deepEqual(m.issues.filter((i) => i.code === 'Cgw.HiddenRow').map((i) => i.cell), ['Results!A2', 'Results!A4', 'Results!A6']);
  assert.equal(m.rows[0]!.fields.asn, '1.10');
  assert.equal(m.rows[0]!.fields.description, '=1+1');
});

test('a multi-line cell wraps inside its row (wrap text, top-aligned, the row tall enough for its lines)', async () => {
  const header = ['region', 'ip', 'description', 'status'];
  const bytes = await resultsXlsx({ header, rows: [['cn-hangzhou', '203.0.113.1', 'first line\nsecond line\nthird line', 'created'], ['cn-hangzhou', '203.0.113.2', 'one line', 'created']], inputColumns: 3 });
  const ws = (await readBack(bytes)).worksheets[0]!;
  const multi = ws.getRow(2);
  assert.equal(multi.getCell(3).alignment?.wrapText, true, 'the multi-line cell wraps');
  assert.equal(multi.getCell(3).alignment?.vertical, 'top');
  assert.equal(multi.getCell(1).alignment?.vertical, 'top', 'its neighbours line up at the top');
  assert.ok((multi.height ?? 0) >= 3 * 15, `row height ${multi.height} holds 3 lines`);
  assert.equal(ws.getRow(3).getCell(3).alignment?.wrapText, undefined, 'a one-line cell is left as it is');
  assert.equal(ws.getRow(3).height, undefined, 'a one-line row keeps the default height');
});

test('results.xlsx carries the journal it was written from in its custom document properties', async () => {
  const bytes = await resultsXlsx({ header: ['region', 'ip', 'status'], rows: [['cn-hangzhou', '203.0.113.1', 'created']], inputColumns: 2, properties: { journal: '../m.csv.state.jsonl', journalPath: '/x/m.csv.state.jsonl', journalId: 'j-123' } });
  const wb = await readBack(bytes);
  assert.equal(wb.worksheets[0]!.getCell('A2').value, 'cn-hangzhou', 'the package still opens');
  const m = await parseXlsx(bytes, 'retry.xlsx', { env: {} });
  assert.deepEqual(m.origin, { resultsFile: true, journal: '../m.csv.state.jsonl', journalPath: '/x/m.csv.state.jsonl', journalId: 'j-123' });
});

test('extra sheets (the Profiles sheet) follow the results: text cells, bold header; every part carries a valid DOS date', async () => {
  const sheets = [{ name: 'Profiles', header: ['name', 'ike_version', 'ike_pfs'], rows: [['hq', 'ikev2', 'group14'], ['branch', '', '=1+1']] }];
  const bytes = await resultsXlsx({ header: HEADER, rows: rows(), statusColumn: HEADER.indexOf('status'), inputColumns: 1 + INPUT.length, sheets });
  const wb = await readBack(bytes);
  assert.deepEqual(wb.worksheets.map((w) => w.name), ['Results', 'Profiles']);
  const ws = wb.getWorksheet('Profiles')!;
  assert.deepEqual([1, 2, 3].map((r) => [1, 2, 3].map((c) => ws.getRow(r).getCell(c).value ?? '')), [sheets[0]!.header, ...sheets[0]!.rows]);
  assert.equal(ws.getRow(3).getCell(3).type, ExcelJS.ValueType.String, 'a value like a formula stays text');
  assert.equal(ws.getRow(1).getCell(1).font?.bold, true);
  // Central directory: each entry's DOS date (offset 14) has a month 1-12 and a day 1-31 (unzip shows 1980-01-01).
  let at = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  let entries = 0;
  while (at >= 0) {
    const date = bytes.readUInt16LE(at + 14);
    const [day, month] = [date & 31, (date >> 5) & 15];
    assert.ok(day >= 1 && month >= 1 && month <= 12, `entry ${entries}: DOS date ${date.toString(16)}`);
    entries++;
    at = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), at + 46);
  }
  assert.ok(entries >= 9, `${entries} entries`);
});
