// An in-memory journal behind the executor's JournalPort, changing rows with the real journal's patchRow (so it keeps
// and clears exactly the fields the file journal does), recording every patch in order; prior() feeds the planner.
import type { JournalEntry, JournalPort } from '../../src/execute/execute.js';
import { toPriorRows } from '../../src/state/journal.js';
import { patchRow, type JournalRow } from '../../src/state/records.js';
import type { JournalPatch, PriorRow } from '../../src/types.js';

export class MemoryJournal implements JournalPort {
  rows = new Map<string, JournalRow>();
  log: Array<{ key: string; patch: JournalPatch }> = [];
  get(key: string): JournalEntry | undefined {
    return this.rows.get(key);
  }
  async record(key: string, patch: JournalPatch): Promise<JournalRow> {
    this.log.push({ key, patch: { ...patch } });
    const next = patchRow(this.rows.get(key), key, patch);
    this.rows.set(key, next);
    return next;
  }
  /** Set to make every later assertHeld() throw it, as a real journal does once its lease is lost. */
  lost: Error | undefined;
  /** How many times the executor asked before a cloud call. */
  asserts = 0;
  assertHeld(): void {
    this.asserts++;
    if (this.lost) throw this.lost;
  }
  /** What the planner reads from this journal (the same projection as the real one). */
  prior(): Map<string, PriorRow> {
    return toPriorRows(this.rows);
  }
}
