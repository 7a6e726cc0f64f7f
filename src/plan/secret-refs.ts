// Secret references a run cannot read (an `env:` variable not set, a key a results file never carries): the secret
// is unknown, not absent. One rule for every secret field: a row that must send the secret now (its resource is
// created, or the secret itself changes) is invalid with the loader's issue; every other row plans as usual, the
// secret taken as unchanged, with a note that it was not compared. Pure.
import type { FieldChange, Issue, PlanAction, PlannedResource, PlannedRow, UnresolvedSecret } from '../types.js';

/** The codes of the loader's issues for unresolved secrets (a report shows the journal's truth over them). */
export const UNRESOLVED_CODES: ReadonlySet<string> = new Set(['Cgw.AuthKeyEnvMissing', 'Cgw.AuthKeyNotCopied']);

/** What a resource is about to do, as far as sending a secret goes. */
type Part = Pick<PlannedResource, 'action' | 'existingId' | 'changes'>;

/**
 * The parts of a planned row that send a secret field: the AuthKey goes with the row's customer gateway (and its
 * second one); a field not listed here is sent by the row's own resource. A PSK reference adds its line here
 * (`psk: (r) => (r.connection ? [r.connection] : [])`).
 */
const SENT_BY: Record<string, (r: PlannedRow) => Part[]> = {
  auth_key: (r) => (r.gateway2 ? [r, r.gateway2] : [r]),
};

/** Whether `part` sends `field` in this plan: it is created (again), or the field itself is set or changed. */
export function sends(part: Part, field: string): boolean {
  const creates: ReadonlySet<PlanAction> = new Set<PlanAction>(['create', 'retry', 'replace']);
  if (creates.has(part.action)) return true;
  if (part.action === 'resume' && part.existingId === undefined) return true;
  if (part.action === 'invalid' || part.action === 'skip' || part.action === 'blocked') return false;
  return (part.changes ?? []).some((c: FieldChange) => c.field === field && c.after !== undefined);
}

/** Whether the row refers to `field`'s secret but it is unknown in this run. */
export function isUnknown(unresolved: readonly UnresolvedSecret[] | undefined, field: string): boolean {
  return unresolved?.some((u) => u.field === field) === true;
}

/**
 * Settles a decided row's unresolved secrets: the issue of each one the row must send (an error: the caller makes
 * the row invalid), and a note for each one it does not (information; the row goes ahead without it).
 */
export function settleSecrets(r: PlannedRow, unresolved: readonly UnresolvedSecret[]): Issue[] {
  const out: Issue[] = [];
  for (const u of unresolved) {
    const parts = (SENT_BY[u.field] ?? ((row: PlannedRow) => [row]))(r);
    if (parts.some((p) => sends(p, u.field))) {
      out.push({ ...u.issue, severity: 'error' });
    } else {
      const what = u.field === 'auth_key' ? 'AuthKey' : u.field;
      out.push({
        ...u.issue,
        severity: 'info',
        code: 'Cgw.SecretNotCompared',
        message: `the ${what} was not compared (${u.why}); nothing in this plan sends it, so the row goes ahead as if it were unchanged`,
      });
    }
  }
  return out;
}
