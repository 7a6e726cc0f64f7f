// Every row's current truth for the reports: the plan's row, the journal's record, and what this run did. Pure.
import type { JournalRow } from '../state/records.js';
import { OWNED, type Plan, type PlannedRow, type ResultStatus, type RowResult, type StopReason } from '../types.js';
import { EXIT } from '../errors.js';

/** Statuses of rows that ended well. */
const DONE: ReadonlySet<string> = new Set(['created', 'adopted', 'updated', 'deleted']);

/**
 * A report row's status from the journal: an owned gateway whose last operation failed reads `failed` (its id stays in
 * the row); a row the journal never saw is `invalid` when the manifest row is, else `pending`.
 */
export function truthStatus(pr: PlannedRow, j: JournalRow | undefined): ResultStatus {
  if (!j) return pr.action === 'invalid' ? 'invalid' : 'pending';
  if (OWNED.has(j.status) && j.errorCode !== undefined && j.errorCode !== 'Interrupted') return 'failed';
  return j.status;
}

/**
 * One result per plan row, in plan order. Rows `--only` left out keep their last real state (marked not in this run);
 * nothing is made up: an invalid row shows its validation error, every other row the journal's last real error.
 */
export function truthRows(plan: Plan, journal: ReadonlyMap<string, JournalRow> | undefined, executed: readonly RowResult[] = []): RowResult[] {
  const byRef = new Map(executed.map((r) => [r.ref, r]));
  return plan.rows.map((pr): RowResult => {
    const j = journal?.get(pr.ref.key);
    const ran = byRef.get(pr.ref);
    // The journal could not be read back after the run: this run's own result is the truth left, not "pending".
    if (journal === undefined && ran) return { ...ran, action: pr.action, inRun: pr.inRun, note: ran.note ?? pr.reason };
    const out: RowResult = {
      ref: pr.ref,
      status: truthStatus(pr, j),
      action: pr.action,
      inRun: pr.inRun,
      requestIds: [...(j?.requestIds ?? [])],
      attempts: j?.attempts ?? 0,
      durationMs: ran?.durationMs ?? j?.durationMs ?? 0,
      echo: pr.row?.echo ?? j?.echo ?? {},
    };
    const gatewayId = j?.gatewayId ?? (pr.action === 'skip' ? pr.existingId : undefined);
    if (gatewayId !== undefined && j?.status !== 'pending') out.gatewayId = gatewayId;
    if (pr.action === 'invalid') {
      const first = pr.issues.find((i) => i.severity === 'error');
      if (first) {
        out.errorCode = first.code;
        out.errorMessage = `invalid row, not sent: ${first.message}`;
        out.errorClass = 'invalid';
      }
    } else if (j?.errorCode !== undefined) {
      out.errorCode = j.errorCode;
      if (j.errorMessage !== undefined) out.errorMessage = j.errorMessage;
      if (j.errorClass !== undefined) out.errorClass = j.errorClass;
    }
    // An invalid row's reason is its validation error, already in the error columns; an empty reason says nothing.
    const note = !pr.inRun ? 'not in this run (--only): last state kept' : (ran?.note ?? (pr.action === 'invalid' ? undefined : pr.reason));
    if (note) out.note = note;
    return out;
  });
}

/** Whether an in-run row ended as the plan promised (a skip promised nothing). */
export function rowOk(r: RowResult): boolean {
  if (!r.inRun) return true;
  if (r.action === 'skip') return true;
  if (r.action === 'invalid' || r.action === 'blocked') return false;
  return DONE.has(r.status) && r.errorCode === undefined;
}

/** The run's exit code: credentials or permission stops -> 2, Ctrl-C -> 130, any in-run row not done -> 1. */
export function exitCodeOf(rows: readonly RowResult[], stopReason: StopReason | undefined): number {
  if (stopReason === 'auth' || stopReason === 'clock' || stopReason === 'forbidden') return EXIT.usage;
  if (stopReason === 'interrupt') return EXIT.interrupted;
  return rows.every(rowOk) ? EXIT.ok : EXIT.rowsFailed;
}

/** What this run did with one row, as the summary line and results.json's run block name it. */
function runOutcome(r: RowResult): string {
  if (!r.inRun) return 'not in this run';
  if (r.action === 'skip') return 'unchanged';
  if (r.action === 'invalid' || r.action === 'blocked') return r.action;
  if (rowOk(r)) return r.status;
  if (r.errorCode === 'NotStarted' || (r.note ?? '').startsWith('not started')) return 'not started';
  // Sent, then stopped before an answer or a retry: its status (pending, unknown, created) says less than this.
  if (r.errorCode === 'Interrupted') return 'interrupted';
  return r.status;
}

/** What this run did, counted by outcome, for the summary line and the run block of results.json. */
export function runCounts(rows: readonly RowResult[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const r of rows) {
    const k = runOutcome(r);
    c[k] = (c[k] ?? 0) + 1;
  }
  return c;
}
