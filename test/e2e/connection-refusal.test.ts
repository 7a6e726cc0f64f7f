// A connection write the API refuses with a code it documents for that write (site-to-site.md §1.5: here the
// per-gateway connection quota) is a failed connection, not an unknown outcome: the row says the code and the
// reason, the next plan holds it back until --retry-failed, and the retry makes exactly one connection.
import '../helpers/env.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { DEFAULT_ACCOUNT, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
const GW = 'vpn-refusalquota000001';
let emu: Emulator;
before(async () => {
  // The cloud's quota (1 connection per gateway) is lower than the one the plan assumes (10): only the API knows.
  emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rateLimits: false, vpnTaskMs: 20, vpnConnectionQuota: 1, vpnGateways: [{ RegionId: 'cn-chengdu', VpnGatewayId: GW, InternetIp: '47.96.50.1' }] });
});
after(async () => {
  await emu.close();
});

test('CreateVpnConnectionsQuotaFull.QuotaFull fails the connection (not unknown); --retry-failed after the quota is raised makes it once', async () => {
  const t = tempDir({
    'sites.csv': [
      'region,ip,name,vpn_gateway_id,local_subnet,remote_subnet,psk',
      `cn-chengdu,203.0.113.61,q-1,${GW},172.16.61.0/24,10.61.0.0/24,generate`,
      `cn-chengdu,203.0.113.62,q-2,${GW},172.16.62.0/24,10.62.0.0/24,generate`,
    ].join('\n') + '\n',
  });
  try {
    const run = (args: string[]) => runCli([...args, '--endpoint', emu.url], { env, cwd: t.dir });
    const first = await run(['apply', 'sites.csv', '--yes', '--quiet']);
    assert.equal(first.code, 1, first.stdout + first.stderr);
    const rows = parse(readFileSync(t.path('sites.csv.results/results.csv')), { bom: true, columns: true }) as Array<Record<string, string>>;
    const refused = rows.find((r) => r.connection_status === 'failed');
    assert.ok(refused, JSON.stringify(rows.map((r) => [r.ip, r.status, r.connection_status, r.error_code])));
    assert.equal(refused.error_code, 'CreateVpnConnectionsQuotaFull.QuotaFull');
    assert.doesNotMatch(refused.error_message ?? '', /may have been carried out/, 'a documented refusal is no unknown outcome');
    assert.equal(rows.filter((r) => r.connection_status === 'created').length, 1);

    const held = await run(['plan', 'sites.csv', '--format', 'json']);
    assert.equal(held.code, 1, 'the failed connection waits for --retry-failed');
    emu.configure({ vpnConnectionQuota: 10 });
    const retried = await run(['apply', 'sites.csv', '--yes', '--quiet', '--retry-failed']);
    assert.equal(retried.code, 0, retried.stdout + retried.stderr);
    const region = (emu.state() as any).accounts[DEFAULT_ACCOUNT.accountId].regions['cn-chengdu'];
    assert.equal(region.vpnConnections.filter((c: any) => c.VpnGatewayId === GW).length, 2, 'one connection per site');
  } finally {
    t.cleanup();
  }
});
