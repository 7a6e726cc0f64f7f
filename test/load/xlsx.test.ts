// xlsx loader: workbooks built with exceljs in memory; every cell-type case is checked by code, severity and address.
import assert from 'node:assert/strict';
import { deflateRawSync, createDeflateRaw } from 'node:zlib';
import { test } from 'node:test';
import { ManifestError } from '../../src/errors.js';
import { loadManifest, parseXlsx } from '../../src/load/index.js';
import { LISTED_PER_GROUP } from '../../src/load/capped.js';
import { Redactor } from '../../src/secrets.js';
import type { Manifest } from '../../src/types.js';
import { validateRow } from '../../src/plan/validate.js';
import { tempDir } from '../helpers/tmp.js';
import { MARKER } from './helpers.js';
import { inlineRow, parts, rawZip, withPart, workbook, xmlWorkbook, type CellValue } from './workbook.js';

const opts = { env: {} as Record<string, string | undefined> };
const HEAD = ['region', 'ip', 'name', 'asn', 'tag:Env'];
const sites = (...rows: CellValue[][]) => workbook({ Sites: [HEAD, ...rows] });
const load = async (bytes: Buffer, o: Parameters<typeof parseXlsx>[2] = opts) => parseXlsx(bytes, 'sites.xlsx', o);

/** Every issue of the manifest (file-level and per row) as `severity code cell`. */
function issuesOf(m: Manifest): string[] {
  return [...m.issues, ...m.rows.flatMap((r) => r.issues)].map((i) => `${i.severity} ${i.code} ${i.cell ?? '-'}`);
}

