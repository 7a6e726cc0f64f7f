// `cgw-batch import`: adopt gateways that already exist for the manifest's rows (same region, IP, name and ASN).
// Records only: nothing is created or changed in the cloud, so it does not ask.
import { UsageError } from '../errors.js';
import type { Context } from './context.js';
import { carryOut, executable, runEnd, withJournalLock, type Execution } from './execution.js';
import { planExitCode, printPlan, runPlan } from './plan.js';
import { planFrom, readManifest } from './planning.js';
import { checkReports, finishRun } from './reporting.js';
import { openSession, type Session } from './session.js';

export async function runImport(ctx: Context): Promise<number> {
  const o = ctx.options;
  if (o.dryRun) return runPlan(ctx, 'import');
  const manifest = await readManifest(ctx);
  await checkReports(ctx, 'import');
  const session = (await openSession(ctx, true)) as Session;
  try {
    return await withJournalLock(ctx, async (lock) => {
      const { plan } = await planFrom(ctx, manifest, session, 'import');
      printPlan(ctx, plan);
      const rows = executable(plan);
      if (rows.some((r) => r.action !== 'adopt' && r.action !== 'resume')) throw new UsageError('import planned an action other than adopt (this is a bug)');
      const startedAt = new Date();
      let exec: Execution | undefined;
      if (rows.length > 0) exec = await carryOut(ctx, session, lock, { path: manifest.file, hash: manifest.hash }, rows, 'import');
      else if (o.format !== 'json') ctx.out.write('import: no gateway in the cloud matches a row this journal does not already manage; nothing recorded\n');
      const code = await finishRun(ctx, runEnd('import', plan, manifest.columns, exec, startedAt));
      // Rows with no match are information (apply creates them); conflicts and invalid rows fail the import.
      return Math.max(code, planExitCode(plan));
    });
  } finally {
    await session.close();
  }
}
