// Per-row reports (results.csv, results.json, junit.xml) as pure renderers over every row's current truth.
import type { RowResult } from '../types.js';
import type { ReportInput } from './input.js';
import { csvDocument, type Cell } from '../csv-cells.js';
import { cleanMessage } from './redact.js';
import { summarize } from './summary.js';
import type { ReportRow } from './truth.js';
import type { ResultsTable } from './xlsx.js';

/** Our columns after the echoed input columns and `line` (results.csv and results.xlsx share this order). */
export const RESULT_COLUMNS = [
  'status',
  'customer_gateway_id',
  'error_code',
  'error_message',
  'request_id',
  'request_ids',
  'attempts',
  'duration_ms',
  'plan_action',
  'in_this_run',
  'run_note',
] as const;
const OWN = new Set<string>(['line', ...RESULT_COLUMNS]);

/** Echo column header as printed: an input column named like one of ours becomes `input:<name>`. */
export function echoHeader(name: string): string {
  return OWN.has(name.trim().toLowerCase()) ? `input:${name}` : name;
}

/**
 * The header of results.csv and results.xlsx: the input columns first (so the file, filtered and saved, is the next
 * manifest), then `line` and our result columns.
 */
export function csvHeader(columns: readonly string[]): string[] {
  return [...columns.map(echoHeader), 'line', ...RESULT_COLUMNS];
}

/** Our cells of one row, in RESULT_COLUMNS order, as text (the xlsx report writes the same strings). */
export function resultCells(r: RowResult): string[] {
  return [
    r.status,
    r.gatewayId ?? '',
    r.errorCode ?? '',
    cleanMessage(r.errorMessage),
    r.requestIds.at(-1) ?? '',
    r.requestIds.join(' '),
    String(r.attempts),
    String(r.durationMs),
    r.action,
    r.inRun ? 'yes' : 'no',
    cleanMessage(r.note),
  ];
}

/** UTF-8 BOM + CRLF, every string quoted and formula-escaped, numbers bare. See csv.ts for the escaping rule. */
export function resultsCsv(input: ReportInput): string {
  const rows: Cell[][] = input.results.map((r) => {
    const own: Cell[] = resultCells(r);
    own[6] = r.attempts;
    own[7] = r.durationMs;
    return [...input.columns.map((c) => r.echo[c] ?? ''), r.ref.line, ...own];
  });
  return csvDocument(csvHeader(input.columns), rows);
}

/**
 * results.xlsx's table: results.csv's columns and cells, every cell text. Secrets are masked here, before the cells
 * are zipped; the workbook names the journal it was written from (its custom document properties).
 */
export function xlsxTable(input: ReportInput, redact: (s: string) => string, properties?: ResultsTable['properties']): ResultsTable {
  const header = csvHeader(input.columns);
  const rows = input.results.map((r) => [...input.columns.map((c) => r.echo[c] ?? ''), String(r.ref.line), ...resultCells(r)].map(redact));
  return { sheetName: 'Results', header, rows, statusColumn: input.columns.length + 1, inputColumns: input.columns.length, ...(properties ? { properties } : {}) };
}

/** One row as results.json (and `status --format json`) write it: the CSV's fields, input columns under `input`. */
export function resultRow(r: ReportRow, columns: readonly string[]) {
  return {
    line: r.ref.line,
    file: r.ref.file,
    key: r.ref.key,
    region: r.ref.region,
    ip: r.ref.ip,
    input: Object.fromEntries(columns.map((c) => [c, r.echo[c] ?? ''])),
    status: r.status,
    outcome: r.outcome,
    customer_gateway_id: r.gatewayId ?? null,
    error_code: r.errorCode ?? null,
    error_message: r.errorMessage ? cleanMessage(r.errorMessage) : null,
    error_class: r.errorClass ?? null,
    request_id: r.requestIds.at(-1) ?? null,
    request_ids: r.requestIds,
    attempts: r.attempts,
    duration_ms: r.durationMs,
    plan_action: r.action,
    in_this_run: r.inRun,
    run_note: r.note ? cleanMessage(r.note) : null,
  };
}

/** The same per-row fields as the CSV (input columns nested under `input`), plus the run block and a summary. */
export function resultsJson(input: ReportInput): string {
  const doc = {
    version: 2,
    generator: 'cgw-batch',
    command: input.command ?? null,
    run_id: input.runId ?? null,
    journal_id: input.journalId ?? null,
    manifest: input.manifest,
    run: input.run ?? null,
    columns: input.columns,
    summary: summarize(input.results),
    rows: input.results.map((r) => resultRow(r, input.columns)),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

/** The per-run file: the run block and this run's rows only (what it was asked to do and how that ended). */
export function runJson(input: ReportInput): string {
  const rows = input.results.filter((r) => r.inRun);
  return (
    JSON.stringify(
      {
        version: 2,
        generator: 'cgw-batch',
        manifest: input.manifest,
        run_id: input.runId ?? null,
        journal_id: input.journalId ?? null,
        run: input.run ?? null,
        rows: rows.map((r) => ({
          line: r.ref.line,
          key: r.ref.key,
          action: r.action,
          status: r.status,
          outcome: r.outcome,
          customer_gateway_id: r.gatewayId ?? null,
          error_code: r.errorCode ?? null,
          error_message: r.errorMessage ? cleanMessage(r.errorMessage) : null,
          request_ids: r.requestIds,
          note: r.note ? cleanMessage(r.note) : null,
        })),
      },
      null,
      2,
    ) + '\n'
  );
}
