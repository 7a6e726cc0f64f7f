// Renders a Plan for people (header, table, actions with reasons, issues, quota) and as JSON for tools. Pure.
// Every name and value from a file or a server goes through printable(): a cell or an answer cannot drive the terminal.
import { printable as p } from '../text.js';
import { PLAN_ACTIONS, type FieldChange, type Issue, type Plan, type PlanAction, type PlanSummary, type PlannedResource, type PlannedRow, type ResourceKind, type Severity } from '../types.js';

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
  /** A site row's second customer gateway and IPsec connection, each with its own action and reason. */
  gateway2?: PlanJsonResource;
  connection?: PlanJsonResource;
}

export interface PlanJsonResource {
  key: string;
  action: PlanAction;
  reason: string;
  needs?: string;
  existingId?: string;
  changes?: FieldChange[];
  generation?: number;
  adopted?: boolean;
  replacesKey?: string;
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
  /** Per resource (`cgw`, `cgw2`, `vco`): only in plans with site rows. */
  resources?: Plan['resources'];
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
      if (r.gateway2) out.gateway2 = resourceJson(r.gateway2);
      if (r.connection) out.connection = resourceJson(r.connection);
      return out;
    }),
    summary: plan.summary,
    ...(plan.resources ? { resources: plan.resources } : {}),
    quota: plan.quota,
    issues: plan.issues.map((i) => ({ ...jsonIssue(i), line: i.line })),
  };
}

function resourceJson(p: PlannedResource): PlanJsonResource {
  const out: PlanJsonResource = { key: p.key, action: p.action, reason: p.reason };
  if (p.needs) out.needs = p.needs;
  if (p.existingId !== undefined) out.existingId = p.existingId;
  if (p.changes) out.changes = p.changes;
  if (p.generation !== undefined) out.generation = p.generation;
  if (p.adopted !== undefined) out.adopted = p.adopted;
  if (p.replacesKey !== undefined) out.replacesKey = p.replacesKey;
  return out;
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
  if (cell) return `${p(file)}:${p(cell)}`;
  return line > 0 ? `${p(file)}:${line}` : p(file);
}

/** One issue as `file:line  field  code  message` (two spaces between columns; `-` for no field). */
export function formatIssue(i: Issue, paint: Paint = (_c, s) => s): string {
  return `${location(i.file, i.line, i.cell)}  ${p(i.field) || '-'}  ${paint(SEVERITY_COLOR[i.severity], p(i.code))}  ${p(i.message)}`;
}

const QUOTED = new Set(['name', 'description']);
/** A value quoted as JSON (which escapes C0 controls but leaves C1, bidi and zero-width characters), then printable. */
function showValue(field: string, v: string | undefined): string {
  if (v === undefined) return '(none)';
  return p(QUOTED.has(field) || field.startsWith('tag:') ? JSON.stringify(v) : v);
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
  const clip = (r: string): string => {
    const shown = p(r);
    return shown.length > MAX ? shown.slice(0, MAX - 1) + '…' : shown;
  };
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
  const upToDate = (x: { action: PlanAction; reason: string }): boolean => x.action === 'skip' && /^up to date/.test(x.reason);
  const shown = (r: PlannedRow): boolean => r.inRun && r.action !== 'invalid' && (r.action !== 'create' || r.reason !== 'new gateway') && !upToDate(r);
  const act = (a: PlanAction): string => {
    const color = ACTION_COLOR[a];
    return color ? paint(color, a) : a;
  };
  const changes = (list: readonly FieldChange[] | undefined, indent: string): void => {
    for (const c of list ?? []) out.push(`${indent}${p(c.field)}: ${showValue(c.field, c.before)} -> ${showValue(c.field, c.after)}`);
  };
  for (const r of plan.rows) {
    const parts = siteParts(r);
    if (parts.length > 0) {
      // A site row: one line naming each resource's action, then each resource with its reason and changes.
      if (!r.inRun || r.action === 'invalid' || (upToDate(r) && parts.every((x) => upToDate(x.part)))) continue;
      const all: Array<[ResourceKind, { action: PlanAction; reason: string; changes?: FieldChange[] }]> = [['cgw', r], ...parts.map((x): [ResourceKind, PlannedResource] => [x.kind, x.part])];
      out.push(`  ${location(r.ref.file, r.ref.line)}  ${p(r.ref.key)}  ${all.map(([k, x]) => `${act(x.action)} ${k}`).join(' + ')}`);
      for (const [k, x] of all) {
        out.push(`      ${k.padEnd(4)}  ${p(x.reason)}`);
        changes(x.changes, '          ');
      }
      continue;
    }
    if (!shown(r)) continue;
    out.push(`  ${location(r.ref.file, r.ref.line)}  ${p(r.ref.key)}  ${act(r.action)}  ${p(r.reason)}`);
    changes(r.changes, '      ');
  }
  return out;
}

