// `cgw-batch state`: a journal's lease and rows (show), breaking a dead runner's lease (unlock), and moving a journal
// to another backend (migrate: copy under both leases, check the copy, leave a `moved` record behind).
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { EXIT, StateError, UsageError } from '../errors.js';
import type { StateOptions } from '../options.js';
import { describeSpec, isStateUrl, redactUrl, type BackendSpec } from '../state/backend/index.js';
import type { HolderInfo, LeaseStatus } from '../state/backend/types.js';
import { journalOfLease, leaseJournal, manifestRef, readState, type JournalFile } from '../state/journal.js';
import { headerLine, movedLine } from '../state/records.js';
import { askToProceed } from './confirm.js';
import { warn, type Context } from './context.js';
import { stateSpec, withState } from './state-backend.js';

type StateCtx = Context<StateOptions>;

function holderText(h: HolderInfo | undefined): string {
  if (!h) return 'an unknown runner';
  return `pid ${h.pid} on host ${h.host} since ${h.startedAt}${h.runId ? ` (run ${h.runId})` : ''}`;
}

function byStatus(j: JournalFile): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of j.rows.values()) out[r.status] = (out[r.status] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1]));
}

/** `state show`: who holds the lease (status only: nothing is taken or written) and what the journal holds. */
export async function showState(ctx: StateCtx): Promise<number> {
  const spec = stateSpec(ctx);
  return withState(ctx, spec, async (backend) => {
    const lease: LeaseStatus = await backend.status();
    const journal = await readState(backend);
    for (const w of journal?.warnings ?? []) warn(ctx, w);
    if (ctx.options.format === 'json') {
      ctx.out.write(
        JSON.stringify({
          type: 'state',
          backend: backend.kind,
          location: backend.location,
          lease: { held: lease.held, epoch: lease.epoch ?? null, holder: lease.holder ?? null },
          journal: journal
            ? {
                journal_id: journal.header.runId,
                manifest: journal.header.manifest,
                endpoint: journal.header.endpoint,
                account_id: journal.header.accountId ?? null,
                updated_at: journal.header.updatedAt,
                rows: journal.rows.size,
                by_status: byStatus(journal),
              }
            : null,
        }) + '\n',
      );
      return EXIT.ok;
    }
    const epoch = lease.epoch !== undefined ? ` (epoch ${lease.epoch})` : '';
    ctx.out.write(`state ${backend.location} (${backend.kind})\n`);
    if (lease.held) ctx.out.write(`lease: held by ${holderText(lease.holder)}${epoch}\n`);
    else ctx.out.write(`lease: free${epoch}${lease.holder ? `; last held by ${holderText(lease.holder)}` : ''}\n`);
    if (!journal) {
      ctx.out.write('journal: none yet (nothing has been applied to this estate)\n');
      return EXIT.ok;
    }
    const h = journal.header;
    ctx.out.write(`journal ${h.runId}: manifest ${h.manifest.path}, account ${h.accountId ?? `(key ${h.accessKeyId ?? '?'})`} at ${h.endpoint}; updated ${h.updatedAt}\n`);
    const counts = Object.entries(byStatus(journal)).map(([k, n]) => `${n} ${k}`);
    ctx.out.write(`rows: ${journal.rows.size}${counts.length ? ` (${counts.join(', ')})` : ''}\n`);
    return EXIT.ok;
  });
}

/** `state unlock`: ends the current holder's lease, fenced (its next journal write fails, so it sends nothing more). */
export async function unlockState(ctx: StateCtx): Promise<number> {
  return withState(ctx, stateSpec(ctx), async (backend) => {
    const st = await backend.status();
    if (!st.held) {
      ctx.out.write(`nobody holds the lease on ${backend.location}; nothing to unlock\n`);
      return EXIT.ok;
    }
    const question =
      `Break the lease on ${backend.location} held by ${holderText(st.holder)}? ` +
      'Do this only when that runner is dead: if it is alive, it stops at its next journal write. [y/N] ';
    if (!(await askToProceed(ctx, question))) {
      ctx.err.write('nothing unlocked.\n');
      return EXIT.ok;
    }
    const removed = await backend.breakLease();
    ctx.out.write(removed ? `removed the lease on ${backend.location} held by ${holderText(removed)}\n` : `the lease on ${backend.location} was already free\n`);
    return EXIT.ok;
  });
}

