// Builders for report and progress tests: row identities, RowResults, plan rows, plans and journal rows, with
// sensible defaults, all plain data.
import { outcomeOf } from '../../src/report/outcome.js';
import type { ReportRow } from '../../src/report/truth.js';
import type { JournalRow } from '../../src/state/records.js';
import { PLAN_ACTIONS, type Plan, type PlanSummary, type PlannedRow, type RowRef, type RowResult } from '../../src/types.js';

export function ref(line: number, over: { region?: string; ip?: string; file?: string } = {}): RowRef {
  const region = over.region ?? 'cn-hangzhou';
  const ip = over.ip ?? `10.0.0.${line}`;
  return { key: `${region}/${ip}`, file: over.file ?? 'branches.csv', line, region, ip };
}

/**
 * A result for `line` (region cn-hangzhou, ip 10.0.0.<line> unless given): created, in this run, one request; its
 * outcome is what report/outcome.ts makes of it unless given.
 */
export function result(over: Partial<ReportRow> & { line: number; region?: string; ip?: string }): ReportRow {
  const { line, region, ip, outcome, ...rest } = over;
  const r = rest.ref ?? ref(line, { region, ip });
  const row: RowResult = {
    ref: r,
    status: 'created',
    action: 'create',
    inRun: true,
    gatewayId: rest.status === 'failed' || rest.status === 'pending' ? undefined : `cgw-${line}`,
    requestIds: [`req-${line}`],
    attempts: 1,
    durationMs: 120,
    echo: { region: r.region, ip: r.ip, name: `gw-${line}` },
    ...rest,
  };
  return { ...row, outcome: outcome ?? outcomeOf(row) };
}

/** A plan row: `create`, in this run, with a validated row (echo only; reports never look at the spec). */
export function planned(line: number, over: Partial<PlannedRow> & { region?: string; ip?: string } = {}): PlannedRow {
  const { region, ip, ...rest } = over;
  const r = rest.ref ?? ref(line, { region, ip });
  const echo = { region: r.region, ip: r.ip, name: `gw-${line}` };
  return {
    ref: r,
    action: 'create',
    reason: 'new row',
    issues: [],
    row: { ref: r, spec: { region: r.region, ip: r.ip, tags: [] }, echo },
    inRun: true,
    ...rest,
  };
}

/** A plan over plain rows (summary and quota are not what reports read). */
export function plan(rows: PlannedRow[], command: Plan['command'] = 'apply'): Plan {
  const summary = { rows: rows.length, notInRun: 0, ...Object.fromEntries(PLAN_ACTIONS.map((a) => [a, 0])) } as PlanSummary;
  return {
    version: 2,
    command,
    manifest: { file: 'branches.csv', hash: 'h', format: 'csv' },
    rows,
    issues: [],
    summary,
    byRegion: {},
    quota: [],
    online: false,
    flags: { allowReplace: false, prune: false, retryFailed: false, skipInvalid: false },
  };
}

/** A journal row for `ref`: created with a gateway unless told otherwise. */
export function journalRow(r: RowRef, over: Partial<JournalRow> = {}): JournalRow {
  return {
    key: r.key,
    region: r.region,
    ip: r.ip,
    line: r.line,
    token: `tok-${r.line}`,
    generation: 1,
    status: 'created',
    gatewayId: `cgw-${r.line}`,
    requestIds: [`req-${r.line}`],
    attempts: 1,
    durationMs: 300,
    echo: { region: r.region, ip: r.ip, name: `gw-${r.line}` },
    ...over,
  };
}
