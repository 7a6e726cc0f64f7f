// manifests/schema.json against a real validator (ajv), on YAML parsed as an editor parses it: every example, every
// YAML fixture the loader accepts, the init template and an export pass; wrong shapes and values are rejected.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { load } from 'js-yaml';
import { exportManifest } from '../../src/export/manifest.js';
import { manifestTemplate } from '../../src/init/template.js';
import { loadManifest } from '../../src/load/index.js';
import { validateRow } from '../../src/plan/validate.js';
import { fixture, repoRoot } from '../helpers/paths.js';

const schema = JSON.parse(readFileSync(join(repoRoot, 'manifests', 'schema.json'), 'utf8')) as object;
// strict: unknown keywords or malformed subschemas fail here. Union types are deliberate, and `required` inside
// oneOf/not (ip or ip_address, not auth_key with auth_key_env) names properties defined beside it.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
const validate = ajv.compile(schema);

function check(text: string, what: string): { ok: boolean; errors: string } {
  const data = load(text);
  const ok = validate(data) as boolean;
  return { ok, errors: `${what}: ${ajv.errorsText(validate.errors)}` };
}

const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(dir, f));

test('every YAML example validates and names the schema for editors', () => {
  const examples = yamlFiles(join(repoRoot, 'manifests', 'examples'));
  assert.ok(examples.length > 0);
  for (const f of examples) {
    const text = readFileSync(f, 'utf8');
    assert.match(text, /^# yaml-language-server: \$schema=\.\.\/schema\.json\n/, f);
    const r = check(text, f);
    assert.ok(r.ok, r.errors);
  }
});

test('every YAML fixture the loader and validator accept is valid against the schema', async () => {
  let valid = 0;
  for (const f of [...yamlFiles(fixture('manifests')), ...yamlFiles(fixture('bad'))]) {
    let accepted = false;
    try {
      const m = await loadManifest(f, { env: new Proxy({}, { get: () => 'set' }) });
      accepted = m.rows.every((r) => !validateRow(r).issues.some((i) => i.severity === 'error'));
    } catch {
      accepted = false;
    }
    if (!accepted) continue;
    valid++;
    const r = check(readFileSync(f, 'utf8'), f);
    assert.ok(r.ok, r.errors);
  }
  assert.ok(valid >= 2, `${valid} valid fixtures`); // defaults.yaml and bare-list.yaml at least
});

test('the init template and an export validate', async () => {
  const t = check(String(await manifestTemplate('yaml')), 'template');
  assert.ok(t.ok, t.errors);
  const e = await exportManifest(
    [{ id: 'cgw-1', regionId: 'cn-hangzhou', ip: '203.0.113.1', name: 'n', asn: '65546', authKey: 'k', createTime: 0, tags: [{ key: 'Env', value: '0123' }] }],
    'yaml',
  );
  const r = check(String(e.content), 'export');
  assert.ok(r.ok, r.errors);
});

test('wrong shapes and values are rejected', () => {
  const bad: Record<string, string> = {
    'unknown field': '- region: cn-hangzhou\n  ip: 203.0.113.1\n  nmae: x\n',
    '__proto__ key': '- region: cn-hangzhou\n  ip: 203.0.113.1\n  __proto__: x\n',
    'unknown top-level key': 'defaults: {region: cn-hangzhou}\ngateway:\n  - ip: 203.0.113.1\n',
    'ip and ip_address': '- region: cn-hangzhou\n  ip: 203.0.113.1\n  ip_address: 203.0.113.2\n',
    'no ip': '- region: cn-hangzhou\n  name: x\n',
    'no region anywhere': 'gateways:\n  - ip: 203.0.113.1\n',
    'bad ip': '- region: cn-hangzhou\n  ip: 203.0.113.300\n',
    'Alibaba ASN': '- region: cn-hangzhou\n  ip: 203.0.113.1\n  asn: 45104\n',
    'ASN too big': '- region: cn-hangzhou\n  ip: 203.0.113.1\n  asn: "4294967296"\n',
    'tags as a list': '- region: cn-hangzhou\n  ip: 203.0.113.1\n  tags: [a, b]\n',
    'reserved tag key': '- region: cn-hangzhou\n  ip: 203.0.113.1\n  tags: {aliyun-x: y}\n',
    'name over 100': `- region: cn-hangzhou\n  ip: 203.0.113.1\n  name: ${'n'.repeat(101)}\n`,
    'name is a URL': '- region: cn-hangzhou\n  ip: 203.0.113.1\n  name: https://x\n',
    'auth_key and auth_key_env': '- region: cn-hangzhou\n  ip: 203.0.113.1\n  asn: "1"\n  auth_key: abc\n  auth_key_env: K\n',
    'auth key with a space': '- region: cn-hangzhou\n  ip: 203.0.113.1\n  asn: "1"\n  auth_key: "a b"\n',
    'resource group id': '- region: cn-hangzhou\n  ip: 203.0.113.1\n  resource_group_id: default\n',
    'empty list': 'gateways: []\n',
  };
  for (const [what, text] of Object.entries(bad)) assert.equal(check(text, what).ok, false, `${what} accepted`);
  // The forms the loader reads as text are accepted: unquoted whole-number ASN, numbers and booleans in labels and tags.
  const ok = 'defaults:\n  region: cn-hangzhou\ngateways:\n  - ip: 203.0.113.1\n    asn: 65001\n    name: 0123\n    tags: {cost: 0123, on: true}\n    description:\n';
  const r = check(ok, 'text forms');
  assert.ok(r.ok, r.errors);
});
