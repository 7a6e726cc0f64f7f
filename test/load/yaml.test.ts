// YAML loader: inputs-and-reliability.md §7 cases 18-28 (loading side), defaults, tags and AuthKeys.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseYaml } from '../../src/load/index.js';
import { Redactor } from '../../src/secrets.js';
import { fixture } from '../helpers/paths.js';
import { MARKER, expectManifestError } from './helpers.js';

const yaml = (s: string, o: Parameters<typeof parseYaml>[2] = { env: {} }) => parseYaml(Buffer.from(s, 'utf8'), 'm.yaml', o);
const load = (name: string) => parseYaml(readFileSync(fixture('manifests', name)), name, { env: {} });

test('defaults + gateways: row wins per field, tags merged with row value winning per key', () => {
  const m = load('defaults.yaml');
  assert.equal(m.format, 'yaml');
  assert.deepEqual(m.rows.map((r) => r.line), [10, 12, 16]);
  assert.deepEqual(m.rows[0]?.fields, { region: 'cn-hangzhou', asn: '65001', ip: '203.0.113.10', name: 'hz-branch-1' });
  assert.deepEqual(m.rows[1]?.tags, [{ key: 'env', value: 'staging' }, { key: 'team', value: 'netops' }]);
  assert.deepEqual(m.rows[2]?.fields, { region: 'cn-shanghai', asn: '1.10', ip: '198.51.100.7', name: 'sh-branch-1' });
  assert.deepEqual(m.columns, ['region', 'ip', 'name', 'asn', 'tags']);
  assert.deepEqual(m.rows[0]?.echo, { region: 'cn-hangzhou', ip: '203.0.113.10', name: 'hz-branch-1', asn: '65001', tags: 'env=prod;team=netops' });
});

test('a bare list of gateways; ip_address alias; endLine', () => {
  const m = yaml('- region: cn-hangzhou\n  ip_address: 203.0.113.1\n  description: >\n    folded\n    text\n- {region: ap-southeast-1, ip: 198.51.100.2}\n');
  assert.deepEqual(m.rows.map((r) => [r.line, r.endLine, r.fields.ip]), [[1, 5, '203.0.113.1'], [6, 6, '198.51.100.2']]);
  assert.equal(m.rows[0]?.fields.description, 'folded text\n');
});

test('case 18: no, on/off and dates stay strings', () => {
  const m = yaml('- region: cn-hangzhou\n  ip: 203.0.113.1\n  name: no\n  description: 2024-01-02\n  tags:\n    on: off\n');
  assert.equal(m.rows[0]?.fields.name, 'no');
  assert.equal(m.rows[0]?.fields.description, '2024-01-02');
  assert.deepEqual(m.rows[0]?.tags, [{ key: 'on', value: 'off' }]);
});

test('case 19: 1.10, 065530, 0123 and true keep their source text', () => {
  const m = yaml('- region: cn-hangzhou\n  ip: 203.0.113.1\n  asn: 1.10\n  auth_key: 0123\n- region: cn-hangzhou\n  ip: 203.0.113.2\n  asn: 065530\n  auth_key: true\n');
  assert.deepEqual(m.rows.map((r) => [r.fields.asn, r.fields.auth_key]), [['1.10', '0123'], ['065530', 'true']]);
});

test('case 20: auth_key followed by # comment warns without printing the key', () => {
  const m = yaml(`- region: cn-hangzhou\n  ip: 203.0.113.1\n  auth_key: ${MARKER} #rest\n- region: cn-hangzhou\n  ip: 203.0.113.2\n  auth_key: "quoted" # fine\n`);
  assert.equal(m.rows[0]?.fields.auth_key, MARKER);
  const w = m.rows[0]?.issues[0];
  assert.equal(w?.code, 'Cgw.AuthKeyComment');
  assert.equal(w?.severity, 'warning');
  assert.equal(w?.line, 3);
  assert.ok(!w?.message.includes(MARKER));
  assert.deepEqual(m.rows[1]?.issues, []);
});

test('case 21: duplicate key fails at its line naming the key, not the value', () => {
  const e = expectManifestError(() => yaml(`gateways:\n  - region: cn-hangzhou\n    ip: 203.0.113.1\n    auth_key: ${MARKER}\n    name: a\n    auth_key: ${MARKER}x\n`), 6, /duplicate key 'auth_key'/);
  assert.ok(!e.message.includes(MARKER));
});

test('case 22: billion laughs and any alias are rejected fast', () => {
  const t0 = performance.now();
  expectManifestError(() => parseYaml(readFileSync(fixture('manifests', 'billion-laughs.yaml')), 'b.yaml', { env: {} }), 1, /anchors/);
  expectManifestError(() => yaml('- region: cn-hangzhou\n  ip: 203.0.113.1\n  name: *x\n'), 3, /aliases/);
  assert.ok(performance.now() - t0 < 1000);
});

