// CSV loader: inputs-and-reliability.md §7 cases 1-14 (loading side), plus AuthKeys, tags and echo.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseCsv } from '../../src/load/index.js';
import { Redactor } from '../../src/secrets.js';
import { fixture } from '../helpers/paths.js';
import { MARKER, expectManifestError } from './helpers.js';

const opts = { env: {} };
const csv = (s: string, o: Parameters<typeof parseCsv>[2] = opts) => parseCsv(Buffer.from(s, 'utf8'), 'm.csv', o);
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

test('basic fixture: raw strings, lines, columns, hash', () => {
  const bytes = readFileSync(fixture('manifests', 'basic.csv'));
  const m = parseCsv(bytes, 'basic.csv', opts);
  assert.equal(m.format, 'csv');
  assert.match(m.hash, /^[0-9a-f]{64}$/);
  assert.deepEqual(m.columns, ['region', 'ip', 'name', 'asn']);
  assert.deepEqual(m.rows.map((r) => [r.line, r.fields.ip, r.fields.asn]), [[2, '203.0.113.10', '65001'], [3, '203.0.113.20', '65002']]);
  assert.deepEqual(m.issues, []);
});

test('case 1: UTF-8 BOM, also with a quoted first header', () => {
  for (const text of ['region,ip,name\ncn-hangzhou,203.0.113.1,a\n', '"region",ip,name\ncn-hangzhou,203.0.113.1,a\n']) {
    const m = parseCsv(Buffer.concat([BOM, Buffer.from(text)]), 'm.csv', opts);
    assert.deepEqual(m.columns, ['region', 'ip', 'name']);
    assert.equal(m.rows[0]?.fields.region, 'cn-hangzhou');
    assert.equal(m.rows[0]?.line, 2);
  }
});

test('case 2: UTF-16LE "Unicode Text" (tab, CRLF) gives the same rows as UTF-8', () => {
  const text = 'Region\tIP Address\tName\r\ncn-hangzhou\t203.0.113.1\tCafé\r\ncn-shanghai\t203.0.113.2\tb\r\n';
  const le = parseCsv(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), 'u.txt', opts);
  const utf8 = csv(text);
  assert.deepEqual(le.rows.map((r) => [r.line, r.fields]), utf8.rows.map((r) => [r.line, r.fields]));
  assert.equal(le.rows[0]?.fields.name, 'Café');
});

test('case 2: UTF-16BE is decoded, never garbage rows', () => {
  const text = 'region,ip\ncn-hangzhou,203.0.113.1\n';
  const le = Buffer.from(text, 'utf16le');
  const be = Buffer.alloc(le.length);
  for (let i = 0; i < le.length; i += 2) (be[i] = le[i + 1]!), (be[i + 1] = le[i]!);
  const m = parseCsv(Buffer.concat([Buffer.from([0xfe, 0xff]), be]), 'be.csv', opts);
  assert.deepEqual(m.rows[0]?.fields, { region: 'cn-hangzhou', ip: '203.0.113.1' });
});

test('case 2: invalid UTF-16 (lone surrogate, odd length) names the line of the bad code unit', () => {
  const le = (s: string) => Buffer.from(s, 'utf16le');
  const bom = Buffer.from([0xff, 0xfe]);
  const lone = Buffer.concat([bom, le('region\tip\r\ncn-hangzhou\t203.0.113.1\r\ncn-hangzhou\t'), Buffer.from([0x00, 0xd8]), le('\r\n')]);
  expectManifestError(() => parseCsv(lone, 'u.txt', opts), 3, /not valid UTF-16LE/);
  const odd = Buffer.concat([bom, le('region\tip\r\n'), Buffer.from([0x41])]);
  expectManifestError(() => parseCsv(odd, 'u.txt', opts), 2, /not valid UTF-16LE/);
  const pair = le('\u{1F600}');
  const be = Buffer.concat([Buffer.from([0xfe, 0xff]), le('region,ip\n').swap16(), Buffer.from(pair).swap16(), Buffer.from([0xdc, 0x00])]);
  expectManifestError(() => parseCsv(be, 'be.csv', opts), 2, /not valid UTF-16BE/);
});

test('case 3: Windows-1252 byte -> "save as CSV UTF-8" at the line of the bad byte, no U+FFFD', () => {
  const bytes = Buffer.concat([Buffer.from('region,ip,description\ncn-hangzhou,203.0.113.1,ok\ncn-hangzhou,203.0.113.2,Caf'), Buffer.from([0xe9]), Buffer.from('\n')]);
  expectManifestError(() => parseCsv(bytes, 'w.csv', opts), 3, /not UTF-8.*CSV UTF-8/);
});

