// `cgw-batch init`: a commented example manifest in CSV, YAML or xlsx that plans cleanly as written, and the manifest
// workbook writer it shares with `export` (Text columns, header notes, a region list, frozen header).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { KNOWN_REGIONS } from '../plan/regions.js';
import { csvField } from '../csv-cells.js';

export type TemplateFormat = 'csv' | 'yaml' | 'xlsx';

export interface TemplateOptions {
  /** What the YAML's `# yaml-language-server: $schema=` line points to. Default: this package's manifests/schema.json. */
  schemaRef?: string;
}

/** manifests/schema.json of the installed package, as a path editors can open. */
export function defaultSchemaRef(): string {
  // The package root is the nearest folder above with the schema: dist/src/init/ compiled, dist/cli/ bundled.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++, dir = dirname(dir)) {
    const schema = join(dir, 'manifests', 'schema.json');
    if (existsSync(schema)) return schema;
  }
  return fileURLToPath(new URL('../../../manifests/schema.json', import.meta.url));
}

/**
 * The sandbox's VPN gateway in cn-hangzhou (the emulator's sandboxGatewayId): the site row plans cleanly offline and
 * against `--sandbox`. A real manifest names the VPN gateway of its VPC.
 */
export const EXAMPLE_VPN_GATEWAY = 'vpn-sbxcnhangzhou00000000';

const COLUMNS = [
  'region', 'ip', 'name', 'description', 'asn', 'auth_key', 'resource_group_id', 'tags', 'tag:Env',
  'vpn_gateway_id', 'local_subnet', 'remote_subnet', 'psk', 'ike_profile', 'connection_name', 'device',
];
// Documentation addresses (RFC 5737) and private ASNs: valid for plan, never someone's real gateway. The third row is a
// site: its customer gateway and its IPsec connection to the VPN gateway (a PSK made by cgw-batch).
const SITE = [EXAMPLE_VPN_GATEWAY, '10.0.0.0/16', '192.168.30.0/24', 'generate'];
const NO_SITE = ['', '', '', '', '', '', ''];
const EXAMPLES = [
  ['cn-hangzhou', '203.0.113.10', 'hz-branch-01', 'Hangzhou branch office', '65001', '', '', 'site=HZ01;owner=netops', 'prod', ...NO_SITE],
  ['cn-shanghai', '203.0.113.20', 'sh-branch-01', 'Shanghai branch office', '1.10', '', '', 'site=SH01', 'staging', ...NO_SITE],
  ['cn-hangzhou', '203.0.113.30', 'hz-branch-02', 'Hangzhou branch site', '65003', '', '', 'site=HZ02', 'prod', ...SITE, 'branch-ikev2', 'hz-branch-02', 'strongswan'],
];

// The CSV reader takes no profiles of its own (a --profiles FILE gives them): its site row keeps Alibaba's defaults.
const CSV_EXAMPLES = [
  EXAMPLES[0]!,
  ['cn-shanghai', '203.0.113.20', 'sh-branch-01', 'Shanghai branch office', '65002', '', '', 'site=SH01', 'staging', ...NO_SITE],
  ['cn-hangzhou', '203.0.113.30', 'hz-branch-02', 'Hangzhou branch site', '65003', '', '', 'site=HZ02', 'prod', ...SITE, '', 'hz-branch-02', 'strongswan'],
];

/** The template's IPsec profile (the Profiles sheet and the YAML profiles: map). */
const PROFILE_COLUMNS = ['name', 'ike_version', 'ike_enc_alg', 'ike_auth_alg', 'ike_pfs', 'ipsec_enc_alg', 'ipsec_auth_alg', 'ipsec_pfs'];
const PROFILES = [['branch-ikev2', 'ikev2', 'aes256', 'sha256', 'group14', 'aes256', 'sha256', 'group14']];

