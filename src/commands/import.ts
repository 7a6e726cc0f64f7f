// `cgw-batch import`: adopt gateways that already exist for the manifest's rows (same region, IP, name and ASN).
// Records only: nothing is created or changed in the cloud.
import { EXIT, UsageError } from '../errors.js';
import { Journal, lockJournal, type JournalLock } from '../state/journal.js';
import { warn, type Context } from './context.js';
import { executable, execute, type Execution } from './execution.js';
import { planExitCode, printPlan, runPlan } from './plan.js';
import { planFrom, readManifest } from './planning.js';
import { checkReports, finishRun } from './reporting.js';
import { openSession, type Session } from './session.js';

export async function runImport(ctx: Context): Promise<number> {
  const o = ctx.options;
  if (o.dryRun) return runPlan(ctx, 'import');
  const manifest = await readManifest(ctx);
  // The report files are checked before anything is sent: a refusal costs no request.
  await checkReports(ctx, 'import');
  const session = (await openSession(ctx, true)) as Session;
  let lock: JournalLock | undefined;
  let journal: Journal | undefined;
  try {
    lock = await lockJournal(o.statePath!, { forceUnlock: o.forceUnlock, onWarning: (m) => warn(ctx, m) });
    const { plan } = await planFrom(ctx, manifest, session, 'import');
    printPlan(ctx, plan);
    const rows = executable(plan);
    if (rows.some((r) => r.action !== 'adopt' && r.action !== 'resume')) throw new UsageError('import planned an action other than adopt (this is a bug)');
    const startedAt = new Date();
    let exec: Execution | undefined;
    if (rows.length > 0) {
      // Import only records in the journal (nothing changes in the cloud), so it does not ask.
      journal = await Journal.open(o.statePath!, {
        lock,
        manifest: { path: manifest.file, hash: manifest.hash },
        endpoint: session.endpoint,
        caller: session.caller,
        onWarning: (m) => warn(ctx, m),
      });
      exec = await execute(ctx, session, journal, rows, 'import');
      await journal.close();
      journal = undefined;
    } else if (o.format !== 'json') {
      ctx.out.write('import: no gateway in the cloud matches a row this journal does not already manage; nothing recorded\n');
    }
    const code = await finishRun(ctx, {
      command: 'import',
      plan,
      columns: manifest.columns,
      executed: exec?.results ?? [],
      ...(exec?.stopReason ? { stopReason: exec.stopReason } : {}),
      startedAt: exec?.startedAt ?? startedAt,
      finishedAt: exec?.finishedAt ?? new Date(),
    });
    // Rows with no match are information (apply creates them); conflicts and invalid rows fail the import.
    return Math.max(code, planExitCode(plan));
  } finally {
    if (journal) await journal.close();
    await lock?.release();
    await session.close();
  }
}
