// Which journal a command works on: --state; else the manifest's own (`<manifest>.state.jsonl`); else, for a saved
// results file (the retry loop), the journal it names or sits beside; for status and report without a manifest, the
// one journal of the working directory. Paths only: the journal itself is read once, later, by the run.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { StateError, UsageError } from '../errors.js';
import { shownPath } from '../load/index.js';
import { type JournalOptions, type ManifestOptions, reportDirFor, type UnlocatedJournalOptions } from '../options.js';
import { rowKey } from '../keys.js';
import { manifestRef } from '../state/journal.js';
import type { Manifest } from '../types.js';
import { type Context, withOptions } from './context.js';
import { isSharedState } from './state-backend.js';
import type { JournalRun } from './journal-run.js';

/** A path as messages print it: relative to the working directory when under it. */
export function shown(ctx: Context, path: string): string {
  return shownPath(path, ctx.io.cwd);
}

const JOURNAL_SUFFIX = '.state.jsonl';

/** A regular file (not a link to elsewhere, a FIFO or a folder) is what a journal path must name to be found. */
function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The journals a results file may belong to, in the order they are tried: the one its workbook properties name
 * (relative to its folder, then absolute), and the one beside its folder when it sits in `<x>.results/`.
 */
function candidates(manifestPath: string, origin: NonNullable<Manifest['origin']>): string[] {
  const dir = dirname(manifestPath);
  const out: string[] = [];
  if (origin.journal) out.push(resolve(dir, origin.journal));
  if (origin.journalPath) out.push(resolve(origin.journalPath));
  if (basename(dir).endsWith('.results')) out.push(join(dirname(dir), `${basename(dir).slice(0, -'.results'.length)}${JOURNAL_SUFFIX}`));
  return [...new Set(out)];
}

/**
 * The options with the journal the manifest belongs to. A results file saved as the next manifest (no journal of
 * its own yet) uses the journal it was written from, so rows that exist are not adopted into a second journal; when
 * that journal cannot be found the command is refused (exit 2) rather than starting one.
 */
export function journalForManifest<O extends ManifestOptions | JournalOptions>(ctx: Context<O>, manifest: Manifest): Context<O> {
  const o = ctx.options;
  if (o.stateGiven || !o.manifest || isFile(o.statePath) || !manifest.origin) return ctx;
  const tried = candidates(o.manifest, manifest.origin);
  const found = tried.find(isFile);
  if (found === undefined) {
    const where = tried.length ? ` (looked for ${tried.map((p) => shown(ctx, p)).join(', ')})` : '';
    throw new StateError(
      `${shown(ctx, o.manifest)} is a saved cgw-batch results file, and the journal it was written from was not found${where}. ` +
        `Pass --state with that journal (the original manifest's .state.jsonl) so existing rows are not adopted into a second journal, ` +
        `or --state NEW.state.jsonl to start a new journal on purpose`,
    );
  }
  ctx.err.write(`journal: ${shown(ctx, found)} (the journal ${shown(ctx, o.manifest)} was written from)\n`);
  const options = { ...o, statePath: found, reportDir: o.reportDirGiven ? o.reportDir : reportDirFor(found) } as O;
  return { ...ctx, options };
}

/**
 * status and report: the journal given (--state or the manifest's), else the one `*.state.jsonl` of the working
 * directory; none or several is a usage error that names what is there.
 */
export function journalForStatus(ctx: Context<UnlocatedJournalOptions>): Context<JournalOptions> {
  const o = ctx.options;
  if (o.statePath !== undefined && o.reportDir !== undefined) return withOptions(ctx, { ...o, statePath: o.statePath, reportDir: o.reportDir });
  const cwd = ctx.io.cwd;
  let names: string[] = [];
  try {
    names = readdirSync(cwd).filter((n) => n.endsWith(JOURNAL_SUFFIX) && isFile(join(cwd, n))).sort();
  } catch {
    // an unreadable folder has no journal we can use
  }
  const c = o.command;
  if (names.length === 0) throw new UsageError(`no journal (*${JOURNAL_SUFFIX}) in this folder: give the manifest (cgw-batch ${c} branches.csv) or --state FILE`);
  if (names.length > 1) {
    const first = names[0]!;
    throw new UsageError(
      `${names.length} journals in this folder: ${names.join(', ')}; name one: cgw-batch ${c} ${first.slice(0, -JOURNAL_SUFFIX.length)} (or --state ${first})`,
    );
  }
  const statePath = join(cwd, names[0]!);
  return withOptions(ctx, { ...o, statePath, reportDir: o.reportDir ?? reportDirFor(statePath) });
}

/** Whether the manifest's own journal is missing while the manifest is a saved results file (status must load it first). */
export function mayNameAnotherJournal(o: JournalOptions): boolean {
  return !o.stateGiven && o.manifest !== undefined && !existsSync(o.statePath);
}

/**
 * Whether the manifest may work on the run's journal. Its own manifest (the header names it) may; so may a manifest
 * working on it: a saved results file of it (the retry loop), or a manifest whose rows are all the journal's. For
 * the latter the journal's manifest path is returned and kept on the run: the journal stays that manifest's, and
 * its rows this file leaves out are outside the plan, never orphans. Anything else is refused (another batch).
 */
export function manifestMembership(ctx: Context<ManifestOptions | JournalOptions>, manifest: Manifest, run: Pick<JournalRun, 'path' | 'read'>): string | undefined {
  const read = run.read;
  if (!read || ctx.options.manifest === undefined) return undefined;
  // A shared journal (postgres://, oss://) names its manifest by file name; a journal file, relative to itself.
  const own = isSharedState(run.path) ? basename(ctx.options.manifest) : manifestRef(run.path, ctx.options.manifest);
  const h = read.header;
  if (h.manifest.path === own) return undefined;
  const state = shown(ctx, run.path);
  const origin = manifest.origin;
  if (origin?.journalId !== undefined && origin.journalId !== h.runId) {
    throw new StateError(`${shown(ctx, ctx.options.manifest)} was written from journal ${origin.journalId}, but ${state} is journal ${h.runId} (another batch); use --state with the journal it came from`);
  }
  const keys = manifest.rows.map((w) => [w.fields.region?.trim() ?? '', w.fields.ip?.trim() ?? ''] as const).filter(([r, ip]) => r !== '' && ip !== '');
  const ours = origin?.resultsFile === true || (keys.length > 0 && keys.every(([r, ip]) => read.rows.has(rowKey(r, ip))));
  if (!ours) {
    throw new StateError(
      `state file ${state} belongs to manifest ${h.manifest.path}, not ${own} (paths relative to the state file), and ${own} is neither a saved results file ` +
        'of that journal nor a manifest whose rows are all in it; use --state to choose a state file for this manifest',
    );
  }
  if (ctx.options.prune) {
    throw new UsageError(
      `--prune deletes the gateways whose rows left the journal's manifest (${h.manifest.path}); ${own} is not that manifest, so the rows it leaves out ` +
        'were not removed from the batch: run --prune with the journal\'s own manifest',
    );
  }
  return h.manifest.path;
}
