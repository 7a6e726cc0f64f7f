// Renders a Plan for people (header, table, actions with reasons, issues, quota) and as JSON for tools. Pure.
import { PLAN_ACTIONS, type FieldChange, type Issue, type Plan, type PlanAction, type PlanSummary, type PlannedRow, type Severity } from '../types.js';

export interface PlanJsonIssue {
  severity: Severity;
  code: string;
  field: string;
  message: string;
  cell?: string;
}

export interface PlanJsonRow {
  line: number;
  region: string;
  ip: string;
  key: string;
  action: PlanAction;
  reason: string;
  in_this_run: boolean;
  issues: PlanJsonIssue[];
  needs?: string;
  existingId?: string;
  changes?: FieldChange[];
  generation?: number;
  orphan?: boolean;
  outside?: boolean;
  adopted?: boolean;
}

/** The `--format json` document: the same actions and reasons as the text. */
export interface PlanJson {
  version: 2;
  command: string;
  manifest: { file: string; format: string };
  target: Plan['target'] | null;
  online: boolean;
  flags: Plan['flags'];
  rows: PlanJsonRow[];
  summary: PlanSummary;
  quota: Plan['quota'];
  /** File-level issues (loader warnings, unknown columns), with the line they refer to (0 = the whole file). */
  issues: Array<PlanJsonIssue & { line: number }>;
}

const jsonIssue = (i: Issue): PlanJsonIssue => ({ severity: i.severity, code: i.code, field: i.field, message: i.message, ...(i.cell ? { cell: i.cell } : {}) });

export function planToJson(plan: Plan): PlanJson {
  return {
    version: 2,
    command: plan.command,
    manifest: { file: plan.manifest.file, format: plan.manifest.format },
    target: plan.target ?? null,
    online: plan.online,
    flags: plan.flags,
    rows: plan.rows.map((r): PlanJsonRow => {
      const out: PlanJsonRow = {
        line: r.ref.line,
        region: r.ref.region,
        ip: r.ref.ip,
        key: r.ref.key,
        action: r.action,
        reason: r.reason,
        in_this_run: r.inRun,
        issues: r.issues.map(jsonIssue),
      };
      if (r.needs) out.needs = r.needs;
      if (r.existingId !== undefined) out.existingId = r.existingId;
      if (r.changes) out.changes = r.changes;
      if (r.generation !== undefined) out.generation = r.generation;
      if (r.orphan) out.orphan = true;
      if (r.outside) out.outside = true;
      if (r.adopted !== undefined) out.adopted = r.adopted;
      return out;
    }),
    summary: plan.summary,
    quota: plan.quota,
    issues: plan.issues.map((i) => ({ ...jsonIssue(i), line: i.line })),
  };
}

// --- text -------------------------------------------------------------------------------------------------------

type Paint = (code: string, s: string) => string;
const ANSI = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33', cyan: '36', magenta: '35' } as const;

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
const SEVERITY_HEADING: Record<Severity, string> = { error: 'Errors', warning: 'Warnings', info: 'Notes' };
const SEVERITY_COLOR: Record<Severity, string> = { error: ANSI.red, warning: ANSI.yellow, info: ANSI.cyan };
const ACTION_COLOR: Partial<Record<PlanAction, string>> = {
  create: ANSI.green,
  retry: ANSI.green,
  resume: ANSI.cyan,
  adopt: ANSI.cyan,
  update: ANSI.yellow,
  replace: ANSI.magenta,
  delete: ANSI.red,
  blocked: ANSI.red,
  invalid: ANSI.red,
};

/** `file:line` (or `file:Sheet!D4` for a spreadsheet cell), or just `file` for issues about the whole file (line 0). */
export function location(file: string, line: number, cell?: string): string {
  if (cell) return `${file}:${cell}`;
  return line > 0 ? `${file}:${line}` : file;
}

