// The one vocabulary of row outcomes: what happened to a row in a run (or, outside a run, how the journal left it),
// the one count of them, and what each outcome means for the exit code and junit.xml. Every view uses these words.
import { EXIT } from '../errors.js';
import { oneLine, printable } from '../text.js';
import type { ResourceResult, ResultStatus, RowResult, StopReason } from '../types.js';

export const OUTCOMES = [
  'created',
  'adopted',
  'updated',
  'deleted',
  'unchanged',
  'failed',
  'unknown',
  'interrupted',
  'not started',
  'invalid',
  'blocked',
  'not in this run',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

interface Meaning {
  /** The row ended as planned (or was not asked for): it does not fail the run. */
  ok: boolean;
  /** The row was settled: carried out, failed, or given up with its outcome unknown (the live view's "done"). */
  settled: boolean;
  junit: 'passed' | 'failed' | 'skipped';
}

const MEANING: Readonly<Record<Outcome, Meaning>> = {
  created: { ok: true, settled: true, junit: 'passed' },
  adopted: { ok: true, settled: true, junit: 'passed' },
  updated: { ok: true, settled: true, junit: 'passed' },
  deleted: { ok: true, settled: true, junit: 'passed' },
  unchanged: { ok: true, settled: true, junit: 'passed' },
  failed: { ok: false, settled: true, junit: 'failed' },
  unknown: { ok: false, settled: true, junit: 'failed' },
  interrupted: { ok: false, settled: false, junit: 'skipped' },
  'not started': { ok: false, settled: false, junit: 'skipped' },
  invalid: { ok: false, settled: true, junit: 'failed' },
  blocked: { ok: false, settled: true, junit: 'failed' },
  'not in this run': { ok: true, settled: false, junit: 'skipped' },
};

/** Outcomes that count as carried out as asked (the live view lists them by kind). */
export const SUCCESS: readonly Outcome[] = OUTCOMES.filter((o) => MEANING[o].ok && MEANING[o].settled);

export const isOk = (o: Outcome): boolean => MEANING[o].ok;
export const isSettled = (o: Outcome): boolean => MEANING[o].settled;
export const junitVerdict = (o: Outcome): Meaning['junit'] => MEANING[o].junit;

/** The part of a row's result the outcome is read from (one resource of the row: its customer gateway today). */
export type OutcomeInput = Pick<RowResult, 'status' | 'errorCode'>;

/**
 * How the journal (or an executor result) leaves a resource. The executor's codes come first: `NotStarted` (never
 * sent) and `Interrupted` (stopped with a request out) keep the journal's status, so an interrupted delete reads
 * `created` there; any other error on an owned gateway means its last change failed.
 */
export function stateOutcome(r: OutcomeInput): Outcome {
  if (r.errorCode === 'NotStarted') return 'not started';
  if (r.errorCode === 'Interrupted') return 'interrupted';
  return statusOutcome(r.status, r.errorCode);
}

function statusOutcome(status: ResultStatus, errorCode: string | undefined): Outcome {
  switch (status) {
    case 'created':
    case 'adopted':
    case 'updated':
      return errorCode === undefined ? status : 'failed';
    case 'deleted':
      return 'deleted';
    case 'skipped':
      return 'unchanged';
    case 'unknown':
    case 'in-flight':
      return 'unknown';
    case 'pending':
      return errorCode === undefined ? 'not started' : 'failed';
    case 'failed':
      return 'failed';
    case 'invalid':
      return 'invalid';
  }
}

/** What a run did with one resource: the plan's word for a part it did not carry out, else the part's state. */
export function partOutcome(p: Pick<ResourceResult, 'action' | 'status' | 'errorCode'>): Outcome {
  if (p.action === 'skip') return 'unchanged';
  if (p.action === 'invalid' || p.action === 'blocked') return p.action;
  return stateOutcome(p);
}

/** The parts of a site row besides its own customer gateway (the second gateway, the connection), in that order. */
export function partsOf(r: Pick<RowResult, 'gateway2' | 'connection'>): Array<{ name: 'gateway2' | 'connection'; part: ResourceResult }> {
  const out: Array<{ name: 'gateway2' | 'connection'; part: ResourceResult }> = [];
  if (r.gateway2) out.push({ name: 'gateway2', part: r.gateway2 });
  if (r.connection) out.push({ name: 'connection', part: r.connection });
  return out;
}

/**
 * What a run did with a row: the plan's word for rows it did not carry out, else the resource's state; a site row
 * combines its gateway's outcome with its parts' (combineOutcomes).
 */
export function outcomeOf(r: RowResult): Outcome {
  if (!r.inRun) return 'not in this run';
  const own = partOutcome(r);
  const parts = partsOf(r);
  return parts.length === 0 ? own : combineOutcomes([own, ...parts.map((p) => partOutcome(p.part))]);
}

/** How the journal leaves a row of several resources (status, report): each part's state, combined. */
export function rowStateOutcome(r: RowResult): Outcome {
  const parts = partsOf(r);
  const own = stateOutcome(r);
  return parts.length === 0 ? own : combineOutcomes([own, ...parts.map((p) => stateOutcome(p.part))]);
}

/**
 * The error a row's failure lines and counts name: its gateway's own, else the first part's that did not end well
 * (prefixed with the part: `connection: ...`). Undefined code: nothing went wrong by an error code.
 */
export function rowError(r: RowResult): { code?: string; message?: string; errorClass?: string } {
  if (r.errorCode !== undefined) return { code: r.errorCode, message: r.errorMessage, errorClass: r.errorClass };
  const label = { gateway2: 'second customer gateway', connection: 'connection' } as const;
  for (const { name, part } of partsOf(r)) {
    if (part.errorCode !== undefined) return { code: part.errorCode, message: `${label[name]}: ${part.errorMessage ?? part.errorCode}`, errorClass: part.errorClass };
  }
  return {};
}

/**
 * A row with several resources (a customer gateway, later its IPsec connection) has the outcome of its least
 * finished part (OUTCOMES read from the end: one failed part fails the row); when every part is ok, the first that
 * changed something (an unchanged gateway and a created connection: created).
 */
export function combineOutcomes(parts: readonly Outcome[]): Outcome {
  const worst = [...OUTCOMES].reverse().find((o) => !isOk(o) && parts.includes(o));
  return worst ?? parts.find((o) => o !== 'unchanged' && o !== 'not in this run') ?? parts[0] ?? 'unchanged';
}

/** Rows counted by outcome, in vocabulary order; only outcomes that occur are keys. The one counting function. */
export function countOutcomes(outcomes: Iterable<Outcome>): Partial<Record<Outcome, number>> {
  const n = new Map<Outcome, number>();
  for (const o of outcomes) n.set(o, (n.get(o) ?? 0) + 1);
  const out: Partial<Record<Outcome, number>> = {};
  for (const o of OUTCOMES) if (n.has(o)) out[o] = n.get(o);
  return out;
}

/** The run's exit code: credentials, clock or permission stops -> 2, Ctrl-C -> 130, any row not ok -> 1. */
export function exitCodeOf(outcomes: Iterable<Outcome>, stopReason: StopReason | undefined): number {
  if (stopReason === 'auth' || stopReason === 'clock' || stopReason === 'forbidden') return EXIT.usage;
  if (stopReason === 'interrupt') return EXIT.interrupted;
  for (const o of outcomes) if (!isOk(o)) return EXIT.rowsFailed;
  return EXIT.ok;
}

/**
 * `branches.csv:12  cn-hangzhou/1.2.3.4  IllegalParam.Asn  message` on one line. `redact` runs on the raw message,
 * before line breaks and spaces are collapsed (collapsing first could split a secret the redactor would match).
 */
export function failureLine(r: RowResult, redact: (s: string) => string = (s) => s): string {
  const where = r.ref.line > 0 ? `${r.ref.file}:${r.ref.line}` : r.ref.file;
  const err = rowError(r);
  const what = err.code ?? (r.action === 'blocked' || r.action === 'invalid' ? r.action : outcomeOf(r));
  const msg = oneLine(redact(err.message ?? r.note ?? ''));
  // The file name, the key (a manifest's cells) and the code (a server's) are shown printable, after redaction.
  return [printable(redact(where)), printable(redact(r.ref.key)), printable(redact(what)), msg].filter((s) => s !== '').join('  ');
}
