// The plan is the decision: one action and reason for every state a row can be in (journal x listing x flags), for
// plan, apply, import and destroy alike. Pure: plain data in, plan out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planDestroy } from '../../src/plan/destroy.js';
import { specHash } from '../../src/plan/identity.js';
import { NO_FLAGS, planManifest, type PlanContext } from '../../src/plan/plan.js';
import { planToJson } from '../../src/report/plan-output.js';
import type { PlanFlags, Plan, PlannedRow, PriorRow } from '../../src/types.js';
import { fp, gw, manifest, prior, priors, rows, wrow } from './builders.js';

const K = 'cn-hangzhou/203.0.113.10';
const HQ = { name: 'HQ', asn: '65000' };
const hqSpec = { region: 'cn-hangzhou', ip: '203.0.113.10', name: 'HQ', asn: '65000', tags: [] };

function plan(prs: PriorRow[], listing: ReturnType<typeof gw>[] | undefined, flags: Partial<PlanFlags> = {}, extra: Partial<PlanContext> = {}, fields = HQ): Plan {
  const ctx: PlanContext = {
    online: listing !== undefined,
    quota: 100,
    prior: priors(...prs),
    fingerprint: fp,
    flags: { ...NO_FLAGS, ...flags },
  };
  if (listing) {
    ctx.regions = new Set(['cn-hangzhou', 'cn-shanghai']);
    ctx.inventory = new Map([['cn-hangzhou', listing], ['cn-shanghai', []]]);
  }
  return planManifest(manifest([wrow(fields)]), { ...ctx, ...extra });
}
const only = (p: Plan): PlannedRow => {
  assert.equal(p.rows.length, 1, JSON.stringify(p.rows.map((r) => r.action)));
  return p.rows[0]!;
};

describe('outcome unknown (in-flight or unknown): resume', () => {
  for (const status of ['in-flight', 'unknown'] as const) {
    it(`${status}, offline: resume with the same generation; apply lists first`, () => {
      const r = only(plan([prior(K, { status, gatewayId: undefined, generation: 2, ...HQ })], undefined));
      assert.equal(r.action, 'resume');
      assert.equal(r.generation, 2);
      assert.equal(r.existingId, undefined);
      assert.match(r.reason, /lists the region/);
    });
  }

  it('online, the listing shows the gateway it made: resume records it (no generation), then updates what differs', () => {
    const r = only(plan([prior(K, { status: 'unknown', gatewayId: undefined, ...HQ })], [gw({ id: 'cgw-made', ip: '203.0.113.10', ...HQ })]));
    assert.equal(r.action, 'resume');
    assert.equal(r.existingId, 'cgw-made');
    assert.equal(r.generation, undefined);
    assert.equal(r.changes, undefined);
    assert.match(r.reason, /made cgw-made: record it without a request$/);
    const d = only(plan([prior(K, { status: 'unknown', gatewayId: undefined, ...HQ })], [gw({ id: 'cgw-made', ip: '203.0.113.10', ...HQ })], {}, {}, { ...HQ, description: 'new' } as typeof HQ));
    assert.deepEqual(d.changes, [{ field: 'description', after: 'new' }]);
    assert.match(d.reason, /then update it/);
  });

  it('online, nothing at the IP: resume with the same ClientToken; the row changed since: the next generation', () => {
    const same = only(plan([prior(K, { status: 'in-flight', gatewayId: undefined, generation: 1, ...HQ, specHash: specHash(hqSpec, undefined) })], []));
    assert.equal(same.action, 'resume');
    assert.equal(same.generation, 1);
    assert.match(same.reason, /same ClientToken/);
    const changed = only(plan([prior(K, { status: 'in-flight', gatewayId: undefined, generation: 1, ...HQ, specHash: 'something-else' })], []));
    assert.equal(changed.action, 'resume');
    assert.equal(changed.generation, 2);
    assert.match(changed.reason, /new ClientToken/);
  });

  it("online, someone else's gateway at the IP: invalid, naming it", () => {
    const r = only(plan([prior(K, { status: 'unknown', gatewayId: undefined, ...HQ })], [gw({ id: 'cgw-other', ip: '203.0.113.10', name: 'Other', asn: '65000' })]));
    assert.equal(r.action, 'invalid');
    assert.match(r.reason, /InvalidIpAddress\.AlreadyExist.*cgw-other/);
  });
});

