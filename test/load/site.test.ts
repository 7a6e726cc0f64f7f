// Site columns and profiles in each manifest format: headers as people write them, YAML keys with did-you-mean, the PSK
// as a reference only (its value joins the Redactor; a key itself is refused and never copied), profiles from YAML,
// the Profiles sheet and --profiles FILE, and the cells of a workbook's site columns.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { loadManifest, parseCsv, parseXlsx, parseYaml } from '../../src/load/index.js';
import { PSK_NOT_COPIED } from '../../src/load/psk.js';
import { Redactor } from '../../src/secrets.js';
import { tempDir } from '../helpers/tmp.js';
import { MARKER, expectManifestError } from './helpers.js';
import { workbook } from './workbook.js';

const csv = (s: string, env: Record<string, string> = {}, redactor?: Redactor) => parseCsv(Buffer.from(s, 'utf8'), 'sites.csv', { env, ...(redactor ? { redactor } : {}) });
const yaml = (s: string, env: Record<string, string> = {}, redactor?: Redactor) => parseYaml(Buffer.from(s, 'utf8'), 'sites.yaml', { env, ...(redactor ? { redactor } : {}) });

test('CSV: site headers as people write them map to the site fields; the echo keeps the headers as written', () => {
  const m = csv(
    'Region,IP Address,VPN Gateway ID,local subnets,Remote-Subnet,Pre-shared key,IKE Profile,Tunnel CIDR,Local BGP IP,Connection Name,Effect Immediately,IP 2,tunnel_cidr_2,local_bgp_ip_2,Device Type\n' +
      'cn-hangzhou,203.0.113.10,vpn-a1,"10.0.0.0/16,10.1.0.0/16",192.168.1.0/24,env:PSK_HZ,hq,169.254.1.0/30,169.254.1.1,hz,true,203.0.113.11,169.254.2.0/30,169.254.2.1,strongswan\n',
    { PSK_HZ: MARKER },
  );
  const r = m.rows[0]!;
  assert.deepEqual(r.site, {
    vpn_gateway_id: 'vpn-a1',
    local_subnet: '10.0.0.0/16,10.1.0.0/16',
    remote_subnet: '192.168.1.0/24',
    psk: 'env:PSK_HZ',
    ike_profile: 'hq',
    tunnel_cidr: '169.254.1.0/30',
    local_bgp_ip: '169.254.1.1',
    connection_name: 'hz',
    effect_immediately: 'true',
    ip_2: '203.0.113.11',
    tunnel_cidr_2: '169.254.2.0/30',
    local_bgp_ip_2: '169.254.2.1',
    device: 'strongswan',
  });
  assert.equal(r.pskValue, MARKER);
  assert.equal(r.echo['Pre-shared key'], 'env:PSK_HZ', 'reports echo the reference only');
  assert.deepEqual(m.issues, []);
  assert.ok(!JSON.stringify({ ...r, pskValue: undefined }).includes(MARKER));
  // Other spellings of the same columns.
  const other = csv('region,ip,vpn_gateway,VPC subnets,branch subnets,PSK,ipsec_profile,vpn connection name\ncn-hangzhou,203.0.113.1,vpn-a1,10.0.0.0/16,192.168.1.0/24,generate,p,n\n');
  assert.deepEqual(other.rows[0]!.site, { vpn_gateway_id: 'vpn-a1', local_subnet: '10.0.0.0/16', remote_subnet: '192.168.1.0/24', psk: 'generate', ike_profile: 'p', connection_name: 'n' });
});

test('CSV: a manifest without site columns, and a row with them all empty, carry no site at all', () => {
  const m = csv('region,ip,vpn_gateway_id,psk\ncn-hangzhou,203.0.113.1,,\n');
  assert.equal('site' in m.rows[0]!, false);
  assert.equal('pskValue' in m.rows[0]!, false);
  const plain = csv('region,ip,name\ncn-hangzhou,203.0.113.1,a\n');
  assert.deepEqual(Object.keys(plain.rows[0]!).sort(), ['echo', 'endLine', 'fields', 'file', 'issues', 'line', 'tags']);
});

