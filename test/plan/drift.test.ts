// Drift between the journal's record and the cloud's gateway, and the "current" view the planner converges from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { currentOf, describeChanges, driftOf, unmanagedTags } from '../../src/plan/drift.js';
import type { CustomerGateway } from '../../src/cloud/types.js';
import type { PriorRow } from '../../src/types.js';

const fp = (k: string) => `fp-${k}`;
const prior: PriorRow = { key: 'cn-hangzhou/203.0.113.1', status: 'created', line: 2, generation: 1, gatewayId: 'cgw-1', name: 'a', asn: '1.10', authKeyFingerprint: 'fp-Key1', tags: [{ key: 'env', value: 'prod' }] };
const gw = (over: Partial<CustomerGateway> = {}): CustomerGateway => ({ id: 'cgw-1', regionId: 'cn-hangzhou', ip: '203.0.113.1', name: 'a', asn: '65546', authKey: 'Key1', createTime: 1, tags: [{ key: 'env', value: 'prod' }], ...over });

test('no drift when the cloud matches the journal (asdot vs integer ASN, empty description)', () => {
  assert.deepEqual(driftOf(prior, gw({ description: '' }), fp), []);
});

test('console edits show up field by field; AuthKeys only as markers; a tag key nobody manages is not drift', () => {
  const edited = gw({ name: 'b', authKey: 'Other', tags: [{ key: 'env', value: 'dev' }, { key: 'x', value: '1' }] });
  const d = driftOf(prior, edited, fp);
  assert.deepEqual(d, [
    { field: 'name', before: 'a', after: 'b' },
    { field: 'auth_key', before: '(set)', after: '(changed)' },
    { field: 'tag:env', before: 'prod', after: 'dev' },
  ]);
  assert.equal(describeChanges(d), 'name "a" -> "b", auth_key (set) -> (changed), tag:env "prod" -> "dev"');
  assert.ok(!describeChanges(d).includes('Other'));
  assert.deepEqual(unmanagedTags(prior, edited), [{ key: 'x', value: '1' }]);
  assert.deepEqual(driftOf(prior, gw({ tags: [] }), fp), [{ field: 'tag:env', before: 'prod' }], 'a managed tag removed in the console is drift');
});

test('current view: cloud values, only managed tag keys, fingerprint of the key that is really there', () => {
  const cur = currentOf(prior, gw({ name: 'b', authKey: 'Other', tags: [{ key: 'env', value: 'dev' }, { key: 'foreign', value: '1' }, { key: 'site', value: 's' }] }), ['site'], fp);
  assert.equal(cur.name, 'b');
  assert.equal(cur.authKeyFingerprint, 'fp-Other');
  assert.deepEqual(cur.tags, [{ key: 'env', value: 'dev' }, { key: 'site', value: 's' }]);
  assert.equal(currentOf(prior, gw({ authKey: '' }), [], fp).authKeyFingerprint, undefined);
});
