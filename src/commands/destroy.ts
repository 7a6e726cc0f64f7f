// `cgw-batch destroy`: delete the gateways the journal created or adopted (and those made by creates whose answer was
// lost), on the same lanes, limits, retries and journal as apply. Gateways the journal does not own are never touched.
import { EXIT, StateError } from '../errors.js';
import { planDestroy } from '../plan/destroy.js';
import { truthRows } from '../report/truth.js';
import { toPriorRows } from '../state/journal.js';
import { MAYBE_CREATED, OWNED } from '../types.js';
import { askToProceed } from './apply.js';
import type { Context } from './context.js';
import { carryOut, executable, runEnd, withJournalLock } from './execution.js';
import { printPlan } from './plan.js';
import { listRegions, planFlags, readState, selector } from './planning.js';
import { checkReports, columnsOf, finishRun } from './reporting.js';
import { openSession, type Session } from './session.js';

export async function runDestroy(ctx: Context): Promise<number> {
  const o = ctx.options;
  // The report files are checked before anything is sent: a refusal costs no request.
  if (!o.dryRun) await checkReports(ctx, 'destroy');
  const session = (await openSession(ctx, true)) as Session;
  try {
    return await withJournalLock(ctx, async (lock) => {
      const state = await readState(ctx, session);
      if (!state) throw new StateError(`no journal at ${o.statePath}: nothing has been applied with this manifest yet (or pass --state FILE)`);
      const prior = toPriorRows(state.rows);
      // Creates whose outcome is unknown may have made a gateway: their regions are listed too, and such a gateway is deleted.
      const regions = [...prior.values()].filter((p) => OWNED.has(p.status) || MAYBE_CREATED.has(p.status)).map((p) => p.key.slice(0, p.key.indexOf('/')));
      const plan = planDestroy({
        file: o.manifest!,
        manifestHash: state.header.manifest.hash,
        prior,
        inventory: await listRegions(ctx, session, regions),
        select: selector(ctx),
        flags: planFlags(ctx),
        target: { accountId: session.caller.accountId, endpoint: session.endpoint },
      });
      printPlan(ctx, plan);
      const rows = executable(plan);
      if (rows.length === 0 || o.dryRun) {
        if (o.format !== 'json') ctx.out.write(rows.length === 0 ? 'nothing to delete.\n' : 'dry run: nothing deleted.\n');
        return EXIT.ok;
      }
      const where = plan.target ? ` of account ${plan.target.accountId} at ${plan.target.endpoint}` : '';
      if (!(await askToProceed(ctx, `Delete these ${rows.length} customer gateway(s)${where}? This cannot be undone. [y/N] `))) {
        ctx.err.write('nothing deleted.\n');
        return EXIT.ok;
      }
      const startedAt = new Date();
      const exec = await carryOut(ctx, session, lock, { path: o.manifest!, hash: state.header.manifest.hash }, rows, 'destroy');
      return finishRun(ctx, runEnd('destroy', plan, columnsOf(truthRows(plan, state.rows)), exec, startedAt));
    });
  } finally {
    await session.close();
  }
}
