// `cgw-batch export`: existing gateways -> a manifest (CSV, YAML or xlsx) that adopts them and plans with no change.
// Pure. An AuthKey is never written: a gateway that has one gets `env:NAME`, and the names are returned to print.
import type { CustomerGateway } from '../cloud/types.js';
import { defaultSchemaRef, manifestWorkbook, type TemplateFormat } from '../init/template.js';
import { csvManifest, needsFormulaEscape } from '../csv-cells.js';
import type { Tag } from '../types.js';

export interface ExportedManifest {
  content: string | Buffer;
  /** The variables to set before planning the manifest, one per gateway that has a BGP AuthKey. */
  envVars: Array<{ name: string; gatewayId: string }>;
  /** Things the person should know (tags left out, values a spreadsheet would evaluate); never a secret. */
  notes: string[];
}

export interface ExportOptions {
  /** YAML: where `# yaml-language-server: $schema=` points. Default: this package's manifests/schema.json. */
  schemaRef?: string;
}

/** `CGW_AUTHKEY_<REGION>_<IP>` upper-cased, every other character `_`: one predictable name per gateway. */
export function authKeyEnvName(gw: Pick<CustomerGateway, 'regionId' | 'ip'>): string {
  return `CGW_AUTHKEY_${gw.regionId}_${gw.ip}`.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

// Tags Alibaba Cloud manages itself: the API refuses them in requests, so they cannot be part of a manifest.
const SYSTEM_TAG = /^(aliyun|acs:)/i;

interface Flat {
  region: string;
  ip: string;
  name?: string;
  description?: string;
  asn?: string;
  authKeyEnv?: string;
  resourceGroupId?: string;
  tags: Tag[];
}

export async function exportManifest(gateways: readonly CustomerGateway[], format: TemplateFormat, opts: ExportOptions = {}): Promise<ExportedManifest> {
  const envVars: ExportedManifest['envVars'] = [];
  const notes: string[] = [];
  let systemTags = 0;
  const flat: Flat[] = [...gateways].sort(byRegionThenIp).map((gw) => {
    const f: Flat = { region: gw.regionId, ip: gw.ip, tags: [] };
    if (present(gw.name)) f.name = gw.name;
    if (present(gw.description)) f.description = gw.description;
    // The API returns the ASN as an integer ("0" or "" when none); it is written as text, exactly.
    if (present(gw.asn) && gw.asn !== '0') f.asn = gw.asn;
    if (present(gw.resourceGroupId)) f.resourceGroupId = gw.resourceGroupId;
    if (present(gw.authKey)) {
      f.authKeyEnv = authKeyEnvName(gw);
      envVars.push({ name: f.authKeyEnv, gatewayId: gw.id });
    }
    for (const t of gw.tags) {
      if (SYSTEM_TAG.test(t.key)) systemTags++;
      else f.tags.push({ key: t.key, value: t.value });
    }
    return f;
  });
  if (systemTags > 0) notes.push(`${systemTags} tag(s) managed by Alibaba Cloud (aliyun*, acs:*) are not exported; they stay on the gateways`);
  if (format === 'csv') {
    // The same test the CSV writer escapes by: every escaped cell is counted, once per gateway.
    const risky = flat.filter((f) => [f.name, f.description, ...f.tags.map((t) => t.value)].some((v) => v !== undefined && needsFormulaEscape(v)));
    if (risky.length > 0) {
      notes.push(
        `${risky.length} gateway(s) have a name, description or tag that a spreadsheet would run as a formula (it starts with = + - @, a tab or line break, or their full-width forms); the CSV has them with a leading ' so they stay text, and plan and import read them back without it. Use --format xlsx to edit in a spreadsheet`,
      );
    }
  }

  const content = format === 'yaml' ? toYaml(flat, opts.schemaRef ?? defaultSchemaRef()) : toTable(flat, format);
  return { content: await content, envVars, notes };
}

function present(s: string | undefined): s is string {
  return s !== undefined && s !== '';
}

function byRegionThenIp(a: CustomerGateway, b: CustomerGateway): number {
  if (a.regionId !== b.regionId) return a.regionId < b.regionId ? -1 : 1;
  const pa = a.ip.split('.').map(Number);
  const pb = b.ip.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const BASE = ['region', 'ip', 'name', 'description', 'asn', 'auth_key', 'resource_group_id'] as const;

async function toTable(flat: readonly Flat[], format: 'csv' | 'xlsx'): Promise<string | Buffer> {
  // One tag:<Key> column per key, in first-seen order: any key or value survives (a k=v;k2=v2 cell could not hold `;`).
  const tagKeys: string[] = [];
  const seen = new Set<string>();
  for (const f of flat) for (const t of f.tags) if (!seen.has(t.key)) seen.add(t.key), tagKeys.push(t.key);
  const columns = [...BASE, ...tagKeys.map((k) => `tag:${k}`)];
  const rows = flat.map((f) => {
    const tags = new Map(f.tags.map((t) => [t.key, t.value]));
    const base = [f.region, f.ip, f.name ?? '', f.description ?? '', f.asn ?? '', f.authKeyEnv ? `env:${f.authKeyEnv}` : '', f.resourceGroupId ?? ''];
    return [...base, ...tagKeys.map((k) => tags.get(k) ?? '')];
  });
  if (format === 'xlsx') return manifestWorkbook({ columns, rows });
  // UTF-8 with BOM (Excel reads UTF-8 only with it; the loader strips it), CRLF, formula-escaped (report/csv.ts).
  return csvManifest([columns, ...rows]);
}

function toYaml(flat: readonly Flat[], schema: string): string {
  // Every scalar double-quoted (JSON strings are valid YAML): no value can turn into a number, date or boolean.
  const q = (s: string) => JSON.stringify(s);
  const out = [
    `# yaml-language-server: $schema=${schema}`,
    '# Exported by cgw-batch from the gateways that exist. Plan it to adopt them: cgw-batch plan <this file>',
    'gateways:',
  ];
  for (const f of flat) {
    out.push(`  - region: ${q(f.region)}`, `    ip: ${q(f.ip)}`);
    if (f.name !== undefined) out.push(`    name: ${q(f.name)}`);
    if (f.description !== undefined) out.push(`    description: ${q(f.description)}`);
    if (f.asn !== undefined) out.push(`    asn: ${q(f.asn)}`);
    if (f.authKeyEnv !== undefined) out.push(`    auth_key: ${q(`env:${f.authKeyEnv}`)}   # set this variable to the gateway's BGP key`);
    if (f.resourceGroupId !== undefined) out.push(`    resource_group_id: ${q(f.resourceGroupId)}`);
    if (f.tags.length > 0) {
      out.push('    tags:');
      for (const t of f.tags) out.push(`      ${q(t.key)}: ${q(t.value)}`);
    }
  }
  if (flat.length === 0) out[out.length - 1] = 'gateways: []';
  return out.join('\n') + '\n';
}
