// Data file: atomic 0600 writes, and a restarted emulator serves the same gateways, tags, flags and tokens.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tempDir } from '../helpers/tmp.js';
import { startEmulator } from '../../src/emulator/index.js';
import { REGION, caught, emulator, pop } from './util.js';

test('state survives a restart with the same data file', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const dataFile = tmp.path('emu.json');
  const a = await emulator({ dataFile });
  const c = pop(a);
  const g = await c.createCustomerGateway({ regionId: REGION, ipAddress: '12.0.0.1', asn: '65000', authKey: 'persist', tags: [{ key: 'k', value: 'v' }], clientToken: 'p-1' });
  a.setAccountFlags('1234567890123456', { financialLocked: true });
  await a.close();
  assert.ok(existsSync(dataFile));
  assert.equal(statSync(dataFile).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(tmp.dir), ['emu.json'], 'no temp files left behind');

  const b = await emulator({ dataFile });
  t.after(() => b.close());
  const c2 = pop(b);
  const got = await c2.describeCustomerGateway(REGION, g.id);
  assert.equal(got.authKey, 'persist');
  assert.deepEqual(got.tags, [{ key: 'k', value: 'v' }]);
  assert.equal((await c2.createCustomerGateway({ regionId: REGION, ipAddress: '12.0.0.1', asn: '65000', authKey: 'persist', tags: [{ key: 'k', value: 'v' }], clientToken: 'p-1' })).id, g.id);
  assert.equal((await caught(c2.modifyCustomerGatewayAttribute({ regionId: REGION, id: g.id, name: 'x' }))).code, 'OperationDenied.VpnFinancialLocked');
  // writes land without close(), shortly after a mutation
  b.setAccountFlags('1234567890123456', { financialLocked: false });
  await c2.deleteCustomerGateway({ regionId: REGION, id: g.id });
  await new Promise((r) => setTimeout(r, 100));
  const saved = JSON.parse(readFileSync(dataFile, 'utf8'));
  assert.deepEqual(saved.accounts[0].regions[0].gateways, [], 'the delete reached the file');
});

test('a corrupt data file is a clear startup error', async (t) => {
  const tmp = tempDir({ 'bad.json': '{not json' });
  t.after(() => tmp.cleanup());
  await assert.rejects(startEmulator({ dataFile: tmp.path('bad.json') }), /not valid JSON/);
  // V8's JSON.parse message quotes the text around the error; the data file holds AuthKeys, so it must not be echoed.
  writeFileSync(tmp.path('bad.json'), '{"version":1,"accounts":[{"regions":[{"gateways":[{"AuthKey":SECRET-MARKER-DATA"}]}]}]}');
  await assert.rejects(startEmulator({ dataFile: tmp.path('bad.json') }), (e: Error) => /not valid JSON/.test(e.message) && !e.message.includes('SECRET-MARKER'));
  writeFileSync(tmp.path('bad.json'), '{"version": 9}');
  await assert.rejects(startEmulator({ dataFile: tmp.path('bad.json') }), /unknown format/);
});

test('a data file that cannot be written does not take the server down; the state is saved once it can be', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const dir = tmp.path('gone');
  mkdirSync(dir);
  const dataFile = `${dir}/emu.json`;
  const a = await emulator({ dataFile });
  const c = pop(a);
  rmSync(dir, { recursive: true });
  await c.createCustomerGateway({ regionId: REGION, ipAddress: '12.0.0.9', asn: '65000' });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await c.describeCustomerGateways({ regionId: REGION })).totalCount, 1, 'still serving after the failed background write');
  mkdirSync(dir);
  await a.close();
  assert.equal(JSON.parse(readFileSync(dataFile, 'utf8')).accounts[0].regions[0].gateways.length, 1);
});
