// Renders a Plan for people (summary table, changes, issues) and as the JSON contract other tools parse. Pure.
import type { FieldChange, Issue, Plan, PlanAction, PlanSummary, PlannedRow, Severity } from '../types.js';

export interface PlanJsonIssue {
  severity: Severity;
  code: string;
  field: string;
  message: string;
}

export interface PlanJsonRow {
  line: number;
  region: string;
  ip: string;
  action: PlanAction;
  issues: PlanJsonIssue[];
  existingId?: string;
  changes?: FieldChange[];
}

/** The `--format json` document. Keys listed in issue 3 are a contract: do not rename or drop them. */
export interface PlanJson {
  rows: PlanJsonRow[];
  summary: PlanSummary;
  /** File-level issues (loader warnings, unknown columns), with the line they refer to (0 = the whole file). */
  issues: Array<PlanJsonIssue & { line: number }>;
}

// --- secret hygiene ---------------------------------------------------------------------------------------------

// Messages are built without AuthKeys; this is a second line of defence for text that came from elsewhere
// (loader messages, names that happen to contain the key). Very short keys would mask ordinary words, as in Redactor.
function scrubber(r: PlannedRow): (s: string) => string {
  const key = r.row?.spec.authKey;
  if (key === undefined || key.length < 4) return (s) => s;
  return (s) => (s.includes(key) ? s.split(key).join('***') : s);
}

function planSecrets(plan: Plan): string[] {
  const out = new Set<string>();
  for (const r of plan.rows) {
    const k = r.row?.spec.authKey;
    if (k !== undefined && k.length >= 4) out.add(k);
  }
  return [...out];
}

function scrubAll(secrets: readonly string[]): (s: string) => string {
  return (s) => {
    for (const k of secrets) if (s.includes(k)) s = s.split(k).join('***');
    return s;
  };
}

// --- JSON -------------------------------------------------------------------------------------------------------

const jsonIssue = (i: Issue, scrub: (s: string) => string): PlanJsonIssue => ({
  severity: i.severity,
  code: i.code,
  field: i.field,
  message: scrub(i.message),
});

function scrubChange(c: FieldChange, scrub: (s: string) => string): FieldChange {
  const out: FieldChange = { field: c.field };
  if (c.before !== undefined) out.before = scrub(c.before);
  if (c.after !== undefined) out.after = scrub(c.after);
  return out;
}

export function planToJson(plan: Plan): PlanJson {
  const rows = plan.rows.map((r): PlanJsonRow => {
    const scrub = scrubber(r);
    const out: PlanJsonRow = {
      line: r.line,
      region: r.region,
      ip: r.ip,
      action: r.action,
      issues: r.issues.map((i) => jsonIssue(i, scrub)),
    };
    if (r.existingId !== undefined) out.existingId = r.existingId;
    if (r.changes) out.changes = r.changes.map((c) => scrubChange(c, scrub));
    return out;
  });
  const s = plan.summary;
  const fileScrub = plan.issues.length > 0 ? scrubAll(planSecrets(plan)) : (x: string) => x;
  return {
    rows,
    // Contract keys first, in the documented order; the day-2 actions follow.
    summary: {
      rows: s.rows,
      create: s.create,
      adopt: s.adopt,
      skip: s.skip,
      invalid: s.invalid,
      update: s.update,
      replace: s.replace,
      orphan: s.orphan,
    },
    issues: plan.issues.map((i) => ({ ...jsonIssue(i, fileScrub), line: i.line })),
  };
}

// --- text -------------------------------------------------------------------------------------------------------

type Paint = (code: string, s: string) => string;
const ANSI = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33', cyan: '36', magenta: '35' } as const;

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
const SEVERITY_HEADING: Record<Severity, string> = { error: 'Errors', warning: 'Warnings', info: 'Notes' };
const SEVERITY_COLOR: Record<Severity, string> = { error: ANSI.red, warning: ANSI.yellow, info: ANSI.cyan };

/** `file:line`, or just `file` for issues about the whole file (line 0). */
function location(file: string, line: number): string {
  return line > 0 ? `${file}:${line}` : file;
}

/** One issue as `file:line  field  code  message` (two spaces between columns; `-` for no field). */
export function formatIssue(i: Issue, paint: Paint = (_c, s) => s): string {
  return `${location(i.file, i.line)}  ${i.field || '-'}  ${paint(SEVERITY_COLOR[i.severity], i.code)}  ${i.message}`;
}

const QUOTED = new Set(['name', 'description']);
function showValue(field: string, v: string | undefined): string {
  if (v === undefined) return '(none)';
  return QUOTED.has(field) || field.startsWith('tag:') ? JSON.stringify(v) : v;
}

