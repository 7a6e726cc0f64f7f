// results.xlsx as a pure renderer: every cell a text cell (0123, 1.10 and =1+1 stay as written, nothing is evaluated),
// input columns first so the sheet, filtered and saved, loads as the next manifest; frozen header, filter, status colours.
import ExcelJS from 'exceljs';
import type { ResultsProperties } from '../load/results-props.js';
import { withProperties } from './xlsx-props.js';

export interface ResultsTable {
  /** Default `Results`. Cut to Excel's 31 characters, without the characters a sheet name cannot hold. */
  sheetName?: string;
  header: string[];
  /** Cell texts, one array per row, in header order. */
  rows: string[][];
  /** Index (0-based) of the status column, whose cells are coloured by outcome. */
  statusColumn?: number;
  /** How many leading columns are the manifest's input columns (the rest are cgw-batch's result columns). */
  inputColumns: number;
  /**
   * The journal the results come from, kept in the workbook's custom document properties: relative to the workbook's
   * folder (`journal`), absolute (`journalPath`) and its id. A copy of the sheet saved under another name finds it.
   */
  properties?: ResultsProperties;
}

/** Points of height per line of text at Excel's default 11 pt font; Excel's largest row is 409 pt. */
const LINE_HEIGHT = 15;
const MAX_ROW_HEIGHT = 409;

/** Excel's "Good", "Neutral" and "Bad" cell styles: fill and font colour. */
const GOOD = { fill: 'FFC6EFCE', font: 'FF006100' };
const NEUTRAL = { fill: 'FFFFEB9C', font: 'FF9C5700' };
const BAD = { fill: 'FFFFC7CE', font: 'FF9C0006' };
const STATUS_STYLE: Record<string, { fill: string; font: string }> = {
  created: GOOD,
  adopted: GOOD,
  updated: GOOD,
  deleted: GOOD,
  unknown: NEUTRAL,
  'in-flight': NEUTRAL,
  pending: NEUTRAL,
  failed: BAD,
  blocked: BAD,
  invalid: BAD,
};

/** The most a cell holds in Excel; longer text makes Excel refuse the file. */
export const MAX_CELL_CHARS = 32_767;

const TEXT = '@';
const INPUT_HEAD = 'FFDDEBF7';
const RESULT_HEAD = 'FFEDEDED';

export async function resultsXlsx(table: ResultsTable): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'cgw-batch';
  const ws = wb.addWorksheet(sheetName(table.sheetName ?? 'Results'), { views: [{ state: 'frozen', ySplit: 1, xSplit: 0 }] });
  const width = Math.max(table.header.length, ...table.rows.map((r) => r.length));
  const widths = new Array<number>(width).fill(8);

  const put = (row: ExcelJS.Row, values: readonly string[]) => {
    let lines = 1;
    for (let c = 0; c < width; c++) {
      const cell = row.getCell(c + 1);
      const text = cellText(values[c] ?? '');
      // A string value is stored as text, never as a formula; the Text format keeps it text when someone edits it.
      cell.value = text;
      cell.numFmt = TEXT;
      widths[c] = Math.max(widths[c]!, Math.min(60, longestLine(text) + 2));
      lines = Math.max(lines, lineCount(text));
    }
    // A line break in a cell that does not wrap is drawn over the row above: wrap it and give the row its lines
    // (Excel does not grow a row's height for text written by another program).
    if (lines > 1) {
      for (let c = 0; c < width; c++) {
        const cell = row.getCell(c + 1);
        cell.alignment = lineCount(String(cell.value ?? '')) > 1 ? { wrapText: true, vertical: 'top' } : { vertical: 'top' };
      }
      row.height = Math.min(MAX_ROW_HEIGHT, lines * LINE_HEIGHT);
    }
  };

  const head = ws.getRow(1);
  put(head, table.header);
  head.font = { bold: true };
  for (let c = 0; c < width; c++) {
    const cell = head.getCell(c + 1);
    cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: c < table.inputColumns ? INPUT_HEAD : RESULT_HEAD } };
  }
  if (table.inputColumns < width) {
    head.getCell(table.inputColumns + 1).note =
      'Columns from here to the right are written by cgw-batch. They are ignored when this sheet is loaded as a manifest: ' +
      'filter it (for example to the failed rows), fix the input columns, save it and plan it again.';
  }

  table.rows.forEach((values, i) => {
    const row = ws.getRow(i + 2);
    put(row, values);
    const s = table.statusColumn;
    if (s === undefined) return;
    const style = STATUS_STYLE[(values[s] ?? '').trim().toLowerCase()];
    if (!style) return;
    const cell = row.getCell(s + 1);
    cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: style.fill } };
    cell.font = { color: { argb: style.font }, bold: true };
  });

  widths.forEach((w, c) => {
    const col = ws.getColumn(c + 1);
    col.width = w;
    // Rows typed below the table stay text too.
    col.numFmt = TEXT;
  });
  if (width > 0) ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: Math.max(1, table.rows.length + 1), column: width } };
  return withProperties(Buffer.from(await wb.xlsx.writeBuffer()), table.properties ?? {});
}

function lineCount(s: string): number {
  let n = 1;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** Characters XML 1.0 cannot carry (C0 controls but tab and line breaks, lone surrogates, U+FFFE/FFFF) become U+FFFD. */
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function cellText(s: string): string {
  const clean = s.replace(XML_INVALID, '\uFFFD');
  return clean.length <= MAX_CELL_CHARS ? clean : `${clean.slice(0, MAX_CELL_CHARS - 1)}…`;
}

function sheetName(name: string): string {
  const clean = name.replace(/[[\]:*?/\\]/g, '_').replace(/^'+|'+$/g, '').slice(0, 31);
  return clean === '' ? 'Results' : clean;
}

function longestLine(s: string): number {
  let max = 0;
  for (const line of s.split('\n')) max = Math.max(max, line.length);
  return max;
}