function siteParts(r: PlannedRow): Array<{ kind: ResourceKind; part: PlannedResource }> {
  const out: Array<{ kind: ResourceKind; part: PlannedResource }> = [];
  if (r.gateway2) out.push({ kind: 'cgw2', part: r.gateway2 });
  if (r.connection) out.push({ kind: 'vco', part: r.connection });
  return out;
}

/** Site plans: what happens to each kind of resource (`vco  2 create, 1 update`). */
function resourceBlock(plan: Plan): string[] {
  if (!plan.resources) return [];
  const label: Record<ResourceKind, string> = { cgw: 'customer gateways', cgw2: 'second customer gateways, ip_2', vco: 'IPsec connections' };
  return (Object.keys(plan.resources) as ResourceKind[]).flatMap((k) => {
    const s = plan.resources![k];
    if (s.rows === 0) return [];
    const parts = PLAN_ACTIONS.filter((a) => s[a] > 0).map((a) => `${s[a]} ${a}`);
    return [`  ${k.padEnd(5)} ${parts.length > 0 ? parts.join(', ') : 'nothing in this run'}  (${label[k]})`];
  });
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
          : `assumed (the documented default; --quota ${p(q.region)}=N if yours differs)`;
    return `  ${p(q.region).padEnd(16)} ${existing} + ${q.creates} new${q.deletes ? ` - ${q.deletes} deleted` : ''} of ${q.quota}, ${basis}${head}`;
  });
}

/** `file`: how to name the manifest in the header (relative to the working directory when under it); default as planned. */
export function renderPlanText(plan: Plan, opts: { color: boolean; file?: string }): string {
  const paint: Paint = opts.color ? (code, s) => `\x1b[${code}m${s}\x1b[0m` : (_c, s) => s;
  const mode = plan.online ? 'online' : 'offline: existing gateways, quota use and region availability not checked';
  const manifestRows = plan.rows.filter((r) => !r.orphan && !r.outside).length;
  const what = plan.command === 'destroy' ? `${plan.rows.length} manifest row(s) in the journal` : `${plan.manifest.format}, ${manifestRows} row(s), ${mode}`;
  const out: string[] = [paint(ANSI.bold, `cgw-batch ${plan.command}: ${p(opts.file ?? plan.manifest.file)} (${what})`)];
  if (plan.target) out.push(`account ${p(plan.target.accountId ?? '(unknown)')} at ${p(plan.target.endpoint)}`);
  const f = plan.flags;
  const flags = [f.allowReplace && '--allow-replace', f.prune && '--prune', f.retryFailed && '--retry-failed', f.skipInvalid && '--skip-invalid', f.only && `--only ${p(f.only)}`].filter(Boolean);
  if (flags.length) out.push(`with ${flags.join(' ')}`);
  out.push('', ...table(plan, paint));

  const resources = resourceBlock(plan);
  if (resources.length > 0) out.push('', paint(ANSI.bold, 'Resources:'), ...resources);
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
    // Site plans: a row whose gateway is up to date may still create or change its connection.
    const vco = plan.resources?.vco;
    const vcoParts = vco ? PLAN_ACTIONS.filter((a) => a !== 'skip' && vco[a] > 0).map((a) => `${vco[a]} ${a}`) : [];
    const sites = vcoParts.length > 0 ? ` Connections: ${vcoParts.join(', ')}.` : '';
    out.push(paint(ANSI.green, `No errors. ${parts.length > 0 ? parts.join(', ') : 'Nothing to do'}.${sites}${notInRun}`));
  }
  return out.join('\n') + '\n';
}
