// Per-row reports (results.csv, results.json, junit.xml) as pure renderers, and their crash-safe writer.
import type { Redactor } from '../secrets.js';
import type { RowResult } from '../types.js';
import { csvDocument, type Cell } from './csv.js';
import { cleanMessage, redactDeep } from './redact.js';
import { summarize } from './summary.js';

export { junitXml } from './junit.js';
export { cleanMessage } from './redact.js';
export { writeReports, REPORT_FILES, type WriteReportsOptions, type ReportFs } from './write.js';

export interface ReportInput {
  /** Echo column names (input columns) in manifest order. */
  columns: string[];
  /** One per row, manifest order. */
  results: RowResult[];
  runId?: string;
  manifest: string;
  startedAt?: string;
  finishedAt?: string;
  /** 'apply' | 'destroy' | 'report' ... */
  command?: string;
}

export interface RenderOptions {
  /** Applied to every string of the input before rendering (defence in depth: RowResult holds no secrets). */
  redactor?: Redactor;
}

/** Our columns after the echoed input columns; `line` comes first of all so a row can be found in the manifest. */
export const RESULT_COLUMNS = ['status', 'customer_gateway_id', 'error_code', 'error_message', 'request_id', 'attempts', 'duration_ms'] as const;
const OWN = new Set<string>(['line', ...RESULT_COLUMNS]);

/** Echo column header as printed: an input column named like one of ours becomes `input:<name>`. */
export function echoHeader(name: string): string {
  return OWN.has(name.trim().toLowerCase()) ? `input:${name}` : name;
}

export function csvHeader(columns: string[]): string[] {
  return ['line', ...columns.map(echoHeader), ...RESULT_COLUMNS];
}

function prepare(input: ReportInput, opts: RenderOptions): ReportInput {
  return opts.redactor ? redactDeep(input, opts.redactor) : input;
}

/** UTF-8 BOM + CRLF, every string quoted and formula-escaped, numbers bare. See csv.ts for the escaping rule. */
export function resultsCsv(input: ReportInput, opts: RenderOptions = {}): string {
  const inp = prepare(input, opts);
  const rows: Cell[][] = inp.results.map((r) => [
    r.line,
    ...inp.columns.map((c) => r.echo[c] ?? ''),
    r.status,
    r.gatewayId ?? '',
    r.errorCode ?? '',
    cleanMessage(r.errorMessage),
    r.requestId ?? '',
    r.attempts,
    r.durationMs,
  ]);
  const text = csvDocument(csvHeader(inp.columns), rows);
  return opts.redactor ? opts.redactor.redact(text) : text;
}

/** The same per-row fields as the CSV (input columns nested under `input`), plus run metadata and a summary. */
export function resultsJson(input: ReportInput, opts: RenderOptions = {}): string {
  const inp = prepare(input, opts);
  const doc = {
    version: 1,
    command: inp.command ?? null,
    run_id: inp.runId ?? null,
    manifest: inp.manifest,
    started_at: inp.startedAt ?? null,
    finished_at: inp.finishedAt ?? null,
    columns: inp.columns,
    summary: summarize(inp.results),
    rows: inp.results.map((r) => ({
      line: r.line,
      file: r.file,
      key: r.key,
      region: r.region,
      ip: r.ip,
      input: Object.fromEntries(inp.columns.map((c) => [c, r.echo[c] ?? ''])),
      status: r.status,
      customer_gateway_id: r.gatewayId ?? null,
      error_code: r.errorCode ?? null,
      error_message: r.errorMessage ? cleanMessage(r.errorMessage) : null,
      error_class: r.errorClass ?? null,
      request_id: r.requestId ?? null,
      attempts: r.attempts,
      duration_ms: r.durationMs,
    })),
  };
  const text = JSON.stringify(doc, null, 2) + '\n';
  return opts.redactor ? opts.redactor.redact(text) : text;
}
