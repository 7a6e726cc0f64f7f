// planManifest: duplicates, inventory adopt/conflict, quota, regions online/offline, journal skip/update/replace/orphan, and
// one action with its reason for every state a row can be in (create, adopt, resume, retry, update, replace, delete, skip, blocked).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_FLAGS, planManifest, type PlanContext } from '../../src/plan/plan.js';
import type { Plan, PlannedRow } from '../../src/types.js';
import { FILE, fp, gw, manifest, prior, priors, rows, wrow } from './builders.js';

const offline: PlanContext = { online: false, quota: 100 };
const actions = (p: Plan): string[] => p.rows.map((r) => r.action);
const row = (p: Plan, line: number): PlannedRow => {
  const r = p.rows.find((x) => x.ref.line === line);
  assert.ok(r, `no planned row at line ${line}`);
  return r;
};
const codesOf = (r: PlannedRow): string[] => r.issues.map((i) => i.code);

function online(extra: Partial<PlanContext> = {}): PlanContext {
  return {
    online: true,
    quota: 100,
    regions: new Set(['cn-hangzhou', 'cn-shanghai']),
    inventory: new Map([
      ['cn-hangzhou', []],
      ['cn-shanghai', []],
    ]),
    ...extra,
  };
}

describe('planManifest: basics', () => {
  it('valid rows are create; the plan is versioned and carries manifest identity and file issues', () => {
    const fileIssue = { severity: 'warning' as const, code: 'Cgw.UnknownColumn', field: 'owner', message: 'column "owner" is not used', file: FILE, line: 1 };
    const p = planManifest(manifest(rows({ ip: '203.0.113.1' }, { ip: '203.0.113.2' }), [fileIssue]), offline);
    assert.equal(p.version, 2);
    assert.deepEqual(p.manifest, { file: FILE, hash: 'h'.repeat(64), format: 'csv' });
    assert.equal(p.command, 'plan');
    assert.equal(p.online, false);
    assert.deepEqual(actions(p), ['create', 'create']);
    assert.deepEqual(p.issues, [fileIssue]);
    assert.equal(p.rows[0]!.ref.key, 'cn-hangzhou/203.0.113.1');
    assert.equal(p.rows[0]!.row?.ref, p.rows[0]!.ref, 'one identity, carried by reference');
    assert.equal(p.rows[0]!.reason, 'new gateway');
    assert.equal(p.rows[0]!.generation, 1);
    assert.equal(p.rows[0]!.row?.spec.ip, '203.0.113.1');
    assert.deepEqual(p.summary, { rows: 2, create: 2, adopt: 0, skip: 0, invalid: 0, resume: 0, retry: 0, update: 0, replace: 0, delete: 0, blocked: 0, notInRun: 0 });
  });

  it('a row is invalid iff it has an error; warnings and infos keep it', () => {
    const p = planManifest(manifest(rows({ ip: '127.0.0.1' }, { ip: '10.0.0.1' }, { asn: '0' }, { ip: '' })), offline);
    assert.deepEqual(actions(p), ['create', 'create', 'invalid', 'invalid']);
    assert.equal(row(p, 5).row, undefined);
    assert.equal(row(p, 5).ref.key, 'cn-hangzhou/');
    assert.match(row(p, 5).reason, /^MissingIpAddress: /);
  });

  it('summaries per region and overall', () => {
    const p = planManifest(
      manifest(rows({ ip: '203.0.113.1' }, { region: 'cn-shanghai', ip: '203.0.113.1' }, { region: 'cn-shanghai', ip: 'x' }, { region: '' })),
      offline,
    );
    assert.equal(p.byRegion['cn-hangzhou']!.create, 1);
    assert.equal(p.byRegion['cn-shanghai']!.create, 1);
    assert.equal(p.byRegion['cn-shanghai']!.invalid, 1);
    assert.equal(p.byRegion['(no region)']!.invalid, 1);
    assert.equal(p.summary.rows, 4);
  });

  it('a region written as __proto__ is a plain key', () => {
    const p = planManifest(manifest(rows({ region: '__proto__' })), offline);
    assert.equal(Object.getOwnPropertyDescriptor(p.byRegion, '__proto__')?.value.invalid, 1);
    assert.equal(({} as Record<string, unknown>).invalid, undefined);
  });
});

