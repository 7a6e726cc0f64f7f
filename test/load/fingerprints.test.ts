// What a spreadsheet did to a CSV: Cgw.SpreadsheetChanged warnings, and encoding errors that name the likely encoding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCsv, parseYaml } from '../../src/load/index.js';
import { LISTED_PER_GROUP } from '../../src/load/capped.js';
import { sniffUtf16 } from '../../src/load/decode.js';
import { localeDate, rounded15, scientific } from '../../src/load/fingerprints.js';
import type { Manifest } from '../../src/types.js';
import { MARKER, expectManifestError } from './helpers.js';

const opts = { env: {} };
const csv = (s: string) => parseCsv(Buffer.from(s, 'utf8'), 'm.csv', opts);
const changed = (m: Manifest) =>
  m.rows.flatMap((r) => r.issues.filter((i) => i.code === 'Cgw.SpreadsheetChanged').map((i) => ({ line: i.line, field: i.field, severity: i.severity, message: i.message })));

test('scientific notation: which value, the likely original, how to keep it as text in Excel and LibreOffice', () => {
  const m = csv('region,ip,name,tag:Circuit\ncn-hangzhou,203.0.113.1,1.00E+05,1.23457E+11\n');
  const found = changed(m);
  assert.deepEqual(found.map((f) => [f.line, f.field, f.severity]), [[2, 'name', 'warning'], [2, 'tag:Circuit', 'warning']]);
  assert.match(found[0]!.message, /^"1\.00E\+05" is scientific notation .* a 6-digit number starting 100 \(its last 3 digits are lost\), or text such as 1E5/);
  assert.match(found[1]!.message, /a 12-digit number starting 123457 \(its last 6 digits are lost\)/);
  for (const f of found) assert.match(f.message, /Excel: .*LibreOffice: /);
  assert.match(scientific('1.5E+01')!.message, /probably 15, or text such as 1E1/);
  assert.match(scientific('1.2E-05')!.message, /probably text such as 1E-5/);
  assert.equal(scientific('1e5'), undefined, 'Excel writes an upper-case E with a sign');
});

test('locale dates where text was expected, including an asdot ASN read as a date', () => {
  const m = csv('region,ip,name,asn,tag:Rack\ncn-hangzhou,203.0.113.1,31-Dec,01.10.2026,12/31/26\ncn-hangzhou,203.0.113.2,2026-12-31,65001,1/2\n');
  const found = changed(m);
  assert.deepEqual(found.map((f) => [f.line, f.field]), [[2, 'name'], [2, 'tag:Rack'], [2, 'asn']]);
  assert.match(found[1]!.message, /"12\/31\/26" looks like a date .* probably 12\/31 \(the spreadsheet read it as a date and added the year\)/);
  assert.match(found[2]!.message, /probably the asdot ASN 1\.10/);
  assert.equal(localeDate('2026-12-31', 'name'), undefined, 'ISO dates are typed on purpose');
});

test("runs of '?' where letters were: the non-UTF-8 export of Chinese names", () => {
  const m = csv('region,ip,name,description\ncn-beijing,203.0.113.1,????-01,Z?rich office\ncn-beijing,203.0.113.2,Is it up?,ok\n');
  const found = changed(m);
  assert.deepEqual(found.map((f) => [f.line, f.field]), [[2, 'name'], [2, 'description']]);
  assert.match(found[0]!.message, /"\?\?\?\?-01" has '\?' where letters should be.*Chinese/);
  assert.match(found[0]!.message, /Character set "Unicode \(UTF-8\)"/);
});

test('UTF-8 read as Windows-1252 (mojibake) gives back the original; real Latin text does not trigger it', () => {
  const m = csv('region,ip,name,description\ncn-beijing,203.0.113.1,åŒ—äº¬åˆ†éƒ¨,CafÃ©\ncn-beijing,203.0.113.2,São Paulo,Zürich naïve\n');
  const found = changed(m);
  assert.deepEqual(found.map((f) => [f.line, f.field]), [[2, 'name'], [2, 'description']]);
  assert.match(found[0]!.message, /the original was probably "北京分部"/);
  assert.match(found[1]!.message, /the original was probably "Café"/);
});

test('asdot ASNs missing a trailing zero, only when other rows show the column was typed as text', () => {
  const m = csv('region,ip,asn\ncn-hangzhou,203.0.113.1,1.10\ncn-hangzhou,203.0.113.2,1.1\ncn-hangzhou,203.0.113.3,65000.5\ncn-hangzhou,203.0.113.4,65001\n');
  const found = changed(m);
  assert.deepEqual(found.map((f) => [f.line, f.field]), [[3, 'asn'], [4, 'asn']]);
  assert.match(found[0]!.message, /ASN 1\.1 \(= 65537\) may have lost a trailing zero: line 2 has 1\.10.* 1\.10 \(= 65546\)/);
  assert.deepEqual(changed(csv('region,ip,asn\ncn-hangzhou,203.0.113.1,1.1\ncn-hangzhou,203.0.113.2,1.2\n')), [], 'no evidence, no warning');
});

test('long digit strings rounded to 15 significant digits', () => {
  const m = csv('region,ip,description\ncn-hangzhou,203.0.113.1,1234567890123450000\ncn-hangzhou,203.0.113.2,1234567890123456789\n');
  const found = changed(m);
  assert.deepEqual(found.map((f) => f.line), [2]);
  assert.match(found[0]!.message, /19 digits and only zeros after the 15th.*last 4 digits \(after 123456789012345\) are lost/);
  assert.equal(rounded15('123456789012345'), undefined);
});

