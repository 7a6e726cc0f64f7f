// Per-row reports (results.csv, results.json, junit.xml) as pure renderers over every row's current truth.
import type { RowResult, WrittenProfile } from '../types.js';
import { PROFILE_PARAMS } from '../load/profiles.js';
import type { ReportInput } from './input.js';
import { csvDocument, type Cell } from '../csv-cells.js';
import { rowError } from './outcome.js';
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
/**
 * A site's columns, right after `customer_gateway_id`; only in reports of manifests with site rows (a manifest
 * without site columns gets the reports it always got). `connection_state` says `provisioned` for State active;
 * `negotiation` is the API's Status as last read (ipsec_sa_established = negotiated).
 */
export const SITE_COLUMNS = ['customer_gateway_id_2', 'vpn_connection_id', 'connection_status', 'connection_state', 'negotiation'] as const;
const OWN = new Set<string>(['line', ...RESULT_COLUMNS, ...SITE_COLUMNS]);

/** Whether a report has site rows (and so the site columns). */
export function hasSites(rows: readonly RowResult[]): boolean {
  return rows.some((r) => r.connection !== undefined || r.gateway2 !== undefined);
}

/** Our columns, in order, for a report with (or without) site rows. */
export function resultColumns(sites: boolean): string[] {
  return sites ? [RESULT_COLUMNS[0], RESULT_COLUMNS[1], ...SITE_COLUMNS, ...RESULT_COLUMNS.slice(2)] : [...RESULT_COLUMNS];
}

/** A connection's State as the reports word it: `provisioned` when active (created is not up: see negotiation). */
export function connectionState(state: string | undefined): string {
  return state === undefined ? '' : state === 'active' ? 'provisioned' : state;
}

/** The site fields of a row (results.json, status --format json, runs/*.json), null where absent. */
export function siteFields(r: RowResult) {
  return {
    customer_gateway_id_2: r.gateway2?.id ?? null,
    vpn_connection_id: r.connection?.id ?? null,
    connection_status: r.connection?.status ?? null,
    connection_state: r.connection?.state !== undefined ? connectionState(r.connection.state) : null,
    negotiation: r.connection?.negotiation ?? null,
  };
}

/** Echo column header as printed: an input column named like one of ours becomes `input:<name>`. */
export function echoHeader(name: string): string {
  return OWN.has(name.trim().toLowerCase()) ? `input:${name}` : name;
}

/**
 * The header of results.csv and results.xlsx: the input columns first (so the file, filtered and saved, is the next
 * manifest), then `line` and our result columns (a site's too, when the run has sites).
 */
export function csvHeader(columns: readonly string[], sites = false): string[] {
  return [...columns.map(echoHeader), 'line', ...resultColumns(sites)];
}

/** Our cells of one row, in resultColumns order, as text (the xlsx report writes the same strings). */
export function resultCells(r: RowResult, sites = false): string[] {
  const err = rowError(r);
  const site = sites
    ? [r.gateway2?.id ?? '', r.connection?.id ?? '', r.connection?.status ?? '', connectionState(r.connection?.state), r.connection?.negotiation ?? '']
    : [];
  return [
    r.status,
    r.gatewayId ?? '',
    ...site,
    err.code ?? '',
    cleanMessage(err.message),
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
  const sites = hasSites(input.results);
  const shift = sites ? SITE_COLUMNS.length : 0;
  const rows: Cell[][] = input.results.map((r) => {
    const own: Cell[] = resultCells(r, sites);
    own[6 + shift] = r.attempts;
    own[7 + shift] = r.durationMs;
    return [...input.columns.map((c) => r.echo[c] ?? ''), r.ref.line, ...own];
  });
  return csvDocument(csvHeader(input.columns, sites), rows);
}

/**
 * results.xlsx's table: results.csv's columns and cells, every cell text. Secrets are masked here, before the cells
 * are zipped; the workbook names the journal it was written from (its custom document properties).
 */
export function xlsxTable(input: ReportInput, redact: (s: string) => string, properties?: ResultsTable['properties']): ResultsTable {
  const sites = hasSites(input.results);
  const header = csvHeader(input.columns, sites);
  const rows = input.results.map((r) => [...input.columns.map((c) => r.echo[c] ?? ''), String(r.ref.line), ...resultCells(r, sites)].map(redact));
  const sheets = input.profiles?.length ? [profilesSheet(input.profiles, redact)] : undefined;
  return { sheetName: 'Results', header, rows, statusColumn: input.columns.length + 1, inputColumns: input.columns.length, ...(properties ? { properties } : {}), ...(sheets ? { sheets } : {}) };
}

/**
 * The manifest's IPsec profiles as a Profiles sheet (a name column, then each parameter any profile sets): the
 * results workbook filtered to its failed rows and saved is a whole site manifest again, profiles included.
 */
function profilesSheet(profiles: readonly WrittenProfile[], redact: (s: string) => string): { name: string; header: string[]; rows: string[][] } {
  const params = PROFILE_PARAMS.filter((k) => profiles.some((p) => p.params[k] !== undefined));
  return { name: 'Profiles', header: ['name', ...params], rows: profiles.map((p) => [p.name, ...params.map((k) => p.params[k] ?? '')].map(redact)) };
}

/** One row as results.json (and `status --format json`) write it: the CSV's fields, input columns under `input`. */
export function resultRow(r: ReportRow, columns: readonly string[], sites = false) {
  const err = rowError(r);
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
    ...(sites ? siteFields(r) : {}),
    error_code: err.code ?? null,
    error_message: err.message ? cleanMessage(err.message) : null,
    error_class: err.errorClass ?? null,
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
    rows: input.results.map((r) => resultRow(r, input.columns, hasSites(input.results))),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

/** The per-run file: the run block and this run's rows only (what it was asked to do and how that ended). */
export function runJson(input: ReportInput): string {
  const rows = input.results.filter((r) => r.inRun);
  const sites = hasSites(input.results);
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
          ...(sites ? siteFields(r) : {}),
          error_code: rowError(r).code ?? null,
          error_message: rowError(r).message ? cleanMessage(rowError(r).message) : null,
          request_ids: r.requestIds,
          note: r.note ? cleanMessage(r.note) : null,
        })),
      },
      null,
      2,
    ) + '\n'
  );
}
