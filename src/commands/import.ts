// `cgw-batch import`: adopt gateways that already exist for the manifest's rows (same region, IP, name and ASN).
// Records only: nothing is created or changed in the cloud, so it does not ask.
import { UsageError } from '../errors.js';
import type { ManifestOptions } from '../options.js';
import { carryOut, executable, type Execution } from '../run/carry-out.js';
import type { Context } from '../run/context.js';
import { checkReports, finishRun, runEnd } from '../run/finish.js';
import { bindAccount, journalRef, withLockedJournal } from '../run/journal-run.js';
import { planExitCode, planFrom, planReads, printPlan, readManifest, showPlan } from '../run/plan-from.js';
import { journalForManifest } from '../run/locate.js';
import { openSession } from '../run/session.js';

export async function runImport(given: Context<ManifestOptions>): Promise<number> {
  if (given.options.dryRun) return showPlan(given, 'import');
  const manifest = await readManifest(given, given.options.manifest);
  // A saved results file works on the journal it was written from (the retry loop): reports go beside that journal.
  const ctx = journalForManifest(given, manifest);
  const o = ctx.options;
  await checkReports(ctx, 'import');
  return withLockedJournal(ctx, async (run) => {
    const session = await openSession(ctx, journalRef(run), planReads(ctx, manifest, run));
    try {
      const plan = await planFrom(ctx, manifest, session, run, 'import');
      printPlan(ctx, plan);
      const rows = executable(plan);
      // Records only: every part it carries out adopts (or records a lost create's resource); anything else is a bug.
      const records = (a: string | undefined): boolean => a === undefined || a === 'adopt' || a === 'resume' || a === 'skip';
      if (rows.some((r) => !records(r.action) || !records(r.gateway2?.action) || !records(r.connection?.action))) {
        throw new UsageError('import planned an action other than adopt (this is a bug)');
      }
      const startedAt = new Date();
      let exec: Execution | undefined;
      if (rows.length > 0) exec = await carryOut(ctx, session, run, manifest.hash, plan);
      else if (o.format !== 'json') ctx.out.write('import: no gateway in the cloud matches a row this journal does not already manage; nothing recorded\n');
      const code = await finishRun(ctx, { ...runEnd('import', plan, manifest.columns, run, exec, startedAt), profiles: manifest.profiles });
      await bindAccount(ctx, run, session);
      // Rows with no match are information (apply creates them); conflicts and invalid rows fail the import.
      return Math.max(code, planExitCode(plan));
    } finally {
      await session.close();
    }
  });
}
