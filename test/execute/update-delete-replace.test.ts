// The executor's day-2 operations on plain data: update sends only what changed, delete and replace keep the journal honest.
import '../helpers/env.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { executePlan, type ExecuteOptions } from '../../src/execute/execute.js';
import { seededRandom } from '../../src/clock.js';
import type { GatewaySpec, PlannedRow } from '../../src/types.js';
import { VirtualClock } from '../helpers/fake-clock.js';
import { FakeVpc, asClient } from '../helpers/fake-vpc.js';
import { MemoryJournal } from '../helpers/memory-journal.js';
import { planned } from './fixture.js';

const REGION = 'cn-hangzhou';
const token = (runId: string, region: string, ip: string, gen: number) => `tok-${runId}-${region}-${ip}-${gen}`;

/** A fake cloud with one gateway per IP and a journal that owns them (status created, generation 1). */
async function owned(ips: string[]) {
  const fake = new FakeVpc();
  const journal = new MemoryJournal();
  for (const ip of ips) {
    const out = await fake.createCustomerGateway({ regionId: REGION, ipAddress: ip, name: `site-${ip}`, tags: [{ key: 'env', value: 'prod' }, { key: 'old', value: 'x' }], clientToken: token('run1', REGION, ip, 1) });
    await journal.record(`${REGION}/${ip}`, { status: 'created', token: token('run1', REGION, ip, 1), generation: 1, gatewayId: out.id, name: `site-${ip}`, requestIds: [] });
  }
  fake.calls = [];
  return { fake, journal };
}

function row(ip: string, action: PlannedRow['action'], spec: Partial<GatewaySpec>, extra: Partial<PlannedRow> = {}): PlannedRow {
  return planned(ip, action, spec, extra);
}

function opts(fake: FakeVpc, journal: MemoryJournal, rows: PlannedRow[]): ExecuteOptions {
  return { rows, runId: 'run-a', journalId: 'run1', journal, clientFor: () => asClient(fake), account: 'AK', makeToken: token, fingerprint: (k) => `fp:${k.length}`, rate: 1000, clock: new VirtualClock(), random: seededRandom(2) };
}

test('update sends only the changed fields: Modify for name/AuthKey, UnTag for removed keys, Tag for new values', async () => {
  const { fake, journal } = await owned(['203.0.113.1', '203.0.113.2']);
  const id1 = journal.get(`${REGION}/203.0.113.1`)!.gatewayId!;
  const id2 = journal.get(`${REGION}/203.0.113.2`)!.gatewayId!;
  const rows = [
    row('203.0.113.1', 'update', { name: 'renamed', authKey: 'NewKey12345', tags: [{ key: 'env', value: 'prod' }, { key: 'old', value: 'x' }] }, { existingId: id1, changes: [{ field: 'name', before: 'site-203.0.113.1', after: 'renamed' }, { field: 'auth_key', before: '(none)', after: '(set)' }] }),
    row('203.0.113.2', 'update', { name: 'site-203.0.113.2', tags: [{ key: 'env', value: 'dev' }] }, { existingId: id2, changes: [{ field: 'tag:env', before: 'prod', after: 'dev' }, { field: 'tag:old', before: 'x' }] }),
  ];
  const r = await executePlan(opts(fake, journal, rows));
  assert.deepEqual(r.results.map((x) => x.status), ['updated', 'updated']);
  assert.deepEqual(fake.day2.sort(), [`Modify ${id1} name,authKey`, `Tag ${id2} env=dev`, `UnTag ${id2} old`].sort());
  assert.equal(fake.calls.length, 0, 'no create');
  const j1 = journal.get(`${REGION}/203.0.113.1`) as any;
  assert.equal(j1.status, 'updated');
  assert.equal(j1.name, 'renamed');
  assert.equal(j1.authKeyFingerprint, 'fp:11');
  assert.ok(!JSON.stringify(journal.log).includes('NewKey12345'), 'the journal never sees the AuthKey');
  assert.deepEqual(fake.gateways.find((g) => g.id === id2)!.tags, [{ key: 'env', value: 'dev' }]);
});