test('CSV: a key typed into the psk column is refused, masked, and never copied (row, echo, message)', () => {
  const red = new Redactor();
  const m = csv(`region,ip,vpn_gateway_id,psk\ncn-hangzhou,203.0.113.1,vpn-a1,${MARKER}\n`, {}, red);
  const r = m.rows[0]!;
  assert.deepEqual(r.issues.map((i) => `${i.severity} ${i.code} ${i.field}`), ['error Cgw.PskLiteral psk']);
  assert.equal(r.site?.psk, PSK_NOT_COPIED);
  assert.equal(r.echo.psk, PSK_NOT_COPIED);
  assert.ok(!JSON.stringify(r).includes(MARKER));
  assert.equal(red.redact(`x ${MARKER} y`), 'x *** y'.replace('***', red.redact(MARKER)));
  assert.notEqual(red.redact(MARKER), MARKER);
  // A results file's echo read back; a variable that is not set; a reference that is no variable name.
  const back = csv(`region,ip,vpn_gateway_id,psk\ncn-hangzhou,203.0.113.1,vpn-a1,${PSK_NOT_COPIED}\ncn-hangzhou,203.0.113.2,vpn-a1,env:NOT_SET\ncn-hangzhou,203.0.113.3,vpn-a1,env:${MARKER}!\n`, {}, red);
  assert.deepEqual(back.rows.map((x) => x.issues.map((i) => i.code)), [['Cgw.PskNotCopied'], ['Cgw.PskEnvMissing'], ['Cgw.PskEnvMissing']]);
  assert.equal(back.rows[1]!.site?.psk, 'env:NOT_SET', 'the reference is kept: a run that does not send the key plans on');
  assert.ok(!JSON.stringify(back.rows).includes(MARKER));
});

test('CSV: a header a typo away from a site column stops the file, naming the column it likely means', () => {
  expectManifestError(() => csv('region,ip,vpn_gateway_idd,remote_subnett\ncn-hangzhou,203.0.113.1,vpn-a,1\n'), 1, /"vpn_gateway_idd" is not a column cgw-batch knows: did you mean vpn_gateway_id\?; column 4 "remote_subnett" .*did you mean remote_subnet\?/);
  // A saved results file's site columns are recognised and skipped.
  const m = csv('region,ip,customer_gateway_id_2,vpn_connection_id,connection_status,connection_state,negotiation\ncn-hangzhou,203.0.113.1,cgw-1,vco-1,created,active,ike_sa_not_established\n');
  assert.deepEqual(m.issues.map((i) => i.code), ['Cgw.ResultColumns']);
});