/** One issue as `file:line  field  code  message` (two spaces between columns; `-` for no field). */
export function formatIssue(i: Issue, paint: Paint = (_c, s) => s): string {
  return `${location(i.file, i.line, i.cell)}  ${i.field || '-'}  ${paint(SEVERITY_COLOR[i.severity], i.code)}  ${i.message}`;
}

const QUOTED = new Set(['name', 'description']);
function showValue(field: string, v: string | undefined): string {
  if (v === undefined) return '(none)';
  return QUOTED.has(field) || field.startsWith('tag:') ? JSON.stringify(v) : v;
}

function table(plan: Plan, paint: Paint): string[] {
  const always: PlanAction[] = plan.command === 'destroy' ? ['delete', 'skip'] : ['create', 'skip', 'invalid'];
  const cols = PLAN_ACTIONS.filter((a) => always.includes(a) || plan.summary[a] > 0);
  const extra = plan.summary.notInRun > 0 ? (['notInRun'] as const) : [];
  const heads: Array<keyof PlanSummary> = [...cols, ...extra];
  const label = (c: keyof PlanSummary): string => (c === 'notInRun' ? 'not in run' : c);
  const regions = Object.keys(plan.byRegion).sort();
  // A garbage "region" can be a 60 KB cell: label the table with a clipped form (the row's own issue names it).
  const MAX = 40;
  const clip = (r: string): string => (r.length > MAX ? r.slice(0, MAX - 1) + '…' : r);
  const width = Math.max(6, ...regions.map((r) => clip(r).length));
  const line = (name: string, s: PlanSummary): string => '  ' + clip(name).padEnd(width) + heads.map((c) => '  ' + String(s[c]).padStart(Math.max(label(c).length, 5))).join('');
  const out = [paint(ANSI.bold, '  ' + 'region'.padEnd(width) + heads.map((c) => '  ' + label(c).padStart(Math.max(label(c).length, 5))).join(''))];
  for (const r of regions) out.push(line(r, plan.byRegion[r]!));
  out.push(paint(ANSI.bold, line('total', plan.summary)));
  return out;
}

/** Every row that does more than a plain create or an unchanged skip, with its reason (and its changes). */
function actionBlock(plan: Plan, paint: Paint): string[] {
  const out: string[] = [];
  const shown = (r: PlannedRow): boolean => r.inRun && r.action !== 'invalid' && (r.action !== 'create' || r.reason !== 'new gateway') && !(r.action === 'skip' && /^up to date/.test(r.reason));
  for (const r of plan.rows) {
    if (!shown(r)) continue;
    const color = ACTION_COLOR[r.action];
    const act = color ? paint(color, r.action) : r.action;
    out.push(`  ${location(r.ref.file, r.ref.line)}  ${r.ref.key}  ${act}  ${r.reason}`);
    for (const c of r.changes ?? []) out.push(`      ${c.field}: ${showValue(c.field, c.before)} -> ${showValue(c.field, c.after)}`);
  }
  return out;
}

function quotaBlock(plan: Plan): string[] {
  if (plan.command === 'destroy' || plan.quota.length === 0) return [];
  return plan.quota.map((q) => {
    const existing = q.existing === undefined ? 'existing not counted (offline)' : `${q.existing} existing`;
    const after = q.existing === undefined ? undefined : q.existing + q.creates;
    const head = after === undefined ? '' : `  (${Math.max(0, q.quota - after)} left after this run)`;
    const basis =
      q.basis === 'given'
        ? 'given (--quota)'
        : q.basis === 'learned'
          ? `learned from Resource.QuotaFull${q.learnedAt ? ` on ${q.learnedAt.slice(0, 10)}` : ''}`
          : `assumed (the documented default; --quota ${q.region}=N if yours differs)`;
    return `  ${q.region.padEnd(16)} ${existing} + ${q.creates} new${q.deletes ? ` - ${q.deletes} deleted` : ''} of ${q.quota}, ${basis}${head}`;
  });
}