function table(plan: Plan, paint: Paint): string[] {
  const extra = (['update', 'replace', 'orphan'] as const).filter((a) => plan.summary[a] > 0);
  const cols: Array<keyof PlanSummary> = ['create', 'adopt', 'skip', 'invalid', ...extra];
  const regions = Object.keys(plan.byRegion).sort();
  // A garbage "region" can be a 60 KB cell: label the table with a clipped form (the row's own issue names it).
  const MAX = 40;
  const clip = (r: string): string => (r.length > MAX ? r.slice(0, MAX - 1) + '…' : r);
  const width = Math.max(6, ...regions.map((r) => clip(r).length));
  const line = (label: string, s: PlanSummary): string =>
    '  ' + clip(label).padEnd(width) + cols.map((c) => '  ' + String(s[c]).padStart(Math.max(c.length, 5))).join('');
  const head = '  ' + 'region'.padEnd(width) + cols.map((c) => '  ' + c.padStart(Math.max(c.length, 5))).join('');
  const out = [paint(ANSI.bold, head)];
  for (const r of regions) out.push(line(r, plan.byRegion[r]!));
  out.push(paint(ANSI.bold, line('total', plan.summary)));
  return out;
}

const ACTION_NOTE: Partial<Record<PlanAction, string>> = {
  replace: '  (delete + create; needs --allow-replace)',
  orphan: '  (no longer in the manifest; deleted only with --prune)',
};

function changeBlock(plan: Plan, paint: Paint): string[] {
  const out: string[] = [];
  for (const r of plan.rows) {
    if (r.action !== 'update' && r.action !== 'replace' && r.action !== 'orphan') continue;
    const scrub = scrubber(r);
    const color = r.action === 'update' ? ANSI.yellow : r.action === 'replace' ? ANSI.magenta : ANSI.red;
    out.push(
      `  ${location(r.file, r.line)}  ${r.key}  ${paint(color, r.action)}${r.existingId ? ' ' + r.existingId : ''}${ACTION_NOTE[r.action] ?? ''}`,
    );
    for (const c of r.changes ?? []) {
      out.push(`      ${c.field}: ${scrub(showValue(c.field, c.before))} -> ${scrub(showValue(c.field, c.after))}`);
    }
  }
  return out;
}

export function renderPlanText(plan: Plan, opts: { color: boolean }): string {
  const paint: Paint = opts.color ? (code, s) => `\x1b[${code}m${s}\x1b[0m` : (_c, s) => s;
  const mode = plan.online ? 'online' : 'offline: existing gateways, quota use and region availability not checked';
  const manifestRows = plan.rows.filter((r) => r.action !== 'orphan').length;
  const out: string[] = [
    paint(ANSI.bold, `cgw-batch plan: ${plan.manifest.file} (${plan.manifest.format}, ${manifestRows} row(s), ${mode})`),
    '',
    ...table(plan, paint),
  ];

  const changes = changeBlock(plan, paint);
  if (changes.length > 0) out.push('', paint(ANSI.bold, 'Changes:'), ...changes);

  // Every issue once: file-level first (they come from the loader), then rows; stable sort keeps line order.
  const all: Array<{ issue: Issue; scrub: (s: string) => string }> = [];
  const fileScrub = plan.issues.length > 0 ? scrubAll(planSecrets(plan)) : (x: string) => x;
  for (const i of plan.issues) all.push({ issue: i, scrub: fileScrub });
  for (const r of plan.rows) {
    const scrub = scrubber(r);
    for (const i of r.issues) all.push({ issue: i, scrub });
  }
  all.sort((a, b) => SEVERITY_ORDER[a.issue.severity] - SEVERITY_ORDER[b.issue.severity] || a.issue.line - b.issue.line);
  let current: Severity | undefined;
  for (const { issue, scrub } of all) {
    if (issue.severity !== current) {
      current = issue.severity;
      const n = all.filter((x) => x.issue.severity === current).length;
      out.push('', paint(ANSI.bold, `${SEVERITY_HEADING[current]} (${n}):`));
    }
    out.push(formatIssue({ ...issue, message: scrub(issue.message) }, paint));
  }

  const s = plan.summary;
  out.push('');
  if (s.invalid > 0) {
    out.push(paint(ANSI.red, `${s.invalid} invalid row(s): fix the errors above (nothing is created while a row is invalid, unless --skip-invalid).`));
  } else {
    const parts = (['create', 'adopt', 'update', 'replace', 'skip', 'orphan'] as const)
      .filter((a) => s[a] > 0)
      .map((a) => `${s[a]} ${a}`);
    out.push(paint(ANSI.green, `No errors. ${parts.length > 0 ? parts.join(', ') : 'Nothing to do'}.`));
  }
  return out.join('\n') + '\n';
}
