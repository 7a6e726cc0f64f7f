// `cgw-batch plan` (and `apply --dry-run`, `import --dry-run`): the same plan apply would carry out; changes nothing.
import { EXIT } from '../errors.js';
import { planToJson, renderPlanText } from '../report/plan-output.js';
import type { Plan } from '../types.js';
import { warn, type Context } from './context.js';
import { planFrom, readManifest } from './planning.js';
import { isSession, openSession, type Session } from './session.js';

/** 0: apply would carry out every row of the run; 1: rows are invalid or blocked (apply refuses them). */
export function planExitCode(plan: Plan): number {
  return plan.summary.invalid > 0 || plan.summary.blocked > 0 ? EXIT.rowsFailed : EXIT.ok;
}

export function printPlan(ctx: Context, plan: Plan): void {
  if (ctx.options.format === 'json') ctx.out.write(JSON.stringify({ type: 'plan', ...planToJson(plan) }) + '\n');
  else ctx.out.write(renderPlanText(plan, { color: ctx.options.color }));
}

export async function runPlan(ctx: Context, as: 'plan' | 'apply' | 'import' = 'plan'): Promise<number> {
  const manifest = await readManifest(ctx);
  let session: Session | undefined;
  if (!ctx.options.offline) {
    const s = await openSession(ctx, false);
    if (isSession(s)) session = s;
    else warn(ctx, `planning offline: ${s.offline.replace(/^no Alibaba Cloud credentials found: /, 'no credentials found (')}${s.offline.startsWith('no Alibaba') ? ')' : ''}; existing gateways, drift, quota and regions are not checked (pass --offline to plan offline on purpose)`);
  }
  try {
    const { plan } = await planFrom(ctx, manifest, session, as);
    printPlan(ctx, plan);
    return planExitCode(plan);
  } finally {
    await session?.close();
  }
}
