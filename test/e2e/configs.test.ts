// `cgw-batch configs` end to end: apply a site manifest against the emulator, then render each site's branch config
// through the cloud client (DescribeVpnConnection / DescribeVpnGateway / DescribeCustomerGateway; never Download):
// one relative path per file on stdout, files 0600 in 0700 folders, the device from the manifest's column or
// --device, a row without a connection or a device type reported while the others are written, a parameter the
// device cannot express named with its site (exit 1), --redact-psk, and a secret scan: the PSKs appear in the config
// files and nowhere else (output of every command, journal, reports), in any encoding.
import '../helpers/env.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { secretForms } from '../../src/secrets.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { parts } from '../load/workbook.js';

const creds = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
const SINGLE = 'vpn-cfgsingle000000001';
const DUAL = 'vpn-cfgdual00000000001';
/** The API's PSK characters: comment, separator and quote characters of one syntax or another. */
const PSKS = {
  CFG_PSK_A: "CfgA#k;'x$`~!@%^&*()_-+={}[]|:,.<>/1",
  // `?` is the one character Huawei VRP cannot take in a pre-shared key.
  CFG_PSK_B: 'CfgB?key#12345',
  CFG_PSK_C: 'CfgC$dual;key99',
  CFG_PSK_E: 'CfgE&key00000',
};
const MANIFEST =
  [
    'region,ip,name,asn,vpn_gateway_id,local_subnet,remote_subnet,psk,device,ip_2',
    `cn-hangzhou,203.0.113.21,site-a,65021,${SINGLE},172.16.21.0/24,10.21.0.0/24,env:CFG_PSK_A,strongswan,`,
    `cn-hangzhou,203.0.113.22,site-b,65022,${SINGLE},172.16.22.0/24,10.22.0.0/24,env:CFG_PSK_B,huawei-vrp,`,
    `cn-hangzhou,203.0.113.23,site-c,65023,${DUAL},172.16.23.0/24,10.23.0.0/24,env:CFG_PSK_C,,203.0.113.123`,
    'cn-hangzhou,203.0.113.24,plain-cgw,65024,,,,,,',
    `cn-hangzhou,203.0.113.25,site-e,65025,${SINGLE},172.16.25.0/24,10.25.0.0/24,env:CFG_PSK_E,cisco-ios,`,
  ].join('\n') + '\n';

let emu: Emulator;
let t: ReturnType<typeof tempDir>;
const runs: Array<{ name: string; r: CliResult }> = [];
const env = { ...creds, ...PSKS };

async function cli(name: string, args: string[]): Promise<CliResult> {
  const r = await runCli(args, { env, cwd: t.dir });
  runs.push({ name, r });
  return r;
}