test('YAML: site keys in defaults and on each gateway (the gateway wins), profiles: by name', () => {
  const m = yaml(
    [
      'defaults:',
      '  region: cn-hangzhou',
      '  vpn_gateway_id: vpn-a1',
      '  local_subnet: 10.0.0.0/16',
      '  psk: env:PSK',
      '  ike_profile: hq',
      'gateways:',
      '  - ip: 203.0.113.10',
      '    remote_subnet: 192.168.1.0/24',
      '  - ip: 203.0.113.20',
      '    remote_subnet: 192.168.2.0/24',
      '    psk: generate',
      '    effect_immediately: true',
      '    ip_2: 203.0.113.21',
      '  - ip: 203.0.113.30',
      'profiles:',
      '  hq:',
      '    ike_version: ikev2',
      '    ike_lifetime: 3600',
      '    enable_dpd: false',
      '  empty:',
      '',
    ].join('\n'),
    { PSK: MARKER },
  );
  assert.deepEqual(m.rows[0]!.site, { vpn_gateway_id: 'vpn-a1', local_subnet: '10.0.0.0/16', ike_profile: 'hq', remote_subnet: '192.168.1.0/24', psk: 'env:PSK' });
  assert.equal(m.rows[0]!.pskValue, MARKER);
  assert.deepEqual(m.rows[1]!.site, { vpn_gateway_id: 'vpn-a1', local_subnet: '10.0.0.0/16', ike_profile: 'hq', remote_subnet: '192.168.2.0/24', effect_immediately: 'true', ip_2: '203.0.113.21', psk: 'generate' });
  assert.equal(m.rows[1]!.pskValue, undefined);
  assert.equal(m.rows[2]!.site?.vpn_gateway_id, 'vpn-a1', 'defaults reach every gateway');
  assert.deepEqual(m.columns, ['region', 'ip', 'vpn_gateway_id', 'local_subnet', 'remote_subnet', 'psk', 'ike_profile', 'effect_immediately', 'ip_2']);
  assert.equal(m.rows[0]!.echo.psk, 'env:PSK');
  assert.deepEqual(m.profiles, [
    { name: 'hq', file: 'sites.yaml', line: 17, params: { ike_version: 'ikev2', ike_lifetime: '3600', enable_dpd: 'false' } },
    { name: 'empty', file: 'sites.yaml', line: 21, params: {} },
  ]);
  const plain = yaml('- region: cn-hangzhou\n  ip: 203.0.113.1\n');
  assert.equal('site' in plain.rows[0]!, false);
  assert.equal('profiles' in plain, false);
});

test('YAML: did-you-mean for site keys and profile parameters; profiles of the wrong shape', () => {
  expectManifestError(() => yaml('- region: cn-hangzhou\n  ip: 203.0.113.1\n  remote_subent: 10.0.0.0/8\n'), 3, /unknown field 'remote_subent' \(did you mean 'remote_subnet'\?\)/);
  expectManifestError(() => yaml('- region: cn-hangzhou\n  ip: 203.0.113.1\n  vpn-gateway-id: vpn-a\n'), 3, /did you mean 'vpn_gateway_id'\?/);
  expectManifestError(() => yaml('gateways:\n  - {region: cn-hangzhou, ip: 203.0.113.1}\nprofiles:\n  hq:\n    ike_enc_alog: aes\n'), 5, /unknown profile parameter 'ike_enc_alog' \(did you mean 'ike_enc_alg'\?\); allowed: ike_version, /);
  expectManifestError(() => yaml('gateways:\n  - {region: cn-hangzhou, ip: 203.0.113.1}\nprofiles:\n  hq:\n    IKE_Version: ikev2\n'), 5, /did you mean 'ike_version'\?/);
  expectManifestError(() => yaml('gateways:\n  - {region: cn-hangzhou, ip: 203.0.113.1}\nprofiles: [a]\n'), 3, /profiles must be a map of name: \{parameter: value\}/);
  expectManifestError(() => yaml('gateways:\n  - {region: cn-hangzhou, ip: 203.0.113.1}\nprofiles:\n  hq: ikev2\n'), 4, /profile 'hq' must be a map of parameter: value/);
  expectManifestError(() => yaml('gateways:\n  - {region: cn-hangzhou, ip: 203.0.113.1}\nprofile:\n  hq: {}\n'), 3, /unknown top-level key 'profile' \(did you mean 'profiles'\?\)/);
  expectManifestError(() => yaml('- region: cn-hangzhou\n  ip: 203.0.113.1\n  local_subnet: [10.0.0.0/8]\n'), 3, /field 'local_subnet' must be a single value, not a list/);
});