describe('planManifest: duplicates inside the manifest', () => {
  it('InvalidIpAddress.AlreadyExist on every later row, naming the first line', () => {
    const p = planManifest(
      manifest([
        wrow({ ip: '203.0.113.5' }, { line: 4 }),
        wrow({ ip: '203.0.113.6' }, { line: 5 }),
        wrow({ ip: ' 203.0.113.5 ', name: 'other' }, { line: 6 }),
        wrow({ ip: '203.0.113.5' }, { line: 9 }),
        wrow({ region: 'cn-shanghai', ip: '203.0.113.5' }, { line: 10 }),
      ]),
      offline,
    );
    assert.deepEqual(actions(p), ['create', 'create', 'invalid', 'invalid', 'create']);
    for (const line of [6, 9]) {
      const i = row(p, line).issues.find((x) => x.code === 'InvalidIpAddress.AlreadyExist');
      assert.ok(i);
      assert.equal(i.line, line);
      assert.equal(i.field, 'ip');
      assert.match(i.message, /same region and IP as line 4/);
    }
  });
});

describe('planManifest: regions', () => {
  it('offline: Cgw.UnknownRegion from the built-in list', () => {
    const p = planManifest(manifest(rows({ region: 'cn-hangzou' })), offline);
    assert.deepEqual(codesOf(p.rows[0]!), ['Cgw.UnknownRegion']);
  });
  it('online: InvalidRegionId.NotFound from DescribeRegions, with a suggestion', () => {
    const p = planManifest(manifest(rows({ region: 'cn-beijing' }, { region: 'cn-shanghia' })), online());
    assert.deepEqual(codesOf(p.rows[0]!), ['InvalidRegionId.NotFound']);
    assert.match(p.rows[1]!.issues[0]!.message, /did you mean cn-shanghai/);
    assert.deepEqual(actions(p), ['invalid', 'invalid']);
  });
});

describe('planManifest: inventory (online)', () => {
  const inv = (...gws: ReturnType<typeof gw>[]): PlanContext =>
    online({ inventory: new Map([['cn-hangzhou', gws], ['cn-shanghai', []]]) });

  it('adopts an existing gateway with the same name and ASN (asdot compared numerically)', () => {
    const p = planManifest(
      manifest(rows({ ip: '203.0.113.1', name: 'HQ', asn: '1.10' }, { ip: '203.0.113.2' })),
      inv(gw({ id: 'cgw-a', ip: '203.0.113.1', name: 'HQ', asn: '65546' }), gw({ id: 'cgw-b', ip: '203.0.113.2', name: '' })),
    );
    assert.deepEqual(actions(p), ['adopt', 'adopt']);
    assert.equal(p.rows[0]!.existingId, 'cgw-a');
    assert.equal(p.rows[1]!.existingId, 'cgw-b');
    assert.equal(p.summary.adopt, 2);
  });

  it('conflict: InvalidIpAddress.AlreadyExist naming the gateway id and what differs', () => {
    const p = planManifest(
      manifest(rows({ ip: '203.0.113.1', name: 'HQ', asn: '65000' }, { ip: '203.0.113.2', name: 'B' })),
      inv(gw({ id: 'cgw-a', ip: '203.0.113.1', name: 'Old', asn: '65001' }), gw({ id: 'cgw-b', ip: '203.0.113.2', name: 'B', asn: '65000' })),
    );
    assert.deepEqual(actions(p), ['invalid', 'invalid']);
    const m0 = p.rows[0]!.issues[0]!;
    assert.equal(m0.code, 'InvalidIpAddress.AlreadyExist');
    assert.match(m0.message, /cgw-a/);
    assert.match(m0.message, /name "Old" there vs "HQ" here/);
    assert.match(m0.message, /ASN 65001 there vs 65000 here/);
    assert.match(p.rows[1]!.issues[0]!.message, /cgw-b.*ASN 65000 there vs \(none\) here/);
  });

  it('offline the inventory is ignored', () => {
    const p = planManifest(manifest(rows({})), { ...inv(gw({ id: 'cgw-a', ip: '203.0.113.10', name: 'x' })), online: false });
    assert.deepEqual(actions(p), ['create']);
  });

  it('a gateway the journal owns is not a conflict', () => {
    const p = planManifest(
      manifest(rows({ name: 'HQ' })),
      inv(gw({ id: 'cgw-mine', ip: '203.0.113.10', name: 'HQ' })),
    );
    assert.deepEqual(actions(p), ['adopt']);
    const q = planManifest(manifest(rows({ name: 'HQ' })), {
      ...inv(gw({ id: 'cgw-mine', ip: '203.0.113.10', name: 'HQ' })),
      prior: priors(prior('cn-hangzhou/203.0.113.10', { gatewayId: 'cgw-mine', name: 'HQ' })),
    });
    assert.deepEqual(actions(q), ['skip']);
    assert.equal(q.rows[0]!.existingId, 'cgw-mine');
  });

  it('journal gateway deleted outside the tool: create again with a drift warning', () => {
    const p = planManifest(manifest(rows({ name: 'HQ' })), {
      ...inv(),
      prior: priors(prior('cn-hangzhou/203.0.113.10', { gatewayId: 'cgw-gone', name: 'HQ' })),
    });
    assert.deepEqual(actions(p), ['create']);
    assert.equal(p.rows[0]!.issues[0]!.code, 'Cgw.Drift');
    assert.match(p.rows[0]!.issues[0]!.message, /cgw-gone/);
  });
});