/** The --to value a reader of a moved journal is sent to: a path, or the URL without its password but with its estate. */
function movedTo(location: string, spec: BackendSpec): string {
  if (!isStateUrl(location)) return location;
  const estate = spec.kind === 'postgres' ? spec.estate : spec.kind === 'oss' ? (spec.prefix.split('/').at(-1) ?? '') : '';
  const [base = '', query = ''] = location.split('?', 2);
  const params = new URLSearchParams(query);
  params.set('estate', estate);
  return `${base.startsWith('oss:') ? base : redactUrl(base)}?${params.toString()}`;
}

/**
 * `state migrate`: takes the source's lease and the target's (the target must hold no journal), writes the source's
 * records to the target in one atomic snapshot (the header's manifest reference made right for the target), reads the
 * target back and compares, then appends a `moved` record to the source so nobody writes the old journal again.
 */
export async function migrateState(ctx: StateCtx): Promise<number> {
  const o = ctx.options;
  const from = o.from ?? '';
  const to = o.to ?? '';
  const runId = randomUUID();
  const lockOpts = { runId, waitMs: o.lockTimeoutMs, onWarning: (m: string) => warn(ctx, m) };
  const fromSpec = stateSpec(ctx, from);
  return withState(ctx, fromSpec, async (source) => {
    const srcLease = await leaseJournal(source, lockOpts);
    try {
      const read = await journalOfLease(source, srcLease);
      if (!read) throw new StateError(`no journal at ${source.location}: nothing to migrate`);
      // The target's estate: ?estate= or the manifest's file name (given, or as the journal names it).
      const manifestName = o.manifest ? basename(o.manifest) : basename(read.header.manifest.path);
      const toSpec = stateSpec(ctx, to, manifestName);
      if (describeSpec(toSpec) === describeSpec(fromSpec)) throw new UsageError('state migrate: --from and --to are the same journal');
      const manifestPath = targetManifest(o.manifest, toSpec, read);
      return await withState(ctx, toSpec, async (target) => {
        const dstLease = await leaseJournal(target, lockOpts);
        try {
          if (dstLease.log.records.length > 0 || (await journalOfLease(target, dstLease).catch(() => 'unreadable')) !== undefined) {
            throw new StateError(`${target.location} already holds a journal: state migrate copies into an empty location only (remove it first if it is a leftover)`);
          }
          const header = { ...read.header, manifest: { ...read.header.manifest, path: manifestPath } };
          const records = [headerLine(header).slice(0, -1), ...srcLease.log.records.slice(1)];
          await dstLease.compact(records);
          const copy = await readState(target);
          if (!copy || !sameJournal(copy, { ...read, header })) {
            throw new StateError(`the copy in ${target.location} does not read back as the source did; the source ${source.location} is unchanged`);
          }
          await srcLease.append([movedLine(movedTo(to, toSpec), new Date().toISOString()).slice(0, -1)]);
          await dstLease.release();
          ctx.out.write(
            o.format === 'json'
              ? JSON.stringify({ type: 'migrate', from: source.location, to: target.location, records: records.length, rows: copy.rows.size, journal_id: header.runId }) + '\n'
              : `copied ${records.length} record(s) (${copy.rows.size} row(s), journal ${header.runId}) from ${source.location} to ${target.location}\n` +
                  `${source.location} is marked as moved: commands that use it now say where the journal went\n`,
          );
          return EXIT.ok;
        } finally {
          await dstLease.release();
        }
      });
    } finally {
      await srcLease.release();
    }
  });
}

/** The header's manifest reference as the target backend keeps it: relative to a journal file, else the file name. */
function targetManifest(given: string | undefined, toSpec: BackendSpec, read: JournalFile): string {
  if (toSpec.kind !== 'file') return basename(given ?? read.header.manifest.path);
  const manifest = given ?? (toSpec.path.endsWith('.state.jsonl') ? toSpec.path.slice(0, -'.state.jsonl'.length) : undefined);
  if (!manifest) throw new UsageError('state migrate to a file not named <manifest>.state.jsonl: name the manifest (cgw-batch state migrate MANIFEST --from ... --to ...)');
  if (given === undefined && basename(manifest) !== basename(read.header.manifest.path)) {
    throw new UsageError(`state migrate: the journal is of manifest ${basename(read.header.manifest.path)}, but ${toSpec.path} sits beside ${basename(manifest)}; name the manifest`);
  }
  return manifestRef(toSpec.path, manifest);
}

function sameJournal(a: JournalFile, b: JournalFile): boolean {
  if (JSON.stringify(a.header) !== JSON.stringify(b.header) || a.rows.size !== b.rows.size) return false;
  for (const [k, r] of a.rows) if (JSON.stringify(r) !== JSON.stringify(b.rows.get(k))) return false;
  return true;
}
