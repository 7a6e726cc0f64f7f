// export: gateways as the real client reads them from the emulator -> a manifest in each format that loads, validates,
// and asks for exactly what exists (with the env: AuthKeys set); no AuthKey value is ever written.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PopVpcClient } from '../../src/cloud/pop-client.js';
import type { CustomerGateway } from '../../src/cloud/types.js';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { authKeyEnvName, exportManifest } from '../../src/export/manifest.js';
import { loadManifest } from '../../src/load/index.js';
import { asnValue } from '../../src/plan/rules.js';
import { validateRow } from '../../src/plan/validate.js';
import { tempDir } from '../helpers/tmp.js';
import { parse } from 'csv-parse/sync';
import { needsFormulaEscape } from '../../src/csv-cells.js';

const KEYS = ['SECRET-MARKER-1234', 'k3y-0123'];
let emu: Emulator;
let gateways: CustomerGateway[];

before(async () => {
  emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rateLimits: false, seed: 7 });
  const client = new PopVpcClient({ endpoint: emu.url, credentials: { accessKeyId: DEFAULT_ACCOUNT.accessKeyId, accessKeySecret: DEFAULT_ACCOUNT.accessKeySecret }, timeoutMs: 5000 });
  const specs = [
    { regionId: 'cn-shanghai', ipAddress: '203.0.113.20', name: 'sh-01', asn: '65001', authKey: KEYS[0], tags: [{ key: 'Env', value: 'prod' }, { key: 'note', value: 'a;b=c, "d"' }] },
    { regionId: 'cn-hangzhou', ipAddress: '203.0.113.3', name: '0042', description: '=1+1 lab', asn: '1.10', tags: [{ key: 'Env', value: '0123' }] },
    { regionId: 'cn-hangzhou', ipAddress: '203.0.113.10', description: '北京分部', asn: '4200000000', authKey: KEYS[1], resourceGroupId: 'rg-acfmexport01' },
    { regionId: 'cn-hangzhou', ipAddress: '198.51.100.7', tags: [] },
  ];
  for (const [i, s] of specs.entries()) await client.createCustomerGateway({ ...s, clientToken: `export-${i}` });
  gateways = [...(await client.listCustomerGateways('cn-hangzhou')), ...(await client.listCustomerGateways('cn-shanghai'))];
  assert.equal(gateways.length, 4);
});
after(() => emu.close());

for (const format of ['csv', 'yaml', 'xlsx'] as const) {
  test(`${format}: loads, validates, and asks for what exists; AuthKeys only as env: names`, async () => {
    const out = await exportManifest(gateways, format, { schemaRef: '../schema.json' });
    const text = Buffer.isBuffer(out.content) ? out.content.toString('latin1') : out.content;
    for (const k of KEYS) assert.ok(!text.includes(k), `AuthKey written in the ${format} export`);
    const withKey = gateways.filter((g) => g.authKey);
    assert.deepEqual(
      out.envVars.map((v) => v.name).sort(),
      withKey.map((g) => authKeyEnvName(g)).sort(),
    );
    assert.deepEqual(out.envVars.map((v) => v.name).sort(), ['CGW_AUTHKEY_CN_HANGZHOU_203_0_113_10', 'CGW_AUTHKEY_CN_SHANGHAI_203_0_113_20']);
    const env = Object.fromEntries(out.envVars.map((v) => [v.name, gateways.find((g) => g.id === v.gatewayId)!.authKey]));

    const t = tempDir({ [`existing.${format}`]: out.content });
    try {
      const m = await loadManifest(t.path(`existing.${format}`), { env });
      assert.deepEqual(m.issues.filter((i) => i.code !== 'Cgw.ManifestReadable'), []);
      assert.equal(m.rows.length, gateways.length);
      for (const w of m.rows) {
        const v = validateRow(w);
        assert.deepEqual(v.issues.filter((i) => i.severity !== 'info'), [], `line ${w.line}: ${JSON.stringify(v.issues)}`);
        const spec = v.row!.spec;
        const gw = gateways.find((g) => g.regionId === spec.region && g.ip === spec.ip)!;
        assert.ok(gw, `${spec.region}/${spec.ip} exists`);
        // What the planner compares: the manifest asks for exactly the gateway's attributes.
        assert.equal(spec.name, gw.name || undefined);
        assert.equal(spec.description, gw.description || undefined);
        assert.equal(asnValue(spec.asn), asnValue(gw.asn === '0' ? undefined : gw.asn));
        assert.equal(spec.authKey, gw.authKey || undefined);
        assert.equal(spec.resourceGroupId, gw.resourceGroupId || undefined);
        assert.deepEqual([...spec.tags].sort((a, b) => a.key.localeCompare(b.key)), [...gw.tags].sort((a, b) => a.key.localeCompare(b.key)));
      }
      // Spreadsheet-shaped values survive: leading zeros, = at the start, ; and = inside a tag.
      const all = JSON.stringify(m.rows.map((r) => [r.fields, r.tags]));
      for (const s of ['0042', '=1+1 lab', '0123', 'a;b=c, \\"d\\"', '北京分部']) assert.ok(all.includes(s), `${s} in ${format}`);
    } finally {
      t.cleanup();
    }
  });
}

