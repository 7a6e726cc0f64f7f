// `cgw-batch init`: a commented example manifest in CSV, YAML or xlsx that plans cleanly as written, and the manifest
// workbook writer it shares with `export` (Text columns, header notes, a region list, frozen header).
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { KNOWN_REGIONS } from '../plan/regions.js';
import { csvField } from '../csv-cells.js';

export type TemplateFormat = 'csv' | 'yaml' | 'xlsx';

export interface TemplateOptions {
  /** What the YAML's `# yaml-language-server: $schema=` line points to. Default: this package's manifests/schema.json. */
  schemaRef?: string;
}

/** manifests/schema.json of the installed package (dist/src/init/ -> package root), as a path editors can open. */
export function defaultSchemaRef(): string {
  return fileURLToPath(new URL('../../../manifests/schema.json', import.meta.url));
}

const COLUMNS = ['region', 'ip', 'name', 'description', 'asn', 'auth_key', 'resource_group_id', 'tags', 'tag:Env'];
// Documentation addresses (RFC 5737) and private ASNs: valid for plan, never someone's real gateway.
const EXAMPLES = [
  ['cn-hangzhou', '203.0.113.10', 'hz-branch-01', 'Hangzhou branch office', '65001', '', '', 'site=HZ01;owner=netops', 'prod'],
  ['cn-shanghai', '203.0.113.20', 'sh-branch-01', 'Shanghai branch office', '1.10', '', '', 'site=SH01', 'staging'],
];

const CSV_EXAMPLES = [EXAMPLES[0]!, ['cn-shanghai', '203.0.113.20', 'sh-branch-01', 'Shanghai branch office', '65002', '', '', 'site=SH01', 'staging']];

export async function manifestTemplate(format: TemplateFormat, opts: TemplateOptions = {}): Promise<string | Buffer> {
  switch (format) {
    case 'csv':
      // The CSV reader has no comment lines, so the template is the header and two rows; the asdot ASN stays out
      // because a spreadsheet opening the CSV would turn 1.10 into 1.1 (see manifests/README.md).
      return [COLUMNS, ...CSV_EXAMPLES].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
    case 'yaml':
      return yamlTemplate(opts.schemaRef ?? defaultSchemaRef());
    case 'xlsx':
      return manifestWorkbook({ columns: COLUMNS, rows: EXAMPLES });
  }
}

function yamlTemplate(schema: string): string {
  return `# yaml-language-server: $schema=${schema}
# cgw-batch manifest: one item per VPN customer gateway. Plan it with: cgw-batch plan <this file>
# Every value is read as text exactly as written (asn 1.10 stays "1.10", 0123 stays "0123").
# Field reference: manifests/README.md in the cgw-batch package.

# Optional: values every gateway gets unless it sets its own (tags are merged, the gateway's value wins per key).
defaults:
  region: cn-hangzhou          # region id; required here or on each gateway
  tags:
    env: prod

gateways:
  - ip: 203.0.113.10           # public IPv4 of the on-premises VPN device (required, one per region)
    name: hz-branch-01         # optional, 1-100 characters
    description: Hangzhou branch office
    asn: "65001"               # optional BGP ASN: 1-4294967295 (not 45104) or asdot "1.10"
    # auth_key: env:CGW_AUTHKEY_HZ_01   # optional BGP MD5 key, read from this environment variable; needs asn
    # resource_group_id: rg-aek2qo2h4jyxxxx
    tags:
      site: HZ01
  - region: cn-shanghai        # overrides the default region
    ip: 203.0.113.20
    name: sh-branch-01
    asn: "1.10"                # asdot: 1*65536+10 = 65546
    tags:
      env: staging             # overrides the default env tag
`;
}

// --- the manifest workbook --------------------------------------------------------------------------------------