/** `file`: how to name the manifest in the header (relative to the working directory when under it); default as planned. */
export function renderPlanText(plan: Plan, opts: { color: boolean; file?: string }): string {
  const paint: Paint = opts.color ? (code, s) => `\x1b[${code}m${s}\x1b[0m` : (_c, s) => s;
  const mode = plan.online ? 'online' : 'offline: existing gateways, quota use and region availability not checked';
  const manifestRows = plan.rows.filter((r) => !r.orphan && !r.outside).length;
  const what = plan.command === 'destroy' ? `${plan.rows.length} journal row(s)` : `${plan.manifest.format}, ${manifestRows} row(s), ${mode}`;
  const out: string[] = [paint(ANSI.bold, `cgw-batch ${plan.command}: ${opts.file ?? plan.manifest.file} (${what})`)];
  if (plan.target) out.push(`account ${plan.target.accountId ?? '(unknown)'} at ${plan.target.endpoint}`);
  const f = plan.flags;
  const flags = [f.allowReplace && '--allow-replace', f.prune && '--prune', f.retryFailed && '--retry-failed', f.skipInvalid && '--skip-invalid', f.only && `--only ${f.only}`].filter(Boolean);
  if (flags.length) out.push(`with ${flags.join(' ')}`);
  out.push('', ...table(plan, paint));

  const actions = actionBlock(plan, paint);
  if (actions.length > 0) out.push('', paint(ANSI.bold, 'Actions:'), ...actions);
  const quota = quotaBlock(plan);
  if (quota.length > 0) out.push('', paint(ANSI.bold, 'Quota (customer gateways per region):'), ...quota);

  // Every issue once: file-level first (they come from the loader), then rows; stable sort keeps line order.
  const all: Issue[] = [...plan.issues];
  for (const r of plan.rows) all.push(...r.issues);
  all.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.line - b.line);
  let current: Severity | undefined;
  for (const issue of all) {
    if (issue.severity !== current) {
      current = issue.severity;
      const n = all.filter((x) => x.severity === current).length;
      out.push('', paint(ANSI.bold, `${SEVERITY_HEADING[current]} (${n}):`));
    }
    out.push(formatIssue(issue, paint));
  }

  const s = plan.summary;
  out.push('');
  const outsideRows = plan.rows.filter((r) => r.outside).length;
  if (outsideRows > 0) {
    out.push(`${outsideRows} row(s) of the journal are not in this manifest (it is not the journal's own): kept as they are, never deleted.`);
  }
  const onlyLeftOut = s.notInRun - outsideRows;
  const notInRun = onlyLeftOut > 0 ? ` (${onlyLeftOut} row(s) not in this run: --only)` : '';
  if ((s.invalid > 0 || s.blocked > 0) && plan.command === 'import') {
    out.push(paint(ANSI.red, `${s.invalid + s.blocked} row(s) conflict or are invalid: they are not imported (the errors above say why).${notInRun}`));
  } else if (s.invalid > 0 || s.blocked > 0) {
    const parts = [s.invalid > 0 && `${s.invalid} invalid`, s.blocked > 0 && `${s.blocked} blocked`].filter(Boolean).join(' and ');
    out.push(
      paint(
        ANSI.red,
        `${parts} row(s): apply refuses to run until they are fixed (or allowed with the flag their reason names); ` +
          `--skip-invalid runs the other rows and leaves them out.${notInRun}`,
      ),
    );
  } else {
    const parts = PLAN_ACTIONS.filter((a) => a !== 'invalid' && a !== 'blocked' && s[a] > 0).map((a) => `${s[a]} ${a}`);
    out.push(paint(ANSI.green, `No errors. ${parts.length > 0 ? parts.join(', ') : 'Nothing to do'}.${notInRun}`));
  }
  return out.join('\n') + '\n';
}
