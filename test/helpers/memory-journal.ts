// An in-memory journal with the executor's JournalPort shape, recording every patch in order; prior() feeds the planner.
import type { JournalEntry, JournalPort } from '../../src/execute/execute.js';
import { toPriorRows } from '../../src/state/journal.js';
import type { JournalRow } from '../../src/state/records.js';
import type { PriorRow } from '../../src/types.js';

export class MemoryJournal implements JournalPort {
  rows = new Map<string, JournalEntry & Record<string, unknown>>();
  log: Array<{ key: string; patch: Record<string, unknown> }> = [];
  get(key: string): JournalEntry | undefined {
    return this.rows.get(key);
  }
  async record(key: string, patch: Record<string, unknown>): Promise<unknown> {
    this.log.push({ key, patch: { ...patch } });
    const prev = this.rows.get(key) ?? ({ status: 'pending', line: 0, token: '', generation: 1, attempts: 0, requestIds: [] } as unknown as JournalEntry & Record<string, unknown>);
    const next = { ...prev };
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) delete (next as Record<string, unknown>)[k];
      else (next as Record<string, unknown>)[k] = v;
    }
    this.rows.set(key, next);
    return next;
  }
  /** What the planner reads from this journal (the same projection as the real one). */
  prior(): Map<string, PriorRow> {
    const rows = new Map<string, JournalRow>();
    for (const [key, r] of this.rows) rows.set(key, { key, region: key.split('/')[0]!, ip: key.split('/')[1]!, ...r } as unknown as JournalRow);
    return toPriorRows(rows);
  }
}