before(async () => {
  emu = await startEmulator({
    accounts: [DEFAULT_ACCOUNT],
    rateLimits: false,
    vpnTaskMs: 20,
    vpnGateways: [
      { RegionId: 'cn-hangzhou', VpnGatewayId: SINGLE, InternetIp: '47.96.10.1' },
      { RegionId: 'cn-hangzhou', VpnGatewayId: DUAL, InternetIp: '47.96.10.2', DisasterRecoveryInternetIp: '47.96.11.2' },
    ],
  });
  t = tempDir({ 'sites.csv': MANIFEST });
  // Lines 2-5 only: site-e (line 6) gets no connection.
  const r = await cli('apply', ['apply', 'sites.csv', '--endpoint', emu.url, '--yes', '--only', '2-5']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
});

after(async () => {
  await emu?.close();
  t?.cleanup();
});

function mode(p: string): number {
  return statSync(p).mode & 0o777;
}

test('configs: each site from its connection, by its device column; rows that cannot be written are named, the others written', async () => {
  emu.resetStats();
  const r = await cli('configs', ['configs', 'sites.csv', '--endpoint', emu.url]);
  assert.equal(r.code, 1, r.stderr);
  const paths = r.stdout.trim().split('\n');
  assert.deepEqual(paths, ['sites.csv.configs/cn-hangzhou_203.0.113.21/strongswan/swanctl.conf'], 'one relative path per file written');
  for (const p of paths) assert.equal(mode(join(t.dir, p)), 0o600, p);
  for (const d of ['sites.csv.configs', 'sites.csv.configs/cn-hangzhou_203.0.113.21', 'sites.csv.configs/cn-hangzhou_203.0.113.21/strongswan']) assert.equal(mode(join(t.dir, d)), 0o700, d);
  const swanctl = readFileSync(join(t.dir, paths[0]!), 'utf8');
  assert.ok(swanctl.includes(`secret = "${PSKS.CFG_PSK_A}"`), 'the PSK read at render time, quoted for swanctl');
  assert.match(swanctl, /remote_addrs = 47\.96\.10\.1/);
  assert.match(swanctl, /local_ts = 10\.21\.0\.0\/24/);
  // The others, each named with its line and key; a parameter the device cannot express names the parameter.
  assert.match(r.stderr, /:3 \(cn-hangzhou\/203\.0\.113\.22\) \[huawei-vrp\]: Device\.Unsupported IkeConfig\.Psk: /);
  assert.match(r.stderr, /:4 \(cn-hangzhou\/203\.0\.113\.23\): no device type: add a device column to the manifest or pass --device TYPE/);
  assert.match(r.stderr, /:6 \(cn-hangzhou\/203\.0\.113\.25\): no IPsec connection has been created for this site yet; run apply first/);
  assert.doesNotMatch(r.stderr, /203\.0\.113\.24/, 'a row without a site is not a site');
  assert.match(r.stderr, /configs: 1 site\(s\) written, 3 not/);
  const stats = emu.stats().actions;
  assert.ok((stats['DescribeVpnConnection']?.['ok'] ?? 0) >= 2 && (stats['DescribeVpnGateway']?.['ok'] ?? 0) >= 1 && (stats['DescribeCustomerGateway']?.['ok'] ?? 0) >= 1, JSON.stringify(stats));
  assert.equal(stats['DownloadVpnConnectionConfig'], undefined, 'never DownloadVpnConnectionConfig (30 a minute)');
});

test('configs --device fills a missing type (dual tunnel: both tunnels); --out elsewhere; --only one row', async () => {
  const r = await cli('configs dual', ['configs', 'sites.csv', '--endpoint', emu.url, '--device', 'strongswan', '--only', '4', '--out', 'out']);
  assert.equal(r.code, 0, r.stderr);
  const paths = r.stdout.trim().split('\n');
  assert.deepEqual(paths.map((p) => p.split('/').pop()).sort(), ['strongswan.conf', 'swanctl.conf', 'xfrm-interfaces.sh']);
  assert.ok(paths.every((p) => p.startsWith('out/cn-hangzhou_203.0.113.23/strongswan/')));
  const swanctl = readFileSync(join(t.dir, 'out/cn-hangzhou_203.0.113.23/strongswan/swanctl.conf'), 'utf8');
  assert.match(swanctl, /local_addrs = 203\.0\.113\.23\n\s+remote_addrs = 47\.96\.10\.2/);
  assert.match(swanctl, /local_addrs = 203\.0\.113\.123\n\s+remote_addrs = 47\.96\.11\.2/, 'the slave tunnel from ip_2 to DisasterRecoveryInternetIp');
  assert.equal(swanctl.split(`"${PSKS.CFG_PSK_C}"`).length - 1, 2, 'each tunnel\'s PSK');
});

test('configs --redact-psk writes a placeholder; --device overrides the column; an unknown --device is a usage error', async () => {
  const r = await cli('configs redacted', ['configs', 'sites.csv', '--endpoint', emu.url, '--device', 'cisco-ios', '--only', '2,3', '--redact-psk', '--out', 'redacted']);
  assert.equal(r.code, 0, r.stderr);
  const files = r.stdout.trim().split('\n');
  assert.equal(files.length, 2);
  for (const f of files) {
    const text = readFileSync(join(t.dir, f), 'utf8');
    assert.match(text, /REPLACE_WITH_PSK_OF_TUNNEL_1/);
    assert.equal(text.includes(PSKS.CFG_PSK_A) || text.includes(PSKS.CFG_PSK_B), false);
  }
  const bad = await cli('configs bad device', ['configs', 'sites.csv', '--endpoint', emu.url, '--device', 'strongswam']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--device strongswam is not a device type \(did you mean strongswan\?\)/);
});

test('secret scan: the PSKs are in the config files that hold them and nowhere else', () => {
  const forms = Object.values(PSKS).flatMap((k) => secretForms(k).map((f) => ({ k, f })));
  for (const { name, r } of runs) {
    for (const { k, f } of forms) {
      assert.equal(r.stdout.includes(f), false, `${name}: stdout holds a form of ${k.slice(0, 4)}…`);
      assert.equal(r.stderr.includes(f), false, `${name}: stderr holds a form of ${k.slice(0, 4)}…`);
    }
  }
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  const holders = new Set<string>();
  const files = walk(t.dir);
  assert.ok(files.some((f) => f.endsWith('.xlsx')), 'a workbook among the scanned files');
  for (const file of files) {
    // A workbook is scanned in its inflated parts (its deflated bytes would hide a key).
    const raw = readFileSync(file);
    const body = file.endsWith('.xlsx') ? parts(raw).map((x) => x.data.toString('utf8')).join('\n') : raw.toString('latin1');
    if (forms.some(({ f }) => body.includes(f))) holders.add(file.slice(t.dir.length + 1));
  }
  assert.deepEqual([...holders].sort(), ['out/cn-hangzhou_203.0.113.23/strongswan/swanctl.conf', 'sites.csv.configs/cn-hangzhou_203.0.113.21/strongswan/swanctl.conf']);
});
