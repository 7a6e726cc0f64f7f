// A site's second customer gateway (`ip_2`) end to end. Replaced when ip_2 changes: the old gateway's deletion is
// recorded in its own journal row, so status, plan and refresh see no phantom gateway. Destroyed as a part of its
// site's row (customer_gateway_id_2), after the connection that holds it: the summary, the NDJSON run:done event,
// destroy-results and `status` agree on one row per site, and nothing is left in the cloud.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/cli.js';
import { readJournal } from '../../src/state/journal.js';
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

test('ip_2 changed, replaced with --allow-replace: the old gateway is deleted and recorded so in its own row; no phantom, no drift', async () => {
  const one = (ip2: string) => `region,ip,name,vpn_gateway_id,local_subnet,remote_subnet,psk,ip_2\ncn-qingdao,203.0.113.41,dual-r,${DUAL},172.16.41.0/24,10.41.0.0/24,generate,${ip2}\n`;
  const t = tempDir({ 'site.csv': one('203.0.113.141') });
  try {
    const run = (args: string[]) => runCli([...args, '--endpoint', emu.url], { env, cwd: t.dir });
    assert.equal((await run(['apply', 'site.csv', '--yes', '--quiet'])).code, 0);
    const gwAt = (ip: string) => region().gateways.filter((g: any) => g.IpAddress === ip);
    const [old] = gwAt('203.0.113.141');
    assert.ok(old, 'the first second gateway exists');

    writeFileSync(t.path('site.csv'), one('203.0.113.142'));
    const blocked = await run(['plan', 'site.csv']);
    assert.equal(blocked.code, 1, 'a replace needs --allow-replace');
    const replaced = await run(['apply', 'site.csv', '--yes', '--quiet', '--allow-replace']);
    assert.equal(replaced.code, 0, replaced.stdout + replaced.stderr);
    assert.equal(gwAt('203.0.113.141').length, 0, 'the old second gateway is deleted');
    const [fresh] = gwAt('203.0.113.142');
    assert.ok(fresh, 'the new second gateway exists');
    const conn = region().vpnConnections.find((c: any) => c.VpnGatewayId === DUAL && c.Tunnels?.some((x: any) => x.CustomerGatewayId === fresh.CustomerGatewayId));
    assert.ok(conn, 'the connection was made again on the new second gateway');

    // The journal: the old key's row says deleted (with its gateway id); the new key's row holds the new gateway.
    const j = await readJournal(t.path('site.csv.state.jsonl'));
    const oldRow = j!.rows.get('cn-qingdao/203.0.113.141');
    const newRow = j!.rows.get('cn-qingdao/203.0.113.142');
    assert.deepEqual([oldRow?.status, oldRow?.gatewayId], ['deleted', old.CustomerGatewayId]);
    assert.deepEqual([newRow?.status, newRow?.gatewayId], ['created', fresh.CustomerGatewayId]);

    const status = JSON.parse((await run(['status', 'site.csv', '--format', 'json'])).stdout);
    assert.deepEqual(status.rows.map((r: any) => [r.ip, r.status]), [['203.0.113.41', 'created']], 'one site, no phantom row for the old ip_2');
    // The status table has a column for the second gateway: the new one, never the deleted one.
    const table = (await run(['status', 'site.csv'])).stdout;
    assert.match(table, /outcome\s+gateway\s+gateway 2 \(ip_2\)\s+connection/);
    assert.ok(table.includes(fresh.CustomerGatewayId) && !table.includes(old.CustomerGatewayId), table);
    const plan = await run(['plan', 'site.csv', '--format', 'json']);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.deepEqual(JSON.parse(plan.stdout).rows.map((r: any) => [r.action, r.gateway2?.action, r.connection?.action]), [['skip', 'skip', 'skip']]);
    const refresh = await run(['refresh', 'site.csv']);
    assert.equal(refresh.code, 0, `no drift: the old gateway is not "deleted outside the tool"\n${refresh.stdout}${refresh.stderr}`);
    assert.equal((await run(['destroy', 'site.csv', '--yes', '--quiet'])).code, 0);
  } finally {
    t.cleanup();
  }
});