test('--profiles FILE: joined to any manifest\'s profiles; a name defined twice stops the load naming both places', async () => {
  const t = tempDir({
    'sites.csv': 'region,ip,vpn_gateway_id,ike_profile\ncn-hangzhou,203.0.113.1,vpn-a1,hq\n',
    'sites.yaml': 'gateways:\n  - {region: cn-hangzhou, ip: 203.0.113.1}\nprofiles:\n  hq: {ike_version: ikev1}\n',
    'profiles.yaml': '# shared profiles\nprofiles:\n  hq:\n    ike_version: ikev2\n  branch: {}\n',
    'bad.yaml': 'profiles:\n  hq: {}\nprofile: []\n',
    // A whole YAML manifest serves as a profiles file: only its profiles are read.
    'other-manifest.yaml': 'defaults: {region: cn-shanghai}\ngateways:\n  - {ip: 203.0.113.9}\nprofiles:\n  branch: {ike_version: ikev2}\n',
  });
  try {
    const m = await loadManifest(t.path('sites.csv'), { env: {}, profilesFile: t.path('profiles.yaml'), cwd: t.dir });
    assert.deepEqual(m.profiles?.map((p) => [p.name, p.file, p.line, p.params]), [
      ['hq', 'profiles.yaml', 3, { ike_version: 'ikev2' }],
      ['branch', 'profiles.yaml', 5, {}],
    ]);
    await assert.rejects(loadManifest(t.path('sites.yaml'), { env: {}, profilesFile: t.path('profiles.yaml'), cwd: t.dir }), /sites\.yaml: profile "hq" is defined twice \(sites\.yaml:4 and profiles\.yaml:3\); keep one definition/);
    await assert.rejects(loadManifest(t.path('sites.csv'), { env: {}, profilesFile: t.path('bad.yaml'), cwd: t.dir }), /bad\.yaml:3: unknown top-level key 'profile' \(did you mean 'profiles'\?\); a profiles file holds profiles:/);
    const fromManifest = await loadManifest(t.path('sites.csv'), { env: {}, profilesFile: t.path('other-manifest.yaml'), cwd: t.dir });
    assert.deepEqual(fromManifest.profiles?.map((p) => [p.name, p.file, p.line, p.params]), [['branch', 'other-manifest.yaml', 5, { ike_version: 'ikev2' }]]);
    assert.equal(fromManifest.rows.length, 1, 'the rows are the manifest\'s own, never the profiles file\'s');
    await assert.rejects(loadManifest(t.path('sites.csv'), { env: {}, profilesFile: t.path('nope.yaml'), cwd: t.dir }), /nope\.yaml: cannot read the profiles file \(no such file\)/);
    // A FIFO where the file belongs is refused without blocking.
    execFileSync('mkfifo', [t.path('fifo.yaml')]);
    await assert.rejects(loadManifest(t.path('sites.csv'), { env: {}, profilesFile: t.path('fifo.yaml'), cwd: t.dir }), /fifo\.yaml: .*not a regular file/);
  } finally {
    t.cleanup();
  }
});

