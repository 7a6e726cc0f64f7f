// Day-2 operations (refresh, import, destroy, and update/replace/prune inside apply).
import { UsageError } from '../errors.js';
import type { Journal } from '../state/journal.js';
import type { PlannedRow, RowResult, RunEvent } from '../types.js';
import type { Context, Session } from './context.js';

export async function runDay2(ctx: Context): Promise<number> {
  throw new UsageError(`cgw-batch ${ctx.options.command} is not available in this version yet`);
}

export async function runDay2Apply(
  _ctx: Context,
  opts: { rows: PlannedRow[]; journal: Journal; session: Session; fingerprintKey: string; onEvent: (e: RunEvent) => void; stopSignal: AbortSignal },
): Promise<RowResult[]> {
  return opts.rows.map((r) => ({
    key: r.key, file: r.file, line: r.line, region: r.region, ip: r.ip,
    status: 'skipped', attempts: 0, durationMs: 0, echo: r.row?.echo ?? {},
    errorCode: 'NotSupported', errorMessage: `${r.action} is not supported by this version yet`,
  }));
}