describe('failed earlier: blocked, or retry', () => {
  const failed = (p: Partial<PriorRow> = {}) =>
    prior(K, { status: 'failed', gatewayId: undefined, errorCode: 'Resource.QuotaFull', errorMessage: 'quota full', ...HQ, specHash: specHash(hqSpec, undefined), ...p });

  it('blocked with the error and the flag to pass (a quota failure too)', () => {
    const r = only(plan([failed()], []));
    assert.equal(r.action, 'blocked');
    assert.equal(r.needs, '--retry-failed');
    assert.match(r.reason, /failed earlier with Resource\.QuotaFull: quota full; fix the row, or pass --retry-failed/);
  });

  it('--retry-failed: retry with the next generation', () => {
    const r = only(plan([failed({ generation: 2 })], [], { retryFailed: true }));
    assert.equal(r.action, 'retry');
    assert.equal(r.generation, 3);
  });

  it('the row changed since it failed: retry without the flag', () => {
    const r = only(plan([failed({ specHash: 'other' })], []));
    assert.equal(r.action, 'retry');
    assert.match(r.reason, /changed since/);
  });

  it('a gateway now exists at the IP with the same identity: adopt', () => {
    const r = only(plan([failed()], [gw({ id: 'cgw-x', ip: '203.0.113.10', ...HQ })]));
    assert.equal(r.action, 'adopt');
    assert.equal(r.existingId, 'cgw-x');
  });
});

describe('adopt converges what differs', () => {
  it('description, AuthKey (markers only) and the manifest tag keys differ -> adopt with changes', () => {
    const p = planManifest(manifest([wrow({ ...HQ, description: 'd2', auth_key: 'key-new-123' }, { tags: { env: 'prod' } })]), {
      online: true,
      quota: 100,
      regions: new Set(['cn-hangzhou']),
      inventory: new Map([['cn-hangzhou', [gw({ id: 'cgw-a', ip: '203.0.113.10', ...HQ, description: 'd1', authKey: 'key-old-123', tags: [{ key: 'env', value: 'dev' }, { key: 'other', value: 'x' }] })]]]),
    });
    const r = only(p);
    assert.equal(r.action, 'adopt');
    assert.deepEqual(r.changes, [
      { field: 'description', before: 'd1', after: 'd2' },
      { field: 'auth_key', before: '(set)', after: '(changed)' },
      { field: 'tag:env', before: 'dev', after: 'prod' },
    ]);
    assert.doesNotMatch(JSON.stringify(planToJson(p)), /key-new|key-old/);
  });
});

describe('orphans (journal rows whose key left the manifest)', () => {
  const O = 'cn-shanghai/198.51.100.7';
  const orphan = (p: Plan): PlannedRow => p.rows.find((r) => r.orphan)!;

  it('online and already gone: skip; with --prune a delete that records it', () => {
    const o = orphan(plan([prior(O, { gatewayId: 'cgw-o' })], []));
    assert.equal(o.action, 'skip');
    assert.match(o.reason, /already gone/);
    assert.equal(orphan(plan([prior(O, { gatewayId: 'cgw-o' })], [], { prune: true })).action, 'delete');
  });

  it('a create whose answer was lost and whose gateway the listing shows: an orphan with that gateway', () => {
    const made = gw({ id: 'cgw-lost', regionId: 'cn-shanghai', ip: '198.51.100.7', name: 'gone', asn: '65001' });
    const ctx = { regions: new Set(['cn-hangzhou', 'cn-shanghai']), inventory: new Map([['cn-hangzhou', []], ['cn-shanghai', [made]]]) };
    const o = orphan(plan([prior(O, { status: 'unknown', gatewayId: undefined, name: 'gone', asn: '65001' })], [], { prune: true }, ctx));
    assert.equal(o.action, 'delete');
    assert.equal(o.existingId, 'cgw-lost');
    const blocked = orphan(plan([prior(O, { status: 'unknown', gatewayId: undefined, name: 'gone', asn: '65001' })], [], {}, ctx));
    assert.equal(blocked.action, 'blocked');
    assert.equal(blocked.needs, '--prune');
    const never = orphan(plan([prior(O, { status: 'unknown', gatewayId: undefined, name: 'gone', asn: '65001' })], []));
    assert.equal(never.action, 'skip');
    assert.match(never.reason, /made no gateway/);
  });

  it("fixing the IP of a row whose create's answer was lost: the gateway it made is replaced, not left behind", () => {
    const old = prior('cn-hangzhou/203.0.113.1', { status: 'unknown', gatewayId: undefined, ...HQ });
    const made = gw({ id: 'cgw-typo', ip: '203.0.113.1', ...HQ });
    const p = plan([old], [made], { allowReplace: true });
    const r = p.rows[0]!;
    assert.equal(r.action, 'replace');
    assert.equal(r.existingId, 'cgw-typo');
    assert.equal(r.replacesKey, 'cn-hangzhou/203.0.113.1');
    assert.equal(p.rows.length, 1, 'the old key is matched, not an orphan');
    assert.equal(plan([old], [made]).rows[0]!.action, 'blocked');
  });
});