test('case 23: !!js/function, !Ref, !!binary are errors with a line', () => {
  expectManifestError(() => yaml('- region: cn-hangzhou\n  ip: !!js/function "function(){}"\n'), 2, /unsupported tag/);
  expectManifestError(() => yaml('- region: !Ref Region\n  ip: 203.0.113.1\n'), 1, /unsupported tag !Ref/);
  expectManifestError(() => yaml('- region: cn-hangzhou\n  ip: 203.0.113.1\n  auth_key: !!binary aGVsbG8=\n'), 3, /unsupported tag/);
  // !!str is harmless and allowed.
  assert.equal(yaml('- region: cn-hangzhou\n  ip: !!str 203.0.113.1\n').rows[0]?.fields.ip, '203.0.113.1');
});

test('case 24: __proto__ and unknown keys are rejected; no prototype pollution', () => {
  expectManifestError(() => load('proto-key.yaml'), 4, /unknown field '__proto__'; allowed: region, ip/);
  expectManifestError(() => yaml('- region: cn-hangzhou\n  ip: 203.0.113.1\n  constructor: x\n'), 3, /unknown field 'constructor'/);
  expectManifestError(() => yaml('defaults:\n  regoin: cn-hangzhou\ngateways:\n  - ip: 203.0.113.1\n'), 2, /unknown field 'regoin' \(did you mean 'region'\?\)/);
  expectManifestError(() => yaml('gateway:\n  - ip: 203.0.113.1\n'), 1, /unknown top-level key 'gateway' \(did you mean 'gateways'\?\)/);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('case 25: several documents, empty and comment-only files, tabs and deep nesting', () => {
  expectManifestError(() => yaml('- region: cn-hangzhou\n  ip: 203.0.113.1\n---\n- region: cn-hangzhou\n  ip: 203.0.113.2\n'), 4, /several YAML documents/);
  expectManifestError(() => yaml(''), undefined, /manifest is empty/);
  expectManifestError(() => yaml('# just a comment\n\n'), undefined, /manifest is empty/);
  expectManifestError(() => yaml('gateways:\n'), 1, /no gateways/);
  expectManifestError(() => yaml('gateways: []\n'), 1, /no gateways/);
  const tab = expectManifestError(() => yaml('gateways:\n\t- ip: 1\n'), 2, /tab characters/);
  assert.match(tab.message, /^m\.yaml:2:\d+: /);
  expectManifestError(() => yaml('a: ' + '['.repeat(200) + ']'.repeat(200) + '\n'), 1, /maxDepth/);
});

test('case 26: a bad IP in the 3rd gateway keeps the line of that item\'s first key', () => {
  const m = load('third-item.yaml');
  assert.deepEqual(m.rows.map((r) => r.line), [2, 5, 8]);
  assert.equal(m.rows[2]?.fields.ip, '203.0.113.300');
});

test('case 27: parse errors next to an auth_key line, and auth_key: *MARKER, print line:col and no marker', () => {
  const redactor = new Redactor();
  const e = expectManifestError(() => yaml(`gateways:\n  - region: cn-hangzhou\n    auth_key: ${MARKER}\n    ip: [203.0.113.1\n`, { env: {}, redactor }), 5);
  assert.match(e.message, /^m\.yaml:5:\d+: /);
  expectManifestError(() => yaml(`- region: cn-hangzhou\n  ip: 203.0.113.1\n  auth_key: *${MARKER}\n`), 3, /aliases/);
  expectManifestError(() => yaml(`- region: cn-hangzhou\n  ip: 203.0.113.1\n  auth_key: "${MARKER}\n`), 4);
  expectManifestError(() => yaml(`- region: cn-hangzhou\n  ip: 203.0.113.1\n  auth_key: !<${MARKER}> x\n`), 3);
});

test('case 28: a file over the cap is rejected before parsing', () => {
  expectManifestError(() => parseYaml(Buffer.alloc(4096, 0x20), 'big.yaml', { env: {}, maxBytes: 1024 }), undefined, /over the 1024-byte limit/);
});

test('a value or key over the per-value cap fails at its line (the YAML counterpart of the CSV record cap)', () => {
  const big = 'n'.repeat(70_000);
  expectManifestError(() => yaml(`gateways:\n  - region: cn-hangzhou\n    ip: 203.0.113.1\n    name: ${big}\n`), 4, /longer than 65536 characters/);
  expectManifestError(() => yaml(`gateways:\n  - region: cn-hangzhou\n    tags:\n      ${big}: v\n`), 4, /longer than 65536/);
  expectManifestError(() => yaml(`gateways:\n  - region: cn-hangzhou\n    asn: "65000"\n    auth_key: "${MARKER}${big}"\n`), 4, /longer than/);
  expectManifestError(() => yaml(`- region: cn-hangzhou\n  ip: 203.0.113.1\n  name: ${'x'.repeat(200)}\n`, { env: {}, maxRecordBytes: 100 }), 3, /longer than 100/);
  assert.equal(yaml(`- region: cn-hangzhou\n  ip: 203.0.113.1\n  name: ${'x'.repeat(60_000)}\n`).rows[0]?.fields.name?.length, 60_000, 'under the cap: loaded, left to the validator');
});

test('non-scalar where a scalar belongs, and malformed tags', () => {
  expectManifestError(() => yaml('- region: [cn-hangzhou]\n  ip: 203.0.113.1\n'), 1, /single value/);
  expectManifestError(() => yaml('- region: cn-hangzhou\n  ip: 203.0.113.1\n  tags: env=prod\n'), 3, /tags must be a map/);
  expectManifestError(() => yaml('- region: cn-hangzhou\n  ip: 203.0.113.1\n  ip_address: 203.0.113.2\n'), 3, /both 'ip' and 'ip_address'/);
  expectManifestError(() => yaml('- just a string\n'), 1, /each gateway must be a map/);
});

test('AuthKeys: env: in defaults applies to rows; a row auth_key overrides; unset env is a row issue', () => {
  const redactor = new Redactor();
  const m = yaml(
    `defaults:\n  region: cn-hangzhou\n  auth_key: env:BGP\ngateways:\n  - ip: 203.0.113.1\n  - ip: 203.0.113.2\n    auth_key: ${MARKER}\n  - ip: 203.0.113.3\n    auth_key_env: MISSING\n`,
    { env: { BGP: 'env-value-42' }, redactor },
  );
  assert.deepEqual(m.rows.map((r) => r.fields.auth_key), ['env-value-42', MARKER, undefined]);
  assert.equal(m.rows[2]?.issues[0]?.code, 'Cgw.AuthKeyEnvMissing');
  assert.equal(m.rows[2]?.issues[0]?.line, 8);
  for (const r of m.rows) assert.ok(!('auth_key' in r.echo) && !('auth_key_env' in r.echo));
  assert.ok(!m.columns.includes('auth_key'));
  assert.equal(redactor.redact(`${MARKER} env-value-42`), '*** ***');
});

test('empty value means "not given" so defaults still apply', () => {
  const m = yaml('defaults:\n  region: cn-hangzhou\ngateways:\n  - ip: 203.0.113.1\n    region:\n');
  assert.equal(m.rows[0]?.fields.region, 'cn-hangzhou');
});

test('UTF-8 BOM and CRLF YAML', () => {
  const m = parseYaml(Buffer.from('\uFEFF- region: cn-hangzhou\r\n  ip: 203.0.113.1\r\n- region: cn-hangzhou\r\n  ip: 203.0.113.2\r\n'), 'c.yaml', { env: {} });
  assert.deepEqual(m.rows.map((r) => r.line), [1, 3]);
});

test('did you mean: a misspelt YAML key names the likely field (gateways and defaults alike); an unrelated key does not guess', () => {
  expectManifestError(() => yaml('- region: cn-hangzhou\n  ip: 203.0.113.1\n  nmae: hz-01\n'), 3, /unknown field 'nmae' \(did you mean 'name'\?\); allowed:/);
  expectManifestError(() => yaml('defaults:\n  Descripton: x\ngateways:\n  - region: cn-hangzhou\n    ip: 203.0.113.1\n'), 2, /unknown field 'Descripton' \(did you mean 'description'\?\)/);
  expectManifestError(() => yaml('- region: cn-hangzhou\n  IP Address: 203.0.113.1\n'), 2, /unknown field 'IP Address' \(did you mean 'ip_address'\?\)/);
  expectManifestError(() => yaml('- region: cn-hangzhou\n  ip: 203.0.113.1\n  tag: {env: prod}\n'), 3, /unknown field 'tag' \(did you mean 'tags'\?\)/);
  const other = expectManifestError(() => yaml('- region: cn-hangzhou\n  ip: 203.0.113.1\n  owner: netops\n'), 3, /unknown field 'owner'; allowed:/);
  assert.doesNotMatch(other.message, /did you mean/);
  // A key holding terminal control characters is shown escaped.
  const esc = expectManifestError(() => yaml('- region: cn-hangzhou\n  ip: 203.0.113.1\n  "x\\e[2Jy": 1\n'), 3, /unknown field 'x\\x1b\[2Jy'/);
  assert.ok(!esc.message.includes('\x1b'));
});