export async function manifestTemplate(format: TemplateFormat, opts: TemplateOptions = {}): Promise<string | Buffer> {
  switch (format) {
    case 'csv':
      // The CSV reader has no comment lines, so the template is the header and three rows; the asdot ASN stays out
      // because a spreadsheet opening the CSV would turn 1.10 into 1.1 (see manifests/README.md).
      return [COLUMNS, ...CSV_EXAMPLES].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
    case 'yaml':
      return yamlTemplate(opts.schemaRef ?? defaultSchemaRef());
    case 'xlsx':
      return manifestWorkbook({ columns: COLUMNS, rows: EXAMPLES, profiles: { columns: PROFILE_COLUMNS, rows: PROFILES } });
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
  # A branch site: the customer gateway above plus its IPsec-VPN connection to the VPC's VPN gateway.
  - ip: 203.0.113.30
    name: hz-branch-02
    description: Hangzhou branch site
    asn: "65003"
    tags:
      site: HZ02
    vpn_gateway_id: ${EXAMPLE_VPN_GATEWAY}   # the VPN gateway (this one is --sandbox's in cn-hangzhou)
    local_subnet: 10.0.0.0/16                # VPC side, up to 5 CIDR blocks separated by commas
    remote_subnet: 192.168.30.0/24           # branch side; 0.0.0.0/0 on both sides = destination routing
    psk: generate                            # or env:NAME (the key in an environment variable); never the key itself
    ike_profile: branch-ikev2                # a profile below; without one: Alibaba's defaults (IKEv1, aes/md5/group2)
    connection_name: hz-branch-02
    device: strongswan                       # the branch device type for cgw-batch configs
    # ip_2: 203.0.113.31                     # dual-tunnel gateways: the branch's second public IP (its own gateway)
    # tunnel_cidr: 169.254.10.0/30           # BGP over the tunnel (needs asn); tunnel_cidr_2 for the second tunnel
    # effect_immediately: true               # negotiate at once instead of when traffic arrives

# IPsec profiles the rows name with ike_profile (each parameter absent keeps Alibaba's default).
profiles:
  branch-ikev2:
    ike_version: ikev2
    ike_enc_alg: aes256
    ike_auth_alg: sha256
    ike_pfs: group14
    ipsec_enc_alg: aes256
    ipsec_auth_alg: sha256
    ipsec_pfs: group14
    # ike_lifetime: 86400, ipsec_lifetime: 86400, local_id, remote_id, enable_dpd: true, enable_nat_traversal: true
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
  vpn_gateway_id: 'Site rows: the VPN gateway the branch connects to, e.g. vpn-bp1q8bgx4xnkm2ogj3ft8. With it the row also gets an IPsec-VPN connection.',
  local_subnet: 'Site rows: the VPC-side CIDR blocks, up to 5, separated by commas. 0.0.0.0/0 on both sides = destination routing.',
  remote_subnet: 'Site rows: the branch-side CIDR blocks, up to 5, separated by commas.',
  psk: 'Site rows: the pre-shared key. env:NAME reads it from environment variable NAME; generate makes one. Never the key itself.',
  ike_profile: 'Site rows: a profile of the Profiles sheet (IKE/IPsec parameters). Empty: Alibaba Cloud defaults.',
  tunnel_cidr: 'Site rows with BGP (needs asn): a /30 inside 169.254.0.0/16, unique per VPN gateway.',
  local_bgp_ip: 'Site rows with BGP: the VPN gateway side address inside tunnel_cidr (default its first host).',
  connection_name: 'Site rows: the IPsec connection name, 1-100 characters.',
  effect_immediately: 'Site rows: true to negotiate at once, false (default) to wait for traffic.',
  ip_2: 'Site rows on a dual-tunnel VPN gateway: the branch second public IP (its own customer gateway). Empty: both tunnels end on ip.',
  tunnel_cidr_2: 'Site rows with BGP on a dual-tunnel gateway: the second tunnel /30 inside 169.254.0.0/16.',
  local_bgp_ip_2: 'Site rows with BGP: the VPN gateway side address inside tunnel_cidr_2.',
  device: 'Site rows: the branch device type for cgw-batch configs (strongswan, cisco-ios, huawei-vrp, h3c-comware, juniper-srx, fortigate).',
};

const PROFILE_NOTES: Record<string, string> = {
  name: 'The profile name the ike_profile column of the Sites sheet refers to.',
  ike_version: 'ikev1 or ikev2 (default ikev1).',
  ike_mode: 'main or aggressive (default main; aggressive for an FQDN identity).',
  ike_enc_alg: 'aes, aes192, aes256, des or 3des (default aes).',
  ike_auth_alg: 'md5, sha1, sha256, sha384 or sha512 (default md5).',
  ike_pfs: 'group1, group2, group5 or group14 (default group2).',
  ike_lifetime: 'Seconds, 0-86400 (default 86400).',
  local_id: 'The VPN gateway side identity (default its IP).',
  remote_id: 'The branch side identity (default the customer gateway IP).',
  ipsec_enc_alg: 'aes, aes192, aes256, des or 3des (default aes).',
  ipsec_auth_alg: 'md5, sha1, sha256, sha384 or sha512 (default md5).',
  ipsec_pfs: 'disabled, group1, group2, group5 or group14 (default group2).',
  ipsec_lifetime: 'Seconds, 0-86400 (default 86400).',
  enable_dpd: 'true (default) or false.',
  enable_nat_traversal: 'true (default) or false.',
};
const TAG_NOTE = 'Optional tag: the header is tag:<Key>, the cell is the value; an empty cell means no tag. Keys and values must not start with aliyun or acs:.';

export interface ManifestSheet {
  columns: string[];
  rows: string[][];
  /** Default `Sites`. */
  sheetName?: string;
  /** IPsec profiles, written as a Profiles sheet (a `name` column, then parameters) after the rows' sheet. */
  profiles?: { columns: string[]; rows: string[][] };
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
  if (sheet.profiles) textSheet(wb.addWorksheet('Profiles', { views: [{ state: 'frozen', ySplit: 1, xSplit: 0 }] }), sheet.profiles.columns, sheet.profiles.rows, PROFILE_NOTES);
  const lists = wb.addWorksheet('Regions');
  const regions = [...KNOWN_REGIONS].sort();
  lists.getCell('A1').value = 'region (the list for the region column of the first sheet)';
  lists.getCell('A1').font = { bold: true };
  regions.forEach((r, i) => {
    lists.getCell(i + 2, 1).value = r;
  });
  lists.getColumn(1).width = 28;

  textSheet(ws, sheet.columns, sheet.rows, NOTES);
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

/** Header cells with notes, every column Text, the rows as text cells. */
function textSheet(ws: ExcelJS.Worksheet, columns: readonly string[], rows: readonly string[][], notes: Record<string, string>): void {
  columns.forEach((name, i) => {
    const col = ws.getColumn(i + 1);
    col.numFmt = '@';
    col.width = Math.max(14, name.length + 4, ...rows.map((r) => Math.min(40, (r[i] ?? '').length + 2)));
    const head = ws.getCell(1, i + 1);
    head.value = name;
    head.numFmt = '@';
    head.font = { bold: true };
    head.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFDDEBF7' } };
    head.note = notes[name] ?? (name.toLowerCase().startsWith('tag:') ? TAG_NOTE : 'Not a cgw-batch field: kept and printed in reports.');
  });
  rows.forEach((values, r) => {
    values.forEach((v, c) => {
      const cell = ws.getCell(r + 2, c + 1);
      cell.value = v;
      cell.numFmt = '@';
    });
  });
}
