// An in-memory journal with the executor's JournalPort shape, recording every patch in order.
import type { JournalEntry, JournalPort } from '../../src/execute/execute.js';

export class MemoryJournal implements JournalPort {
  rows = new Map<string, JournalEntry & Record<string, unknown>>();
  log: Array<{ key: string; patch: Record<string, unknown> }> = [];
  get(key: string): JournalEntry | undefined {
    return this.rows.get(key);
  }
  async record(key: string, patch: Record<string, unknown>): Promise<unknown> {
    this.log.push({ key, patch: { ...patch } });
    const prev = this.rows.get(key) ?? ({ status: 'pending', token: '', generation: 1, attempts: 0, requestIds: [] } as JournalEntry & Record<string, unknown>);
    const next = { ...prev };
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) delete (next as Record<string, unknown>)[k];
      else (next as Record<string, unknown>)[k] = v;
    }
    this.rows.set(key, next);
    return next;
  }
}
