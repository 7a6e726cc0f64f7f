// What every report renderer is given: every row's truth, the input columns, and this run's block.
import type { Outcome } from './outcome.js';
import type { ReportRow } from './truth.js';
import type { WrittenProfile } from '../types.js';

/** What this run did, beside the rows' truth: results.json's `run` block and the per-run file. */
export interface RunBlock {
  command: string;
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  stopReason?: string;
  /** Rows by what happened to them in this run (created, unchanged, failed, not started, not in this run, ...). */
  counts: Partial<Record<Outcome, number>>;
  requests?: number;
  throttled?: number;
  /** Who and where: the account and the endpoint. */
  accountId?: string;
  endpoint?: string;
}

export interface ReportInput {
  /** Echo column names (input columns) in manifest order. */
  columns: string[];
  /** One per row, plan order: every row's current truth. */
  results: ReportRow[];
  /** This run's own id (none when the reports are written again from the journal). */
  runId?: string;
  /** The journal's own id, the seed of every ClientToken: the same for every run of the journal. */
  journalId?: string;
  manifest: string;
  /** 'apply' | 'destroy' | 'import' | 'report' ... */
  command?: string;
  run?: RunBlock;
  /** The manifest's IPsec profiles (results.xlsx writes them as its Profiles sheet). */
  profiles?: readonly WrittenProfile[];
}
