// `cgw-batch export`: existing gateways -> a manifest (CSV, YAML or xlsx) that adopts them and plans with no change;
// a gateway with an IPsec connection becomes a site row (its connection's columns, its parameters as a profile when
// they are not Alibaba's defaults). Pure. An AuthKey or PSK is never written: each becomes `env:NAME`, and the names
// are returned to print.
import type { CustomerGateway, VpnConnection, VpnGateway, VpnTunnel } from '../cloud/types.js';
import { defaultSchemaRef, manifestWorkbook, type TemplateFormat } from '../init/template.js';
import { csvManifest, needsFormulaEscape } from '../csv-cells.js';
import type { IpsecProfile, Tag } from '../types.js';

export interface ExportedManifest {
  content: string | Buffer;
  /** The variables to set before planning the manifest, one per gateway that has a BGP AuthKey, one per connection's PSK. */
  envVars: Array<{ name: string; gatewayId: string }>;
  /** Things the person should know (tags left out, values a spreadsheet would evaluate); never a secret. */
  notes: string[];
  /** CSV with profiles: the `--profiles FILE` to write beside it (a YAML `profiles:` map). */
  profilesYaml?: string;
}

export interface ExportOptions {
  /** YAML: where `# yaml-language-server: $schema=` points. Default: this package's manifests/schema.json. */
  schemaRef?: string;
  /** The regions' IPsec connections and VPN gateways: each connection's customer gateway becomes a site row. */
  vpn?: { connections: readonly VpnConnection[]; gateways: readonly VpnGateway[] };
  /** Alibaba's defaults: parameters equal to these are left out of the profiles (plan/site-rules.ts DEFAULT_PROFILE). */
  defaults?: IpsecProfile;
}

/** `CGW_PSK_<REGION>_<IP>`: one predictable name per site (the row's region and IP). */
export function pskEnvName(gw: Pick<CustomerGateway, 'regionId' | 'ip'>): string {
  return `CGW_PSK_${gw.regionId}_${gw.ip}`.toUpperCase().replace(/[^A-Z0-9]/g, '_');
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
  /** A site row's columns (as the manifest names them), when the gateway has a connection. */
  site?: Record<string, string>;
}

/** The site columns an export writes, in manifest order. */
const SITE_COLUMNS = ['vpn_gateway_id', 'local_subnet', 'remote_subnet', 'psk', 'ike_profile', 'tunnel_cidr', 'local_bgp_ip', 'connection_name', 'effect_immediately', 'ip_2', 'tunnel_cidr_2', 'local_bgp_ip_2'] as const;

/** A tunnel's parameters as profile parameters, those equal to Alibaba's defaults (and identities left to default) left out. */
function profileParams(t: VpnTunnel, defaults: IpsecProfile | undefined, gatewayIps: ReadonlySet<string>, cgwIp: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (k: string, v: string | number | boolean | undefined, d: string | number | boolean | undefined) => {
    if (v !== undefined && String(v) !== String(d)) out[k] = String(v);
  };
  const d = defaults;
  put('ike_version', t.ike.version, d?.ike.version);
  put('ike_mode', t.ike.mode, d?.ike.mode);
  put('ike_enc_alg', t.ike.encAlg, d?.ike.encAlg);
  put('ike_auth_alg', t.ike.authAlg, d?.ike.authAlg);
  put('ike_pfs', t.ike.pfs, d?.ike.pfs);
  put('ike_lifetime', t.ike.lifetime, d?.ike.lifetime);
  // The API fills the identities with the two addresses: only other values were set on purpose.
  if (t.ike.localId !== undefined && !gatewayIps.has(t.ike.localId)) out.local_id = t.ike.localId;
  if (t.ike.remoteId !== undefined && t.ike.remoteId !== cgwIp) out.remote_id = t.ike.remoteId;
  put('ipsec_enc_alg', t.ipsec.encAlg, d?.ipsec.encAlg);
  put('ipsec_auth_alg', t.ipsec.authAlg, d?.ipsec.authAlg);
  put('ipsec_pfs', t.ipsec.pfs, d?.ipsec.pfs);
  put('ipsec_lifetime', t.ipsec.lifetime, d?.ipsec.lifetime);
  put('enable_dpd', t.enableDpd, d?.enableDpd);
  put('enable_nat_traversal', t.enableNatTraversal, d?.enableNatTraversal);
  return out;
}

