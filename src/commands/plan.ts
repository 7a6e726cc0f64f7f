// `cgw-batch plan`: the same plan apply would carry out, with the reason for every row; changes nothing.
import type { ManifestOptions } from '../options.js';
import type { Context } from '../run/context.js';
import { showPlan } from '../run/plan-from.js';

export function runPlan(ctx: Context<ManifestOptions>): Promise<number> {
  return showPlan(ctx, 'plan');
}