test('xlsx: site columns carry their cells, the Profiles sheet gives profiles with their cells, TRUE is a fine flag', async () => {
  const bytes = await workbook({
    Sites: [
      ['region', 'ip', 'VPN Gateway ID', 'local_subnet', 'remote_subnet', 'psk', 'ike_profile', 'effect_immediately'],
      ['cn-hangzhou', '203.0.113.10', 'vpn-a1', '10.0.0.0/16', '192.168.1.0/24', 'env:PSK', 'hq', true],
    ],
    Profiles: [
      ['Profile name', 'IKE version', 'ike_enc_alg', 'ike_lifetime', 'enable_dpd', 'notes'],
      ['hq', 'ikev2', 'aes256', 3600, false, 'for HQ'],
      ['branch', '', 'aes', '', '', ''],
    ],
  });
  const m = await parseXlsx(bytes, 'sites.xlsx', { env: { PSK: MARKER } });
  assert.deepEqual(m.rows[0]!.site, { vpn_gateway_id: 'vpn-a1', local_subnet: '10.0.0.0/16', remote_subnet: '192.168.1.0/24', psk: 'env:PSK', ike_profile: 'hq', effect_immediately: 'TRUE' });
  assert.deepEqual(m.rows[0]!.issues, [], 'a logical cell is what a yes/no column holds');
  assert.deepEqual(m.cells, { sheet: 'Sites', columns: { region: 'A', ip: 'B', vpn_gateway_id: 'C', local_subnet: 'D', remote_subnet: 'E', psk: 'F', ike_profile: 'G', effect_immediately: 'H' } });
  assert.deepEqual(m.profiles, [
    { name: 'hq', file: 'sites.xlsx', line: 2, params: { ike_version: 'ikev2', ike_enc_alg: 'aes256', ike_lifetime: '3600', enable_dpd: 'FALSE' }, cells: { name: 'Profiles!A2', ike_version: 'Profiles!B2', ike_enc_alg: 'Profiles!C2', ike_lifetime: 'Profiles!D2', enable_dpd: 'Profiles!E2' } },
    { name: 'branch', file: 'sites.xlsx', line: 3, params: { ike_enc_alg: 'aes' }, cells: { name: 'Profiles!A3', ike_enc_alg: 'Profiles!C3' } },
  ]);
  assert.deepEqual(m.issues.map((i) => [i.code, i.cell]), [['Cgw.UnknownColumn', 'Profiles!A1']]);
  // A workbook without site columns says nothing of cells (its plan is as before).
  const plain = await parseXlsx(await workbook({ Sites: [['region', 'ip'], ['cn-hangzhou', '203.0.113.1']] }), 'p.xlsx', { env: {} });
  assert.equal('cells' in plain, false);
  assert.equal('profiles' in plain, false);
});

test('xlsx: a Profiles sheet first is not taken for the rows; a typo in its header stops the file; a number in the psk cell is not quoted', async () => {
  const first = await workbook({ Profiles: [['name', 'ike_version'], ['hq', 'ikev2']], Sites: [['region', 'ip', 'vpn_gateway_id'], ['cn-hangzhou', '203.0.113.1', 'vpn-a1']] });
  const m = await parseXlsx(first, 'sites.xlsx', { env: {} });
  assert.equal(m.rows[0]!.site?.vpn_gateway_id, 'vpn-a1');
  assert.equal(m.profiles?.[0]?.name, 'hq');
  const typo = await workbook({ Sites: [['region', 'ip'], ['cn-hangzhou', '203.0.113.1']], Profiles: [['name', 'ike_enc_algo'], ['hq', 'aes']] });
  await assert.rejects(parseXlsx(typo, 'sites.xlsx', { env: {} }), /sites\.xlsx:1: cell Profiles!B1 "ike_enc_algo" is not a profile parameter: did you mean ike_enc_alg\?/);
  const noName = await workbook({ Sites: [['region', 'ip'], ['cn-hangzhou', '203.0.113.1']], Profiles: [['ike_version'], ['ikev2']] });
  await assert.rejects(parseXlsx(noName, 'sites.xlsx', { env: {} }), /needs a name column/);
  const twice = await workbook({ Sites: [['region', 'ip'], ['cn-hangzhou', '203.0.113.1']], Profiles: [['name'], ['hq'], ['hq']] });
  await assert.rejects(parseXlsx(twice, 'sites.xlsx', { env: {} }), /profile "hq" is defined twice \(Profiles!A2 and Profiles!A3\)/);
  const numberPsk = await workbook({ Sites: [['region', 'ip', 'vpn_gateway_id', 'psk'], ['cn-hangzhou', '203.0.113.1', 'vpn-a1', 123456789]] });
  const n = await parseXlsx(numberPsk, 'sites.xlsx', { env: {} });
  const codes = n.rows[0]!.issues.map((i) => `${i.code} ${i.cell}`);
  assert.deepEqual(codes, ['Cgw.NumberCell Sites!D2', 'Cgw.PskLiteral Sites!D2']);
  assert.ok(!JSON.stringify(n.rows[0]).includes('123456789'));
  assert.match(n.rows[0]!.issues[0]!.message, /^the psk cell is a number/);
});