async function rejects(p: Promise<unknown>, pattern: RegExp, line?: number): Promise<ManifestError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ManifestError, `expected ManifestError, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  assert.equal(caught.line, line, caught.message);
  assert.ok(!caught.message.includes(MARKER), caught.message);
  return caught;
}

test('text cells: rows are spreadsheet rows, values as typed, same shape as CSV', async () => {
  const bytes = await workbook({ Sites: [HEAD, ['cn-hangzhou', '203.0.113.1', 'hz-01', '1.10', '0123'], [], ['cn-shanghai', ' 203.0.113.2 ', '上海', '65001', 'prod']] });
  const m = await load(bytes);
  assert.equal(m.format, 'xlsx');
  assert.match(m.hash, /^[0-9a-f]{64}$/);
  assert.deepEqual(m.columns, HEAD);
  assert.deepEqual(
    m.rows.map((r) => [r.line, r.endLine, r.fields, r.tags]),
    [
      [2, 2, { region: 'cn-hangzhou', ip: '203.0.113.1', name: 'hz-01', asn: '1.10' }, [{ key: 'Env', value: '0123' }]],
      [4, 4, { region: 'cn-shanghai', ip: '203.0.113.2', name: '上海', asn: '65001' }, [{ key: 'Env', value: 'prod' }]],
    ],
  );
  assert.deepEqual(m.rows[0]!.echo, { region: 'cn-hangzhou', ip: '203.0.113.1', name: 'hz-01', asn: '1.10', 'tag:Env': '0123' });
  assert.deepEqual(issuesOf(m), []);
});

test('the header is the first row naming region and ip; title rows above it are skipped with a note', async () => {
  const blank = await load(await workbook({ Sites: [[], [], HEAD, ['cn-hangzhou', '203.0.113.1']] }));
  assert.deepEqual(blank.rows.map((r) => r.line), [4]);
  assert.deepEqual(issuesOf(blank), []);
  const titled = await load(
    await workbook({ Sites: [['Branch sites 2026'], ['owner: netops'], [], HEAD, ['cn-hangzhou', '203.0.113.1']] }, (wb) => {
      wb.worksheets[0]!.mergeCells('A1:E1');
    }),
  );
  assert.deepEqual(titled.rows.map((r) => r.line), [5]);
  assert.deepEqual(issuesOf(titled), ['info Cgw.RowsAboveHeader Sites!A1']);
  assert.match(titled.issues[0]!.message, /the header is row 4; rows 1-3 above it are not read/);
  await rejects(load(await workbook({ Sites: [['Branch sites'], ['name', 'address'], ['a', 'b']] })), /header must name the columns .* found: "Branch sites"/, 1);
});

test('number cells: ASN 1.1 is an error (asdot 1.10 would look the same), whole numbers and labels are warnings', async () => {
  const m = await sites(
    ['cn-hangzhou', '203.0.113.1', 'a', 1.1, 'x'],
    ['cn-hangzhou', '203.0.113.2', 'b', 65001, 123],
    ['cn-hangzhou', '203.0.113.3', 123, '65002', 1.5],
    ['cn-hangzhou', 3405803777, 'd', '65003', 'x'],
  );
  const loaded = await load(m);
  assert.deepEqual(issuesOf(loaded), [
    'error Cgw.NumberCell Sites!D2',
    'warning Cgw.NumberCell Sites!D3',
    'warning Cgw.NumberCell Sites!E3',
    'warning Cgw.NumberCell Sites!C4',
    'warning Cgw.NumberCell Sites!E4',
    'error Cgw.NumberCell Sites!B5',
  ]);
  const [r2, r3, r4, r5] = loaded.rows;
  assert.equal(r2!.fields.asn, '1.1');
  assert.match(r2!.issues[0]!.message, /number 1\.1.*asdot 1\.10.*Text/);
  assert.equal(r3!.fields.asn, '65001');
  assert.equal(r3!.tags[0]!.value, '123');
  assert.match(r3!.issues[1]!.message, /leading zeros/);
  assert.equal(r4!.fields.name, '123');
  assert.match(r4!.issues[1]!.message, /trailing zeros/);
  assert.equal(r5!.fields.ip, '3405803777');
  // Errors block the row in validation; warnings do not.
  assert.ok(validateRow(r2!).issues.some((i) => i.severity === 'error'));
  assert.ok(!validateRow(r3!).issues.some((i) => i.severity === 'error'));
});

test('dates, booleans, error cells, formulas with and without a saved result', async () => {
  const m = await load(
    await sites(
      ['cn-hangzhou', '203.0.113.1', new Date(Date.UTC(2026, 11, 31)), '65001', true],
      ['cn-hangzhou', '203.0.113.2', { formula: 'UPPER("hz")', result: 'HZ' }, { formula: '65000+2', result: 65002 }, { error: '#N/A' }],
      ['cn-hangzhou', '203.0.113.3', { formula: 'A1&"x"' } as CellValue, '65003', 'x'],
      [false, '203.0.113.4', 'd', '65004', 'x'],
    ),
  );
  assert.deepEqual(issuesOf(m), [
    'error Cgw.DateCell Sites!C2',
    'warning Cgw.BooleanCell Sites!E2',
    'warning Cgw.FormulaCell Sites!C3',
    'warning Cgw.FormulaCell Sites!D3',
    'warning Cgw.NumberCell Sites!D3',
    'error Cgw.ErrorCell Sites!E3',
    'error Cgw.FormulaCell Sites!C4',
    'error Cgw.BooleanCell Sites!A5',
  ]);
  const [r2, r3, r4] = m.rows;
  assert.equal(r2!.fields.name, '2026-12-31');
  assert.match(r2!.issues[0]!.message, /date \(2026-12-31\).*original text is lost/);
  assert.equal(r2!.tags[0]!.value, 'TRUE');
  assert.equal(r3!.fields.name, 'HZ');
  assert.equal(r3!.fields.asn, '65002');
  assert.match(r3!.issues[0]!.message, /saved result "HZ" is used/);
  assert.equal(r3!.tags[0]!.value, '#N/A');
  assert.equal(r4!.fields.name, undefined);
  assert.match(r4!.issues[0]!.message, /no saved result/);
});

test('rich text and hyperlinks are their text; merged cells: down a column an error, across a warning', async () => {
  const bytes = await workbook(
    {
      Sites: [
        HEAD,
        ['cn-hangzhou', '203.0.113.1', { richText: [{ text: 'hz-' }, { text: '01', font: { bold: true } }] }, '65001', { text: 'prod', hyperlink: 'https://example.com' }],
        [null, '203.0.113.2', 'wide name', null, 'x'],
        ['cn-hangzhou', '203.0.113.3', 'c', '65003', 'x'],
      ],
    },
    (wb) => {
      const ws = wb.worksheets[0]!;
      ws.mergeCells('A2:A3');
      ws.mergeCells('C3:D3');
    },
  );
  const m = await load(bytes);
  assert.equal(m.rows[0]!.fields.name, 'hz-01');
  assert.equal(m.rows[0]!.tags[0]!.value, 'prod');
  assert.deepEqual(issuesOf(m), ['error Cgw.MergedCell Sites!A3', 'warning Cgw.MergedCell Sites!D3']);
  assert.equal(m.rows[1]!.fields.region, undefined, 'a merged-down cell is empty, as in a CSV export');
  assert.equal(m.rows[1]!.fields.asn, undefined, 'merged across: read as empty, not as the name');
  assert.match(m.rows[1]!.issues[0]!.message, /merged into A2 above it, so this row's region is empty; unmerge/);
});

test('hidden rows (one warning per run) and hidden columns are reported and still read', async () => {
  const rows: CellValue[][] = [HEAD];
  for (let i = 1; i <= 8; i++) rows.push(['cn-hangzhou', `203.0.113.${i}`, `n${i}`, '65001', 'x']);
  const bytes = await workbook({ Sites: rows }, (wb) => {
    const ws = wb.worksheets[0]!;
    for (const r of [3, 4, 5, 8]) ws.getRow(r).hidden = true;
    ws.getColumn(4).hidden = true;
  });
  const m = await load(bytes);
  assert.equal(m.rows.length, 8);
  assert.deepEqual(issuesOf(m), ['warning Cgw.HiddenRow Sites!A3', 'warning Cgw.HiddenRow Sites!A8', 'warning Cgw.HiddenColumn Sites!D1']);
  assert.match(m.issues[0]!.message, /rows 3-5 are hidden/);
  assert.equal(m.issues[0]!.line, 3);
  assert.match(m.issues[2]!.message, /column D \(asn\) is hidden/);
});

test('one cause in many rows: the first few warnings are listed, the rest counted in one summary', async () => {
  const rows: CellValue[][] = [];
  for (let i = 1; i <= 12; i++) rows.push(['cn-hangzhou', `203.0.113.${i}`, `n${i}`, '65001', i]);
  const m = await load(await sites(...rows));
  const listed = m.rows.flatMap((r) => r.issues).filter((i) => i.code === 'Cgw.NumberCell');
  assert.equal(listed.length, LISTED_PER_GROUP);
  const summary = m.issues.find((i) => i.code === 'Cgw.NumberCell');
  assert.ok(summary);
  assert.equal(summary.cell, `Sites!E${2 + LISTED_PER_GROUP}`);
  assert.match(summary.message, new RegExp(`^${12 - LISTED_PER_GROUP} more values in tag:Env`));
});

test('sheets: first visible by default, --sheet by name (case-insensitive if unique), unknown sheet lists the sheets', async () => {
  const bytes = await workbook(
    {
      Old: [HEAD, ['cn-beijing', '203.0.113.9']],
      'Branch sites': [HEAD, ['cn-hangzhou', '203.0.113.1', 'n', 1.5]],
      Lists: [['cn-hangzhou']],
    },
    (wb) => {
      wb.worksheets[0]!.state = 'hidden';
    },
  );
  const first = await load(bytes);
  assert.equal(first.rows[0]!.fields.region, 'cn-hangzhou');
  assert.deepEqual(issuesOf(first), ["error Cgw.NumberCell 'Branch sites'!D2"]);
  const old = await load(bytes, { env: {}, sheet: 'old' });
  assert.equal(old.rows[0]!.fields.region, 'cn-beijing');
  assert.ok(old.issues.some((i) => i.code === 'Cgw.HiddenSheet'));
  await rejects(load(bytes, { env: {}, sheet: 'Sites' }), /no sheet named "Sites"; its sheets are "Old", "Branch sites", "Lists"/);
  await rejects(load(bytes, { env: {}, sheet: 'Lists' }), /header must name the columns/, 1);
});

test('a misspelt header cell stops the workbook naming the cell and the likely field; other extra columns stay warnings', async () => {
  await rejects(load(await workbook({ Sites: [['region', 'ip', 'nmae'], ['cn-hangzhou', '203.0.113.1', 'hz-01']] })), /cell Sites!C1 "nmae" is not a column cgw-batch knows: did you mean name\?/, 1);
  const m = await load(await workbook({ Sites: [['region', 'ip', 'Site Code'], ['cn-hangzhou', '203.0.113.1', 'HZ1']] }));
  assert.deepEqual(issuesOf(m), ['warning Cgw.UnknownColumn -']);
  assert.equal(m.rows[0]!.echo['Site Code'], 'HZ1');
});

test('a sheet name holding terminal control characters is printed escaped, in messages and cell addresses', async () => {
  const bytes = xmlWorkbook({ sheetName: '&#27;[2J&#27;]0;x&#7;', sheetData: inlineRow(1, ['region', 'ip', 'name']) + '<row r="2"><c r="A2" t="inlineStr"><is><t>cn-hangzhou</t></is></c><c r="B2" t="inlineStr"><is><t>203.0.113.1</t></is></c><c r="C2"><v>12</v></c></row>' });
  const m = await load(bytes);
  const issue = m.rows[0]!.issues[0]!;
  assert.equal(issue.cell, "'\\x1b[2J\\x1b]0;x\\x07'!C2");
  const wrong = await rejects(load(bytes, { env: {}, sheet: 'Nope' }), /its sheets are "\\x1b\[2J\\x1b\]0;x\\x07"/);
  const empty = await rejects(load(xmlWorkbook({ sheetName: 'a&#27;[2J', sheetData: '' })), /sheet "a\\x1b\[2J" is empty/);
  for (const text of [issue.cell!, issue.message, wrong.message, empty.message]) assert.ok(!/[\u0000-\u001f\u007f]/.test(text), JSON.stringify(text));
});

test('results columns written by cgw-batch are ignored with one note; a value under no header is an error at its cell', async () => {
  const m = await load(await workbook({ Sites: [['line', ...HEAD, 'status', 'error_code', 'Error Message'], [2, 'cn-hangzhou', '203.0.113.1', 'n', '65001', 'x', 'failed', 'Throttling', 'slow down']] }));
  assert.deepEqual(m.columns, HEAD);
  assert.deepEqual(issuesOf(m), ['info Cgw.ResultColumns -']);
  assert.match(m.issues[0]!.message, /line, status, error_code, Error Message/);
  assert.equal(m.rows[0]!.echo.status, undefined);
  await rejects(load(await sites(['cn-hangzhou', '203.0.113.1', 'n', '65001', 'x', 'stray'])), /cell Sites!F2 has a value but its column has no header name/, 2);
  const blank = await workbook({ Sites: [['region', 'ip', null, 'name'], ['cn-hangzhou', '203.0.113.1', 'oops', 'n']] });
  await rejects(load(blank), /cell Sites!C2 has a value but no header name/, 2);
});

test('AuthKeys: literal registered with the redactor and echoed only as references; number cells never quoted', async () => {
  const head = ['region', 'ip', 'asn', 'auth_key'];
  const redactor = new Redactor();
  const m = await load(
    await workbook({ Sites: [head, ['cn-hangzhou', '203.0.113.1', '65001', MARKER], ['cn-hangzhou', '203.0.113.2', '65001', 'env:CGW_K'], ['cn-hangzhou', '203.0.113.3', '65001', 1234567], ['cn-hangzhou', '203.0.113.4', '65001', { formula: '"k"&"1"', result: 'k1' }]] }),
    { env: { CGW_K: 'from-env' }, redactor },
  );
  assert.deepEqual(m.columns, ['region', 'ip', 'asn', 'auth_key']);
  assert.deepEqual(m.rows.slice(0, 2).map((r) => r.echo['auth_key']), ['(AuthKey not copied)', 'env:CGW_K']);
  assert.equal(m.rows[0]!.fields.auth_key, MARKER);
  assert.equal(m.rows[1]!.fields.auth_key, 'from-env');
  assert.equal(redactor.redact(`x ${MARKER} from-env`), 'x *** ***');
  assert.deepEqual(issuesOf(m), ['error Cgw.NumberCell Sites!D4', 'warning Cgw.FormulaCell Sites!D5']);
  for (const i of m.rows.flatMap((r) => r.issues)) assert.ok(!i.message.includes('1234567') && !i.message.includes('k1'), i.message);
  const missing = await load(await workbook({ Sites: [head, ['cn-hangzhou', '203.0.113.1', '65001', 'env:NOPE']] }));
  assert.deepEqual(issuesOf(missing), ['error Cgw.AuthKeyEnvMissing Sites!D2']);
});

test('spreadsheet fingerprints in text cells carry the cell address', async () => {
  const m = await load(await sites(['cn-hangzhou', '203.0.113.1', '????', '65001', '1.23457E+11']));
  assert.deepEqual(issuesOf(m), ['warning Cgw.SpreadsheetChanged Sites!C2', 'warning Cgw.SpreadsheetChanged Sites!E2']);
});

test('caps: rows, cell and row size', async () => {
  const rows: CellValue[][] = [];
  for (let i = 1; i <= 4; i++) rows.push(['cn-hangzhou', `203.0.113.${i}`]);
  await rejects(load(await sites(...rows), { env: {}, maxRows: 3 }), /more than 3 rows; split it/, 5);
  await rejects(load(await sites(['cn-hangzhou', '203.0.113.1', 'x'.repeat(2000)]), { env: {}, maxRecordBytes: 1000 }), /cell Sites!C2 holds 2000 characters, over the 1000 limit/, 2);
  await rejects(load(await sites(['cn-hangzhou', '203.0.113.1', 'x'.repeat(600), 'y', 'z'.repeat(600)]), { env: {}, maxRecordBytes: 1000 }), /row 2 holds 1223 characters/, 2);
  await rejects(load(await sites(['cn-hangzhou', '203.0.113.1']), { env: {}, maxBytes: 100 }), /over the 100-byte limit/);
});

test('unreadable files: ManifestError naming the file, never a stack or a quoted value', async () => {
  const good = await sites(['cn-hangzhou', '203.0.113.1', MARKER]);
  await rejects(load(good.subarray(0, good.length >> 1)), /^sites\.xlsx: cannot read the workbook: the ZIP directory is missing/);
  await rejects(load(Buffer.from('region,ip\ncn-hangzhou,203.0.113.1\n')), /not an \.xlsx workbook \(not a ZIP package\)/);
  await rejects(load(Buffer.from('d0cf11e0a1b11ae10000000000000000', 'hex')), /encrypted workbook or an old \.xls/);
  await rejects(load(withPart(good, 'xl/worksheets/sheet1.xml', () => '<<garbage')), /the sheet part is damaged \(a tag is not closed/);
  await rejects(load(withPart(good, 'xl/worksheets/sheet1.xml', () => '<chartsheet/>')), /the sheet part is not a worksheet/);
  await rejects(load(withPart(good, 'xl/worksheets/sheet1.xml', (x) => x.replace(/<v>\d+<\/v>/, '<v>99999</v>'))), /cell Sites!A1 refers to shared string 99999, but the workbook has only \d+ \(damaged file\?\)/);
  await rejects(load(withPart(good, 'xl/worksheets/sheet1.xml', (x) => x.replace(/t="s"><v>\d+<\/v>/, 't="str"><v>&bogus;</v>'))), /cannot read sheet "Sites" of the workbook \(damaged file\?\)/);
  await rejects(load(withPart(good, 'xl/workbook.xml', (x) => x.replace(/<sheets>.*<\/sheets>/, '<sheets></sheets>'))), /lists no sheets/);
  const noBook = rawZip(parts(good).filter((p) => p.name !== 'xl/workbook.xml').map((p) => ({ name: p.name, data: p.data, method: 0, size: p.data.length })));
  await rejects(load(noBook), /has no xl\/workbook\.xml part/);
});

test('zip bombs and range bombs stop at a cap, fast and without the memory', async () => {
  const good = await sites(['cn-hangzhou', '203.0.113.1']);
  const entries = parts(good).map((p) => ({ name: p.name, data: p.data, method: 0 as const, size: p.data.length }));
  // 80 MB of zeros, deflated as a stream (about 80 KB), as the sheet.
  const chunks: Buffer[] = [];
  const z = createDeflateRaw();
  z.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve) => z.on('end', resolve));
  const mb = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < 80; i++) z.write(mb);
  z.end();
  await done;
  const bomb = Buffer.concat(chunks);
  const swap = (name: string, size: number) => rawZip(entries.map((e) => (e.name === name ? { name, data: bomb, method: 8, size } : e)));
  const t0 = performance.now();
  await rejects(load(swap('xl/worksheets/sheet1.xml', 80 * 1024 * 1024)), /sheet1\.xml is 83886080 bytes uncompressed, over the 67108864-byte limit/);
  await rejects(load(swap('xl/worksheets/sheet1.xml', 4000)), /inflates to more than it declares/);
  await rejects(load(swap('xl/sharedStrings.xml', 4000)), /sharedStrings\.xml inflates to more than it declares/);
  await rejects(load(rawZip(entries.map((e) => (e.name === 'xl/styles.xml' ? { ...e, data: deflateRawSync(Buffer.from('x')).subarray(0, 1), method: 8 } : e)))), /styles\.xml cannot be decompressed/);
  // A merged area or a column range as large as the sheet would have exceljs create every cell.
  await rejects(load(withPart(good, 'xl/worksheets/sheet1.xml', (x) => x.replace('</sheetData>', '</sheetData><mergeCells count="1"><mergeCell ref="D1:XFD1048576"/></mergeCells>'))), /merges more cells/);
  await rejects(load(withPart(good, 'xl/worksheets/sheet1.xml', (x) => x.replace('<sheetData>', '<cols><col min="1" max="2000000000"/></cols><sheetData>'))), /column definitions are invalid/);
  // Whole-column data validation and defined names (common in real sheets) are not expanded.
  const dv = withPart(
    withPart(good, 'xl/worksheets/sheet1.xml', (x) => x.replace('</worksheet>', '<dataValidations count="1"><dataValidation type="list" sqref="A1:XFD1048576"><formula1>"a,b"</formula1></dataValidation></dataValidations></worksheet>')),
    'xl/workbook.xml',
    (x) => x.replace('</workbook>', '<definedNames><definedName name="All">Sites!$A:$XFD</definedName></definedNames></workbook>').replace('<definedNames/>', ''),
  );
  assert.equal((await load(dv)).rows.length, 1);
  // Generous bound (loaded CI machine): the point is "not minutes", the bench measures speed.
  assert.ok(performance.now() - t0 < 20_000);
});

test('cells and rows without r= references (allowed by the format) are placed by position', async () => {
  const good = await sites(['cn-hangzhou', '203.0.113.1', 'n']);
  const m = await load(withPart(good, 'xl/worksheets/sheet1.xml', (x) => x.replace(/ r="[A-Z]*\d+"/g, '')));
  assert.deepEqual(m.rows[0]!.fields, { region: 'cn-hangzhou', ip: '203.0.113.1', name: 'n' });
  // Rows without numbers whose cells have references (row 1, then row 4) are placed by the cells.
  const cellsOnly = await load(withPart(good, 'xl/worksheets/sheet1.xml', (x) => x.replace(/<row r="\d+"/g, '<row').replace(/([A-Z])2"/g, '$14"')));
  assert.deepEqual(cellsOnly.rows.map((r) => [r.line, r.fields.ip]), [[4, '203.0.113.1']]);
});

test('loadManifest: .xlsx and .xlsm by extension or ZIP magic; .xls, .xlsb, .ods refused by name', async () => {
  const bytes = await sites(['cn-hangzhou', '203.0.113.1']);
  const t = tempDir({ 'a.xlsx': bytes, 'a.xlsm': bytes, 'a.bin': bytes, 'a.xls': bytes, 'a.ods': 'x', 'a.xlsb': bytes });
  try {
    assert.equal((await loadManifest(t.path('a.xlsx'), opts)).format, 'xlsx');
    assert.equal((await loadManifest(t.path('a.xlsm'), opts)).format, 'xlsx');
    assert.equal((await loadManifest(t.path('a.bin'), opts)).format, 'xlsx');
    for (const f of ['a.xls', 'a.ods', 'a.xlsb']) {
      await rejects(loadManifest(t.path(f), opts), /which cgw-batch does not read; save it as "Excel Workbook \(\.xlsx\)" or as "CSV UTF-8"/);
    }
  } finally {
    t.cleanup();
  }
});
