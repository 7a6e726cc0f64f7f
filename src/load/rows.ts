// Shared by the CSV and xlsx readers: header checks, header-level issues, and one WrittenRow from a row of cells.
import { ManifestError } from '../errors.js';
import { unescapeFormula } from '../csv-cells.js';
import type { Field, Issue, SiteField, Tag, WrittenRow } from '../types.js';
import { echoAuthKey, resolveAuthKey } from './authkey.js';
import { echoPsk, resolvePsk } from './psk.js';
import { printable } from '../text.js';
import { EXPECTED_HEADERS, columnIdentity, hasRequired, likelyField, mapHeaders, type Column } from './headers.js';
import type { LoadOptions } from './options.js';
import { parseTagCell } from './tags.js';

/**
 * Header checks that need the parsed cells: required columns, duplicates, empty `tag:` keys, and unknown columns
 * that are a typo away from a field (`nmae`): those would create gateways without the field, so they stop the file.
 * `where(i)` names header cell i (CSV: `column 3`; xlsx: `cell Sites!C1`).
 */
export function prepareHeader(record: readonly string[], file: string, line: number, where: (i: number) => string = (i) => `column ${i + 1}`): Column[] {
  const { columns, problem } = mapHeaders(record);
  if (problem?.duplicate) {
    const [a, b] = problem.duplicate;
    throw new ManifestError(file, line, `duplicate columns "${printable(a)}" and "${printable(b)}" name the same field; keep one`);
  }
  if (problem?.emptyTagKey !== undefined) throw new ManifestError(file, line, `column "${printable(problem.emptyTagKey)}" has no tag key; write tag:<Key>`);
  if (!hasRequired(record)) throw missingColumns(record, file, line);
  const present = new Set(columns.map(columnIdentity));
  const typos: string[] = [];
  for (const c of columns) {
    if (c.kind !== 'unknown') continue;
    const field = likelyField(c.header);
    // A column for a field the header already has is the user's own (e.g. "nome" beside "name"), not a typo.
    if (field === undefined || present.has(field)) continue;
    typos.push(`${where(c.index)} "${printable(shortHeader(c.header))}" is not a column cgw-batch knows: did you mean ${field}?`);
  }
  if (typos.length > 0) {
    throw new ManifestError(
      file,
      line,
      `${typos.join('; ')} Rename the header (the rows would otherwise be planned without that field); a column of your own needs a name that is not this close to a field's`,
    );
  }
  return columns;
}

export function missingColumns(cells: readonly string[], file: string, line: number): ManifestError {
  const found = cells.map((c) => c.trim()).filter((c) => c !== '');
  let hint = '';
  if (found.length === 1 && /[;\t|]/.test(found[0]!)) hint = ' (the header is one column: is the file delimited by something other than , ; or tab?)';
  const typos = found.flatMap((f) => {
    const field = likelyField(f);
    return field === 'region' || field === 'ip' ? [`"${printable(shortHeader(f))}": did you mean ${field}?`] : [];
  });
  if (typos.length > 0) hint += ` (${typos.join('; ')})`;
  return new ManifestError(file, line, `header must name the columns ${EXPECTED_HEADERS}; found: ${found.map((f) => `"${printable(shortHeader(f))}"`).join(', ') || 'nothing'}${hint}`);
}

// Header cells are printed in messages: bound them (a data row taken for a header may hold long values).
function shortHeader(h: string): string {
  return h.length > 60 ? `${h.slice(0, 57)}...` : h;
}

/**
 * Input columns echoed into reports, in order: every named column but our own result columns. AuthKey columns are
 * echoed as references only (`env:NAME`, a variable name, or AUTHKEY_NOT_COPIED), so a results file saved as the next
 * manifest keeps its keys' references and never a key.
 */
export function echoColumns(columns: readonly Column[]): string[] {
  return columns.filter((c) => c.kind !== 'blank' && c.kind !== 'result').map((c) => c.header);
}

