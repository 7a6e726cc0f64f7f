// Counts planned rows by action, overall and per region, and the per-region quota use (what plan prints). Pure.
import type { CustomerGateway } from '../cloud/types.js';
import { PLAN_ACTIONS, type PlanAction, type PlanSummary, type PlannedRow, type QuotaUse } from '../types.js';

/** Region label for rows whose region is blank (they still need a bucket in the per-region table). */
export const NO_REGION = '(no region)';

/** Key order is part of the JSON contract: rows, create, adopt, skip, invalid first (tools read them by position), then the rest. */
const ORDER: readonly PlanAction[] = ['create', 'adopt', 'skip', 'invalid', ...PLAN_ACTIONS.filter((a) => !['create', 'adopt', 'skip', 'invalid'].includes(a))];

export function emptySummary(): PlanSummary {
  const s = { rows: 0 } as PlanSummary;
  for (const a of ORDER) s[a] = 0;
  s.notInRun = 0;
  return s;
}

/** Rows `--only` leaves out are counted once, as `notInRun`, and under no action. */
export function summarize(rows: readonly PlannedRow[]): { summary: PlanSummary; byRegion: Record<string, PlanSummary> } {
  const summary = emptySummary();
  // A Map, then fromEntries: a region written as `__proto__` must become a plain key, not reach Object.prototype.
  const regions = new Map<string, PlanSummary>();
  for (const r of rows) {
    const region = r.ref.region === '' ? NO_REGION : r.ref.region;
    let s = regions.get(region);
    if (!s) regions.set(region, (s = emptySummary()));
    for (const t of [s, summary]) {
      t.rows++;
      if (r.inRun) t[r.action]++;
      else t.notInRun++;
    }
  }
  return { summary, byRegion: Object.fromEntries(regions) };
}

/** Per region with rows: existing gateways (online), the run's new gateways and deletes, and the quota (and its basis). */
export function quotaUse(
  rows: readonly PlannedRow[],
  inventory: ReadonlyMap<string, CustomerGateway[]> | undefined,
  quotaOf: (region: string, existing: number | undefined) => Pick<QuotaUse, 'quota' | 'basis' | 'learnedAt'>,
): QuotaUse[] {
  const use = new Map<string, QuotaUse>();
  for (const r of rows) {
    if (r.ref.region === '' || (inventory && !inventory.has(r.ref.region))) continue;
    let u = use.get(r.ref.region);
    if (!u) {
      const listed = inventory?.get(r.ref.region);
      u = { region: r.ref.region, creates: 0, deletes: 0, ...quotaOf(r.ref.region, listed?.length) };
      if (listed) u.existing = listed.length;
      use.set(r.ref.region, u);
    }
    if (!r.inRun) continue;
    // A site row's second customer gateway counts like any other gateway of the region.
    for (const p of r.gateway2 ? [r, r.gateway2] : [r]) {
      if (p.action === 'create' || p.action === 'retry' || (p.action === 'resume' && p.existingId === undefined)) u.creates++;
      if (p.action === 'delete' && p.existingId !== undefined) u.deletes++;
    }
  }
  return [...use.values()].sort((a, b) => (a.region < b.region ? -1 : 1));
}
