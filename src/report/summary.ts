// Run summary: counts by status, region and error code, and the terminal table the CLI prints at the end.
import type { RowResult } from '../types.js';
import { colors } from '../color.js';
import { failureLine } from './outcome.js';
import { rowOk } from './truth.js';

export interface Summary {
  total: number;
  byStatus: Record<string, number>;
  byRegion: Record<string, Record<string, number>>;
  failedByCode: Record<string, number>;
}

const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);

export function summarize(results: RowResult[]): Summary {
  const s: Summary = { total: results.length, byStatus: {}, byRegion: {}, failedByCode: {} };
  for (const r of results) {
    bump(s.byStatus, r.status);
    bump((s.byRegion[r.ref.region] ??= {}), r.status);
    if (r.status === 'failed' || r.status === 'invalid' || r.status === 'unknown') bump(s.failedByCode, r.errorCode ?? 'Unknown');
  }
  return s;
}

// Column order in the table; only statuses that occur are shown, but `failed` always is (0 is good news).
const ORDER = ['created', 'adopted', 'updated', 'deleted', 'skipped', 'failed', 'unknown', 'in-flight', 'pending', 'invalid'];

export interface SummaryTableOptions {
  color: boolean;
  /** Failed-row lines shown before "... and N more". */
  maxFailed?: number;
}

/**
 * The table of the rows this run was asked to do (by status and region), then the rows that did not end as planned.
 * Rows `--only` left out are counted in one line.
 */
export function renderSummaryTable(all: RowResult[], opts: SummaryTableOptions): string {
  const c = colors(opts.color);
  const maxFailed = opts.maxFailed ?? 50;
  const results = all.filter((r) => r.inRun);
  const sum = summarize(results);
  const statuses = [
    ...ORDER.filter((st) => st === 'failed' || (sum.byStatus[st] ?? 0) > 0),
    ...Object.keys(sum.byStatus).filter((st) => !ORDER.includes(st)).sort(),
  ];
  const regions = Object.keys(sum.byRegion).sort();
  const header = ['region', ...statuses, 'total'];
  const body = regions.map((reg) => {
    const m = sum.byRegion[reg] ?? {};
    return [reg, ...statuses.map((st) => String(m[st] ?? 0)), String(Object.values(m).reduce((a, b) => a + b, 0))];
  });
  const totals = ['total', ...statuses.map((st) => String(sum.byStatus[st] ?? 0)), String(sum.total)];
  const table = [header, ...body, totals];
  const widths = header.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));

  // Pad on the plain text first, colour afterwards, so ANSI codes never skew the alignment.
  const paint = (row: string[], rowIdx: number) =>
    row
      .map((cell, i) => {
        const padded = i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0);
        if (rowIdx === 0 || rowIdx === table.length - 1) return c.bold(padded);
        const st = header[i];
        if (st === 'failed' && cell !== '0') return c.red(padded);
        if ((st === 'created' || st === 'adopted') && cell !== '0') return c.green(padded);
        return padded;
      })
      .join('  ')
      .trimEnd();

  const lines = table.map(paint);
  const skipped = all.length - results.length;
  if (skipped > 0) lines.push(c.dim(`${skipped} row(s) not in this run (--only): their last state is kept in the reports`));
  const failed = results.filter((r) => !rowOk(r));
  if (failed.length > 0) {
    lines.push('', c.bold(c.red(`Rows not done (${failed.length}):`)));
    for (const r of failed.slice(0, maxFailed)) lines.push('  ' + failureLine(r));
    if (failed.length > maxFailed) lines.push(c.dim(`  ... and ${failed.length - maxFailed} more; see results.csv`));
  }
  return lines.join('\n') + '\n';
}