/** Each connection as a site: the row of its (first) customer gateway, its second one as ip_2, its parameters as a profile. */
function sitesOf(
  gateways: readonly CustomerGateway[],
  opts: ExportOptions,
  envVars: ExportedManifest['envVars'],
  notes: string[],
): { sites: Map<string, Record<string, string>>; second: Set<string>; profiles: Map<string, Record<string, string>> } {
  const sites = new Map<string, Record<string, string>>();
  const second = new Set<string>();
  const profiles = new Map<string, Record<string, string>>();
  const byParams = new Map<string, string>();
  const cgw = new Map(gateways.map((g) => [g.id, g]));
  let skipped = 0;
  for (const c of [...(opts.vpn?.connections ?? [])].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const t1 = c.tunnels[0];
    const a = t1 ? cgw.get(t1.customerGatewayId) : undefined;
    if (!t1 || !a || sites.has(a.id)) {
      skipped++;
      continue;
    }
    const t2 = c.dualTunnel ? c.tunnels[1] : undefined;
    const b = t2 && t2.customerGatewayId !== a.id ? cgw.get(t2.customerGatewayId) : undefined;
    const site: Record<string, string> = {
      vpn_gateway_id: c.vpnGatewayId,
      local_subnet: c.localSubnet.join(','),
      remote_subnet: c.remoteSubnet.join(','),
      psk: `env:${pskEnvName(a)}`,
    };
    envVars.push({ name: pskEnvName(a), gatewayId: c.id });
    const gw = opts.vpn?.gateways.find((g) => g.id === c.vpnGatewayId);
    const ips = new Set([gw?.internetIp, gw?.disasterRecoveryInternetIp, t1.internetIp, t2?.internetIp].filter((x): x is string => x !== undefined));
    const params = profileParams(t1, opts.defaults, ips, a.ip);
    if (t2 && JSON.stringify(profileParams(t2, opts.defaults, ips, (b ?? a).ip)) !== JSON.stringify(params)) {
      notes.push(`${c.id}: its two tunnels have different IKE/IPsec parameters; a row has one profile, so the first tunnel's is exported (plan shows the second tunnel's difference)`);
    }
    if (Object.keys(params).length > 0) {
      const k = JSON.stringify(params);
      let name = byParams.get(k);
      if (name === undefined) {
        name = `exported-${byParams.size + 1}`;
        byParams.set(k, name);
        profiles.set(name, params);
      }
      site.ike_profile = name;
    }
    if (t1.bgp) Object.assign(site, { tunnel_cidr: t1.bgp.tunnelCidr, local_bgp_ip: t1.bgp.localBgpIp });
    if (c.name !== undefined && c.name !== '') site.connection_name = c.name;
    if (c.effectImmediately) site.effect_immediately = 'true';
    if (b) {
      site.ip_2 = b.ip;
      second.add(b.id);
    }
    if (t2?.bgp) Object.assign(site, { tunnel_cidr_2: t2.bgp.tunnelCidr, local_bgp_ip_2: t2.bgp.localBgpIp });
    sites.set(a.id, site);
  }
  if (skipped > 0) notes.push(`${skipped} connection(s) not exported: a row is one site (one connection per customer gateway), or its customer gateway is in another region`);
  return { sites, second, profiles };
}

