// The built CLI against the emulator's commit-200 fault: a create carried out and then answered HTTP 200 with an error
// body. It must not become a plain failure that forgets the gateway: apply records it (the listing finds it), and
// destroy deletes it.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEFAULT_ACCOUNT, startEmulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

test('commit then HTTP 200 {"Code":"InvalidParameter"}: apply records the gateway, destroy deletes it', async (t) => {
  const emu = await startEmulator({ accounts: [DEFAULT_ACCOUNT], rateLimits: false, faults: { 'commit-200': 1 }, faultActions: ['CreateCustomerGateway'] });
  const dir = tempDir({ 'm.csv': 'region,ip,name,asn\ncn-hangzhou,203.0.113.200,c200,65001\n' });
  t.after(async () => {
    await emu.close();
    dir.cleanup();
  });
  const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: DEFAULT_ACCOUNT.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEFAULT_ACCOUNT.accessKeySecret };
  const gateways = (): Array<{ CustomerGatewayId: string }> => (emu.state() as any).accounts?.[DEFAULT_ACCOUNT.accountId]?.regions?.['cn-hangzhou']?.gateways ?? [];

  const apply = await runCli(['apply', dir.path('m.csv'), '--endpoint', emu.url, '--yes', '--format', 'json'], { env });
  const what = `${apply.stdout}\n${apply.stderr}`;
  assert.equal(emu.stats().actions.CreateCustomerGateway?.['fault:commit-200'], 1, what);
  assert.equal(gateways().length, 1, what);
  const id = gateways()[0]!.CustomerGatewayId;
  const results = JSON.parse(readFileSync(dir.path('m.csv.results/results.json'), 'utf8')) as { rows: Array<{ status: string; customer_gateway_id: string | null }> };
  const row = results.rows[0]!;
  assert.equal(row.status, 'created', what);
  assert.equal(row.customer_gateway_id, id);
  assert.equal(apply.code, 0, what);

  const destroy = await runCli(['destroy', dir.path('m.csv'), '--endpoint', emu.url, '--yes'], { env });
  assert.equal(destroy.code, 0, `${destroy.stdout}\n${destroy.stderr}`);
  assert.doesNotMatch(destroy.stdout, /no gateway was created for this row/);
  assert.equal(gateways().length, 0, 'the gateway is gone from the cloud');
});