describe('--only and import', () => {
  it('rows outside --only are not in the run: counted apart, no quota, no refusal', () => {
    const m = manifest(rows({ ip: '203.0.113.1' }, { ip: '203.0.113.2', asn: 'bad' }, { ip: '203.0.113.3' }));
    const p = planManifest(m, { online: false, quota: 1, select: (ref) => ref.line === 2 });
    assert.deepEqual(p.rows.map((r) => [r.ref.line, r.action, r.inRun]), [[2, 'create', true], [3, 'invalid', false], [4, 'create', false]]);
    assert.equal(p.summary.create, 1);
    assert.equal(p.summary.invalid, 0);
    assert.equal(p.summary.notInRun, 2);
  });

  it('import adopts matches, skips the rest with the reason, and plans no orphans', () => {
    const p = planManifest(manifest(rows({ ip: '203.0.113.1', ...HQ, description: 'x' }, { ip: '203.0.113.2' })), {
      command: 'import',
      online: true,
      quota: 100,
      regions: new Set(['cn-hangzhou']),
      inventory: new Map([['cn-hangzhou', [gw({ id: 'cgw-a', ip: '203.0.113.1', ...HQ })]]]),
      prior: priors(prior('cn-hangzhou/198.51.100.9', { gatewayId: 'cgw-z' })),
    });
    assert.deepEqual(p.rows.map((r) => r.action), ['adopt', 'skip']);
    assert.equal(p.rows[0]!.changes, undefined, 'import records only');
    assert.match(p.rows[0]!.reason, /next apply converges/);
    assert.ok(p.rows[1]!.issues.some((i) => i.code === 'Cgw.NoMatch'));
  });
});

describe('planDestroy', () => {
  it('owned -> delete (adopted marked), gone -> delete that records it, lost create found -> delete, else skip', () => {
    const prs = priors(
      prior('cn-hangzhou/203.0.113.1', { gatewayId: 'cgw-1', line: 2 }),
      prior('cn-hangzhou/203.0.113.2', { gatewayId: 'cgw-2', status: 'adopted', line: 3 }),
      prior('cn-hangzhou/203.0.113.3', { gatewayId: 'cgw-3', line: 4 }),
      prior('cn-hangzhou/203.0.113.4', { status: 'unknown', gatewayId: undefined, name: 'L', line: 5 }),
      prior('cn-hangzhou/203.0.113.5', { status: 'in-flight', gatewayId: undefined, name: 'M', line: 6 }),
      prior('cn-hangzhou/203.0.113.6', { status: 'failed', gatewayId: undefined, line: 7 }),
    );
    const inventory = new Map([['cn-hangzhou', [gw({ id: 'cgw-1', ip: '203.0.113.1' }), gw({ id: 'cgw-2', ip: '203.0.113.2' }), gw({ id: 'cgw-4', ip: '203.0.113.4', name: 'L' })]]]);
    const p = planDestroy({ file: 'm.csv', manifestHash: 'h', prior: prs, inventory, flags: NO_FLAGS });
    assert.deepEqual(p.rows.map((r) => [r.ref.line, r.action, r.existingId ?? null]), [
      [2, 'delete', 'cgw-1'],
      [3, 'delete', 'cgw-2'],
      [4, 'delete', 'cgw-3'],
      [5, 'delete', 'cgw-4'],
      [6, 'skip', null],
      [7, 'skip', null],
    ]);
    assert.equal(p.rows[1]!.adopted, true);
    assert.equal(p.rows[0]!.adopted, false);
    assert.match(p.rows[2]!.reason, /already gone/);
    assert.match(p.rows[3]!.reason, /answer was lost/);
  });
});
