// `cgw-batch destroy`: delete the gateways the journal created or adopted (and those made by creates whose answer was
// lost), on the same lanes, limits, retries and journal as apply. Gateways the journal does not own are never touched.
import { EXIT } from '../errors.js';
import type { ManifestOptions } from '../options.js';
import { truthRows } from '../report/truth.js';
import { carryOut, executable } from '../run/carry-out.js';
import { askToProceed } from '../run/confirm.js';
import type { Context } from '../run/context.js';
import { checkReports, columnsOf, finishRun, runEnd } from '../run/finish.js';
import { bindAccount, journalRef, withLockedJournal } from '../run/journal-run.js';
import { destroyPlanFrom, printPlan } from '../run/plan-from.js';
import { requireJournal } from '../run/select.js';
import { openSession } from '../run/session.js';

export async function runDestroy(ctx: Context<ManifestOptions>): Promise<number> {
  const o = ctx.options;
  // The report files are checked before anything is sent: a refusal costs no request.
  if (!o.dryRun) await checkReports(ctx, 'destroy');
  return withLockedJournal(ctx, async (run) => {
    const journal = requireJournal(ctx, run.read);
    const session = await openSession(ctx, journalRef(run));
    try {
      const plan = await destroyPlanFrom(ctx, session, journal);
      printPlan(ctx, plan);
      const rows = executable(plan);
      if (rows.length === 0 || o.dryRun) {
        if (o.format !== 'json') ctx.out.write(rows.length === 0 ? 'nothing to delete.\n' : 'dry run: nothing deleted.\n');
        if (!o.dryRun) await bindAccount(ctx, run, session);
        return EXIT.ok;
      }
      const where = plan.target ? ` of account ${plan.target.accountId} at ${plan.target.endpoint}` : '';
      const connections = rows.filter((r) => r.connection?.action === 'delete').length;
      const what = `${rows.filter((r) => r.action === 'delete').length} customer gateway(s)${connections > 0 ? ` and ${connections} IPsec connection(s) (deleted first)` : ''}`;
      if (!(await askToProceed(ctx, `Delete these ${what}${where}? This cannot be undone. [y/N] `))) {
        ctx.err.write('nothing deleted.\n');
        return EXIT.ok;
      }
      const startedAt = new Date();
      const exec = await carryOut(ctx, session, run, journal.header.manifest.hash, plan);
      return finishRun(ctx, runEnd('destroy', plan, columnsOf(truthRows(plan, journal.rows)), run, exec, startedAt));
    } finally {
      await session.close();
    }
  });
}