describe('planManifest: quota', () => {
  const many = (n: number, region = 'cn-hangzhou') =>
    Array.from({ length: n }, (_, i) => wrow({ region, ip: `203.0.${Math.floor(i / 250)}.${(i % 250) + 1}` }, { line: i + 2 }));

  it('online: existing + creates over the quota -> Resource.QuotaFull on the rows that do not fit', () => {
    const existing = Array.from({ length: 97 }, (_, i) => gw({ id: `cgw-${i}`, ip: `198.51.100.${i + 1}` }));
    const p = planManifest(manifest(many(5)), online({ inventory: new Map([['cn-hangzhou', existing]]) }));
    assert.deepEqual(actions(p), ['create', 'create', 'create', 'invalid', 'invalid']);
    const i = p.rows[3]!.issues[0]!;
    assert.equal(i.code, 'Resource.QuotaFull');
    assert.match(i.message, /already has 97/);
    assert.match(i.message, /quota is 100/);
    assert.match(i.message, /only 3 of the 5/);
  });

  it('adopted rows do not use quota; other regions are independent', () => {
    const existing = [gw({ id: 'cgw-x', ip: '203.0.0.1' })];
    const p = planManifest(
      manifest([...many(3), ...many(3, 'cn-shanghai').map((w) => ({ ...w, line: w.line + 10 }))]),
      online({ quota: 3, inventory: new Map([['cn-hangzhou', existing], ['cn-shanghai', []]]) }),
    );
    assert.deepEqual(actions(p), ['adopt', 'create', 'create', 'create', 'create', 'create']);
  });

  it('offline counts only the planned creates (--quota N)', () => {
    const p = planManifest(manifest(many(4)), { online: false, quota: 2 });
    assert.deepEqual(actions(p), ['create', 'create', 'invalid', 'invalid']);
    assert.match(p.rows[2]!.issues[0]!.message, /offline/);
  });

  it('invalid rows do not use quota', () => {
    const rs = many(3);
    rs[0]!.fields.asn = 'bad';
    const p = planManifest(manifest(rs), { online: false, quota: 2 });
    assert.deepEqual(actions(p), ['invalid', 'create', 'create']);
  });
});