test('system tags are left out with a note; a CSV with formula-like values says so; YAML quotes every value', async () => {
  const gw: CustomerGateway = { id: 'cgw-1', regionId: 'cn-hangzhou', ip: '203.0.113.1', name: '=HYPERLINK("x")', asn: '0', createTime: 0, tags: [{ key: 'acs:rm:rgId', value: 'x' }, { key: 'aliyun-owner', value: 'y' }, { key: 'yes', value: 'no' }] };
  const csv = await exportManifest([gw], 'csv');
  assert.deepEqual(csv.envVars, []);
  assert.equal(csv.notes.length, 2);
  assert.match(csv.notes[0]!, /2 tag\(s\) managed by Alibaba Cloud/);
  assert.match(csv.notes[1]!, /^1 gateway\(s\) .*formula.*leading '/);
  assert.match(String(csv.content), /^\uFEFFregion,ip,name,description,asn,auth_key,resource_group_id,tag:yes\r\n/);
  const yaml = String((await exportManifest([gw], 'yaml', { schemaRef: 'S' })).content);
  assert.match(yaml, /^# yaml-language-server: \$schema=S\n/);
  assert.match(yaml, /\n {6}"yes": "no"\n/);
  assert.doesNotMatch(yaml, /asn:/, 'ASN 0 means none');
});

// Issue 17: names, descriptions and tag values anyone can edit in the console, each a formula to a spreadsheet.
const LIVE = [
  '=HYPERLINK("http://evil.example/?q","click")',
  '@SUM(1+1)',
  ' =1+1',
  '\t=2+2',
  '＝1+1',
  '＋1',
  '－1',
  '＠SUM(A1)',
  '\r=3',
  '\n=4',
  '+1 branch',
  '-1 branch',
  '  \t@cmd',
];
/** Not formulas, but a ' already in front of a formula-like start: escaped once more so the escape is reversible. */
const QUOTED = ["'=already quoted", "''@twice"];
const TAME = ["'plain apostrophe", 'a=b', 'x-1', 'ok @ home'];

test('csv: no cell is a live formula; every such value reads back as itself; the note counts every gateway with one', async () => {
  const client = new PopVpcClient({ endpoint: emu.url, credentials: { accessKeyId: DEFAULT_ACCOUNT.accessKeyId, accessKeySecret: DEFAULT_ACCOUNT.accessKeySecret }, timeoutMs: 5000 });
  const region = 'cn-beijing';
  const values = [...LIVE, ...QUOTED, ...TAME];
  // One gateway per value, the value once as name, description or tag value in turn; every third a tame one.
  for (const [i, v] of values.entries()) {
    const where = i % 3;
    await client.createCustomerGateway({
      regionId: region,
      ipAddress: `198.51.100.${i + 10}`,
      asn: '65000',
      clientToken: `live-${i}`,
      ...(where === 0 ? { name: v } : where === 1 ? { description: v } : {}),
      tags: where === 2 ? [{ key: 'note', value: v }] : [],
    });
  }
  const gws = await client.listCustomerGateways(region);
  assert.equal(gws.length, values.length);
  const out = await exportManifest(gws, 'csv');
  const text = String(out.content);
  assert.ok(text.startsWith('\uFEFF') && text.endsWith('\r\n'));

  // 1. As a spreadsheet reads it: no cell starts a formula (the escape is a leading ').
  const cells = (parse(text, { bom: true, relax_column_count: false }) as string[][]).flat();
  const live = cells.filter((c) => needsFormulaEscape(c));
  assert.deepEqual(live, []);
  for (const v of [...LIVE, ...QUOTED]) assert.ok(cells.includes(`'${v}`), `${JSON.stringify(v)} escaped`);
  for (const v of TAME) assert.ok(cells.includes(v), `${JSON.stringify(v)} left as it is`);

  // 2. The note counts every gateway with such a value (none is missed, none counted twice).
  const expected = gws.filter((g) => [g.name, g.description, ...g.tags.map((t) => t.value)].some((x) => x !== undefined && LIVE.includes(x))).length;
  assert.equal(expected, LIVE.length);
  const note = out.notes.find((n) => /formula/.test(n));
  assert.ok(note, out.notes.join('\n'));
  assert.match(note, new RegExp(`^${expected} gateway\\(s\\) `));

  // 3. plan and import read the original values back: the manifest asks for exactly what exists.
  const t = tempDir({ 'live.csv': out.content });
  try {
    const m = await loadManifest(t.path('live.csv'), { env: {} });
    assert.equal(m.rows.length, gws.length);
    for (const w of m.rows) {
      const gw = gws.find((g) => g.ip === w.fields.ip)!;
      assert.equal(w.fields.name, gw.name || undefined, `line ${w.line} name`);
      assert.equal(w.fields.description, gw.description || undefined, `line ${w.line} description`);
      assert.deepEqual(w.tags, gw.tags, `line ${w.line} tags`);
    }
  } finally {
    t.cleanup();
  }
});
