// A secret reference this run cannot read (BGP_KEY not exported, a results file's "(AuthKey not copied)") blocks
// only the rows that must send it now; every other row plans as usual with a note that the key was not compared.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { specHash } from '../../src/plan/identity.js';
import { NO_FLAGS, planManifest } from '../../src/plan/plan.js';
import { sends } from '../../src/plan/secret-refs.js';
import type { Issue, Plan, PlannedRow, PriorRow, WrittenRow } from '../../src/types.js';
import { fp, gw, manifest, prior, priors, wrow } from './builders.js';

const K = 'cn-hangzhou/203.0.113.10';
const HQ = { name: 'HQ', asn: '65000' };

/** A row whose `auth_key: env:BGP_KEY` could not be read, as the loader hands it over (its issue among the row's). */
function unread(fields: Record<string, string> = HQ): WrittenRow {
  const w = wrow(fields);
  const issue: Issue = { severity: 'error', code: 'Cgw.AuthKeyEnvMissing', field: 'auth_key', message: 'environment variable BGP_KEY is not set (or is empty); export it before running, or remove the auth_key', file: w.file, line: w.line };
  return { ...w, issues: [issue], unresolved: [{ field: 'auth_key', issue, why: 'environment variable BGP_KEY is not set' }] };
}

function plan(w: WrittenRow, prs: PriorRow[], listing?: ReturnType<typeof gw>[], flags = NO_FLAGS, command: 'plan' | 'import' = 'plan'): PlannedRow {
  const p: Plan = planManifest(manifest([w]), {
    command,
    online: listing !== undefined,
    quota: 100,
    prior: priors(...prs),
    fingerprint: fp,
    flags,
    ...(listing ? { regions: new Set(['cn-hangzhou']), inventory: new Map([['cn-hangzhou', listing]]) } : {}),
  });
  assert.equal(p.rows.length, 1);
  return p.rows[0]!;
}
const codes = (r: PlannedRow) => r.issues.map((i) => `${i.severity} ${i.code}`);

describe('an unreadable AuthKey', () => {
  it('a created row with a key on record: skip, the key not compared (offline, as status and report plan)', () => {
    const r = plan(unread(), [prior(K, { ...HQ, authKeyFingerprint: fp('k1') })]);
    assert.equal(r.action, 'skip');
    assert.deepEqual(codes(r), ['info Cgw.SecretNotCompared']);
    assert.match(r.issues[0]!.message, /AuthKey was not compared \(environment variable BGP_KEY is not set\)/);
  });

  it('a description changed: update of the description only, never of the key (nothing removes or resends it)', () => {
    const r = plan(unread({ ...HQ, description: 'moved' }), [prior(K, { ...HQ, gatewayId: 'cgw-1', authKeyFingerprint: fp('k1') })], [gw({ id: 'cgw-1', ip: '203.0.113.10', ...HQ, authKey: 'k1' })]);
    assert.equal(r.action, 'update');
    assert.deepEqual(r.changes, [{ field: 'description', after: 'moved' }]);
    assert.deepEqual(codes(r), ['info Cgw.SecretNotCompared']);
  });

  it('must be sent now: a new row, a key to set on a gateway that has none, a retry, a replace: invalid with the loader\'s issue', () => {
    const fresh = plan(unread(), []);
    assert.equal(fresh.action, 'invalid');
    assert.deepEqual(codes(fresh), ['error Cgw.AuthKeyEnvMissing']);
    const toSet = plan(unread(), [prior(K, { ...HQ })]);
    assert.equal(toSet.action, 'invalid', 'the journal records no key: the manifest asks to set one');
    const retried = plan(unread(), [prior(K, { ...HQ, status: 'failed', gatewayId: undefined, errorCode: 'Throttling' })], undefined, { ...NO_FLAGS, retryFailed: true });
    assert.equal(retried.action, 'invalid');
    const asn = plan(unread({ name: 'HQ', asn: '65001' }), [prior(K, { ...HQ, authKeyFingerprint: fp('k1') })], undefined, { ...NO_FLAGS, allowReplace: true });
    assert.equal(asn.action, 'invalid', 'a replace creates the gateway again, with its key');
    const blocked = plan(unread({ name: 'HQ', asn: '65001' }), [prior(K, { ...HQ, authKeyFingerprint: fp('k1') })]);
    assert.equal(blocked.action, 'blocked', 'without --allow-replace nothing is sent: the replace is blocked as usual');
  });

  it('a failed row, unchanged: blocked as usual (the unknown key counts as the one it was sent with)', () => {
    const spec = { region: 'cn-hangzhou', ip: '203.0.113.10', ...HQ, tags: [] };
    const r = plan(unread(), [prior(K, { ...HQ, status: 'failed', gatewayId: undefined, errorCode: 'Throttling', authKeyFingerprint: fp('k1'), specHash: specHash(spec, fp('k1')) })]);
    assert.equal(r.action, 'blocked');
    assert.equal(r.needs, '--retry-failed');
  });

  it('adopt: a gateway with a key is recorded (not compared); one without needs the key set, so it waits', () => {
    const withKey = plan(unread(), [], [gw({ id: 'cgw-9', ip: '203.0.113.10', ...HQ, authKey: 'k9' })]);
    assert.equal(withKey.action, 'adopt');
    assert.equal(withKey.changes, undefined);
    const without = plan(unread(), [], [gw({ id: 'cgw-9', ip: '203.0.113.10', ...HQ })]);
    assert.equal(without.action, 'invalid');
    const imported = plan(unread(), [], [gw({ id: 'cgw-9', ip: '203.0.113.10', ...HQ })], NO_FLAGS, 'import');
    assert.equal(imported.action, 'adopt', 'import only records: it sends nothing, so it needs no key');
  });

  it('a row asking for a key still needs its ASN', () => {
    const r = plan(unread({ name: 'HQ' }), [prior(K, { name: 'HQ', authKeyFingerprint: fp('k1') })]);
    assert.equal(r.action, 'invalid');
    assert.ok(codes(r).includes('error OperationDenied.MissingAsn'));
  });

  it('sends(): creates and key changes send; skips, blocks and other changes do not', () => {
    assert.equal(sends({ action: 'create' }, 'auth_key'), true);
    assert.equal(sends({ action: 'resume' }, 'auth_key'), true);
    assert.equal(sends({ action: 'resume', existingId: 'cgw-1' }, 'auth_key'), false);
    assert.equal(sends({ action: 'update', changes: [{ field: 'auth_key', before: '(none)', after: '(set)' }] }, 'auth_key'), true);
    assert.equal(sends({ action: 'update', changes: [{ field: 'name', after: 'x' }] }, 'auth_key'), false);
    assert.equal(sends({ action: 'skip' }, 'auth_key'), false);
  });
});
