// Counts planned rows by action, overall and per region (the numbers the human and JSON outputs print).
import type { PlanAction, PlanSummary, PlannedRow } from '../types.js';

export const ACTIONS: readonly PlanAction[] = ['create', 'adopt', 'skip', 'update', 'replace', 'orphan', 'invalid'];

/** Region label for rows whose region is blank (they still need a bucket in the per-region table). */
export const NO_REGION = '(no region)';

export function emptySummary(): PlanSummary {
  return { rows: 0, create: 0, adopt: 0, skip: 0, update: 0, replace: 0, orphan: 0, invalid: 0 };
}

export function summarize(rows: readonly PlannedRow[]): { summary: PlanSummary; byRegion: Record<string, PlanSummary> } {
  const summary = emptySummary();
  // A Map, then fromEntries: a region written as `__proto__` must become a plain key, not reach Object.prototype.
  const regions = new Map<string, PlanSummary>();
  for (const r of rows) {
    const region = r.region === '' ? NO_REGION : r.region;
    let s = regions.get(region);
    if (!s) regions.set(region, (s = emptySummary()));
    s.rows++;
    s[r.action]++;
    summary.rows++;
    summary[r.action]++;
  }
  return { summary, byRegion: Object.fromEntries(regions) };
}