test('a failed update keeps the row owned, so the next plan retries the update instead of creating', async () => {
  const { fake, journal } = await owned(['203.0.113.3']);
  const id = journal.get(`${REGION}/203.0.113.3`)!.gatewayId!;
  fake.failDay2 = (call) => (call.startsWith('Modify') ? 'InvalidName' : undefined);
  const r = await executePlan(opts(fake, journal, [row('203.0.113.3', 'update', { name: 'bad' }, { existingId: id, changes: [{ field: 'name', after: 'bad' }] })]));
  assert.equal(r.results[0]!.status, 'failed');
  assert.match(r.results[0]!.errorMessage!, /ModifyCustomerGatewayAttribute failed/);
  assert.equal(journal.get(`${REGION}/203.0.113.3`)!.status, 'created');
  assert.equal(journal.get(`${REGION}/203.0.113.3`)!.errorCode, 'InvalidName');
});

test('delete: NotFound counts as done, task.conflict is retried, an attached IPsec connection fails the row clearly', async () => {
  const { fake, journal } = await owned(['203.0.113.4', '203.0.113.5', '203.0.113.6']);
  const ids = ['203.0.113.4', '203.0.113.5', '203.0.113.6'].map((ip) => journal.get(`${REGION}/${ip}`)!.gatewayId!);
  fake.gateways = fake.gateways.filter((g) => g.id !== ids[0]); // deleted in the console
  let conflicts = 0;
  fake.failDay2 = (call) => {
    if (call === `Delete ${ids[1]}` && conflicts++ < 2) return 'VpnGateway.task.conflict';
    if (call === `Delete ${ids[2]}`) return 'DependencyViolation.VpnConnection';
    return undefined;
  };
  const rows = ['203.0.113.4', '203.0.113.5', '203.0.113.6'].map((ip, i) => row(ip, 'delete', {}, { existingId: ids[i] }));
  const r = await executePlan(opts(fake, journal, rows));
  assert.deepEqual(r.results.map((x) => x.status), ['deleted', 'deleted', 'failed']);
  assert.equal(r.results[1]!.attempts, 3);
  assert.equal(r.results[2]!.errorCode, 'DependencyViolation.VpnConnection');
  assert.match(r.results[2]!.errorMessage!, /IPsec connection still uses/);
  assert.equal(journal.get(`${REGION}/203.0.113.6`)!.status, 'created', 'still ours: a later destroy tries again');
  assert.equal(journal.get(`${REGION}/203.0.113.5`)!.status, 'deleted');
});

test('replace deletes first, then creates with a new generation token; an IP change retires the old key', async () => {
  const { fake, journal } = await owned(['203.0.113.7', '203.0.113.8']);
  const sameKeyId = journal.get(`${REGION}/203.0.113.7`)!.gatewayId!;
  const movedId = journal.get(`${REGION}/203.0.113.8`)!.gatewayId!;
  const rows = [
    row('203.0.113.7', 'replace', { name: 'site-203.0.113.7', asn: '65001' }, { existingId: sameKeyId, generation: 2, changes: [{ field: 'asn', after: '65001' }] }),
    row('203.0.113.88', 'replace', { name: 'site-203.0.113.8' }, { existingId: movedId, generation: 1, replacesKey: `${REGION}/203.0.113.8`, changes: [{ field: 'ip', before: '203.0.113.8', after: '203.0.113.88' }] }),
  ];
  const r = await executePlan(opts(fake, journal, rows));
  assert.deepEqual(r.results.map((x) => x.status), ['created', 'created']);
  assert.ok(fake.day2.includes(`Delete ${sameKeyId}`) && fake.day2.includes(`Delete ${movedId}`));
  assert.deepEqual(fake.calls.map((c) => c.clientToken).sort(), [token('run1', REGION, '203.0.113.7', 2), token('run1', REGION, '203.0.113.88', 1)].sort());
  assert.equal(journal.get(`${REGION}/203.0.113.7`)!.generation, 2);
  assert.equal(journal.get(`${REGION}/203.0.113.8`)!.status, 'deleted');
  assert.deepEqual(fake.gateways.map((g) => g.ip).sort(), ['203.0.113.7', '203.0.113.88']);
});

test('a gateway deleted outside the tool is created again with a new token, never the old one', async () => {
  const { fake, journal } = await owned(['203.0.113.9']);
  fake.gateways = [];
  // The planner decides the generation (the journal's + 1); the executor uses it.
  const r = await executePlan(opts(fake, journal, [row('203.0.113.9', 'create', { name: 'site-203.0.113.9' }, { generation: 2 })]));
  assert.equal(r.results[0]!.status, 'created');
  assert.equal(fake.calls[0]!.clientToken, token('run1', REGION, '203.0.113.9', 2));
});