const NOTES: Record<string, string> = {
  region: 'Region ID, e.g. cn-hangzhou. Required. Pick it from the list (sheet Regions); a region missing there can still be typed.',
  ip: 'Public IPv4 address of the on-premises VPN device, e.g. 203.0.113.10. Required. One gateway per IP in a region.',
  name: 'Optional. 1-100 characters; must not start with http:// or https://.',
  description: 'Optional. 1-100 characters; must not start with http:// or https://.',
  asn: 'Optional BGP ASN of the device: 1-4294967295 (not 45104), or asdot a.b such as 1.10. The column is Text, so 1.10 stays 1.10.',
  auth_key:
    'Optional BGP MD5 key (needs asn). Write env:NAME to read it from environment variable NAME: a key typed here is stored in the file. Never printed or reported.',
  auth_key_env: 'Optional. Name of the environment variable holding the BGP AuthKey (same as auth_key env:NAME).',
  resource_group_id: 'Optional. Resource group ID, e.g. rg-aek2qo2h4jyxxxx (copy it from the console).',
  tags: 'Optional. Tags as key=value;key2=value2 (up to 20 per gateway, with the tag: columns).',
};
const TAG_NOTE = 'Optional tag: the header is tag:<Key>, the cell is the value; an empty cell means no tag. Keys and values must not start with aliyun or acs:.';

export interface ManifestSheet {
  columns: string[];
  rows: string[][];
  /** Default `Sites`. */
  sheetName?: string;
}

/** Rows the region list and the Text format cover below the data, so rows typed later get both. */
const PREPARED_ROWS = 5000;

/**
 * A manifest workbook: every column formatted as Text (so 0123, 1.10 and 12/31 stay as typed), a note on each
 * header cell explaining the field, a drop-down of regions (sheet Regions) on the region column, frozen header.
 */
export async function manifestWorkbook(sheet: ManifestSheet): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'cgw-batch';
  const ws = wb.addWorksheet(sheet.sheetName ?? 'Sites', { views: [{ state: 'frozen', ySplit: 1, xSplit: 0 }] });
  const lists = wb.addWorksheet('Regions');
  const regions = [...KNOWN_REGIONS].sort();
  lists.getCell('A1').value = 'region (the list for the region column of the first sheet)';
  lists.getCell('A1').font = { bold: true };
  regions.forEach((r, i) => {
    lists.getCell(i + 2, 1).value = r;
  });
  lists.getColumn(1).width = 28;

  sheet.columns.forEach((name, i) => {
    const col = ws.getColumn(i + 1);
    col.numFmt = '@';
    col.width = Math.max(14, name.length + 4, ...sheet.rows.map((r) => Math.min(40, (r[i] ?? '').length + 2)));
    const head = ws.getCell(1, i + 1);
    head.value = name;
    head.numFmt = '@';
    head.font = { bold: true };
    head.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFDDEBF7' } };
    head.note = NOTES[name] ?? (name.toLowerCase().startsWith('tag:') ? TAG_NOTE : 'Not a cgw-batch field: kept and printed in reports.');
  });
  sheet.rows.forEach((values, r) => {
    values.forEach((v, c) => {
      const cell = ws.getCell(r + 2, c + 1);
      cell.value = v;
      cell.numFmt = '@';
    });
  });
  const last = Math.max(PREPARED_ROWS, sheet.rows.length + 1);
  const regionCol = sheet.columns.indexOf('region');
  if (regionCol >= 0) {
    const letter = ws.getColumn(regionCol + 1).letter;
    // One range entry (the typed per-cell API would create thousands of empty cells); exceljs has it, its typings do not.
    const validations = (ws as unknown as { dataValidations: { add(range: string, v: ExcelJS.DataValidation): void } }).dataValidations;
    validations.add(`${letter}2:${letter}${last}`, {
      type: 'list',
      allowBlank: true,
      formulae: [`Regions!$A$2:$A$${regions.length + 1}`],
      showErrorMessage: true,
      // A warning, not a stop: a region newer than this list can still be typed (plan checks it online).
      errorStyle: 'warning',
      errorTitle: 'Region',
      error: 'Not in the list of known regions. Keep it only if the region is new.',
    });
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}
