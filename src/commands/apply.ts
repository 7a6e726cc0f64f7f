// `cgw-batch apply`: lock the journal, plan from it, confirm, carry out exactly that plan, report every row's truth.
import { EXIT } from '../errors.js';
import type { ManifestOptions } from '../options.js';
import { carryOut, executable, type Execution } from '../run/carry-out.js';
import { askToProceed, describeWork, refusal } from '../run/confirm.js';
import { warn, type Context } from '../run/context.js';
import { checkReports, finishRun, runEnd } from '../run/finish.js';
import { bindAccount, journalRef, withLockedJournal, type LockedRun } from '../run/journal-run.js';
import { planExitCode, planFrom, planReads, printPlan, readManifest, showPlan } from '../run/plan-from.js';
import { journalForManifest } from '../run/locate.js';
import { openSession, type Session } from '../run/session.js';
import type { Manifest } from '../types.js';

export async function runApply(given: Context<ManifestOptions>): Promise<number> {
  if (given.options.dryRun) return showPlan(given, 'apply');
  const manifest = await readManifest(given, given.options.manifest);
  // A saved results file works on the journal it was written from (the retry loop): reports go beside that journal.
  const ctx = journalForManifest(given, manifest);
  // The report files are checked before anything is sent: a refusal costs no request.
  await checkReports(ctx, 'apply');
  // The plan is made from the locked journal, so what apply carries out is exactly what it printed.
  return withLockedJournal(ctx, async (run) => {
    const session = await openSession(ctx, journalRef(run), planReads(ctx, manifest, run));
    try {
      const code = await carry(ctx, manifest, session, run);
      await bindAccount(ctx, run, session);
      return code;
    } finally {
      await session.close();
    }
  });
}

/** The plan from the locked journal, the refusal or the question, and the run. */
async function carry(ctx: Context<ManifestOptions>, manifest: Manifest, session: Session, run: LockedRun): Promise<number> {
  const o = ctx.options;
  const plan = await planFrom(ctx, manifest, session, run, 'apply');
  printPlan(ctx, plan);
  const refused = refusal(plan);
  if (refused && !o.skipInvalid) {
    ctx.err.write(`cgw-batch: ${refused}\n`);
    return planExitCode(plan);
  }
  if (refused) warn(ctx, `leaving out ${plan.summary.invalid} invalid and ${plan.summary.blocked} blocked row(s) (--skip-invalid)`);
  const rows = executable(plan);
  const startedAt = new Date();
  let exec: Execution | undefined;
  if (rows.length > 0) {
    if (!(await askToProceed(ctx, `Apply ${describeWork(plan)}? [y/N] `))) {
      ctx.err.write('nothing applied.\n');
      return EXIT.ok;
    }
    exec = await carryOut(ctx, session, run, manifest.hash, plan);
  } else if (o.format !== 'json') {
    ctx.out.write('nothing to do: no row of this run needs a change.\n');
  }
  return finishRun(ctx, { ...runEnd('apply', plan, manifest.columns, run, exec, startedAt), profiles: manifest.profiles });
}