test('an AuthKey with a spreadsheet fingerprint is reported without quoting it', () => {
  const key = '1.23457E+11';
  const m = csv(`region,ip,asn,auth_key\ncn-hangzhou,203.0.113.1,65001,${key}\n`);
  const found = changed(m);
  assert.deepEqual(found.map((f) => f.field), ['auth_key']);
  assert.ok(!found[0]!.message.includes(key) && !found[0]!.message.includes('123457'), found[0]!.message);
});

test('ordinary values raise nothing; one cause in many rows is listed a few times, then counted', () => {
  assert.deepEqual(changed(csv('region,ip,name,description,tag:Env\ncn-hangzhou,203.0.113.1,hz-01,Q&A? room 3,prod\n')), []);
  const rows = Array.from({ length: 9 }, (_, i) => `cn-beijing,203.0.113.${i + 1},????${i}`).join('\n');
  const m = csv(`region,ip,name\n${rows}\n`);
  assert.equal(changed(m).length, LISTED_PER_GROUP);
  const summary = m.issues.find((i) => i.code === 'Cgw.SpreadsheetChanged');
  assert.ok(summary);
  assert.equal(summary.line, 2 + LISTED_PER_GROUP);
  assert.match(summary.message, new RegExp(`^${9 - LISTED_PER_GROUP} more values in name`));
});

test('results columns in a CSV (a saved results.csv) are ignored with one note', () => {
  const m = csv('line,region,ip,name,status,customer_gateway_id,error_code,error_message,request_id,attempts,duration_ms\n2,cn-hangzhou,203.0.113.1,a,failed,,Throttling,slow,RID,3,120\n');
  assert.deepEqual(m.columns, ['region', 'ip', 'name']);
  assert.deepEqual(m.issues.map((i) => [i.severity, i.code]), [['info', 'Cgw.ResultColumns']]);
  assert.deepEqual(m.rows[0]!.echo, { region: 'cn-hangzhou', ip: '203.0.113.1', name: 'a' });
});

// --- encodings ----------------------------------------------------------------------------------------------------

test('UTF-16LE and UTF-16BE without a BOM are decoded as such', () => {
  const text = 'region\tip\tname\r\ncn-beijing\t203.0.113.1\t北京分部\r\n';
  const le = Buffer.from(text, 'utf16le');
  assert.equal(sniffUtf16(le), 'utf-16le');
  assert.deepEqual(parseCsv(le, 'u.txt', opts).rows[0]!.fields, { region: 'cn-beijing', ip: '203.0.113.1', name: '北京分部' });
  const be = Buffer.from(le).swap16();
  assert.equal(sniffUtf16(be), 'utf-16be');
  assert.equal(parseCsv(be, 'u.txt', opts).rows[0]!.fields.name, '北京分部');
  assert.equal(sniffUtf16(Buffer.alloc(64)), undefined, 'NULs are not UTF-16 text');
  assert.equal(sniffUtf16(Buffer.from('region,ip\n')), undefined);
});

test('not UTF-8: CJK code pages named as GBK/Big5/Shift-JIS, Latin bytes as Windows-1252; Excel and LibreOffice ways given', () => {
  const head = Buffer.from('region,ip,name\ncn-beijing,203.0.113.1,');
  for (const hex of ['b1b1bea9b7d6b2bf', '938c8b9e8e789358', 'a578a55f']) {
    const e = expectManifestError(() => parseCsv(Buffer.concat([head, Buffer.from(hex, 'hex'), Buffer.from('\n')]), 'c.csv', opts), 2);
    assert.match(e.message, /not UTF-8 \(the bytes look like a Chinese or Japanese code page: GBK, Big5 or Shift-JIS\)/);
    assert.doesNotMatch(e.message, /1252/);
    assert.match(e.message, /in Excel use File > Save As > "CSV UTF-8 \(Comma delimited\) \(\*\.csv\)"; in LibreOffice Calc .*Character set "Unicode \(UTF-8\)"/);
  }
  const latin = expectManifestError(() => parseCsv(Buffer.concat([head, Buffer.from([0x43, 0x61, 0x66, 0xe9]), Buffer.from('\n')]), 'c.csv', opts), 2);
  assert.match(latin.message, /it looks like Windows-1252 or another 8-bit code page/);
  const yaml = expectManifestError(() => parseYaml(Buffer.concat([Buffer.from('- region: cn-beijing\n  name: Caf'), Buffer.from([0xe9, 0x0a])]), 'm.yaml', opts), 2);
  assert.match(yaml.message, /save the YAML file as UTF-8/);
  const zip = expectManifestError(() => parseCsv(Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.from([0xff, 0xfe, 0x00, 0x81])]), 'w.csv', opts), 1);
  assert.match(zip.message, /ZIP archive, e\.g\. an \.xlsx workbook; name it \.xlsx/);
  const cut = expectManifestError(() => parseCsv(Buffer.concat([Buffer.from('region,ip\ncn-beijing,203.0.113.1,'), Buffer.from([0xe5, 0x8c])]), 'c.csv', opts), 2);
  assert.match(cut.message, /ends in the middle of a character/);
  assert.ok(!latin.message.includes(MARKER));
});
