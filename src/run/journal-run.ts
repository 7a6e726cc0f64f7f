// The journal of one run: the run's own id, the estate's lease (commands that write take it first), one read of the
// journal under it, and the journal opened for appending from that read. Nothing else in a run reads the journal.
import { randomUUID } from 'node:crypto';
import type { JournalOptions, ManifestOptions } from '../options.js';
import { EXIT } from '../errors.js';
import { scrubber } from '../secrets.js';
import type { Lease, StateBackend } from '../state/backend/types.js';
import { Journal, journalOfLease, leaseJournal, readState, toPriorRows, type JournalFile, type JournalRow } from '../state/journal.js';
import { MAYBE_CREATED, OWNED, type PriorRow } from '../types.js';
import { warn, type Context } from './context.js';
import type { JournalRef, Session } from './session.js';
import { openState, stateSpec, withState } from './state-backend.js';

export interface JournalRun {
  /** This run's own id (reports' run_id; the lease names it). The journal's id, the ClientTokens' seed, is another. */
  runId: string;
  /** Where the journal lives, for messages (a path, or a backend location without secrets). */
  path: string;
  /** The journal as read, once; undefined when there is none yet. */
  read: JournalFile | undefined;
  /**
   * Set when the manifest is not the journal's own but works on it (run/locate.ts manifestMembership): the
   * journal's manifest, which its header keeps.
   */
  derivedFrom?: string;
}

export interface LockedRun extends JournalRun {
  backend: StateBackend;
  lease: Lease;
  /** True while the executor runs: its own handler owns Ctrl-C then (stop first, abandon on the second). */
  executing?: boolean;
  /** Set once the run opened the journal for appending (its header is then written, bound to the account). */
  opened?: boolean;
  /** The journal opened for appending, abandoned (never torn) if the process must leave on a signal. */
  journal?: Journal;
}

type WithJournal = Context<ManifestOptions | JournalOptions>;

/** What a session checks the journal against (undefined: no journal yet, nothing to check). */
export function journalRef(run: JournalRun): JournalRef | undefined {
  if (!run.read) return undefined;
  const rows = [...run.read.rows.values()];
  const gateways = rows.filter((r) => OWNED.has(r.status) && r.gatewayId).map((r) => ({ region: r.region, id: r.gatewayId! }));
  return { path: run.path, header: run.read.header, gateways, maybeCreated: rows.filter((r) => MAYBE_CREATED.has(r.status)).length };
}

/** Reads the journal without the lease (plan, status and report change nothing). */
export async function readJournalRun(ctx: WithJournal): Promise<JournalRun> {
  return withState(ctx, stateSpec(ctx), async (backend) => {
    // A journal written by an older version may hold a secret in an error message: scrub what it holds by value.
    const read = await readState(backend, { redact: scrubber(ctx.redactor) });
    for (const w of read?.warnings ?? []) warn(ctx, w);
    return { runId: randomUUID(), path: backend.location, read };
  });
}

/**
 * Runs `fn` holding the estate's lease, with the journal read once under it. apply, import, destroy and refresh
 * --write take it before they plan, so the plan they print is made from the journal they then write.
 */
export async function withLockedJournal<T>(ctx: Context<ManifestOptions>, fn: (run: LockedRun) => Promise<T>): Promise<T> {
  const o = ctx.options;
  const runId = randomUUID();
  const backend = await openState(ctx, stateSpec(ctx));
  try {
    const lease = await leaseJournal(backend, { forceUnlock: o.forceUnlock, runId, waitMs: o.lockTimeoutMs, onWarning: (m) => warn(ctx, m) });
    let run: LockedRun | undefined;
    // Ctrl-C outside the executor (the STS call, planning, listing, the question, the reports): nothing is on the wire
    // for a row, so the process leaves at once, and the lease goes with it rather than staying behind.
    const unregister = ctx.io.onSignal(() => {
      if (run?.executing) return;
      // A journal still open (quota ceilings being recorded after the run) keeps what it wrote whole; the lease goes.
      if (run?.journal) run.journal.abandon();
      else lease.abandon();
      ctx.err.write('\ninterrupted: nothing more is sent; the journal is as the last write left it\n');
      ctx.io.exitNow(EXIT.interrupted);
    });
    try {
      const read = await journalOfLease(backend, lease, { redact: scrubber(ctx.redactor) });
      run = { runId, path: backend.location, read, backend, lease };
      return await fn(run);
    } finally {
      unregister();
      await lease.release();
    }
  } finally {
    await backend.close();
  }
}

/** Opens the journal for appending from the run's read (no second read), for the session's account and endpoint. */
export async function openForAppend(ctx: Context<ManifestOptions>, run: LockedRun, session: Session, manifestHash: string, keepManifest = false): Promise<Journal> {
  run.opened = true;
  run.journal = await Journal.fromRead(run.backend, run.read, {
    lease: run.lease,
    manifest: { path: ctx.options.manifest, hash: manifestHash },
    keepManifest: keepManifest || run.derivedFrom !== undefined,
    endpoint: session.endpoint,
    caller: session.caller,
    // Nothing the API answered (an error quoting an AuthKey, say) reaches the journal with a secret in it.
    redact: scrubber(ctx.redactor),
    onWarning: (m) => warn(ctx, m),
  });
  return run.journal;
}

/**
 * The end of a locked command whose run wrote nothing: a journal that names no account yet (an earlier version's,
 * bound to a key; or one naming neither, which the session let through only for its owner) is bound to the account
 * the session proved, so "run once with that key" is all it takes. Releases the lock (the command is done).
 */
export async function bindAccount(ctx: Context<ManifestOptions>, run: LockedRun, session: Session): Promise<void> {
  if (!run.read || run.opened || run.read.header.accountId !== undefined || !session.caller.accountId) return;
  const journal = await openForAppend(ctx, run, session, run.read.header.manifest.hash, true);
  await journal.close();
}

/** What the planner (and drift) read of each journal row: of a read, or of a journal's rows as written. */
export function priorRows(read: { rows: ReadonlyMap<string, JournalRow> }): Map<string, PriorRow> {
  return toPriorRows(read.rows);
}
