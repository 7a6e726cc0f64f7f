// Bounded time and memory for tiny hostile workbooks: each is loaded in a child process under a heap cap and a CPU-time
// bound (its own rusage, never the wall clock), so the tests prove "linear" and "bounded" whatever the machine's load.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManifestError } from '../../src/errors.js';
import { parseXlsx } from '../../src/load/index.js';
import { tempDir } from '../helpers/tmp.js';
import { loadInChild } from './bounded.js';
import { inline, inlineRow, xmlWorkbook } from './workbook.js';

const HEAD = inlineRow(1, ['region', 'ip', 'name']);
const ROW2 = inlineRow(2, ['cn-hangzhou', '203.0.113.1', 'hz-01']);

/** Writes the workbook to a temp file and loads it in a child; the temp dir is removed afterwards. */
async function childLoad(bytes: Buffer, limits: { heapMb?: number; cpuMs?: number } = {}) {
  const t = tempDir({ 'w.xlsx': bytes });
  try {
    // 20 s of CPU: the linear loader needs well under one; the quadratic one needed hours.
    return await loadInChild(t.path('w.xlsx'), { heapMb: limits.heapMb ?? 256, cpuMs: limits.cpuMs ?? 20_000 });
  } finally {
    t.cleanup();
  }
}

async function loadError(bytes: Buffer): Promise<string> {
  try {
    await parseXlsx(bytes, 'w.xlsx', { env: {} });
  } catch (e) {
    assert.ok(e instanceof ManifestError, String(e));
    return e.message;
  }
  assert.fail('the workbook loaded');
}

test('a 2 KB workbook with 200,000 "<c " in a comment loads in linear time (the sheet scan never rescans)', async () => {
  const bytes = xmlWorkbook({ sheetData: `<!--${'<c '.repeat(200_000)}-->${HEAD}${ROW2}` });
  assert.ok(bytes.length < 4096, `${bytes.length} bytes`);
  const r = await childLoad(bytes);
  assert.equal(r.error, undefined);
  assert.equal(r.rows, 1);
  assert.deepEqual(r.fields?.[0], { region: 'cn-hangzhou', ip: '203.0.113.1', name: 'hz-01' });
});

test('a tag that never closes ("<c <c <c ...") is refused at once as a damaged sheet', async () => {
  const r = await childLoad(xmlWorkbook({ sheetData: `${HEAD}<row r="2">${'<c '.repeat(200_000)}</row>` }));
  assert.match(r.error ?? '', /w\.xlsx: cannot read the workbook: the sheet part is damaged \(a tag is not closed/);
});

test('rows past 1,048,576 and columns past XFD are refused at the cell; a row numbered 2,000,000,000 does not hang', async () => {
  const lastRow = await parseXlsx(xmlWorkbook({ sheetData: `${HEAD}${inlineRow(1_048_576, ['cn-hangzhou', '203.0.113.1'])}` }), 'w.xlsx', { env: {} });
  assert.deepEqual(lastRow.rows.map((r) => r.line), [1_048_576]);
  assert.match(
    await loadError(xmlWorkbook({ sheetData: `${HEAD}${inlineRow(1_048_577, ['cn-hangzhou', '203.0.113.1'])}` })),
    /^w\.xlsx: cannot read the workbook: cell Sites!A1048577 is past the last row a sheet can have \(1,048,576\)/,
  );
  assert.match(
    await loadError(xmlWorkbook({ sheetData: `${HEAD}<row r="2">${inline('XFE2', 'x')}</row>` })),
    /cell Sites!XFE2 is past the last column a sheet can have \(XFD\)/,
  );
  // A row number alone (cells without references) counts too.
  assert.match(await loadError(xmlWorkbook({ sheetData: `${HEAD}<row r="1048577"><c t="inlineStr"><is><t>x</t></is></c></row>` })), /cell Sites!A1048577 is past the last row/);
  const huge = xmlWorkbook({ sheetData: `${HEAD}${inlineRow(2_000_000_000, ['cn-hangzhou', '203.0.113.1'])}` });
  assert.ok(huge.length < 2048, `${huge.length} bytes`);
  const r = await childLoad(huge);
  assert.match(r.error ?? '', /cell Sites!A2000000000 is past the last row a sheet can have \(1,048,576\)/);
});

test('1.5 million rich shared strings and 1.2 million cell formats in a small file: peak RSS stays bounded', async () => {
  // What exceljs expanded to 0.8-1.2 GB: every rich run and every cell format became objects.
  const rich = xmlWorkbook({
    sheetData: `${HEAD}<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c><c r="C2" t="s"><v>1499999</v></c></row>`,
    sst: `<si><t>cn-hangzhou</t></si><si><t>203.0.113.1</t></si>${'<si><r><rPr><b/></rPr><t>a</t></r></si>'.repeat(1_499_998)}`,
  });
  const formats = xmlWorkbook({
    sheetData: `${HEAD}<row r="2">${inline('A2', 'cn-hangzhou')}${inline('B2', '203.0.113.1')}<c r="C2" s="1199999" t="inlineStr"><is><t>n</t></is></c></row>`,
    styles: `<fonts count="1"><font/></fonts><cellXfs count="1200000">${'<xf numFmtId="0" fontId="0"/>'.repeat(1_200_000)}</cellXfs>`,
  });
  for (const [what, bytes] of [['rich strings', rich], ['cell formats', formats]] as const) {
    assert.ok(bytes.length < 512 * 1024, `${what}: ${bytes.length} bytes`);
    // A 256 MB heap: the whole expansion cannot fit, a bounded reader does.
    const r = await childLoad(bytes, { heapMb: 256 });
    assert.equal(r.error, undefined, what);
    assert.equal(r.rows, 1, what);
    assert.equal(r.fields?.[0]?.name, what === 'rich strings' ? 'a' : 'n');
    // The parts are 58 and 35 MB of text, read once; nothing per string or per format is kept.
    assert.ok(r.maxRssMb < 350, `${what}: peak RSS ${r.maxRssMb} MB`);
  }
});