export async function exportManifest(gateways: readonly CustomerGateway[], format: TemplateFormat, opts: ExportOptions = {}): Promise<ExportedManifest> {
  const envVars: ExportedManifest['envVars'] = [];
  const notes: string[] = [];
  let systemTags = 0;
  const { sites, second, profiles } = sitesOf(gateways, opts, envVars, notes);
  // A site's second customer gateway is its row's ip_2, not a row of its own.
  const flat: Flat[] = [...gateways].filter((g) => !second.has(g.id)).sort(byRegionThenIp).map((gw) => {
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
    const site = sites.get(gw.id);
    if (site) f.site = site;
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

  const content = format === 'yaml' ? toYaml(flat, opts.schemaRef ?? defaultSchemaRef(), profiles) : toTable(flat, format, profiles);
  return { content: await content, envVars, notes, ...(format === 'csv' && profiles.size > 0 ? { profilesYaml: profilesYaml(profiles) } : {}) };
}

/** The profiles as a `--profiles FILE` (or the YAML manifest's own map): every value double-quoted. */
function profileLines(profiles: ReadonlyMap<string, Record<string, string>>): string[] {
  const out = ['profiles:'];
  for (const [name, params] of profiles) {
    out.push(`  ${JSON.stringify(name)}:`);
    for (const [k, v] of Object.entries(params)) out.push(`    ${k}: ${JSON.stringify(v)}`);
  }
  return out;
}

function profilesYaml(profiles: ReadonlyMap<string, Record<string, string>>): string {
  return ['# IPsec profiles of the exported connections: plan the CSV with --profiles <this file>', ...profileLines(profiles)].join('\n') + '\n';
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

async function toTable(flat: readonly Flat[], format: 'csv' | 'xlsx', profiles: ReadonlyMap<string, Record<string, string>>): Promise<string | Buffer> {
  // One tag:<Key> column per key, in first-seen order: any key or value survives (a k=v;k2=v2 cell could not hold `;`).
  const tagKeys: string[] = [];
  const seen = new Set<string>();
  for (const f of flat) for (const t of f.tags) if (!seen.has(t.key)) seen.add(t.key), tagKeys.push(t.key);
  // The site columns only when there are sites, and only those some site uses: a gateway-only export is as before.
  const siteCols = SITE_COLUMNS.filter((c) => flat.some((f) => f.site?.[c] !== undefined));
  const columns = [...BASE, ...siteCols, ...tagKeys.map((k) => `tag:${k}`)];
  const rows = flat.map((f) => {
    const tags = new Map(f.tags.map((t) => [t.key, t.value]));
    const base = [f.region, f.ip, f.name ?? '', f.description ?? '', f.asn ?? '', f.authKeyEnv ? `env:${f.authKeyEnv}` : '', f.resourceGroupId ?? ''];
    return [...base, ...siteCols.map((c) => f.site?.[c] ?? ''), ...tagKeys.map((k) => tags.get(k) ?? '')];
  });
  if (format === 'xlsx') {
    if (profiles.size === 0) return manifestWorkbook({ columns, rows });
    const params = [...new Set([...profiles.values()].flatMap((p) => Object.keys(p)))];
    return manifestWorkbook({ columns, rows, profiles: { columns: ['name', ...params], rows: [...profiles].map(([name, p]) => [name, ...params.map((k) => p[k] ?? '')]) } });
  }
  // UTF-8 with BOM (Excel reads UTF-8 only with it; the loader strips it), CRLF, formula-escaped (report/csv.ts).
  return csvManifest([columns, ...rows]);
}

function toYaml(flat: readonly Flat[], schema: string, profiles: ReadonlyMap<string, Record<string, string>>): string {
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
    for (const [k, v] of Object.entries(f.site ?? {})) out.push(`    ${k}: ${q(v)}${k === 'psk' ? "   # set this variable to the connection's pre-shared key" : ''}`);
    if (f.tags.length > 0) {
      out.push('    tags:');
      for (const t of f.tags) out.push(`      ${q(t.key)}: ${q(t.value)}`);
    }
  }
  if (flat.length === 0) out[out.length - 1] = 'gateways: []';
  if (profiles.size > 0) out.push(...profileLines(profiles));
  return out.join('\n') + '\n';
}
