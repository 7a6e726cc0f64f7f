// The journal of one run: the run's own id, the estate's lease (commands that write take it first), one read of the
// journal under it, and the journal opened for appending from that read. Nothing else in a run reads the journal.
import { randomUUID } from 'node:crypto';
import type { JournalOptions, ManifestOptions } from '../options.js';
import { scrubber } from '../secrets.js';
import type { Lease, StateBackend } from '../state/backend/types.js';
import { Journal, journalOfLease, leaseJournal, readState, toPriorRows, type JournalFile } from '../state/journal.js';
import type { PriorRow } from '../types.js';
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
}

export interface LockedRun extends JournalRun {
  backend: StateBackend;
  lease: Lease;
}

type WithJournal = Context<ManifestOptions | JournalOptions>;

/** What a session checks the journal against (undefined: no journal yet, nothing to check). */
export function journalRef(run: JournalRun): JournalRef | undefined {
  return run.read ? { path: run.path, header: run.read.header } : undefined;
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
    try {
      const read = await journalOfLease(backend, lease, { redact: scrubber(ctx.redactor) });
      return await fn({ runId, path: backend.location, read, backend, lease });
    } finally {
      await lease.release();
    }
  } finally {
    await backend.close();
  }
}

/** Opens the journal for appending from the run's read (no second read), for the session's account and endpoint. */
export function openForAppend(ctx: Context<ManifestOptions>, run: LockedRun, session: Session, manifestHash: string): Promise<Journal> {
  return Journal.fromRead(run.backend, run.read, {
    lease: run.lease,
    manifest: { path: ctx.options.manifest, hash: manifestHash },
    endpoint: session.endpoint,
    caller: session.caller,
    // Nothing the API answered (an error quoting an AuthKey, say) reaches the journal with a secret in it.
    redact: scrubber(ctx.redactor),
    onWarning: (m) => warn(ctx, m),
  });
}

/** What the planner (and drift) read of each journal row. */
export function priorRows(read: JournalFile): Map<string, PriorRow> {
  return toPriorRows(read.rows);
}
