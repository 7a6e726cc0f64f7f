// `init` templates: each format loads and validates cleanly offline; the workbook has Text columns, header notes,
// a region drop-down fed by the Regions sheet and a frozen header; the YAML points editors at the schema.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import ExcelJS from 'exceljs';
import { defaultSchemaRef, manifestTemplate, type TemplateFormat } from '../../src/init/template.js';
import { loadManifest } from '../../src/load/index.js';
import { sandboxGatewayId, sandboxGatewaySpecs } from '../../src/emulator/vpn-fixtures.js';
import { EXAMPLE_VPN_GATEWAY } from '../../src/init/template.js';
import { planManifest } from '../../src/plan/plan.js';
import { KNOWN_REGIONS } from '../../src/plan/regions.js';
import { siteRuleOptions } from '../../src/plan/site-rules.js';
import { validateRow } from '../../src/plan/validate.js';
import { tempDir } from '../helpers/tmp.js';
import { readBack } from '../load/workbook.js';

for (const format of ['csv', 'yaml', 'xlsx'] as const satisfies readonly TemplateFormat[]) {
  test(`${format} template: loads and validates offline with no issue`, async () => {
    const t = tempDir({ [`sites.${format}`]: await manifestTemplate(format) });
    try {
      const m = await loadManifest(t.path(`sites.${format}`), { env: {} });
      assert.equal(m.format, format);
      assert.equal(m.rows.length, 3);
      assert.deepEqual(m.issues, []);
      for (const r of m.rows) {
        const v = validateRow(r, { site: siteRuleOptions(m.profiles) });
        assert.ok(v.row, `line ${r.line}`);
        assert.deepEqual(v.issues, [], `line ${r.line}: ${JSON.stringify(v.issues)}`);
      }
      assert.deepEqual(m.rows.map((r) => r.fields.region), ['cn-hangzhou', 'cn-shanghai', 'cn-hangzhou']);
      assert.ok(m.rows.every((r) => r.tags.some((tag) => tag.key.toLowerCase() === 'env')));
    } finally {
      t.cleanup();
    }
  });
}

test('yaml template: the yaml-language-server line points to the package schema, which exists', async () => {
  const text = String(await manifestTemplate('yaml'));
  const first = text.split('\n')[0]!;
  assert.equal(first, `# yaml-language-server: $schema=${defaultSchemaRef()}`);
  assert.ok(existsSync(defaultSchemaRef()), defaultSchemaRef());
  assert.match(String(await manifestTemplate('yaml', { schemaRef: 'https://example.test/schema.json' })), /^# yaml-language-server: \$schema=https:\/\/example\.test\/schema\.json\n/);
  assert.match(text, /auth_key: env:/, 'shows the env: form of the AuthKey');
});

test('xlsx template: every column Text, a note on every header cell, region list validation, frozen header', async () => {
  const wb = await readBack((await manifestTemplate('xlsx')) as Buffer);
  assert.equal(wb.creator, 'cgw-batch');
  assert.deepEqual(wb.worksheets.map((w) => w.name), ['Sites', 'Profiles', 'Regions']);
  const ws = wb.worksheets[0]!;
  const header = (ws.getRow(1).values as unknown[]).slice(1);
  assert.deepEqual(header, [
    'region', 'ip', 'name', 'description', 'asn', 'auth_key', 'resource_group_id', 'tags', 'tag:Env',
    'vpn_gateway_id', 'local_subnet', 'remote_subnet', 'psk', 'ike_profile', 'connection_name', 'device',
  ]);
  for (let c = 1; c <= header.length; c++) {
    assert.equal(ws.getColumn(c).numFmt, '@', `column ${c} is Text`);
    assert.ok(String(ws.getCell(1, c).note ?? '').length > 20, `note on ${ws.getCell(1, c).address}`);
    for (let r = 2; r <= 3; r++) {
      const cell = ws.getCell(r, c);
      if (cell.value !== null) assert.equal(cell.type, ExcelJS.ValueType.String, cell.address);
    }
  }
  assert.equal(ws.getCell('E3').value, '1.10', 'asdot stays text');
  assert.equal(ws.views[0]?.state, 'frozen');
  const dv = ws.getCell('A2').dataValidation;
  assert.equal(dv?.type, 'list');
  assert.deepEqual(dv?.formulae, [`Regions!$A$2:$A$${KNOWN_REGIONS.size + 1}`]);
  assert.equal(ws.getCell('A5000').dataValidation?.type, 'list', 'rows typed later get the list too');
  const profiles = wb.worksheets[1]!;
  for (let c = 1; c <= profiles.getRow(1).cellCount; c++) assert.ok(String(profiles.getCell(1, c).note ?? '').length > 5, `note on Profiles!${profiles.getCell(1, c).address}`);
  const listed = new Set<string>();
  wb.worksheets[2]!.eachRow((row, n) => {
    if (n > 1) listed.add(String(row.getCell(1).value));
  });
  assert.deepEqual([...listed].sort(), [...KNOWN_REGIONS].sort());
});

test('csv template: header and three rows, no asdot (a spreadsheet opening the CSV would turn 1.10 into 1.1)', async () => {
  const text = String(await manifestTemplate('csv'));
  const lines = text.trimEnd().split('\r\n');
  assert.equal(lines.length, 4);
  assert.equal(lines[0], 'region,ip,name,description,asn,auth_key,resource_group_id,tags,tag:Env,vpn_gateway_id,local_subnet,remote_subnet,psk,ike_profile,connection_name,device');
  assert.doesNotMatch(text, /,1\.10,/);
});

test('the site row names the sandbox\'s VPN gateway of cn-hangzhou and plans cleanly, offline and against that gateway', async () => {
  assert.equal(EXAMPLE_VPN_GATEWAY, sandboxGatewayId('cn-hangzhou'));
  const spec = sandboxGatewaySpecs().find((g) => g.RegionId === 'cn-hangzhou')!;
  for (const format of ['csv', 'yaml', 'xlsx'] as const) {
    const t = tempDir({ [`sites.${format}`]: await manifestTemplate(format) });
    try {
      const m = await loadManifest(t.path(`sites.${format}`), { env: {} });
      const devices = new Set(['strongswan']);
      const offline = planManifest(m, { online: false, quota: 100, deviceTypes: devices });
      const gateway = { id: spec.VpnGatewayId, regionId: spec.RegionId, internetIp: spec.InternetIp, disasterRecoveryInternetIp: spec.DisasterRecoveryInternetIp!, ipsecVpn: 'enable', enableBgp: true, status: 'active' };
      const online = planManifest(m, {
        online: true,
        quota: 100,
        deviceTypes: devices,
        regions: new Set(['cn-hangzhou', 'cn-shanghai']),
        inventory: new Map([['cn-hangzhou', []], ['cn-shanghai', []]]),
        vpn: new Map([['cn-hangzhou', { gateways: [gateway], connections: [] }]]),
      });
      for (const p of [offline, online]) {
        assert.deepEqual(p.rows.flatMap((r) => r.issues), [], format);
        assert.deepEqual(p.rows.map((r) => [r.action, r.connection?.action]), [['create', undefined], ['create', undefined], ['create', 'create']], format);
      }
      const site = offline.rows[2]!.row!.site!;
      assert.equal(site.vpnGatewayId, EXAMPLE_VPN_GATEWAY);
      assert.deepEqual(site.psk, { kind: 'generate' });
      assert.equal(site.profile.ike.version, format === 'csv' ? 'ikev1' : 'ikev2', 'the profile (YAML, Profiles sheet); CSV takes profiles from --profiles');
    } finally {
      t.cleanup();
    }
  }
});
