// Every row's current truth for the reports: the plan's row, the journal's record, and what this run added. Pure.
import type { JournalRow } from '../state/records.js';
import { EXECUTABLE, OWNED, type ConnectionFields, type PlannedResource, type PlannedRow, type Plan, type ResourceResult, type ResultStatus, type RowResult } from '../types.js';
import { UNRESOLVED_CODES } from '../plan/secret-refs.js';
import { outcomeOf, rowStateOutcome, type Outcome } from './outcome.js';

/**
 * A report row's status from the journal: an owned gateway whose last operation failed reads `failed` (its id stays in
 * the row); a row the journal never saw is `invalid` when the manifest row is, else `pending`.
 */
export function truthStatus(pr: PlannedRow, j: JournalRow | undefined): ResultStatus {
  if (!j) return pr.action === 'invalid' ? 'invalid' : 'pending';
  if (OWNED.has(j.status) && j.errorCode !== undefined && j.errorCode !== 'Interrupted') return 'failed';
  return j.status;
}

/** A site row's connection as the journal has it (an owned one whose last change failed reads `failed`). */
function connectionTruth(part: PlannedResource | undefined, c: ConnectionFields | undefined): ResourceResult | undefined {
  if (!part && !c) return undefined;
  const status: ResultStatus = !c ? (part?.action === 'invalid' ? 'invalid' : 'pending') : OWNED.has(c.status) && c.errorCode !== undefined && c.errorCode !== 'Interrupted' ? 'failed' : c.status;
  return {
    status,
    action: part?.action ?? 'skip',
    ...(c?.connectionId !== undefined && c.status !== 'pending' ? { id: c.connectionId } : {}),
    ...(c?.errorCode !== undefined ? { errorCode: c.errorCode } : {}),
    ...(c?.errorMessage !== undefined ? { errorMessage: c.errorMessage } : {}),
    ...(c?.errorClass !== undefined ? { errorClass: c.errorClass } : {}),
    ...(c?.state !== undefined && c.status !== 'deleted' ? { state: c.state } : {}),
    ...(c?.negotiation !== undefined && c.status !== 'deleted' ? { negotiation: c.negotiation } : {}),
  };
}

/** A site row's second customer gateway as the journal has it (its own journal row, `region/ip_2`). */
function gatewayTruth(part: PlannedResource, j: JournalRow | undefined): ResourceResult {
  const status: ResultStatus = !j ? (part.action === 'invalid' ? 'invalid' : 'pending') : OWNED.has(j.status) && j.errorCode !== undefined && j.errorCode !== 'Interrupted' ? 'failed' : j.status;
  return {
    status,
    action: part.action,
    ...(j?.gatewayId !== undefined && j.status !== 'pending' ? { id: j.gatewayId } : part.action === 'skip' && part.existingId !== undefined ? { id: part.existingId } : {}),
    ...(j?.errorCode !== undefined ? { errorCode: j.errorCode } : {}),
    ...(j?.errorMessage !== undefined ? { errorMessage: j.errorMessage } : {}),
    ...(j?.errorClass !== undefined ? { errorClass: j.errorClass } : {}),
  };
}

/**
 * A row the journal knows that is invalid only because a secret it would send is unreadable in this run (status or
 * report without BGP_KEY): what the journal says is its truth, not "invalid row, not sent".
 */
function onlyUnreadSecrets(pr: PlannedRow): boolean {
  const errors = pr.issues.filter((i) => i.severity === 'error');
  return errors.length > 0 && errors.every((i) => UNRESOLVED_CODES.has(i.code));
}

/** A report row: the row's truth, and its outcome in the one vocabulary (report/outcome.ts). */
export interface ReportRow extends RowResult {
  outcome: Outcome;
}

/**
 * One row per plan row, in plan order: the journal's record, and what this run added (`executed`: its outcome and
 * note). Without `executed` (status, report) the outcome is how the journal left the row. Rows `--only` left
 * out keep their last real state; nothing is made up: an invalid row shows its validation error, every other row the
 * journal's last real error.
 */
export function truthRows(plan: Plan, journal: ReadonlyMap<string, JournalRow> | undefined, executed?: readonly RowResult[]): ReportRow[] {
  const byRef = new Map((executed ?? []).map((r) => [r.ref, r]));
  return plan.rows.map((pr): ReportRow => {
    const j = journal?.get(pr.ref.key);
    const ran = byRef.get(pr.ref);
    const out: RowResult = {
      ref: pr.ref,
      status: truthStatus(pr, j),
      action: pr.action,
      inRun: pr.inRun,
      requestIds: [...(j?.requestIds ?? [])],
      attempts: j?.attempts ?? 0,
      // The journal's duration, as status reads it (a row this run never sent took no time of its own).
      durationMs: j?.durationMs ?? 0,
      echo: pr.row?.echo ?? j?.echo ?? {},
    };
    const gatewayId = j?.gatewayId ?? (pr.action === 'skip' ? pr.existingId : undefined);
    if (gatewayId !== undefined && j?.status !== 'pending') out.gatewayId = gatewayId;
    if (pr.action === 'invalid' && !(j && onlyUnreadSecrets(pr))) {
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
    const note = pr.outside ? pr.reason : !pr.inRun ? 'not in this run (--only): last state kept' : (ran?.note ?? (pr.action === 'invalid' ? undefined : pr.reason));
    if (note) out.note = note;
    // A site row's other resources: the journal's truth, with this run's word where it ran them.
    if (pr.gateway2) out.gateway2 = withRun(gatewayTruth(pr.gateway2, journal?.get(pr.gateway2.key)), ran?.gateway2);
    // After an IP change the row's connection may still live under the key it leaves, until apply moves it.
    const moved = pr.connection?.replacesKey !== undefined ? journal?.get(pr.connection.replacesKey)?.connection : undefined;
    const conn = connectionTruth(pr.connection, j?.connection ?? moved);
    if (conn) out.connection = withRun(conn, ran?.connection);
    return { ...out, outcome: rowOutcome(out, ran, executed !== undefined) };
  });
}

/**
 * In a run, a row the executor carried out has the outcome of its own result (what the live view showed), and an
 * executable row it never reached is not started; outside a run, the outcome is the state the journal left.
 */
/** The journal's part, with this run's action, note and errors where the run reported them (NotStarted, Interrupted). */
function withRun(truth: ResourceResult, ran: ResourceResult | undefined): ResourceResult {
  if (!ran) return truth;
  return {
    ...truth,
    action: ran.action,
    ...(ran.note !== undefined ? { note: ran.note } : {}),
    ...(ran.errorCode !== undefined && truth.errorCode === undefined ? { errorCode: ran.errorCode, errorMessage: ran.errorMessage, ...(ran.errorClass ? { errorClass: ran.errorClass } : {}) } : {}),
    ...(ran.state !== undefined && truth.state === undefined ? { state: ran.state } : {}),
    ...(ran.negotiation !== undefined && truth.negotiation === undefined ? { negotiation: ran.negotiation } : {}),
  };
}

function rowOutcome(truth: RowResult, ran: RowResult | undefined, inARun: boolean): Outcome {
  if (!inARun) return rowStateOutcome(truth);
  if (ran) return outcomeOf(ran);
  if (truth.inRun && EXECUTABLE.has(truth.action)) return 'not started';
  return outcomeOf(truth);
}
