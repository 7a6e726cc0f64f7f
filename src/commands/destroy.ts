// `cgw-batch destroy`: delete the gateways the journal created or adopted (and those made by creates whose answer was
// lost), on the same lanes, limits, retries and journal as apply. Gateways the journal does not own are never touched.
import { EXIT, StateError } from '../errors.js';
import { planDestroy } from '../plan/destroy.js';
import { Journal, lockJournal, toPriorRows, type JournalLock } from '../state/journal.js';
import { MAYBE_CREATED, OWNED } from '../types.js';
import { warn, type Context } from './context.js';
import { askToProceed } from './apply.js';
import { executable, execute, type Execution } from './execution.js';
import { printPlan } from './plan.js';
import { listRegions, planFlags, readState, selector } from './planning.js';
import { checkReports, columnsOf, finishRun } from './reporting.js';
import { openSession, type Session } from './session.js';
import { truthRows } from '../report/truth.js';

export async function runDestroy(ctx: Context): Promise<number> {
  const o = ctx.options;
  // The report files are checked before anything is sent: a refusal costs no request.
  if (!o.dryRun) await checkReports(ctx, 'destroy');
  const session = (await openSession(ctx, true)) as Session;
  let lock: JournalLock | undefined;
  let journal: Journal | undefined;
  try {
    lock = await lockJournal(o.statePath!, { forceUnlock: o.forceUnlock, onWarning: (m) => warn(ctx, m) });
    const state = await readState(ctx, session);
    if (!state) throw new StateError(`no journal at ${o.statePath}: nothing has been applied with this manifest yet (or pass --state FILE)`);
    const prior = toPriorRows(state.rows);
    // Creates whose outcome is unknown may have made a gateway: their regions are listed too, and such a gateway is deleted.
    const regions = [...prior.values()].filter((p) => OWNED.has(p.status) || MAYBE_CREATED.has(p.status)).map((p) => p.key.slice(0, p.key.indexOf('/')));
    const inventory = await listRegions(ctx, session, regions);
    const plan = planDestroy({
      file: o.manifest!,
      manifestHash: state.header.manifest.hash,
      prior,
      inventory,
      select: selector(ctx),
      flags: planFlags(ctx),
      target: { accountId: session.caller.accountId, endpoint: session.endpoint },
    });
    printPlan(ctx, plan);
    const rows = executable(plan);
    if (rows.length === 0) {
      if (o.format !== 'json') ctx.out.write('nothing to delete.\n');
      return EXIT.ok;
    }
    if (o.dryRun) {
      if (o.format !== 'json') ctx.out.write('dry run: nothing deleted.\n');
      return EXIT.ok;
    }
    const where = plan.target ? ` of account ${plan.target.accountId} at ${plan.target.endpoint}` : '';
    if (!(await askToProceed(ctx, `Delete these ${rows.length} customer gateway(s)${where}? This cannot be undone. [y/N] `))) {
      ctx.err.write('nothing deleted.\n');
      return EXIT.ok;
    }
    journal = await Journal.open(o.statePath!, {
      lock,
      manifest: { path: o.manifest!, hash: state.header.manifest.hash },
      endpoint: session.endpoint,
      caller: session.caller,
      onWarning: (m) => warn(ctx, m),
    });
    const exec: Execution = await execute(ctx, session, journal, rows, 'destroy');
    await journal.close();
    journal = undefined;
    return await finishRun(ctx, {
      command: 'destroy',
      plan,
      columns: columnsOf(truthRows(plan, state.rows)),
      executed: exec.results,
      ...(exec.stopReason ? { stopReason: exec.stopReason } : {}),
      ...(exec.stopError ? { stopMessage: `${exec.stopError.code}: ${exec.stopError.message}` } : {}),
      startedAt: exec.startedAt,
      finishedAt: exec.finishedAt,
      requests: exec.requests,
      throttled: exec.throttled,
    });
  } finally {
    if (journal) await journal.close();
    await lock?.release();
    await session.close();
  }
}
