// Workbooks as other programs write them (XlsxWriter, SheetJS, openpyxl, Chinese/Japanese/Korean Excel): escapes,
// East-Asian date formats, ISO date cells and formulas whose saved result is 0, FALSE or the empty string.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseXlsx } from '../../src/load/index.js';
import type { Manifest } from '../../src/types.js';
import { inline, inlineRow, xmlWorkbook } from './workbook.js';

const HEAD = inlineRow(1, ['region', 'ip', 'name', 'description']);
const load = (bytes: Buffer) => parseXlsx(bytes, 'w.xlsx', { env: {} });
const issuesOf = (m: Manifest) => [...m.issues, ...m.rows.flatMap((r) => r.issues)].map((i) => `${i.severity} ${i.code} ${i.cell ?? '-'}`);
/** A row with region and ip as inline strings, then the given cells (XML) for columns C on. */
const row = (n: number, cells: string) => `<row r="${n}">${inline(`A${n}`, 'cn-hangzhou')}${inline(`B${n}`, `203.0.113.${n}`)}${cells}</row>`;

test('_xHHHH_ escapes are decoded in inline strings and t="str" cells as in shared strings; _x005F_ keeps a literal', async () => {
  const m = await load(
    xmlWorkbook({
      sheetData:
        HEAD +
        row(2, `${inline('C2', 'a_x0009_b')}${inline('D2', 'line1_x000D__x000A_line2')}`) +
        row(3, `<c r="C3" t="str"><v>x_x000D__x000A_y</v></c><c r="D3" t="str"><f>C3</f><v>p_x000A_q</v></c>`) +
        row(4, `${inline('C4', 'n')}${inline('D4', 'keep _x005F_x000D_ as text')}`) +
        row(5, `<c r="C5" t="s"><v>0</v></c><c r="D5" t="inlineStr"><is><r><t>rich_x000A_</t></r><r><rPr><b/></rPr><t>run</t></r></is></c>`),
      sst: '<si><t>shared_x000D__x000A_text</t></si>',
    }),
  );
  assert.deepEqual(
    m.rows.map((r) => [r.fields.name, r.fields.description]),
    [
      ['a\tb', 'line1\r\nline2'],
      ['x\r\ny', 'p\nq'],
      ['n', 'keep _x000D_ as text'],
      ['shared\r\ntext', 'rich\nrun'],
    ],
  );
  // Nothing of the escape syntax reaches a value, but for the one written as a literal.
  for (const r of m.rows) if (r.line !== 4) assert.doesNotMatch(JSON.stringify(r.fields), /_x00(0D|0A|09)_/);
});

test('dates in the East-Asian built-in formats (27-36, 50-58) and custom CJK formats are dates, not serial numbers', async () => {
  const ids = [14, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 50, 51, 52, 53, 54, 55, 56, 57, 58, 176, 177, 0, 49, 178];
  const styles =
    '<numFmts count="3"><numFmt numFmtId="176" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/><numFmt numFmtId="177" formatCode="[$-411]ge.m.d"/>' +
    '<numFmt numFmtId="178" formatCode="&quot;AS&quot;0"/></numFmts>' +
    `<cellXfs count="${ids.length}">${ids.map((id) => `<xf numFmtId="${id}" applyNumberFormat="1"/>`).join('')}</cellXfs>`;
  const rows = ids.map((_, i) => row(i + 2, `<c r="C${i + 2}" s="${i}"><v>46387</v></c>`)).join('');
  const m = await load(xmlWorkbook({ sheetData: HEAD + rows, styles }));
  const codes = m.rows.map((r) => r.issues.map((i) => i.code).join(' '));
  const dates = ids.slice(0, -3);
  assert.deepEqual(codes, [...dates.map(() => 'Cgw.DateCell'), 'Cgw.NumberCell', 'Cgw.NumberCell', 'Cgw.NumberCell']);
  for (const r of m.rows.slice(0, dates.length)) {
    assert.equal(r.issues[0]!.severity, 'error');
    assert.match(r.issues[0]!.message, /the name cell is a date \(2026-12-31\)/);
    assert.doesNotMatch(r.issues[0]!.message, /leading zeros/);
  }
  // General, Text (@) and a number format with quoted letters stay numbers.
  assert.equal(m.rows.at(-1)!.fields.name, '46387');
  // The 1904 date system (old Mac workbooks) counts from 1904.
  const mac = await load(xmlWorkbook({ sheetData: HEAD + row(2, '<c r="C2" s="1"><v>46387</v></c>'), styles, date1904: true }));
  assert.match(mac.rows[0]!.issues[0]!.message, /date \(2031-01-01\)/);
});

test('ISO date cells (t="d") are dates, not the year', async () => {
  const m = await load(
    xmlWorkbook({
      sheetData: HEAD + row(2, `<c r="C2" t="d"><v>2026-12-31T00:00:00</v></c><c r="D2" t="d"><v>2026-01-02T13:45:00.000Z</v></c>`),
    }),
  );
  assert.deepEqual(issuesOf(m), ['error Cgw.DateCell Sites!C2', 'error Cgw.DateCell Sites!D2']);
  assert.match(m.rows[0]!.issues[0]!.message, /date \(2026-12-31\)/);
  assert.match(m.rows[0]!.issues[1]!.message, /date \(2026-01-02 13:45:00\)/);
  assert.notEqual(m.rows[0]!.fields.name, '2026');
});

test('a formula whose saved result is 0, FALSE or the empty string has a saved result', async () => {
  const m = await load(
    xmlWorkbook({
      sheetData:
        HEAD +
        row(2, '<c r="C2"><f>1-1</f><v>0</v></c>') +
        row(3, '<c r="C3" t="b"><f>1=2</f><v>0</v></c>') +
        row(4, '<c r="C4" t="str"><f>""</f><v></v></c><c r="D4" t="str"><f>C4</f><v/></c>') +
        row(5, '<c r="C5" t="str"><f>NOW()</f></c>'),
    }),
  );
  assert.deepEqual(issuesOf(m), [
    'warning Cgw.FormulaCell Sites!C2',
    'warning Cgw.NumberCell Sites!C2',
    'warning Cgw.FormulaCell Sites!C3',
    'warning Cgw.BooleanCell Sites!C3',
    'warning Cgw.FormulaCell Sites!C4',
    'warning Cgw.FormulaCell Sites!D4',
    'error Cgw.FormulaCell Sites!C5',
  ]);
  assert.deepEqual(
    m.rows.map((r) => r.fields.name),
    ['0', 'FALSE', undefined, undefined],
  );
  assert.match(m.rows[0]!.issues[0]!.message, /saved result "0" is used/);
  assert.match(m.rows[2]!.issues[0]!.message, /saved result "" is used/);
  assert.match(m.rows[3]!.issues[0]!.message, /no saved result/);
});
