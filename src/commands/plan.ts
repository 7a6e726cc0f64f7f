// `cgw-batch plan`: load, validate every row offline and online, print the plan; writes nothing.
import { EXIT } from '../errors.js';
import { planToJson, renderPlanText } from '../report/plan-output.js';
import { loadAndPlan, openSession, type Context } from './context.js';

export async function runPlan(ctx: Context): Promise<number> {
  const session = await openSession(ctx, false);
  try {
    if (!session && !ctx.options.offline && ctx.options.format === 'text') {
      ctx.err.write('note: no credentials configured, planning offline (inventory, quota and region checks skipped)\n');
    }
    const { plan } = await loadAndPlan(ctx, session);
    if (ctx.options.format === 'json') ctx.out.write(JSON.stringify(planToJson(plan)) + '\n');
    else ctx.out.write(renderPlanText(plan, { color: ctx.color }));
    return plan.summary.invalid > 0 ? EXIT.rowsFailed : EXIT.ok;
  } finally {
    await session?.close();
  }
}