describe('planManifest: journal (converge)', () => {
  const K = 'cn-hangzhou/203.0.113.10';
  const base = { name: 'HQ', asn: '65000', auth_key: 'old-key-1' };
  const basePrior = (p: Parameters<typeof prior>[1] = {}) =>
    prior(K, { gatewayId: 'cgw-1', name: 'HQ', asn: '65000', authKeyFingerprint: fp('old-key-1'), tags: [{ key: 'env', value: 'prod' }], ...p });
  const plan1 = (fields: Parameters<typeof wrow>[0], tags: Record<string, string>, p = basePrior(), ctx: Partial<PlanContext> = {}) =>
    planManifest(manifest([wrow(fields, { tags })]), { online: false, quota: 100, prior: priors(p), fingerprint: fp, ...ctx });

  it('nothing changed -> skip with the journal gateway id (created, adopted, updated)', () => {
    for (const status of ['created', 'adopted', 'updated'] as const) {
      const p = plan1(base, { env: 'prod' }, basePrior({ status }));
      assert.deepEqual(actions(p), ['skip']);
      assert.equal(p.rows[0]!.existingId, 'cgw-1');
      assert.equal(p.rows[0]!.changes, undefined);
    }
  });

  it('asdot vs integer ASN is not a change', () => {
    assert.deepEqual(actions(plan1({ ...base, asn: '0.65000' }, { env: 'prod' })), ['skip']);
  });

  it('pending and deleted rows are created again; deleted with the next generation', () => {
    assert.deepEqual(actions(plan1(base, { env: 'prod' }, basePrior({ status: 'pending' }))), ['create']);
    const d = plan1(base, { env: 'prod' }, basePrior({ status: 'deleted', generation: 3 }));
    assert.deepEqual(actions(d), ['create']);
    assert.equal(d.rows[0]!.generation, 4);
  });

  it('name, description, tags -> update with before/after', () => {
    const p = plan1({ ...base, name: 'HQ2', description: 'new' }, { env: 'dev', team: 'net' }, basePrior({ tags: [{ key: 'env', value: 'prod' }, { key: 'old', value: 'x' }] }));
    assert.deepEqual(actions(p), ['update']);
    assert.equal(p.rows[0]!.existingId, 'cgw-1');
    assert.deepEqual(p.rows[0]!.changes, [
      { field: 'name', before: 'HQ', after: 'HQ2' },
      { field: 'description', after: 'new' },
      { field: 'tag:env', before: 'prod', after: 'dev' },
      { field: 'tag:old', before: 'x' },
      { field: 'tag:team', after: 'net' },
    ]);
  });

  it('tag order alone is not a change', () => {
    const p = plan1(base, { b: '2', a: '1' }, basePrior({ tags: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }] }));
    assert.deepEqual(actions(p), ['skip']);
  });

  it('AuthKey changed, added or removed -> update with markers, never the value', () => {
    const changed = plan1({ ...base, auth_key: 'new-key-1' }, { env: 'prod' });
    assert.deepEqual(changed.rows[0]!.changes, [{ field: 'auth_key', before: '(set)', after: '(changed)' }]);
    const removed = plan1({ name: 'HQ', asn: '65000' }, { env: 'prod' });
    assert.deepEqual(removed.rows[0]!.changes, [{ field: 'auth_key', before: '(set)', after: '(none)' }]);
    const added = plan1({ ...base, auth_key: 'key-two-2' }, { env: 'prod' }, basePrior({ authKeyFingerprint: undefined }));
    assert.deepEqual(added.rows[0]!.changes, [{ field: 'auth_key', before: '(none)', after: '(set)' }]);
    for (const p of [changed, removed, added]) {
      assert.equal(p.rows[0]!.action, 'update');
      assert.doesNotMatch(JSON.stringify(p.rows[0]!.changes), /new-key|old-key|key-two/);
    }
  });

  it('ASN changed -> replace listing asn before/after (blocked without --allow-replace)', () => {
    const blocked = plan1({ ...base, asn: '65001', name: 'HQ-new' }, { env: 'prod' });
    assert.deepEqual(actions(blocked), ['blocked']);
    assert.equal(blocked.rows[0]!.needs, '--allow-replace');
    assert.match(blocked.rows[0]!.reason, /pass --allow-replace/);
    const p = plan1({ ...base, asn: '65001', name: 'HQ-new' }, { env: 'prod' }, basePrior(), { flags: { ...NO_FLAGS, allowReplace: true } });
    assert.deepEqual(actions(p), ['replace']);
    assert.equal(p.rows[0]!.generation, 2);
    assert.equal(p.rows[0]!.existingId, 'cgw-1');
    assert.deepEqual(p.rows[0]!.changes, [
      { field: 'asn', before: '65000', after: '65001' },
      { field: 'name', before: 'HQ', after: 'HQ-new' },
    ]);
  });

  it('IP changed (same unique name in the region) -> replace with ip before/after; the old key is not an orphan', () => {
    const p = planManifest(manifest(rows({ ip: '203.0.113.99', name: 'HQ', asn: '65000', auth_key: 'old-key-1' }, { ip: '203.0.113.50', name: 'Branch' })), {
      online: false,
      quota: 100,
      prior: priors(basePrior()),
      fingerprint: fp,
      flags: { ...NO_FLAGS, allowReplace: true },
    });
    assert.deepEqual(actions(p), ['replace', 'create']);
    assert.equal(p.rows[0]!.replacesKey, 'cn-hangzhou/203.0.113.10');
    assert.equal(p.rows[0]!.existingId, 'cgw-1');
    assert.deepEqual(p.rows[0]!.changes, [
      { field: 'ip', before: '203.0.113.10', after: '203.0.113.99' },
      { field: 'tag:env', before: 'prod' },
    ]);
    assert.equal(p.summary.blocked + p.summary.delete, 0);
  });

  it('an ambiguous name is not matched as an IP change', () => {
    const p = planManifest(manifest(rows({ ip: '203.0.113.98', name: 'HQ' }, { ip: '203.0.113.99', name: 'HQ' })), {
      online: false,
      quota: 100,
      prior: priors(basePrior()),
    });
    assert.deepEqual(actions(p), ['create', 'create', 'blocked']);
    assert.equal(p.rows[2]!.orphan, true);
  });

  it('journal rows missing from the manifest are orphans (line 0, key, gateway id): blocked without --prune, delete with it', () => {
    const p = planManifest(manifest(rows({ ip: '203.0.113.1' })), {
      online: false,
      quota: 100,
      prior: priors(
        prior('cn-shanghai/198.51.100.7', { gatewayId: 'cgw-o1', name: 'gone' }),
        prior('cn-hangzhou/198.51.100.8', { gatewayId: 'cgw-o2', status: 'adopted' }),
        prior('cn-hangzhou/198.51.100.9', { gatewayId: 'cgw-f', status: 'failed' }),
      ),
    });
    assert.deepEqual(actions(p), ['create', 'blocked', 'blocked']);
    const o = p.rows[1]!;
    assert.deepEqual(
      { ...o.ref, existingId: o.existingId },
      { file: FILE, line: 0, key: 'cn-hangzhou/198.51.100.8', region: 'cn-hangzhou', ip: '198.51.100.8', existingId: 'cgw-o2' },
    );
    assert.match(o.reason, /--prune/);
    assert.equal(o.needs, '--prune');
    assert.equal(p.summary.blocked, 2);
    assert.equal(p.byRegion['cn-shanghai']!.blocked, 1);
  });

  it('an invalid manifest row with a journal key is invalid, not an orphan', () => {
    const p = plan1({ ...base, name: 'http://bad' }, { env: 'prod' });
    assert.deepEqual(actions(p), ['invalid']);
    assert.equal(p.rows[0]!.existingId, undefined);
    assert.equal(p.rows[0]!.changes, undefined);
    assert.equal(p.summary.blocked + p.summary.delete, 0);
  });
});

describe('planManifest: purity', () => {
  it('does not mutate its inputs and gives the same plan twice', () => {
    const m = manifest(rows({ ip: '203.0.113.1' }, { ip: '203.0.113.1' }));
    const before = JSON.stringify(m);
    const a = planManifest(m, offline);
    const b = planManifest(m, offline);
    assert.equal(JSON.stringify(m), before);
    assert.deepEqual(a, b);
  });
});
