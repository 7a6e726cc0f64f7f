// `cgw-batch apply`: the same plan as `plan`, a confirmation, then the executor under a locked journal, then reports.
import { EXIT, UsageError } from '../errors.js';
import type { ExecRow } from '../execute/execute.js';
import { planToJson, renderPlanText } from '../report/plan-output.js';
import { OWNED, type PlannedRow, type PriorRow, type RowResult } from '../types.js';
import { confirm } from '../ui/prompt.js';
import { loadAndPlan, openSession, reportDir, type Context } from './context.js';
import { finishRun, runExecutor } from './run.js';

export function selected(ctx: Context, r: PlannedRow): boolean {
  const only = ctx.options.only;
  if (!only) return true;
  return only.lines.has(r.line) || only.keys.has(r.key);
}

/** Rows the plan did not send still get a result line, so every manifest row appears in the reports. */
export function resultFor(r: PlannedRow, status: RowResult['status'], extra: Partial<RowResult> = {}): RowResult {
  return {
    key: r.key,
    file: r.file,
    line: r.line,
    region: r.region,
    ip: r.ip,
    status,
    attempts: 0,
    durationMs: 0,
    echo: r.row?.echo ?? {},
    ...extra,
  };
}

export async function runApply(ctx: Context): Promise<number> {
  const o = ctx.options;
  const session = await openSession(ctx, true);
  if (!session) throw new UsageError('apply needs credentials or --sandbox');
  try {
    const planned = await loadAndPlan(ctx, session);
    const { plan, manifest } = planned;
    const json = o.format === 'json';
    if (json) ctx.out.write(JSON.stringify({ type: 'plan', ...planToJson(plan) }) + '\n');
    else ctx.out.write(renderPlanText(plan, { color: ctx.color }));

    if (plan.summary.invalid > 0 && !o.skipInvalid) {
      ctx.err.write(
        `cgw-batch: refusing to apply: ${plan.summary.invalid} row(s) are invalid (listed above). ` +
          'Fix them, or pass --skip-invalid to create only the valid rows.\n',
      );
      return EXIT.rowsFailed;
    }
    const replaceRows = plan.rows.filter((r) => r.action === 'replace' && selected(ctx, r));
    if (replaceRows.length > 0 && !o.allowReplace) {
      ctx.err.write(
        `cgw-batch: refusing to apply: ${replaceRows.length} row(s) changed IP or ASN, which needs delete + create ` +
          `(lines ${replaceRows.map((r) => r.line).join(', ')}). Pass --allow-replace to do that.\n`,
      );
      return EXIT.rowsFailed;
    }

    const toCreate = plan.rows.filter((r) => (r.action === 'create' || r.action === 'adopt') && selected(ctx, r));
    const day2 = plan.rows.filter(
      (r) => (r.action === 'update' || r.action === 'replace' || (r.action === 'orphan' && o.prune)) && selected(ctx, r),
    );
    const work = toCreate.length + day2.length;
    if (work > 0 && !o.yes) {
      if (!ctx.io.stdin.isTTY) {
        throw new UsageError('apply needs --yes when there is no terminal to confirm on (CI, pipes)');
      }
      const regions = new Set([...toCreate, ...day2].map((r) => r.region)).size;
      const ok = await confirm(
        `Apply ${toCreate.length} create/adopt and ${day2.length} update/replace/delete action(s) in ${regions} region(s)? [y/N] `,
        { input: ctx.io.stdin, output: ctx.io.stderr },
      );
      if (!ok) {
        ctx.err.write('nothing applied.\n');
        return EXIT.ok;
      }
    }

    const run = await runExecutor(ctx, session, {
      command: 'apply',
      statePath: planned.statePath,
      manifest: { path: manifest.file, hash: manifest.hash },
      rows: [...toCreate, ...day2].flatMap((r) => execRow(r, planned.prior)),
      assemble: (executed, journal) => {
        const byKey = new Map(executed.map((r) => [r.key, r]));
        return plan.rows
          .filter((r) => r.action !== 'orphan' || byKey.has(r.key))
          .map((r) => {
            const done = byKey.get(r.key);
            if (done) return done;
            if (r.action === 'invalid') {
              const first = r.issues.find((i) => i.severity === 'error');
              return resultFor(r, 'failed', { errorCode: first?.code, errorMessage: `invalid row, not sent: ${first?.message ?? ''}`, errorClass: 'invalid' });
            }
            if (r.action === 'skip') return resultFor(r, 'skipped', { gatewayId: r.existingId });
            const j = journal.get(r.key);
            if (!selected(ctx, r)) {
              return resultFor(r, j ? (j.status as RowResult['status']) : 'pending', {
                gatewayId: j?.gatewayId,
                errorCode: 'NotSelected',
                errorMessage: 'not selected (--only)',
              });
            }
            return resultFor(r, 'pending', { errorCode: 'NotStarted', errorMessage: 'not started: the run stopped' });
          });
      },
    });
    return await finishRun(ctx, run, {
      command: 'apply',
      reportDir: reportDir(ctx, manifest.file),
      manifest: manifest.file,
      columns: manifest.columns,
      statePath: planned.statePath,
    });
  } finally {
    await session.close();
  }
}

/** The executor's view of a planned row; rows without a validated spec (invalid) send nothing. */
export function execRow(r: PlannedRow, prior?: ReadonlyMap<string, PriorRow>): ExecRow[] {
  const base = { key: r.key, file: r.file, line: r.line, region: r.region, ip: r.ip, existingId: r.existingId };
  if (r.action === 'orphan') return [{ ...base, spec: { region: r.region, ip: r.ip, tags: [] }, echo: {}, action: 'delete' }];
  if (!r.row) return [];
  const action = r.action as ExecRow['action'];
  const row: ExecRow = { ...base, spec: r.row.spec, echo: r.row.echo, action };
  if (r.changes) row.changes = r.changes;
  const ipChange = r.changes?.find((c) => c.field === 'ip');
  if (r.action === 'replace' && ipChange?.before) row.replacesKey = `${r.region}/${ipChange.before}`;
  // The planner only plans a create for a row the journal owns when its gateway is gone from the cloud.
  const p = prior?.get(r.key);
  if (r.action === 'create' && p && OWNED.has(p.status)) row.recreate = true;
  return [row];
}
