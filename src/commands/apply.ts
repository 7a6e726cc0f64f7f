// `cgw-batch apply`: lock the journal, plan from it, confirm, carry out exactly that plan, report every row's truth.
import { EXIT, UsageError } from '../errors.js';
import { EXECUTABLE, type Plan } from '../types.js';
import { confirm } from '../ui/prompt.js';
import { warn, type Context } from './context.js';
import { carryOut, executable, runEnd, withJournalLock, type Execution } from './execution.js';
import { planExitCode, printPlan, runPlan } from './plan.js';
import { planFrom, readManifest } from './planning.js';
import { checkReports, finishRun } from './reporting.js';
import { openSession, type Session } from './session.js';

/** The rows apply refuses while they are in the run (without --skip-invalid): invalid or blocked. */
export function refusal(plan: Plan): string | undefined {
  const s = plan.summary;
  if (s.invalid === 0 && s.blocked === 0) return undefined;
  const needs = [...new Set(plan.rows.filter((r) => r.inRun && r.needs).map((r) => r.needs!))];
  const parts = [s.invalid > 0 && `${s.invalid} row(s) are invalid`, s.blocked > 0 && `${s.blocked} row(s) are blocked`].filter(Boolean).join(' and ');
  const hint = needs.length ? ` Pass ${needs.join(' / ')} where the reasons above say so,` : '';
  return `refusing to apply: ${parts} (listed above).${hint} Fix the rows, or pass --skip-invalid to carry out only the other rows.`;
}

/** "3 create, 1 update in 2 region(s) of account 1234 at https://..." */
export function describeWork(plan: Plan): string {
  const rows = plan.rows.filter((r) => r.inRun && EXECUTABLE.has(r.action));
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.action, (counts.get(r.action) ?? 0) + 1);
  const what = [...counts].map(([a, n]) => `${n} ${a}`).join(', ');
  const regions = new Set(rows.map((r) => r.ref.region)).size;
  const where = plan.target ? ` of account ${plan.target.accountId ?? '(unknown)'} at ${plan.target.endpoint}` : '';
  return `${what} in ${regions} region(s)${where}`;
}

export async function askToProceed(ctx: Context, question: string): Promise<boolean> {
  if (ctx.options.yes) return true;
  if (!ctx.options.canPrompt) throw new UsageError(`${ctx.options.command} needs --yes when there is no terminal to confirm on (CI, pipes)`);
  return confirm(question, { input: ctx.io.stdin, output: ctx.err });
}

export async function runApply(ctx: Context): Promise<number> {
  if (ctx.options.dryRun) return runPlan(ctx, 'apply');
  const o = ctx.options;
  const manifest = await readManifest(ctx);
  // The report files are checked before anything is sent: a refusal costs no request.
  await checkReports(ctx, 'apply');
  const session = (await openSession(ctx, true)) as Session;
  try {
    // The plan is made from the locked journal, so what apply carries out is exactly what it printed.
    return await withJournalLock(ctx, async (lock) => {
      const { plan } = await planFrom(ctx, manifest, session, 'apply');
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
        exec = await carryOut(ctx, session, lock, { path: manifest.file, hash: manifest.hash }, rows, 'apply');
      } else if (o.format !== 'json') {
        ctx.out.write('nothing to do: no row of this run needs a change.\n');
      }
      return finishRun(ctx, runEnd('apply', plan, manifest.columns, exec, startedAt));
    });
  } finally {
    await session.close();
  }
}
