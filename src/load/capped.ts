// Bounded loader warnings: one cause (a column typed as General) must not print one warning per row of a large sheet.
import type { Issue } from '../types.js';

/** Warnings and notes listed one by one per group (code + column); the rest are counted in one summary. */
export const LISTED_PER_GROUP = 5;

interface Group {
  listed: number;
  more: number;
  first?: Issue;
}

/**
 * Errors always go to their row (each row must be fixed). Warnings and notes go to their row for the first
 * LISTED_PER_GROUP of a group; later ones are counted, and `summaries()` returns one file-level warning per group
 * naming how many more there are and where the first of them is.
 */
export class CappedIssues {
  private readonly groups = new Map<string, Group>();

  add(into: Issue[], issue: Issue, group = `${issue.code}|${issue.field}`): void {
    if (issue.severity === 'error') {
      into.push(issue);
      return;
    }
    let g = this.groups.get(group);
    if (!g) this.groups.set(group, (g = { listed: 0, more: 0 }));
    if (g.listed < LISTED_PER_GROUP) {
      g.listed++;
      into.push(issue);
      return;
    }
    if (g.more === 0) g.first = issue;
    g.more++;
  }

  summaries(): Issue[] {
    const out: Issue[] = [];
    for (const g of this.groups.values()) {
      if (g.more === 0 || !g.first) continue;
      const f = g.first;
      const from = f.cell !== undefined ? `cell ${f.cell}` : `line ${f.line}`;
      const issue: Issue = {
        severity: f.severity,
        code: f.code,
        field: f.field,
        message: `${g.more} more value${g.more > 1 ? 's' : ''} in ${f.field} like the ${LISTED_PER_GROUP} listed, from ${from} on (not listed one by one; fix the column as a whole)`,
        file: f.file,
        line: f.line,
      };
      if (f.cell !== undefined) issue.cell = f.cell;
      out.push(issue);
    }
    return out;
  }
}