test('a Windows-1252 CSV with German and French names (Zürich, Köln, Genève) is diagnosed as Windows-1252, not a CJK code page', () => {
  const latin1 = (s: string) => Buffer.from(s, 'latin1');
  const bytes = latin1('region,ip,name,description\ncn-hangzhou,203.0.113.1,Zürich,Köln office\ncn-shanghai,203.0.113.2,Genève,Straße 1\n');
  const e = expectManifestError(() => parseCsv(bytes, 'w.csv', opts), 2, /not UTF-8 \(it looks like Windows-1252 or another 8-bit code page\)/);
  assert.doesNotMatch(e.message, /GBK|Big5|Shift-JIS/);
});

test("a misspelt column stops the file naming the likely field; extra columns of the user's own stay warnings and are echoed", () => {
  const e = expectManifestError(() => csv('region,ip,nmae\ncn-hangzhou,203.0.113.1,hz-01\n'), 1, /column 3 "nmae" is not a column cgw-batch knows: did you mean name\?/);
  assert.match(e.message, /Rename the header/);
  expectManifestError(() => csv('region,ip,Descripton,BGP ASN,Auth Kye\ncn-hangzhou,203.0.113.1,d,65001,env:K\n'), 1, /column 3 "Descripton" .*did you mean description\?; column 5 "Auth Kye" .*did you mean auth_key\?/);
  // A required column misspelt: the missing-columns error says which one.
  expectManifestError(() => csv('regoin,ip\ncn-hangzhou,203.0.113.1\n'), 1, /found: "regoin", "ip" \("regoin": did you mean region\?\)/);
  const m = csv('region,ip,name,Site Code,id,note,nome\ncn-hangzhou,203.0.113.1,hz-01,HZ1,7,n,x\n');
  assert.deepEqual(m.issues.map((i) => [i.severity, i.code]), [['warning', 'Cgw.UnknownColumn']]);
  assert.match(m.issues[0]!.message, /Site Code, id, note, nome/);
  assert.deepEqual(m.rows[0]!.echo, { region: 'cn-hangzhou', ip: '203.0.113.1', name: 'hz-01', 'Site Code': 'HZ1', id: '7', note: 'n', nome: 'x' });
});

