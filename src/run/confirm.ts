// Before anything is carried out: what apply refuses, what the question says, and the answer (--yes in scripts).
import { UsageError } from '../errors.js';
import { EXECUTABLE, type Plan } from '../types.js';
import { confirm } from '../ui/prompt.js';
import { executable } from './carry-out.js';
import type { Context } from './context.js';

/** The rows apply refuses while they are in the run (without --skip-invalid): invalid or blocked. */
export function refusal(plan: Plan): string | undefined {
  const s = plan.summary;
  if (s.invalid === 0 && s.blocked === 0) return undefined;
  const needs = [...new Set(plan.rows.flatMap((r) => (r.inRun && r.needs ? [r.needs] : [])))];
  const parts = [s.invalid > 0 && `${s.invalid} row(s) are invalid`, s.blocked > 0 && `${s.blocked} row(s) are blocked`].filter(Boolean).join(' and ');
  const hint = needs.length ? ` Pass ${needs.join(' / ')} where the reasons above say so,` : '';
  return `refusing to apply: ${parts} (listed above).${hint} Fix the rows, or pass --skip-invalid to carry out only the other rows.`;
}

/** "3 create, 1 update, 2 create connection in 2 region(s) of account 1234 at https://..." */
export function describeWork(plan: Plan): string {
  const rows = executable(plan);
  const counts = new Map<string, number>();
  const count = (what: string): void => void counts.set(what, (counts.get(what) ?? 0) + 1);
  for (const r of rows) {
    if (EXECUTABLE.has(r.action)) count(r.action);
    if (r.gateway2 && EXECUTABLE.has(r.gateway2.action)) count(r.gateway2.action);
    if (r.connection && EXECUTABLE.has(r.connection.action)) count(`${r.connection.action} connection`);
  }
  const what = [...counts].map(([a, n]) => `${n} ${a}`).join(', ');
  const regions = new Set(rows.map((r) => r.ref.region)).size;
  const where = plan.target ? ` of account ${plan.target.accountId ?? '(unknown)'} at ${plan.target.endpoint}` : '';
  return `${what} in ${regions} region(s)${where}`;
}

/** Yes with --yes; else the terminal is asked, and without one the command is refused (exit 2). */
export async function askToProceed(ctx: Context, question: string): Promise<boolean> {
  if (ctx.options.yes) return true;
  if (!ctx.options.canPrompt) throw new UsageError(`${ctx.options.command} needs --yes when there is no terminal to confirm on (CI, pipes)`);
  return confirm(question, { input: ctx.io.stdin, output: ctx.err });
}
