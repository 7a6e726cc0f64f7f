// The state module's public surface: the locked journal, its read-only reader and ClientToken derivation.
export { Journal, readJournal, toPriorRows, defaultStatePath, manifestRef } from './journal.js';
export type { JournalHeader, JournalRow, OpenOptions, JournalStats } from './journal.js';
export { clientToken } from './token.js';