test('header cells holding terminal control characters are printed escaped', () => {
  const m = csv('region,ip,\u001b[2Jx\u0007\ncn-hangzhou,203.0.113.1,v\n');
  assert.match(m.issues[0]!.message, /\\x1b\[2Jx\\x07/);
  assert.ok(!m.issues[0]!.message.includes('\u001b'));
  const e = expectManifestError(() => csv('\u001b]0;title\u0007,ip\ncn-hangzhou,203.0.113.1\n'), 1, /found: "\\x1b\]0;title\\x07", "ip"/);
  assert.ok(!/[\u0000-\u001f]/.test(e.message));
});

test('case 4: mixed line endings: no trailing \\r, rows not merged; lone CR also ends a line', () => {
  const a = csv('region,ip\ncn-hangzhou,203.0.113.1\r\ncn-hangzhou,203.0.113.2\r\n');
  assert.deepEqual(a.rows.map((r) => [r.line, r.fields.ip]), [[2, '203.0.113.1'], [3, '203.0.113.2']]);
  const b = csv('region,ip\r\ncn-hangzhou,203.0.113.1\ncn-hangzhou,203.0.113.2\n');
  assert.deepEqual(b.rows.map((r) => [r.line, r.fields.ip]), [[2, '203.0.113.1'], [3, '203.0.113.2']]);
  const c = csv('region,ip\rcn-hangzhou,203.0.113.1\rcn-hangzhou,203.0.113.2');
  assert.deepEqual(c.rows.map((r) => [r.line, r.fields.ip]), [[2, '203.0.113.1'], [3, '203.0.113.2']]);
});

test('case 5: ; delimiter detected from the header, commas in values intact', () => {
  const m = parseCsv(readFileSync(fixture('manifests', 'semicolon-commas.csv')), 'semi.csv', opts);
  assert.deepEqual(m.rows.map((r) => r.fields.description), ['Floor 2, rack 3, room 4', 'a,b,c']);
  assert.deepEqual(m.columns, ['Region', 'IP Address', 'Name', 'Description']);
});

test('case 5: a name,ip file full of dotted IPs picks ","', () => {
  const m = parseCsv(readFileSync(fixture('manifests', 'dotted-ips.csv')), 'd.csv', opts);
  assert.deepEqual(m.rows.map((r) => r.fields.ip), ['203.0.113.10', '203.0.113.11', '198.51.100.12']);
});

test('case 5: sep=; first line is honoured and skipped; lines stay physical', () => {
  const m = csv('sep=;\r\nregion;ip;name\r\ncn-hangzhou;203.0.113.1;a,b\r\n\r\ncn-hangzhou;203.0.113.2;c\r\n');
  assert.deepEqual(m.rows.map((r) => [r.line, r.fields.name]), [[3, 'a,b'], [5, 'c']]);
  expectManifestError(() => csv('sep=;\nregion,ip\n'), 2, /header must name/);
});

test('case 5: tab-separated UTF-8', () => {
  const m = csv('region\tip\nap-southeast-1\t203.0.113.9\n');
  assert.equal(m.rows[0]?.fields.region, 'ap-southeast-1');
});

test('case 6: header without the required columns lists expected vs found, with a delimiter hint', () => {
  const e = expectManifestError(() => csv('name,address\nx,y\n'), 1, /found: "name", "address"/);
  assert.match(e.message, /region, ip/);
  expectManifestError(() => csv('region|ip\ncn-hangzhou|203.0.113.1\n'), 1, /delimited by something other/);
  expectManifestError(() => csv(''), undefined, /empty/);
  expectManifestError(() => csv('region,ip\n\n,,\n'), 1, /no rows/);
});

test('ambiguous delimiter is an error', () => {
  expectManifestError(() => csv('region,ip,x;region;ip;y,region,ip\n'), 1, /cannot tell the delimiter/);
});

test('case 7: trailing empty columns and ,,, / whitespace-only rows are ignored without shifting lines', () => {
  const m = csv('region,ip,,\ncn-hangzhou,203.0.113.1,,\n,,,\n   \n\t\ncn-hangzhou,203.0.113.2,,\n');
  assert.deepEqual(m.rows.map((r) => [r.line, r.fields.ip]), [[2, '203.0.113.1'], [6, '203.0.113.2']]);
  assert.deepEqual(m.columns, ['region', 'ip']);
  assert.deepEqual(Object.keys(m.rows[0]!.echo), ['region', 'ip']);
  expectManifestError(() => csv('region,ip,\ncn-hangzhou,203.0.113.1,stray\n'), 2, /no header name/);
});

test('case 8: a row with an extra field fails at its line; fewer fields are empty cells', () => {
  expectManifestError(() => csv(`region,ip,name\ncn-hangzhou,203.0.113.1,a\ncn-hangzhou,203.0.113.2,Smith, ${MARKER}\n`), 3, /row has 4 fields, header has 3/);
  const m = csv('region,ip,name,asn\ncn-hangzhou,203.0.113.1\n');
  assert.deepEqual(m.rows[0]?.fields, { region: 'cn-hangzhou', ip: '203.0.113.1' });
  assert.equal(m.rows[0]?.echo.asn, '');
});

test('case 9: duplicate headers name both; padded / NBSP headers are accepted', () => {
  expectManifestError(() => csv('region,ip,ip\n'), 1, /"ip" and "ip"/);
  expectManifestError(() => csv('region,IP Address,ip_address\n'), 1, /"IP Address" and "ip_address"/);
  const m = csv(' Region ,IP\u00A0, Name \ncn-hangzhou,203.0.113.1,a\n');
  assert.deepEqual(m.rows[0]?.fields, { region: 'cn-hangzhou', ip: '203.0.113.1', name: 'a' });
  assert.deepEqual(m.columns, ['Region', 'IP', 'Name']);
});

test('case 10: smart quotes stay in the raw value for the validator', () => {
  const m = csv('region,ip,name\ncn-hangzhou,203.0.113.1,\u201Cgw1\u201D\n');
  assert.equal(m.rows[0]?.fields.name, '\u201Cgw1\u201D');
});

test('case 11: unclosed quote at line 5 of 10 rejects the file at line 5', () => {
  const lines = ['region,ip,name'];
  for (let i = 2; i <= 10; i++) lines.push(i === 5 ? `cn-hangzhou,203.0.113.${i},"open ${MARKER}` : `cn-hangzhou,203.0.113.${i},gw${i}`);
  expectManifestError(() => csv(lines.join('\n') + '\n'), 5, /never closed/);
});

test('a quote inside an unquoted value is an error at its line, without the value', () => {
  expectManifestError(() => csv(`region,ip,name\ncn-hangzhou,203.0.113.1,a\ncn-hangzhou,203.0.113.2,5" ${MARKER}\n`), 3, /double quote/);
});

test('case 12: a 300 KB field, or 5 MB without newlines -> size error, fast', () => {
  const big = 'x'.repeat(300 * 1024);
  expectManifestError(() => csv(`region,ip,name\ncn-hangzhou,203.0.113.1,a\ncn-hangzhou,203.0.113.2,${big}\n`), 3, /larger than 65536 bytes/);
  const t0 = performance.now();
  expectManifestError(() => csv('y'.repeat(5 * 1024 * 1024)), 1, /header line is longer/);
  expectManifestError(() => csv(`region,ip\n${'z'.repeat(5 * 1024 * 1024)}`), 2, /larger than/);
  assert.ok(performance.now() - t0 < 2000);
  expectManifestError(() => parseCsv(Buffer.alloc(2048, 0x41), 'big.csv', { env: {}, maxBytes: 1024 }), undefined, /over the 1024-byte limit/);
});

test('case 13: values are never cast (asdot, leading zeros, Excel E+ notation, full-width digits)', () => {
  const m = csv('region,ip,asn,auth_key\ncn-hangzhou,01.1.1.1,1.10,0123\ncn-hangzhou,\uFF11.\uFF11.\uFF11.\uFF11,065530,k\ncn-hangzhou,1.1.1.1\u200B,1.23457E+11,k\n');
  assert.deepEqual(m.rows.map((r) => [r.fields.ip, r.fields.asn]), [['01.1.1.1', '1.10'], ['\uFF11.\uFF11.\uFF11.\uFF11', '065530'], ['1.1.1.1\u200B', '1.23457E+11']]);
  assert.equal(m.rows[0]?.fields.auth_key, '0123');
});

test('case 14: CRLF inside a quoted cell does not shift line numbers (csv-parse double count)', () => {
  const text = 'region,ip,description\r\ncn-hangzhou,203.0.113.1,"line one\r\nline two\r\nline three"\r\n\r\ncn-hangzhou,bad-ip-6,x\r\n\r\n\r\ncn-hangzhou,bad-ip-9,y\r\n';
  const m = csv(text);
  assert.deepEqual(m.rows.map((r) => [r.line, r.endLine]), [[2, 4], [6, 6], [9, 9]]);
  assert.equal(m.rows[0]?.fields.description, 'line one\r\nline two\r\nline three');
  // Same file with an error on line 9: the error says 9.
  expectManifestError(() => csv(text.replace('bad-ip-9,y', 'bad-ip-9,y,extra')), 9, /row has 4 fields/);
});

test('auth_key: literal, env:NAME, auth_key_env column; registered with the redactor; echoed only as references', () => {
  const redactor = new Redactor();
  const m = csv(
    `region,ip,auth_key,auth_key_env\ncn-hangzhou,203.0.113.1,${MARKER},\ncn-hangzhou,203.0.113.2,env:BGP_KEY,\ncn-hangzhou,203.0.113.3,,BGP_KEY\ncn-hangzhou,203.0.113.4,env:UNSET_VAR,\n`,
    { env: { BGP_KEY: 'from-env-9876' }, redactor },
  );
  assert.deepEqual(m.rows.map((r) => r.fields.auth_key), [MARKER, 'from-env-9876', 'from-env-9876', undefined]);
  assert.deepEqual(m.columns, ['region', 'ip', 'auth_key', 'auth_key_env']);
  // A results file saved as the next manifest keeps the references; a literal key is never copied (and is refused there).
  assert.deepEqual(m.rows.map((r) => [r.echo['auth_key'], r.echo['auth_key_env']]), [
    ['(AuthKey not copied)', ''],
    ['env:BGP_KEY', ''],
    ['', 'BGP_KEY'],
    ['env:UNSET_VAR', ''],
  ]);
  assert.ok(!JSON.stringify(m.rows.map((r) => r.echo)).includes(MARKER));
  const again = csv(`region,ip,asn,auth_key\ncn-hangzhou,203.0.113.1,65000,(AuthKey not copied)\n`);
  assert.equal(again.rows[0]!.issues[0]!.code, 'Cgw.AuthKeyNotCopied');
  const issue = m.rows[3]?.issues[0];
  assert.equal(issue?.code, 'Cgw.AuthKeyEnvMissing');
  assert.equal(issue?.field, 'auth_key');
  assert.equal(issue?.line, 5);
  assert.match(issue?.message ?? '', /UNSET_VAR is not set/);
  assert.equal(redactor.redact(`x ${MARKER} from-env-9876`), 'x *** ***');
});

test('an auth_key_env cell or env: reference that is not a variable name (a 60 KB paste, the key itself) is never printed', () => {
  const redactor = new Redactor();
  const m = csv(`region,ip,asn,auth_key_env,auth_key\ncn-hangzhou,203.0.113.1,65000,${'A'.repeat(60_000)},\ncn-hangzhou,203.0.113.2,65000,${MARKER},\ncn-hangzhou,203.0.113.3,65000,,env:${MARKER}\n`, { env: {}, redactor });
  assert.deepEqual(m.rows.map((r) => r.echo['auth_key_env']), ['(AuthKey not copied)', '(AuthKey not copied)', '']);
  for (const r of m.rows) {
    const issue = r.issues[0];
    assert.equal(issue?.code, 'Cgw.AuthKeyEnvMissing');
    assert.ok((issue?.message.length ?? 0) < 250, issue?.message);
    assert.match(issue?.message ?? '', /is not an environment variable name .*never the key itself/);
    assert.ok(!issue!.message.includes('AAAA') && !issue!.message.includes(MARKER), issue!.message);
  }
  // A value that may be the key is masked wherever it might surface later.
  assert.equal(redactor.redact(`x ${MARKER}`), 'x ***');
});

test('both auth_key and auth_key_env on one row is a row error', () => {
  const m = csv('region,ip,auth_key,auth_key_env\ncn-hangzhou,203.0.113.1,abcd,K\n', { env: { K: 'v' } });
  assert.equal(m.rows[0]?.issues[0]?.code, 'Cgw.AuthKeyConflict');
  assert.equal(m.rows[0]?.fields.auth_key, undefined);
});

test('tags: cell k=v;k2=v2 and tag:<Key> columns, in column order; malformed piece is a row issue', () => {
  const m = csv('region,ip,tags,tag:CostCenter,tag:env\ncn-hangzhou,203.0.113.1,env=prod; team = net ;,cc-1,\ncn-hangzhou,203.0.113.2,oops,,dev\n');
  assert.deepEqual(m.rows[0]?.tags, [{ key: 'env', value: 'prod' }, { key: 'team', value: 'net' }, { key: 'CostCenter', value: 'cc-1' }]);
  assert.equal(m.rows[0]?.fields.tags, 'env=prod; team = net ;');
  assert.deepEqual(m.rows[1]?.tags, [{ key: 'env', value: 'dev' }]);
  assert.equal(m.rows[1]?.issues[0]?.code, 'InvalidParameter.TagKey');
  // Same key twice in one row is kept for the validator (Duplicated.TagKey).
  const d = csv('region,ip,tags,tag:env\ncn-hangzhou,203.0.113.1,env=a,b\n');
  assert.deepEqual(d.rows[0]?.tags.map((t) => t.key), ['env', 'env']);
});

test('unknown columns are echoed and produce one warning', () => {
  const m = csv('region,ip,Site Code,Owner\ncn-hangzhou,203.0.113.1,HZ01,alice\n');
  assert.equal(m.issues.length, 1);
  assert.equal(m.issues[0]?.code, 'Cgw.UnknownColumn');
  assert.match(m.issues[0]?.message ?? '', /Site Code, Owner/);
  assert.deepEqual(m.rows[0]?.echo, { region: 'cn-hangzhou', ip: '203.0.113.1', 'Site Code': 'HZ01', Owner: 'alice' });
});

test('no error message carries a field value (secret marker next to every failure)', () => {
  const bad = [
    `region,ip,auth_key\ncn-hangzhou,203.0.113.1,"${MARKER}`,
    `region,ip,auth_key\ncn-hangzhou,203.0.113.1,${MARKER}"x\n`,
    `region,ip,auth_key\ncn-hangzhou,203.0.113.1,"${MARKER}"x\n`,
    `region,ip,auth_key\ncn-hangzhou,203.0.113.1,${MARKER},extra\n`,
  ];
  for (const b of bad) expectManifestError(() => csv(b), 2);
});