/** File-level issues about the header: unknown columns (kept in reports) and results-file columns (ignored). */
export function headerIssues(columns: readonly Column[], file: string, line: number): Issue[] {
  const issues: Issue[] = [];
  const unknown = columns.filter((c) => c.kind === 'unknown').map((c) => c.header);
  if (unknown.length > 0) {
    issues.push({
      severity: 'warning',
      code: 'Cgw.UnknownColumn',
      field: 'columns',
      message: `column${unknown.length > 1 ? 's' : ''} not used by cgw-batch (kept in reports): ${unknown.map((h) => printable(shortHeader(h))).join(', ')}`,
      file,
      line,
    });
  }
  const ours = columns.filter((c) => c.kind === 'result').map((c) => c.header);
  if (ours.length > 0) {
    issues.push({
      severity: 'info',
      code: 'Cgw.ResultColumns',
      field: 'columns',
      message: `column${ours.length > 1 ? 's' : ''} written by cgw-batch into results files ignored: ${ours.map((h) => printable(h)).join(', ')}`,
      file,
      line,
    });
  }
  return issues;
}

export interface BuiltRow {
  row: WrittenRow;
  /** True when the row holds a literal AuthKey (drives the file-permission warning). */
  literal: boolean;
}

/**
 * One WrittenRow from a record of raw cell strings (index = column). `where(i)` names column i in the error for a
 * value under a blank header (CSV: `column 3`; xlsx: `cell Sites!C4`). The loop allocates only the row itself.
 */
export function buildRow(
  record: readonly (string | undefined)[],
  columns: readonly Column[],
  file: string,
  line: number,
  endLine: number,
  opts: LoadOptions,
  where: (i: number) => string = (i) => `column ${i + 1}`,
): BuiltRow {
  const fields: Partial<Record<Field, string>> = {};
  const tags: Tag[] = [];
  const echo: Record<string, string> = {};
  const issues: Issue[] = [];
  let authWritten: string | undefined;
  let authEnv: string | undefined;
  let site: Partial<Record<SiteField, string>> | undefined;
  let pskWritten: string | undefined;
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i]!;
    const raw = record[i] ?? '';
    // A `'` that cgw-batch's CSV writer put before a formula-like value is not part of it; an AuthKey (or a key typed
    // into the psk cell) is taken as is.
    const v = c.kind === 'auth_key_env' || (c.kind === 'field' && c.field === 'auth_key') || (c.kind === 'site' && c.field === 'psk') ? raw : unescapeFormula(raw);
    switch (c.kind) {
      case 'field':
        if (c.field === 'auth_key') {
          authWritten = v;
          echo[c.header] = echoAuthKey(v);
          continue;
        }
        if (v !== '') fields[c.field] = v;
        break;
      case 'auth_key_env':
        authEnv = v;
        // A variable's name, not its value.
        echo[c.header] = echoAuthKey(v, true);
        continue;
      case 'site':
        if (c.field === 'psk') {
          pskWritten = v;
          echo[c.header] = echoPsk(v);
          continue;
        }
        if (v !== '') (site ??= {})[c.field] = v;
        break;
      case 'tags':
        if (v !== '') {
          fields.tags = v;
          parseTagCell(v, tags, issues, file, line);
        }
        break;
      case 'tag':
        if (v !== '') tags.push({ key: c.key, value: v });
        break;
      case 'blank':
        if (v !== '') throw new ManifestError(file, line, `${where(i)} has a value but no header name; name the column or clear it`);
        continue;
      case 'result':
        continue;
      case 'unknown':
        break;
    }
    echo[c.header] = v;
  }
  const auth = resolveAuthKey(authWritten, authEnv, opts, issues, file, line);
  if (auth.value !== undefined) fields.auth_key = auth.value;
  const row: WrittenRow = { file, line, endLine, fields, tags, echo, issues, ...(auth.unresolved ? { unresolved: [auth.unresolved] } : {}) };
  const psk = resolvePsk(pskWritten, opts, issues, file, line);
  if (psk.text !== undefined) (site ??= {}).psk = psk.text;
  if (site !== undefined) row.site = site;
  if (psk.value !== undefined) row.pskValue = psk.value;
  return { row, literal: auth.literal };
}