test('a removed site with ip_2 is one orphan row (the second gateway a part of it): --prune deletes it all and counts one site', async () => {
  const head = 'region,ip,name,vpn_gateway_id,local_subnet,remote_subnet,psk,ip_2';
  const dual = `cn-qingdao,203.0.113.51,dual-p,${DUAL},172.16.51.0/24,10.51.0.0/24,generate,203.0.113.151`;
  const single = `cn-qingdao,203.0.113.52,single-p,${SINGLE},172.16.52.0/24,10.52.0.0/24,generate,`;
  const t = tempDir({ 'sites.csv': `${head}\n${dual}\n${single}\n` });
  try {
    const run = (args: string[]) => runCli([...args, '--endpoint', emu.url], { env, cwd: t.dir });
    assert.equal((await run(['apply', 'sites.csv', '--yes', '--quiet'])).code, 0);
    const at = (ip: string) => region().gateways.filter((g: any) => g.IpAddress === ip);
    assert.deepEqual([at('203.0.113.51').length, at('203.0.113.151').length], [1, 1]);

    writeFileSync(t.path('sites.csv'), `${head}\n${single}\n`);
    const plan = await run(['plan', 'sites.csv', '--format', 'json']);
    assert.equal(plan.code, 1, 'the removed site needs --prune');
    const orphans = JSON.parse(plan.stdout).rows.filter((r: any) => r.orphan);
    assert.deepEqual(orphans.map((r: any) => [r.ip, r.action, r.gateway2?.action, r.gateway2?.needs, r.connection?.action]), [['203.0.113.51', 'blocked', 'blocked', '--prune', 'blocked']]);

    const pruned = await run(['apply', 'sites.csv', '--prune', '--yes', '--format', 'json']);
    assert.equal(pruned.code, 0, pruned.stdout + pruned.stderr);
    const summary = pruned.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.type === 'summary');
    assert.deepEqual(summary.counts, { deleted: 1, unchanged: 1 }, 'one site deleted, one unchanged');
    assert.deepEqual([at('203.0.113.51').length, at('203.0.113.151').length, at('203.0.113.52').length], [0, 0, 1]);
    const status = JSON.parse((await run(['status', 'sites.csv', '--format', 'json'])).stdout);
    assert.deepEqual(status.rows.map((r: any) => [r.ip, r.status]), [['203.0.113.52', 'created']]);
    assert.equal((await run(['refresh', 'sites.csv'])).code, 0, 'no drift');
    assert.equal((await run(['destroy', 'sites.csv', '--yes', '--quiet'])).code, 0);
  } finally {
    t.cleanup();
  }
});

test('destroy of sites with ip_2: one row per site (the second gateway a part of it), everything deleted, every count agrees', async () => {
  const t = tempDir({ 'sites.csv': MANIFEST });
  try {
    const run = (args: string[]) => runCli([...args, '--endpoint', emu.url], { env, cwd: t.dir });
    const applied = await run(['apply', 'sites.csv', '--yes', '--quiet']);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    // This test's gateways only (the region is shared with the test above).
    const mine = () => region().gateways.filter((g: any) => ['203.0.113.31', '203.0.113.131', '203.0.113.32', '203.0.113.33'].includes(g.IpAddress));
    const ids = () => new Set(mine().map((g: any) => g.CustomerGatewayId));
    const myConnections = () => region().vpnConnections.filter((c: any) => c.Tunnels?.some((x: any) => ids().has(x.CustomerGatewayId)) || ids().has(c.CustomerGatewayId));
    assert.equal(mine().length, 4, 'three customer gateways and the second one of the dual site');
    assert.equal(myConnections().length, 2);
    const before = region().vpnConnections.length;

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
    assert.equal(mine().length, 0, 'every customer gateway deleted, the second one too');
    assert.equal(region().vpnConnections.length, before - 2, 'both connections deleted');
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
