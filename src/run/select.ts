// Which rows a run is about (`--only`: lines or keys), the flags that shaped the plan, and the journal a command needs.
import { StateError, UsageError } from '../errors.js';
import type { JournalOptions, ManifestOptions } from '../options.js';
import type { JournalFile } from '../state/journal.js';
import type { PlanFlags, RowRef } from '../types.js';
import type { Context } from './context.js';
import { stateLabel } from './state-backend.js';

export function planFlags(ctx: Context): PlanFlags {
  const o = ctx.options;
  return {
    allowReplace: o.allowReplace,
    prune: o.prune,
    retryFailed: o.retryFailed,
    skipInvalid: o.skipInvalid,
    ...(o.only ? { only: o.only.text } : {}),
  };
}

/** `--only`: a row is in this run when its line or its key was named; undefined when every row is. */
export function selector(ctx: Context): ((ref: Pick<RowRef, 'line' | 'key'>) => boolean) | undefined {
  const only = ctx.options.only;
  if (!only) return undefined;
  return (ref) => only.lines.has(ref.line) || only.keys.has(ref.key);
}

/**
 * `--only` that names no row is a mistake, not "nothing to do" (`--only 99` on a 3-row manifest once exited 0 having
 * done nothing): a usage error (exit 2) naming what was given and which lines the rows are on.
 */
export function requireSelected(ctx: Context, rows: ReadonlyArray<{ inRun: boolean; ref: Pick<RowRef, 'line'> }>, of: string): void {
  const only = ctx.options.only;
  if (!only || rows.some((r) => r.inRun)) return;
  const lines = rows.map((r) => r.ref.line).filter((l) => l > 0);
  const span = lines.length === 0 ? 'it has no rows' : `its rows are on lines ${Math.min(...lines)}-${Math.max(...lines)}`;
  throw new UsageError(`--only ${only.text} matches no row of ${of} (${span}); nothing was done`);
}

/** The journal, which destroy, refresh, status and report cannot do without. */
export function requireJournal(ctx: Context<ManifestOptions | JournalOptions>, read: JournalFile | undefined): JournalFile {
  if (read) return read;
  throw new StateError(`no journal at ${stateLabel(ctx)}: nothing has been applied with this manifest yet (or pass --state PATH|URL)`);
}
