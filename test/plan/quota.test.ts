// The quota per region is what the plan knows, labelled as such: given (--quota, per region or for all), learned
// (a Resource.QuotaFull recorded the region's ceiling in the journal), or assumed (the documented default).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { parseQuota } from '../../src/options.js';
import { planManifest, type PlanContext } from '../../src/plan/plan.js';
import { learnedQuotas } from '../../src/plan/quota.js';
import { renderPlanText } from '../../src/report/plan-output.js';
import type { Plan } from '../../src/types.js';
import { gw, manifest, prior, priors, wrow } from './builders.js';

const existing = (n: number) => Array.from({ length: n }, (_, i) => gw({ id: `cgw-x${i}`, ip: `198.51.100.${i + 1}` }));
const creates = (n: number) => Array.from({ length: n }, (_, i) => wrow({ ip: `203.0.113.${i + 1}`, name: `n${i}` }, { line: i + 2 }));

function plan(extra: Partial<PlanContext>, listed = 2, rows = 3): Plan {
  return planManifest(manifest(creates(rows)), {
    online: true,
    regions: new Set(['cn-hangzhou']),
    inventory: new Map([['cn-hangzhou', existing(listed)]]),
    quota: 100,
    ...extra,
  });
}

test('assumed: the documented default, and the plan says it is assumed', () => {
  const p = plan({});
  assert.deepEqual(p.quota, [{ region: 'cn-hangzhou', existing: 2, creates: 3, deletes: 0, quota: 100, basis: 'assumed' }]);
  assert.match(renderPlanText(p, { color: false }), /cn-hangzhou +2 existing \+ 3 new of 100, assumed \(the documented default; --quota cn-hangzhou=N if yours differs\) +\(95 left after this run\)/);
});

test('learned: a Resource.QuotaFull recorded the ceiling; creates beyond it are refused naming where the number comes from', () => {
  const learned = learnedQuotas(priors(prior('cn-hangzhou/203.0.113.9', { status: 'failed', gatewayId: undefined, errorCode: 'Resource.QuotaFull', quotaLimit: 4, finishedAt: '2026-03-01T10:00:00.000Z' })));
  assert.deepEqual([...learned], [['cn-hangzhou', { limit: 4, at: '2026-03-01T10:00:00.000Z' }]]);
  const p = plan({ learnedQuota: learned });
  assert.deepEqual(p.quota[0], { region: 'cn-hangzhou', existing: 2, creates: 2, deletes: 0, quota: 4, basis: 'learned', learnedAt: '2026-03-01T10:00:00.000Z' });
  assert.deepEqual(p.rows.map((r) => r.action), ['create', 'create', 'invalid']);
  assert.match(p.rows[2]!.issues.at(-1)!.message, /the quota is 4 \(learned from Resource\.QuotaFull on 2026-03-01\)/);
  assert.match(renderPlanText(p, { color: false }), /of 4, learned from Resource\.QuotaFull on 2026-03-01 +\(0 left after this run\)/);
  // The region now holds more than the learned ceiling: the quota was raised since, the number is stale.
  const raised = plan({ learnedQuota: learned }, 6);
  assert.equal(raised.quota[0]!.basis, 'assumed');
  assert.equal(raised.quota[0]!.quota, 100);
});

test('given: --quota per region wins over what was learned; a bare number is every other region\'s', () => {
  const learned = new Map([['cn-hangzhou', { limit: 4, at: '2026-03-01T10:00:00.000Z' }]]);
  const p = plan({ learnedQuota: learned, quotaGiven: { regions: { 'cn-hangzhou': 10 } } });
  assert.deepEqual([p.quota[0]!.quota, p.quota[0]!.basis], [10, 'given']);
  const all = plan({ learnedQuota: learned, quotaGiven: { all: 55, regions: {} } });
  assert.deepEqual([all.quota[0]!.quota, all.quota[0]!.basis], [55, 'given']);
  assert.match(renderPlanText(all, { color: false }), /of 55, given \(--quota\)/);
});

test('--quota takes N, or region=N pairs, or both', () => {
  assert.deepEqual(parseQuota('55'), { all: 55, regions: {} });
  assert.deepEqual(parseQuota('cn-hangzhou=55,cn-shanghai=100'), { regions: { 'cn-hangzhou': 55, 'cn-shanghai': 100 } });
  assert.deepEqual(parseQuota('80, cn-hangzhou=55'), { all: 80, regions: { 'cn-hangzhou': 55 } });
  for (const bad of ['', '0', '-1', '1.5', 'cn-hangzhou=', '=5', 'cn-hangzhou=5x', '5,6', 'cn-hangzhou=5,cn-hangzhou=6', 'CN HZ=5']) {
    assert.throws(() => parseQuota(bad), UsageError, bad);
  }
});
