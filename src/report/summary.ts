// Run summary: rows counted by outcome (overall, per region) and failed rows by error code, and the terminal table
// the CLI prints at the end. Every count is report/outcome.ts's countOutcomes.
import { colors } from '../color.js';
import { printable } from '../text.js';
import { countOutcomes, failureLine, isOk, OUTCOMES, rowError, type Outcome } from './outcome.js';
import type { ReportRow } from './truth.js';

export interface Summary {
  total: number;
  byOutcome: Partial<Record<Outcome, number>>;
  byRegion: Record<string, Partial<Record<Outcome, number>>>;
  /** Rows that did not end well (failed, unknown, invalid, blocked), by their error code. */
  failedByCode: Record<string, number>;
}

export function summarize(rows: readonly ReportRow[]): Summary {
  const regions = new Map<string, Outcome[]>();
  for (const r of rows) regions.set(r.ref.region, [...(regions.get(r.ref.region) ?? []), r.outcome]);
  const failedByCode: Record<string, number> = {};
  for (const r of rows) {
    if (r.outcome === 'failed' || r.outcome === 'unknown' || r.outcome === 'invalid' || r.outcome === 'blocked') {
      const code = rowError(r).code ?? (r.outcome === 'blocked' ? 'Cgw.Blocked' : 'Unknown');
      failedByCode[code] = (failedByCode[code] ?? 0) + 1;
    }
  }
  return {
    total: rows.length,
    byOutcome: countOutcomes(rows.map((r) => r.outcome)),
    byRegion: Object.fromEntries([...regions].map(([region, os]) => [region, countOutcomes(os)])),
    failedByCode,
  };
}

export interface SummaryTableOptions {
  color: boolean;
  /** Failed-row lines shown before "... and N more". */
  maxFailed?: number;
}

/**
 * The table of the rows this run was asked to do (by outcome and region), then the rows that did not end as planned.
 * Only outcomes that occur are columns, but `failed` always is (0 is good news). Rows `--only` left out are counted in
 * one line.
 */
export function renderSummaryTable(all: readonly ReportRow[], opts: SummaryTableOptions): string {
  const c = colors(opts.color);
  const maxFailed = opts.maxFailed ?? 50;
  const results = all.filter((r) => r.inRun);
  const sum = summarize(results);
  const outcomes = OUTCOMES.filter((o) => o === 'failed' || (sum.byOutcome[o] ?? 0) > 0);
  const regions = Object.keys(sum.byRegion).sort();
  const header = ['region', ...outcomes, 'total'];
  const body = regions.map((reg) => {
    const m = sum.byRegion[reg] ?? {};
    // A region label is a manifest's cell: shown printable (a cell must not drive the terminal).
    return [printable(reg), ...outcomes.map((o) => String(m[o] ?? 0)), String(Object.values(m).reduce((a, b) => a + b, 0))];
  });
  const totals = ['total', ...outcomes.map((o) => String(sum.byOutcome[o] ?? 0)), String(sum.total)];
  const table = [header, ...body, totals];
  const widths = header.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));

  // Pad on the plain text first, colour afterwards, so ANSI codes never skew the alignment.
  const paint = (row: string[], rowIdx: number) =>
    row
      .map((cell, i) => {
        const padded = i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0);
        if (rowIdx === 0 || rowIdx === table.length - 1) return c.bold(padded);
        const o = header[i];
        if (o === 'failed' && cell !== '0') return c.red(padded);
        if ((o === 'created' || o === 'adopted') && cell !== '0') return c.green(padded);
        return padded;
      })
      .join('  ')
      .trimEnd();

  const lines = table.map(paint);
  const skipped = all.length - results.length;
  if (skipped > 0) lines.push(c.dim(`${skipped} row(s) not in this run (--only): their last state is kept in the reports`));
  const failed = results.filter((r) => !isOk(r.outcome));
  if (failed.length > 0) {
    lines.push('', c.bold(c.red(`Rows not done (${failed.length}):`)));
    for (const r of failed.slice(0, maxFailed)) lines.push('  ' + failureLine(r));
    if (failed.length > maxFailed) lines.push(c.dim(`  ... and ${failed.length - maxFailed} more; see results.csv`));
  }
  return lines.join('\n') + '\n';
}
