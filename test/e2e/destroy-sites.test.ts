// destroy of a site journal counts and reports sites, as apply does: a site's second customer gateway (`ip_2`) is a
// part of its row (customer_gateway_id_2), deleted after the connection that holds it; the summary, the NDJSON
// run:done event, destroy-results and `status` agree on one row per site, and nothing is left in the cloud.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
const DUAL = 'vpn-destroydual0000001';
const SINGLE = 'vpn-destroysingle00001';
const MANIFEST =
  [
    'region,ip,name,vpn_gateway_id,local_subnet,remote_subnet,psk,ip_2',
    `cn-qingdao,203.0.113.31,dual-a,${DUAL},172.16.31.0/24,10.31.0.0/24,generate,203.0.113.131`,
    `cn-qingdao,203.0.113.32,single-b,${SINGLE},172.16.32.0/24,10.32.0.0/24,generate,`,
    'cn-qingdao,203.0.113.33,plain-c,,,,,',
  ].join('\n') + '\n';

let emu: Emulator;
before(async () => {
  emu = await startEmulator({
    accounts: [DEFAULT_ACCOUNT],
    rateLimits: false,
    vpnTaskMs: 20,
    vpnGateways: [
      { RegionId: 'cn-qingdao', VpnGatewayId: DUAL, InternetIp: '47.96.40.1', DisasterRecoveryInternetIp: '47.96.41.1' },
      { RegionId: 'cn-qingdao', VpnGatewayId: SINGLE, InternetIp: '47.96.40.2' },
    ],
  });
});
after(async () => {
  await emu.close();
});

const region = () => (emu.state() as any).accounts[DEFAULT_ACCOUNT.accountId].regions['cn-qingdao'];

test('destroy of sites with ip_2: one row per site (the second gateway a part of it), everything deleted, every count agrees', async () => {
  const t = tempDir({ 'sites.csv': MANIFEST });
  try {
    const run = (args: string[]) => runCli([...args, '--endpoint', emu.url], { env, cwd: t.dir });
    const applied = await run(['apply', 'sites.csv', '--yes', '--quiet']);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    assert.equal(region().gateways.length, 4, 'three customer gateways and the second one of the dual site');
    assert.equal(region().vpnConnections.length, 2);

    const plan = await run(['destroy', 'sites.csv', '--dry-run', '--format', 'json']);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    const planned = JSON.parse(plan.stdout);
    assert.deepEqual(planned.rows.map((r: any) => [r.ip, r.action, r.gateway2?.action ?? null, r.connection?.action ?? null]), [
      ['203.0.113.31', 'delete', 'delete', 'delete'],
      ['203.0.113.32', 'delete', null, 'delete'],
      ['203.0.113.33', 'delete', null, null],
    ]);

    const d = await run(['destroy', 'sites.csv', '--yes', '--format', 'json']);
    assert.equal(d.code, 0, d.stdout + d.stderr);
    assert.equal(region().gateways.length, 0, 'every customer gateway deleted, the second one too');
    assert.equal(region().vpnConnections.length, 0);
    const events = d.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const done = events.find((e) => e.type === 'run:done');
    const summary = events.find((e) => e.type === 'summary');
    assert.deepEqual(summary.counts, { deleted: 3 }, 'three sites deleted (not four customer gateways)');
    assert.deepEqual(done.counts, summary.counts, 'the live view\'s last word is the summary\'s');

    const rows = parse(readFileSync(t.path('sites.csv.results/destroy-results.csv')), { bom: true, columns: true }) as Array<Record<string, string>>;
    assert.deepEqual(
      rows.map((r) => [r.ip, r.status, r.customer_gateway_id !== '', r.customer_gateway_id_2 !== '', r.connection_status]),
      [
        ['203.0.113.31', 'deleted', true, true, 'deleted'],
        ['203.0.113.32', 'deleted', true, false, 'deleted'],
        ['203.0.113.33', 'deleted', true, false, ''],
      ],
    );
    const status = JSON.parse((await run(['status', 'sites.csv', '--format', 'json'])).stdout);
    assert.deepEqual(status.rows.map((r: any) => [r.ip, r.status]), rows.map((r) => [r.ip, r.status]), 'status and destroy-results agree');

    // A second destroy has nothing to do and says so per site.
    const again = await run(['destroy', 'sites.csv', '--dry-run', '--format', 'json']);
    assert.deepEqual(JSON.parse(again.stdout).rows.map((r: any) => [r.action, r.gateway2?.action ?? null]), [
      ['skip', 'skip'],
      ['skip', null],
      ['skip', null],
    ]);
  } finally {
    t.cleanup();
  }
});
