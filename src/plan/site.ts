// Site rows in the plan: each row's second customer gateway and IPsec connection, decided like its own gateway, the
// rules between rows (TunnelCidr, pairing, connections per VPN gateway) and the VPN gateway's own facts. Pure.
import type { CustomerGateway, VpnConnection, VpnGateway, VpnTunnel } from '../cloud/types.js';
import { rowKey } from '../keys.js';
import { sameFingerprint } from '../secrets.js';
import {
  MAYBE_CREATED,
  OWNED,
  type ConnectionFields,
  type FieldChange,
  type GatewaySpec,
  type IkeParams,
  type PlanAction,
  type PlanFlags,
  type PlanSummary,
  type PlannedResource,
  type PlannedRow,
  type PriorRow,
  type ResourceKind,
  type Severity,
  type SiteSpec,
} from '../types.js';
import { fieldChange } from './drift.js';
import { SITE_TAG_KEY, connectionSpecHash, pskMark, siteTagValue } from './site-identity.js';
import { listsOverlap, parseCidr } from './site-rules.js';
import { emptySummary } from './summary.js';
import { PSK_ENV_MISSING } from './validate.js';

/** What a region's VPN listing holds (DescribeVpnGateways, DescribeVpnConnections). */
export interface VpnInventory {
  gateways: readonly VpnGateway[];
  connections: readonly VpnConnection[];
}

/** IPsec connections per VPN gateway (adjustable quota; --quota-vpn-connections N). */
export const DEFAULT_VPN_CONNECTION_QUOTA = 10;

export interface SitePlanContext {
  online: boolean;
  /** region -> customer gateways (tells which IP a listed connection's customer gateway has). */
  inventory?: ReadonlyMap<string, readonly CustomerGateway[]>;
  /** region -> VPN gateways and connections; a region missing here was not listed (its sites are planned offline). */
  vpn?: ReadonlyMap<string, VpnInventory>;
  prior?: ReadonlyMap<string, PriorRow>;
  fingerprint?: (secret: string) => string;
  flags: PlanFlags;
  /** The journal's id (its header's runId): the value of the tool's tag is `<journal id>:<row key>`. */
  journalId?: string;
  vpnQuota: number;
  cellOf?: (field: string, line: number) => string | undefined;
}

/** The planner's decision for a customer gateway (plan.ts `decide`), for a second gateway's spec and journal row. */
export type DecideGateway = (
  r: PlannedRow,
  spec: GatewaySpec,
  prior: PriorRow | undefined,
) => Pick<PlannedRow, 'action' | 'reason'> & Partial<Pick<PlannedRow, 'existingId' | 'changes' | 'generation' | 'needs'>>;

const owned = (p: PriorRow | undefined): p is PriorRow & { gatewayId: string } => p !== undefined && OWNED.has(p.status) && !!p.gatewayId;
const ownedConnection = (c: ConnectionFields | undefined): c is ConnectionFields & { connectionId: string } =>
  c !== undefined && OWNED.has(c.status) && !!c.connectionId;

/** Parts whose action adds a resource (a replace deletes one first, so it does not count). */
export function createsNewPart(p: Pick<PlannedResource, 'action' | 'existingId'>): boolean {
  return p.action === 'create' || p.action === 'retry' || (p.action === 'resume' && p.existingId === undefined);
}

/** A row's resources with what apply does to each: its own gateway, then the second one, then the connection. */
export function partsOf(r: PlannedRow): Array<{ kind: ResourceKind; action: PlanAction }> {
  const out: Array<{ kind: ResourceKind; action: PlanAction }> = [{ kind: 'cgw', action: r.action }];
  if (r.gateway2) out.push({ kind: 'cgw2', action: r.gateway2.action });
  if (r.connection) out.push({ kind: 'vco', action: r.connection.action });
  return out;
}

function addIssue(r: PlannedRow, ctx: Pick<SitePlanContext, 'cellOf'>, severity: Severity, code: string, field: string, message: string): void {
  const issue = { severity, code, field, message, file: r.ref.file, line: r.ref.line } as PlannedRow['issues'][number];
  const cell = r.ref.line > 0 ? ctx.cellOf?.(field, r.ref.line) : undefined;
  if (cell !== undefined) issue.cell = cell;
  r.issues.push(issue);
}

/** Marks every part of an invalid site row invalid too (nothing of it is sent). */
export function invalidParts(r: PlannedRow): void {
  const reason = 'the row is invalid';
  if (r.gateway2) r.gateway2 = { key: r.gateway2.key, action: 'invalid', reason };
  if (r.connection) r.connection = { key: r.connection.key, action: 'invalid', reason };
}

// ---- phase 1: second customer gateways (before orphans, so an ip_2 that changed replaces its old gateway) ---------

/**
 * Decides each valid site row's second customer gateway (`ip_2`, journal key `region/ip_2`) with the planner's own
 * gateway rule. An ip_2 that changed replaces the row's old second gateway (journal rows carry `siteKey`); the keys so
 * replaced are returned, so they are not planned again as orphans.
 */
export function decideSecondGateways(rows: readonly PlannedRow[], ctx: SitePlanContext, decide: DecideGateway, invalid: (r: PlannedRow) => void): Set<string> {
  const claimed = new Set<string>();
  for (const r of rows) {
    const site = r.row?.site;
    if (r.orphan || r.action === 'invalid' || !site?.ip2) continue;
    const key = rowKey(r.ref.region, site.ip2);
    const tmp: PlannedRow = { ref: { key, file: r.ref.file, line: r.ref.line, region: r.ref.region, ip: site.ip2 }, action: 'create', reason: '', issues: [], inRun: r.inRun };
    const prior2 = ctx.prior?.get(key);
    const d = decide(tmp, { ...r.row!.spec, ip: site.ip2 }, prior2);
    for (const i of tmp.issues) {
      const field = i.field === 'ip' ? 'ip_2' : i.field;
      addIssue(r, ctx, i.severity, i.code, field, `second customer gateway (ip_2 ${site.ip2}): ${i.message}`);
    }
    if (d.action === 'invalid' || tmp.issues.some((i) => i.severity === 'error')) {
      r.gateway2 = { key, action: 'invalid', reason: 'the row is invalid' };
      invalid(r);
      invalidParts(r);
      continue;
    }
    const part: PlannedResource = { key, action: d.action, reason: d.reason };
    if (d.existingId !== undefined) part.existingId = d.existingId;
    if (d.changes) part.changes = d.changes;
    if (d.generation !== undefined) part.generation = d.generation;
    if (d.needs) part.needs = d.needs;
    if (d.action === 'create' && prior2 === undefined) {
      const old = [...(ctx.prior?.values() ?? [])].filter((p) => p.siteKey === r.ref.key && p.key !== key && owned(p));
      if (old.length === 1) {
        const o = old[0]!;
        const before = o.key.slice(o.key.indexOf('/') + 1);
        part.action = 'replace';
        part.reason = `ip_2 changed from ${before}: delete ${o.gatewayId} (after the connection that uses it), then create the second customer gateway`;
        part.existingId = o.gatewayId;
        part.replacesKey = o.key;
        part.changes = [{ field: 'ip_2', before, after: site.ip2 }];
        claimed.add(o.key);
      }
    }
    r.gateway2 = part;
  }
  return claimed;
}

// ---- phase 2: connections -------------------------------------------------------------------------------------

/** What a row's customer gateway will be when its connection is written. */
interface CgwFacts {
  /** The gateway's id when it exists now and stays (skip, update, adopt, a resume that found it). */
  id?: string;
  /** A new gateway is made in this run (create, retry, resume without a gateway, replace). */
  creates: boolean;
  replaced: boolean;
  /** The gateway is blocked: what it needs. */
  blocked?: PlannedRow['needs'];
}

function factsOf(p: { action: PlanAction; existingId?: string; needs?: PlannedRow['needs'] }): CgwFacts {
  switch (p.action) {
    case 'skip':
    case 'update':
    case 'adopt':
      return { id: p.existingId, creates: false, replaced: false };
    case 'resume':
      return p.existingId !== undefined ? { id: p.existingId, creates: false, replaced: false } : { creates: true, replaced: false };
    case 'create':
    case 'retry':
      return { creates: true, replaced: false };
    case 'replace':
      return { creates: true, replaced: true };
    case 'blocked':
      return p.needs === '--allow-replace' ? { creates: true, replaced: true, blocked: p.needs } : { creates: true, replaced: false, blocked: p.needs };
    default:
      return { creates: false, replaced: false };
  }
}

/** Tunnel by tunnel (a gateway recorded once stands for both tunnels of a dual connection without ip_2). */
const sameIds = (a: readonly string[], b: readonly string[]): boolean => a[0] === b[0] && (a[1] ?? a[0]) === (b[1] ?? b[0]);
const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');

function usesCgw(c: VpnConnection, id: string): boolean {
  return c.customerGatewayId === id || c.tunnels.some((t) => t.customerGatewayId === id);
}

const tagOf = (c: VpnConnection): string | undefined => c.tags.find((t) => t.key === SITE_TAG_KEY)?.value;

export function planSites(rows: PlannedRow[], ctx: SitePlanContext, invalid: (r: PlannedRow) => void, isSite: (r: PlannedRow) => boolean): void {
  const invalidate = (r: PlannedRow): void => {
    invalid(r);
    invalidParts(r);
  };
  for (const r of rows) {
    if (r.orphan) {
      orphanConnection(r, ctx);
      continue;
    }
    if (r.outside) {
      outsideConnection(r, ctx);
      continue;
    }
    const site = r.row?.site;
    if (r.action === 'invalid') {
      if (isSite(r) && !r.connection) r.connection = { key: r.ref.key, action: 'invalid', reason: 'the row is invalid' };
      invalidParts(r);
      continue;
    }
    if (!site) {
      removedSite(r, ctx);
      continue;
    }
    const vpn = ctx.vpn?.get(r.ref.region);
    const gw = vpn?.gateways.find((g) => g.id === site.vpnGatewayId);
    if (vpn) gatewayFacts(r, site, gw, ctx);
    if (r.issues.some((i) => i.severity === 'error')) {
      r.connection = { key: r.ref.key, action: 'invalid', reason: 'the row is invalid' };
      invalidate(r);
      continue;
    }
    r.connection = decideConnection(r, site, ctx, vpn, gw);
    if (r.connection.action === 'invalid' || r.issues.some((i) => i.severity === 'error')) {
      invalidate(r);
      continue;
    }
    if (gw && !['active', 'updating'].includes(gw.status) && writes(r.connection.action)) {
      addIssue(r, ctx, 'error', 'VpnGateway.Configuring', 'vpn_gateway_id', `${gw.id} is ${gw.status}, not active: plan again once it is active`);
      invalidate(r);
    } else if (gw?.status === 'updating' && writes(r.connection.action)) {
      addIssue(r, ctx, 'info', 'Cgw.VpnGatewayBusy', 'vpn_gateway_id', `${gw.id} is updating (another change is in progress): apply waits until it is active`);
    }
  }
  crossRowRules(rows, ctx, invalidate);
  for (const r of rows) {
    gateParts(r, ctx.flags);
    if (needsPsk(r)) raisePsk(r, invalidate);
    rollUp(r);
  }
}

const writes = (a: PlanAction): boolean => a === 'create' || a === 'retry' || a === 'resume' || a === 'update' || a === 'replace';

/** Online: the VPN gateway exists, can take a connection, and its tunnel mode and BGP match the row. */
function gatewayFacts(r: PlannedRow, site: SiteSpec, gw: VpnGateway | undefined, ctx: SitePlanContext): void {
  const add = (code: string, field: string, message: string) => addIssue(r, ctx, 'error', code, field, message);
  if (!gw) {
    add('InvalidVpnGatewayInstanceId.NotFound', 'vpn_gateway_id', `${site.vpnGatewayId} is not a VPN gateway of ${r.ref.region} in this account (DescribeVpnGateways); check the id and the region`);
    return;
  }
  if (gw.businessStatus === 'FinancialLocked') add('VpnGateway.FinancialLocked', 'vpn_gateway_id', `${gw.id} is locked for an unpaid bill; settle it, then plan again`);
  if (gw.ipsecVpn !== 'enable') add('VpnGateway.IpsecVpnDisabled', 'vpn_gateway_id', `${gw.id} does not have IPsec-VPN enabled; enable it in the console, or name another gateway`);
  const dual = gw.disasterRecoveryInternetIp !== undefined;
  if (!dual) {
    if (site.ip2) add('InvalidParameter', 'ip_2', `${gw.id} is a single-tunnel gateway: a second customer gateway (ip_2) needs a dual-tunnel one; clear ip_2`);
    if (site.bgp2) add('InvalidParameter', 'tunnel_cidr_2', `${gw.id} is a single-tunnel gateway: it has no second tunnel; clear tunnel_cidr_2 and local_bgp_ip_2`);
  } else if (site.bgp && !site.bgp2) {
    add('MissingParameter.TunnelCidr', 'tunnel_cidr_2', `${gw.id} is a dual-tunnel gateway: BGP runs over both tunnels, so tunnel_cidr_2 needs its own /30 inside 169.254.0.0/16`);
  }
  if ((site.bgp || site.bgp2) && !gw.enableBgp) add('OperationUnsupported.EnableBgp', 'tunnel_cidr', `${gw.id} does not have BGP enabled; enable it on the gateway, or clear tunnel_cidr for static routing`);
  const vpnIps = new Set([gw.internetIp, gw.disasterRecoveryInternetIp].filter((x): x is string => x !== undefined));
  if (vpnIps.has(r.ref.ip)) add('CustomerGateway.ConflictVpnIp', 'ip', `${r.ref.ip} is an address of ${gw.id} itself; the customer gateway is the branch device's public IP`);
  if (site.ip2 && vpnIps.has(site.ip2)) add('CustomerGateway.ConflictVpnIp', 'ip_2', `${site.ip2} is an address of ${gw.id} itself; the customer gateway is the branch device's public IP`);
}

/** The customer gateway ids of the connection's tunnels, when all are known now (dual without ip_2: one gateway twice). */
function tunnelIds(cgw: CgwFacts, cgw2: CgwFacts | undefined, dual: boolean): string[] | undefined {
  if (cgw.id === undefined || cgw.creates) return undefined;
  if (!dual) return [cgw.id];
  if (!cgw2) return [cgw.id, cgw.id];
  return cgw2.id === undefined || cgw2.creates ? undefined : [cgw.id, cgw2.id];
}

function decideConnection(r: PlannedRow, site: SiteSpec, ctx: SitePlanContext, vpn: VpnInventory | undefined, gw: VpnGateway | undefined): PlannedResource {
  const key = r.ref.key;
  // After an IP change (replace), the row's connection lived under the journal key the row leaves.
  const fromKey = r.replacesKey ?? key;
  const pc = ctx.prior?.get(fromKey)?.connection;
  const base: PlannedResource = { key, action: 'create', reason: '' };
  if (fromKey !== key && pc) base.replacesKey = fromKey;
  const cgw = factsOf(r);
  const cgw2 = r.gateway2 ? factsOf(r.gateway2) : undefined;
  const dual = gw ? gw.disasterRecoveryInternetIp !== undefined : site.ip2 !== undefined || site.bgp2 !== undefined || pc?.customerGatewayIds?.length === 2;
  const ids = tunnelIds(cgw, cgw2, dual);
  const gen = pc?.generation ?? 0;
  const hashNow = ids ? connectionSpecHash(site, ids, pskMark(site.psk, ctx.fingerprint)) : undefined;
  const listed = vpn?.connections;
  const made = (d: Omit<PlannedResource, 'key'>): PlannedResource => ({ ...base, ...d });
  const tag = ctx.journalId !== undefined ? siteTagValue(ctx.journalId, key) : undefined;

  // What the connection waits for: gateways made (or blocked) in this run.
  const blockedBy = cgw.blocked ?? cgw2?.blocked;
  const made1 = cgw.creates ? (cgw.replaced ? 'replaced' : 'created') : undefined;
  const made2 = cgw2?.creates ? (cgw2.replaced ? 'replaced' : 'created') : undefined;
  const waits =
    made1 && made2
      ? made1 === made2
        ? `, after its customer gateways (ip and ip_2) are ${made1} in this run`
        : `, after its customer gateway is ${made1} and its second one ${made2} in this run`
      : made1
        ? `, after its customer gateway is ${made1} in this run`
        : made2
          ? `, after its second customer gateway (ip_2) is ${made2} in this run`
          : '';
  const create = (generation: number, reason: string): PlannedResource => {
    if (blockedBy) return made({ action: 'blocked', needs: blockedBy, reason: `${reason}; waits for its customer gateway, which is blocked (${blockedBy})` });
    return made({ action: 'create', generation, reason: `${reason}${waits}` });
  };

  if (ownedConnection(pc)) {
    const id = pc.connectionId;
    const found = listed?.find((c) => c.id === id);
    if (listed && !found) {
      addIssue(r, ctx, 'warning', 'Cgw.Drift', 'vpn_gateway_id', `connection ${id} recorded by an earlier run no longer exists in ${r.ref.region} (deleted outside the tool?); it is created again`);
      return create(gen + 1, `${id} was deleted outside cgw-batch: create it again (new ClientToken)`);
    }
    if (pc.vpnGatewayId !== site.vpnGatewayId) {
      return made({
        action: 'replace',
        existingId: id,
        generation: gen + 1,
        changes: [fieldChange('vpn_gateway_id', pc.vpnGatewayId, site.vpnGatewayId)],
        reason: `the VPN gateway changed from ${pc.vpnGatewayId}: delete ${id}, then create the connection on ${site.vpnGatewayId}${waits}`,
      });
    }
    const before = pc.customerGatewayIds;
    const cgwChanged = cgw.creates || cgw2?.creates === true || (ids !== undefined && before !== undefined && before.length > 0 && !sameIds(ids, before));
    if (cgwChanged) {
      const what = cgw.creates ? (cgw.replaced ? 'its customer gateway is replaced' : 'its customer gateway is made anew') : cgw2?.creates ? (cgw2.replaced ? 'its second customer gateway is replaced' : 'it gets a second customer gateway') : `its customer gateways change (${(before ?? []).join(', ')} -> ${(ids ?? []).join(', ')})`;
      return made({
        action: 'replace',
        existingId: id,
        generation: gen + 1,
        changes: [fieldChange('customer_gateway_ids', before?.join(',') ?? '(unknown)', ids?.join(',') ?? '(new)')],
        reason: `${what}: delete ${id} first (a customer gateway in use cannot go), then create the connection again${waits}`,
        ...(blockedBy ? {} : {}),
      });
    }
    const changes = found ? diffCloud(site, found, pc, ctx.fingerprint, dual, false) : offlineChanges(site, pc, ctx.fingerprint, dual);
    if (!checkModify(r, ctx, site, changes)) return made({ action: 'invalid', reason: 'the row is invalid' });
    if (changes.length > 0 || (!found && hashNow !== undefined && pc.specHash !== undefined && pc.specHash !== hashNow)) {
      const fields = changes.map((c) => c.field).join(', ');
      const d: PlannedResource = made({
        action: 'update',
        existingId: id,
        reason: found
          ? `change ${fields} of ${id} in place`
          : `the site changed since ${id} was last applied: apply compares it with the cloud and changes only what differs${fields ? ` (${fields})` : ''}`,
      });
      if (changes.length > 0) d.changes = changes;
      return d;
    }
    return made({ action: 'skip', existingId: id, reason: `up to date (${id})` });
  }

  if (pc && MAYBE_CREATED.has(pc.status)) {
    const what = pc.status === 'in-flight' ? 'an earlier create of the connection was interrupted before its answer' : 'an earlier create of the connection gave up with its outcome unknown';
    if (!listed) {
      return made({
        action: 'resume',
        generation: gen,
        reason: `${what}: apply lists the VPN gateway's connections, records the one it made (by the ${SITE_TAG_KEY} tag, or this customer gateway), else replays the same ClientToken`,
      });
    }
    const m = findMade(listed, tag, pc.vpnGatewayId, pc.customerGatewayIds?.[0] ?? ids?.[0]);
    if (m.several) return ambiguous(r, ctx, m.several, made);
    if (m.found) {
      const changes = diffCloud(site, m.found, pc, ctx.fingerprint, dual, false);
      if (!checkModify(r, ctx, site, changes)) return made({ action: 'invalid', reason: 'the row is invalid' });
      const d = made({ action: 'resume', existingId: m.found.id, reason: `${what}; it made ${m.found.id}: record it without a request${changes.length ? ', then update it' : ''}` });
      if (changes.length > 0) d.changes = changes;
      return d;
    }
    if (pc.specHash !== undefined && hashNow !== undefined && pc.specHash !== hashNow) {
      return made({ action: 'resume', generation: gen + 1, reason: `${what} and made no connection; the site changed since: create it with a new ClientToken${waits}` });
    }
    return made({ action: 'resume', generation: Math.max(gen, 1), reason: `${what} and made no connection: create it with the same ClientToken${waits}` });
  }

  // Not the journal's: a connection that is already there is adopted, else one is created.
  if (listed && cgw.id !== undefined && !cgw.creates) {
    const m = findAdoptable(listed, tag, site, cgw.id, ctx.journalId);
    if (m.foreign) {
      addIssue(r, ctx, 'error', 'Cgw.ForeignConnection', 'vpn_gateway_id', `${m.foreign.id} on ${site.vpnGatewayId} uses this customer gateway and belongs to another cgw-batch journal (its ${SITE_TAG_KEY} tag names it); run from that journal, or delete the connection first`);
      return made({ action: 'invalid', reason: 'the row is invalid' });
    }
    if (m.several) return ambiguous(r, ctx, m.several, made);
    if (m.found) {
      const changes = diffCloud(site, m.found, undefined, ctx.fingerprint, dual, true);
      if (!checkModify(r, ctx, site, changes)) return made({ action: 'invalid', reason: 'the row is invalid' });
      const how = m.byTag ? `${m.found.id} carries this row's ${SITE_TAG_KEY} tag` : `${m.found.id} already connects this customer gateway to ${site.vpnGatewayId}`;
      const d = made({ action: 'adopt', existingId: m.found.id, reason: `${how}: record it without creating${changes.length ? ', then update it' : ''}` });
      if (changes.length > 0) d.changes = changes;
      return d;
    }
  }
  if (pc?.status === 'failed') {
    const failed = `${pc.errorCode ?? 'an error'}${pc.errorMessage ? `: ${pc.errorMessage}` : ''}`;
    if (pc.specHash !== undefined && hashNow !== undefined && pc.specHash !== hashNow) {
      return retry(create(gen + 1, `the connection failed earlier (${pc.errorCode ?? 'error'}); the site changed since: create it with a new ClientToken`));
    }
    if (ctx.flags.retryFailed) return retry(create(gen + 1, `the connection failed earlier with ${failed}; retried (--retry-failed)`));
    if (blockedBy) return create(gen + 1, `the connection failed earlier with ${failed}`);
    return made({ action: 'blocked', needs: '--retry-failed', reason: `the connection failed earlier with ${failed}; fix the row, or pass --retry-failed to try again` });
  }
  if (pc?.status === 'deleted') return create(gen + 1, 'the connection was deleted by an earlier run: create it again (new ClientToken)');
  return create(pc ? gen + 1 : 1, `new connection on ${site.vpnGatewayId}`);
}

function retry(p: PlannedResource): PlannedResource {
  if (p.action === 'create') p.action = 'retry';
  return p;
}

function ambiguous(r: PlannedRow, ctx: SitePlanContext, several: readonly VpnConnection[], made: (d: Omit<PlannedResource, 'key'>) => PlannedResource): PlannedResource {
  addIssue(
    r,
    ctx,
    'error',
    'Cgw.AmbiguousConnection',
    'vpn_gateway_id',
    `${several.length} connections could be this row's (${several.map((c) => c.id).join(', ')}): delete the extra one(s) in the console, or give each its own customer gateway, then plan again`,
  );
  return made({ action: 'invalid', reason: 'the row is invalid' });
}

/** A create whose outcome is unknown: the connection it made, by the tool's tag, else by (VPN gateway, customer gateway). */
function findMade(listed: readonly VpnConnection[], tag: string | undefined, vpnGatewayId: string, cgwId: string | undefined): { found?: VpnConnection; several?: VpnConnection[] } {
  if (tag !== undefined) {
    const tagged = listed.filter((c) => tagOf(c) === tag);
    if (tagged.length === 1) return { found: tagged[0]! };
    if (tagged.length > 1) return { several: tagged };
  }
  if (cgwId === undefined) return {};
  const pair = listed.filter((c) => c.vpnGatewayId === vpnGatewayId && usesCgw(c, cgwId) && tagOf(c) === undefined);
  if (pair.length === 1) return { found: pair[0]! };
  return pair.length > 1 ? { several: pair } : {};
}

/** A connection to adopt: by the row's tag, else the one (or the one with the row's selectors) on (VPN gateway, customer gateway). */
function findAdoptable(
  listed: readonly VpnConnection[],
  tag: string | undefined,
  site: SiteSpec,
  cgwId: string,
  journalId: string | undefined,
): { found?: VpnConnection; byTag?: boolean; several?: VpnConnection[]; foreign?: VpnConnection } {
  if (tag !== undefined) {
    const tagged = listed.filter((c) => tagOf(c) === tag);
    if (tagged.length === 1) return { found: tagged[0]!, byTag: true };
    if (tagged.length > 1) return { several: tagged };
  }
  const pair = listed.filter((c) => c.vpnGatewayId === site.vpnGatewayId && usesCgw(c, cgwId));
  const foreign = pair.find((c) => {
    const t = tagOf(c);
    return t !== undefined && (journalId === undefined || !t.startsWith(`${journalId}:`));
  });
  const mine = pair.filter((c) => tagOf(c) === undefined);
  if (mine.length === 1) return { found: mine[0]! };
  if (mine.length > 1) {
    const same = mine.filter((c) => sameSet(c.localSubnet, site.localSubnet) && sameSet(c.remoteSubnet, site.remoteSubnet));
    return same.length === 1 ? { found: same[0]! } : { several: mine };
  }
  return foreign ? { foreign } : {};
}

// ---- what changed -------------------------------------------------------------------------------------------

const IKE_FIELDS: Array<[keyof IkeParams, string]> = [
  ['version', 'ike_version'],
  ['mode', 'ike_mode'],
  ['encAlg', 'ike_enc_alg'],
  ['authAlg', 'ike_auth_alg'],
  ['pfs', 'ike_pfs'],
  ['lifetime', 'ike_lifetime'],
];

/**
 * Fields whose cloud value differs from the row (`before` = the cloud, `after` = the manifest), named as the manifest
 * names them (`_2` for the second tunnel). Profile identities only when the profile sets them (the API defaults them to
 * the gateways' addresses). The PSK through the journal's fingerprints (the plan never reads a key from the cloud).
 */
export function diffCloud(site: SiteSpec, c: VpnConnection, pc: ConnectionFields | undefined, fp: ((s: string) => string) | undefined, dual: boolean, adopting: boolean): FieldChange[] {
  const out: FieldChange[] = [];
  const ch = (field: string, before: string | undefined, after: string | undefined) => out.push(fieldChange(field, before, after));
  if (!sameSet(c.localSubnet, site.localSubnet)) ch('local_subnet', c.localSubnet.join(','), site.localSubnet.join(','));
  if (!sameSet(c.remoteSubnet, site.remoteSubnet)) ch('remote_subnet', c.remoteSubnet.join(','), site.remoteSubnet.join(','));
  if (site.name !== undefined && site.name !== (c.name ?? '')) ch('connection_name', c.name || undefined, site.name);
  if ((site.effectImmediately ?? false) !== c.effectImmediately) ch('effect_immediately', String(c.effectImmediately), String(site.effectImmediately ?? false));
  const p = site.profile;
  const count = dual ? 2 : 1;
  for (let i = 0; i < count; i++) {
    const t: VpnTunnel | undefined = c.tunnels[i];
    if (!t) continue;
    const sfx = i === 0 ? '' : '_2';
    for (const [k, field] of IKE_FIELDS) if (String(t.ike[k]) !== String(p.ike[k])) ch(field + sfx, String(t.ike[k]), String(p.ike[k]));
    if (p.ike.localId !== undefined && t.ike.localId !== p.ike.localId) ch(`local_id${sfx}`, t.ike.localId, p.ike.localId);
    if (p.ike.remoteId !== undefined && t.ike.remoteId !== p.ike.remoteId) ch(`remote_id${sfx}`, t.ike.remoteId, p.ike.remoteId);
    if (t.ipsec.encAlg !== p.ipsec.encAlg) ch(`ipsec_enc_alg${sfx}`, t.ipsec.encAlg, p.ipsec.encAlg);
    if (t.ipsec.authAlg !== p.ipsec.authAlg) ch(`ipsec_auth_alg${sfx}`, t.ipsec.authAlg, p.ipsec.authAlg);
    if (t.ipsec.pfs !== p.ipsec.pfs) ch(`ipsec_pfs${sfx}`, t.ipsec.pfs, p.ipsec.pfs);
    if (t.ipsec.lifetime !== p.ipsec.lifetime) ch(`ipsec_lifetime${sfx}`, String(t.ipsec.lifetime), String(p.ipsec.lifetime));
    if (t.enableDpd !== p.enableDpd) ch(`enable_dpd${sfx}`, String(t.enableDpd), String(p.enableDpd));
    if (t.enableNatTraversal !== p.enableNatTraversal) ch(`enable_nat_traversal${sfx}`, String(t.enableNatTraversal), String(p.enableNatTraversal));
    const want = i === 0 ? site.bgp : site.bgp2;
    const have = t.bgp;
    if (want?.tunnelCidr !== have?.tunnelCidr) ch(`tunnel_cidr${sfx}`, have?.tunnelCidr, want?.tunnelCidr);
    else if (want && have && want.localBgpIp !== have.localBgpIp) ch(`local_bgp_ip${sfx}`, have.localBgpIp, want.localBgpIp);
  }
  out.push(...pskChanges(site, pc, fp, count, adopting));
  return out;
}

/** Offline, only the PSK can be compared (with the journal's fingerprints); the rest is compared online by apply. */
function offlineChanges(site: SiteSpec, pc: ConnectionFields, fp: ((s: string) => string) | undefined, dual: boolean): FieldChange[] {
  return pskChanges(site, pc, fp, dual ? 2 : 1, false);
}

/**
 * The PSK by keyed fingerprint, never by value: a reference whose key differs from what the journal recorded (or with
 * nothing recorded) is a change; `generate` never is (a key exists: it lives in the cloud); no psk never is.
 */
function pskChanges(site: SiteSpec, pc: ConnectionFields | undefined, fp: ((s: string) => string) | undefined, tunnels: number, adopting: boolean): FieldChange[] {
  if (site.psk?.kind !== 'ref' || fp === undefined) return [];
  const want = fp(site.psk.value);
  const had = pc?.pskFingerprints ?? [];
  if (had.length === 0) return [fieldChange('psk', adopting ? '(not compared)' : '(unknown)', '(set)')];
  for (let i = 0; i < tunnels; i++) if (!sameFingerprint(had[i] ?? had[0], want)) return [fieldChange('psk', '(set)', '(changed)')];
  return [];
}

/** ModifyVpnConnectionAttribute refuses IKEv1 with several CIDR blocks on a side when subnets or the IKE version change. */
function checkModify(r: PlannedRow, ctx: SitePlanContext, site: SiteSpec, changes: readonly FieldChange[]): boolean {
  const touches = changes.some((c) => c.field === 'local_subnet' || c.field === 'remote_subnet' || c.field.startsWith('ike_version'));
  if (!touches || site.profile.ike.version !== 'ikev1' || (site.localSubnet.length <= 1 && site.remoteSubnet.length <= 1)) return true;
  addIssue(
    r,
    ctx,
    'error',
    'ModifyIkeV1WithMultiRoutes.Invalid',
    site.localSubnet.length > 1 ? 'local_subnet' : 'remote_subnet',
    'an IKEv1 connection with several CIDR blocks on a side cannot be changed in place: use ike_version: ikev2 in the profile, or one CIDR block per side',
  );
  return false;
}

// ---- rows whose connection goes --------------------------------------------------------------------------------

/** A journal row whose key left the manifest: its connection goes first, with the row (--prune), or waits with it. */
function orphanConnection(r: PlannedRow, ctx: SitePlanContext): void {
  const p = ctx.prior?.get(r.ref.key);
  if (p?.siteKey) r.reason = `second customer gateway of ${p.siteKey}: ${r.reason}`;
  const part = goingConnection(r, p?.connection, ctx, 'its row was removed from the manifest');
  if (!part) return;
  if (part.action === 'delete' && r.action === 'blocked') {
    part.action = 'blocked';
    part.needs = '--prune';
  }
  r.connection = part;
}

/**
 * A journal row a subset manifest (a saved results file) leaves out: its connection is kept as the journal has it,
 * like its customer gateway. Leaving a row out of a retry file is not removing it from the batch.
 */
function outsideConnection(r: PlannedRow, ctx: SitePlanContext): void {
  const pc = ctx.prior?.get(r.ref.key)?.connection;
  if (!pc) return;
  r.connection = { key: r.ref.key, action: 'skip', reason: 'not in this manifest: kept as it is', ...(pc.connectionId ? { existingId: pc.connectionId } : {}) };
}

/** A row that no longer names a VPN gateway: its connection is deleted with --prune, else the row is blocked. */
function removedSite(r: PlannedRow, ctx: SitePlanContext): void {
  const part = goingConnection(r, ctx.prior?.get(r.ref.key)?.connection, ctx, 'the row no longer names a VPN gateway');
  if (!part) return;
  if (part.action === 'delete' && !ctx.flags.prune) {
    part.action = 'blocked';
    part.needs = '--prune';
    part.reason = `${part.reason}; pass --prune to delete it`;
  }
  r.connection = part;
}

function goingConnection(r: PlannedRow, pc: ConnectionFields | undefined, ctx: SitePlanContext, why: string): PlannedResource | undefined {
  if (!pc) return undefined;
  const key = r.ref.key;
  const listed = ctx.vpn?.get(r.ref.region)?.connections;
  if (ownedConnection(pc)) {
    const gone = listed !== undefined && !listed.some((c) => c.id === pc.connectionId);
    if (gone) return { key, action: ctx.flags.prune ? 'delete' : 'skip', existingId: pc.connectionId, reason: `${why}; ${pc.connectionId} is already gone${ctx.flags.prune ? ': recorded as deleted' : ''}` };
    return { key, action: 'delete', existingId: pc.connectionId, reason: `${why}: delete ${pc.connectionId} (before its customer gateways)` };
  }
  if (!MAYBE_CREATED.has(pc.status)) return undefined;
  if (!listed) return { key, action: 'delete', reason: `${why}; an earlier create of the connection has an unknown outcome: apply lists ${pc.vpnGatewayId}'s connections and deletes the one it made, if any` };
  const tag = ctx.journalId !== undefined ? siteTagValue(ctx.journalId, key) : undefined;
  const m = findMade(listed, tag, pc.vpnGatewayId, pc.customerGatewayIds?.[0]);
  if (m.found) return { key, action: 'delete', existingId: m.found.id, reason: `${why}; an earlier create whose answer was lost made ${m.found.id}: delete it` };
  if (m.several) return { key, action: 'skip', reason: `${why}; several connections could be the one an earlier create made (${m.several.map((c) => c.id).join(', ')}): none is deleted, check them in the console` };
  return { key, action: 'skip', reason: `${why}; the earlier create whose answer was lost made no connection` };
}

/**
 * A site's second customer gateway (`ip_2`) is a journal row of its own, but a part of its site's row in a plan of
 * journal rows (destroy, and apply's orphans), as in apply's plan of manifest rows: every command counts and reports
 * sites, and the executor deletes both gateways once the connection is gone. The site is the row whose connection
 * uses the gateway (after the site's own IP changed, its recorded siteKey still names the old row), else the one it
 * was created for; a gateway whose site row is not among `rows` (or not `eligible`) stays a row of its own.
 */
export function foldSecondGateways(rows: PlannedRow[], prior: ReadonlyMap<string, PriorRow>, eligible: (gateway: PlannedRow, site: PlannedRow) => boolean = () => true): void {
  if (![...prior.values()].some((p) => p.siteKey !== undefined)) return;
  const byKey = new Map(rows.map((r) => [r.ref.key, r]));
  const usedBy = new Map<string, string>();
  for (const p of prior.values()) {
    if (p.connection && p.connection.status !== 'deleted') for (const id of p.connection.customerGatewayIds ?? []) usedBy.set(id, p.key);
  }
  const kept: PlannedRow[] = [];
  for (const r of rows) {
    const p = prior.get(r.ref.key);
    const user = p?.gatewayId !== undefined ? usedBy.get(p.gatewayId) : undefined;
    const siteKey = p?.siteKey === undefined ? undefined : user !== undefined && user !== r.ref.key ? user : p.siteKey;
    const site = siteKey !== undefined ? byKey.get(siteKey) : undefined;
    if (!site || site === r || site.gateway2 || !eligible(r, site)) {
      kept.push(r);
      continue;
    }
    site.gateway2 = {
      key: r.ref.key,
      action: r.action,
      reason: r.reason,
      ...(r.needs !== undefined ? { needs: r.needs } : {}),
      ...(r.existingId !== undefined ? { existingId: r.existingId } : {}),
      ...(r.adopted !== undefined ? { adopted: r.adopted } : {}),
    };
  }
  rows.splice(0, rows.length, ...kept);
}

/**
 * destroy: a journal row's connection, deleted before any customer gateway (NotFound counts as done); a create whose
 * outcome is unknown is looked up by the tool's tag and by (VPN gateway, customer gateway).
 */
export function destroyConnection(r: PlannedRow, p: PriorRow, vpn: ReadonlyMap<string, VpnInventory> | undefined, journalId: string | undefined): void {
  const pc = p.connection;
  if (!pc) return;
  const key = r.ref.key;
  const listed = vpn?.get(r.ref.region)?.connections;
  const adopted = pc.adopted === true || pc.status === 'adopted';
  if (ownedConnection(pc)) {
    const gone = listed !== undefined && !listed.some((c) => c.id === pc.connectionId);
    const origin = adopted ? 'adopted (it existed before cgw-batch)' : 'created by cgw-batch';
    r.connection = {
      key,
      action: 'delete',
      existingId: pc.connectionId,
      adopted,
      reason: gone ? `${pc.connectionId} (${origin}) is already gone: recorded as deleted` : `${pc.connectionId}, ${origin}, on ${pc.vpnGatewayId}: deleted before every customer gateway`,
    };
    return;
  }
  if (!MAYBE_CREATED.has(pc.status)) {
    r.connection = { key, action: 'skip', reason: pc.status === 'deleted' ? 'the connection is already deleted' : 'no connection was created for this row' };
    return;
  }
  if (!listed) {
    r.connection = { key, action: 'delete', reason: `an earlier create of the connection has an unknown outcome: destroy lists ${pc.vpnGatewayId}'s connections and deletes the one it made, if any` };
    return;
  }
  const tag = journalId !== undefined ? siteTagValue(journalId, key) : undefined;
  const m = findMade(listed, tag, pc.vpnGatewayId, pc.customerGatewayIds?.[0] ?? p.gatewayId);
  if (m.found) r.connection = { key, action: 'delete', existingId: m.found.id, reason: `${m.found.id}, made by a create whose answer was lost` };
  else if (m.several) r.connection = { key, action: 'skip', reason: `several connections could be the one a lost create made (${m.several.map((c) => c.id).join(', ')}): none is deleted, check them in the console` };
  else r.connection = { key, action: 'skip', reason: 'an earlier create of the connection whose answer was lost made no connection (not in the listing)' };
}

// ---- rules between rows ------------------------------------------------------------------------------------------

interface Peer {
  row?: PlannedRow;
  conn?: VpnConnection;
  ike: IkeParams;
  /** The row's PSK: a reference's value, `generate`/none (a new key), or `cloud` (an existing connection's, unread). */
  psk: { kind: 'value'; value: string } | { kind: 'new' } | { kind: 'cloud' } | { kind: 'unknown' };
  local: readonly string[];
  remote: readonly string[];
}

/**
 * Across the rows of one VPN gateway, and its connections outside the plan: TunnelCidr unique, one PSK and IKE set per
 * (gateway address, customer gateway) with no overlapping selectors, and at most `vpnQuota` connections.
 */
function crossRowRules(rows: readonly PlannedRow[], ctx: SitePlanContext, invalidate: (r: PlannedRow) => void): void {
  const groups = new Map<string, PlannedRow[]>();
  for (const r of rows) {
    const site = r.row?.site;
    if (r.orphan || !site || r.action === 'invalid' || !r.connection || r.connection.action === 'invalid') continue;
    const k = `${r.ref.region}\u0000${site.vpnGatewayId}`;
    const list = groups.get(k) ?? [];
    list.push(r);
    groups.set(k, list);
  }
  // Connections the plan already accounts for (the rows' own): not "other" connections of the gateway.
  const claimed = new Set<string>();
  for (const r of rows) {
    if (r.connection?.existingId) claimed.add(r.connection.existingId);
    const pc = ctx.prior?.get(r.replacesKey ?? r.ref.key)?.connection;
    if (pc?.connectionId) claimed.add(pc.connectionId);
  }
  for (const list of groups.values()) {
    const { region } = list[0]!.ref;
    const gatewayId = list[0]!.row!.site!.vpnGatewayId;
    const vpn = ctx.vpn?.get(region);
    const onGateway = vpn?.connections.filter((c) => c.vpnGatewayId === gatewayId) ?? [];
    const others = onGateway.filter((c) => !claimed.has(c.id));
    const bad = new Set<PlannedRow>();
    const fail = (r: PlannedRow, code: string, field: string, message: string) => {
      addIssue(r, ctx, 'error', code, field, message);
      bad.add(r);
    };

    // TunnelCidr: unique per VPN gateway.
    const taken = new Map<number, string>();
    for (const c of others) for (const t of c.tunnels) if (t.bgp?.tunnelCidr) taken.set(parseCidr(t.bgp.tunnelCidr)?.base ?? -1, `connection ${c.id}`);
    for (const r of list) {
      const site = r.row!.site!;
      for (const [bgp, field] of [[site.bgp, 'tunnel_cidr'], [site.bgp2, 'tunnel_cidr_2']] as const) {
        if (!bgp) continue;
        const b = parseCidr(bgp.tunnelCidr)!.base;
        const by = taken.get(b);
        if (by !== undefined) fail(r, 'IllegalParam.TunnelCidr', field, `${bgp.tunnelCidr} is already used on ${gatewayId} by ${by}; each tunnel of a VPN gateway needs its own /30`);
        else taken.set(b, `line ${r.ref.line}`);
      }
    }

    // Pairing: the same (gateway address, customer gateway) means the same PSK and IKE set and disjoint selectors.
    const gw = vpn?.gateways.find((g) => g.id === gatewayId);
    const ipOf = new Map((ctx.inventory?.get(region) ?? []).map((g) => [g.id, g.ip]));
    const peers = new Map<string, Peer[]>();
    const join = (slot: string, cgwKey: string, p: Peer) => {
      const k = `${slot}\u0000${cgwKey}`;
      const l = peers.get(k) ?? [];
      l.push(p);
      peers.set(k, l);
    };
    for (const c of others) {
      c.tunnels.forEach((t, i) => {
        const ip = ipOf.get(t.customerGatewayId);
        join(t.role ?? (i === 0 ? 'master' : 'slave'), ip !== undefined ? rowKey(region, ip) : `id:${t.customerGatewayId}`, { conn: c, ike: t.ike, psk: { kind: 'cloud' }, local: c.localSubnet, remote: c.remoteSubnet });
      });
    }
    for (const r of list) {
      const site = r.row!.site!;
      const dual = gw ? gw.disasterRecoveryInternetIp !== undefined : site.ip2 !== undefined || site.bgp2 !== undefined;
      // Only a connection that is created (or gets a new key) brings its PSK; one kept as it is keeps the cloud's.
      const c = r.connection!;
      const sendsKey = createsNewPart(c) || c.action === 'replace' || c.changes?.some((x) => x.field === 'psk') === true;
      const unknownPsk = r.issues.some((i) => i.code === PSK_ENV_MISSING);
      const psk: Peer['psk'] = !sendsKey ? { kind: 'cloud' } : site.psk?.kind === 'ref' ? { kind: 'value', value: site.psk.value } : unknownPsk ? { kind: 'unknown' } : { kind: 'new' };
      const peer: Peer = { row: r, ike: site.profile.ike, psk, local: site.localSubnet, remote: site.remoteSubnet };
      join('master', r.ref.key, peer);
      if (dual) join('slave', site.ip2 ? rowKey(region, site.ip2) : r.ref.key, peer);
    }
    for (const list2 of peers.values()) {
      for (let i = 1; i < list2.length; i++) {
        const p = list2[i]!;
        const r = p.row;
        if (!r || bad.has(r)) continue;
        for (const q of list2.slice(0, i)) {
          const other = q.row ? `line ${q.row.ref.line}` : `connection ${q.conn!.id}`;
          if (!sameIke(p.ike, q.ike)) {
            fail(r, 'VpnConnectionParamInvalid.SameVpnAndCgwDifferentIkeConfigs', 'ike_profile', `${other} connects the same customer gateway to ${gatewayId} with other IKE parameters; connections of one (VPN gateway, customer gateway) pair must share the PSK and IKE settings`);
            break;
          }
          if (pskDiffers(p.psk, q.psk)) {
            fail(r, 'VpnConnectionParamInvalid.SameVpnAndCgwDifferentIkeConfigs', 'psk', `${other} connects the same customer gateway to ${gatewayId}: both connections must use the same pre-shared key (env:NAME naming the same key)`);
            break;
          }
          if ((p.psk.kind === 'value' && q.psk.kind === 'cloud') || (p.psk.kind === 'cloud' && q.psk.kind === 'value')) {
            addIssue(r, ctx, 'warning', 'Cgw.PskNotCompared', 'psk', `${other} connects the same customer gateway to ${gatewayId}: its pre-shared key must equal this row's (not compared: plan never reads a key from the cloud)`);
          }
          if (listsOverlap(p.local, q.local) && listsOverlap(p.remote, q.remote)) {
            fail(r, 'VpnConnectionParamInvalid.SameVpnAndCgwTrafficSelectorOverlap', 'local_subnet', `${other} connects the same customer gateway to ${gatewayId} with overlapping subnets; make the CIDR blocks of the two connections disjoint`);
            break;
          }
        }
      }
    }

    // Connections per VPN gateway: existing + planned creates (a replace on the same gateway frees its own slot first).
    const creates = list.filter((r) => !bad.has(r) && r.inRun && r.connection && (createsNewPart(r.connection) || (r.connection.action === 'replace' && r.connection.changes?.some((c) => c.field === 'vpn_gateway_id'))));
    const existing = vpn ? onGateway.length : 0;
    const fit = Math.max(0, ctx.vpnQuota - existing);
    if (creates.length > fit) {
      const where = vpn ? `${gatewayId} already has ${existing} connection(s)` : `${gatewayId} (offline: existing connections not counted)`;
      for (const r of creates.slice(fit)) {
        fail(r, 'CreateVpnConnectionsQuotaFull.QuotaFull', 'vpn_gateway_id', `quota exceeded: ${where}, the quota is ${ctx.vpnQuota} per VPN gateway, and only ${fit} of the ${creates.length} new connection(s) fit; this row does not. Use another VPN gateway, delete unused connections, or pass --quota-vpn-connections N if your quota is higher`);
      }
    }
    for (const r of bad) {
      r.connection = { key: r.connection!.key, action: 'invalid', reason: 'the row is invalid' };
      invalidate(r);
    }
  }
}

function sameIke(a: IkeParams, b: IkeParams): boolean {
  const ids = (x: IkeParams, k: 'localId' | 'remoteId') => x[k] ?? '';
  return IKE_FIELDS.every(([k]) => String(a[k]) === String(b[k])) && (a.localId === undefined || b.localId === undefined || ids(a, 'localId') === ids(b, 'localId')) && (a.remoteId === undefined || b.remoteId === undefined || ids(a, 'remoteId') === ids(b, 'remoteId'));
}

/** Two keys of one pair that cannot be the same: a fresh one (generated, by us or the API) beside any other, or two different values. */
function pskDiffers(a: Peer['psk'], b: Peer['psk']): boolean {
  if (a.kind === 'unknown' || b.kind === 'unknown') return false;
  if (a.kind === 'new' || b.kind === 'new') return true;
  return a.kind === 'value' && b.kind === 'value' && a.value !== b.value;
}

// ---- flags, keys and the row's own action ------------------------------------------------------------------------

/** Parts that need a flag become blocked without it (the reason names the flag). */
function gateParts(r: PlannedRow, flags: PlanFlags): void {
  for (const part of [r.gateway2, r.connection]) {
    if (part?.action !== 'replace' || flags.allowReplace) continue;
    part.action = 'blocked';
    part.needs = '--allow-replace';
    part.reason = `${part.reason}; pass --allow-replace to delete and create`;
  }
}

/** The connection sends the row's PSK in this run (a create, or a replace's create). */
function needsPsk(r: PlannedRow): boolean {
  const c = r.connection;
  return c !== undefined && r.action !== 'invalid' && (createsNewPart(c) || c.action === 'replace');
}

/** A missing `env:` PSK held as a warning becomes the row's error when this run must send the key. */
function raisePsk(r: PlannedRow, invalidate: (r: PlannedRow) => void): void {
  const held = r.issues.filter((i) => i.code === PSK_ENV_MISSING && i.severity === 'warning');
  if (held.length === 0) return;
  for (const i of held) {
    i.severity = 'error';
    i.message = `${i.message} (this run creates the connection and must send the key)`;
  }
  invalidate(r);
}

/** A blocked part holds the whole row back (apply refuses blocked rows; --skip-invalid leaves them out). */
function rollUp(r: PlannedRow): void {
  if (r.action === 'invalid') return;
  // A missing key that no part of the run sends is only a note.
  for (const i of r.issues) if (i.code === PSK_ENV_MISSING && i.severity === 'warning') i.message = i.message.replace(/; export it before running$/, '; the key was not compared (this run does not send it)');
  if (r.action === 'blocked') return;
  const held = [r.gateway2 && { label: 'second customer gateway', p: r.gateway2 }, r.connection && { label: 'connection', p: r.connection }].find((x) => x && x.p.action === 'blocked');
  if (!held) return;
  r.reason = `${r.reason}; not carried out while the ${held.label} is blocked (it needs ${held.p.needs})`;
  r.action = 'blocked';
  r.needs = held.p.needs;
}

/** import records only: parts it would not adopt are skipped with why. */
export function asImportSite(r: PlannedRow): void {
  for (const part of [r.gateway2, r.connection]) {
    if (!part || part.action === 'invalid' || part.action === 'skip') continue;
    if (part.action === 'adopt' || (part.action === 'resume' && part.existingId)) {
      delete part.changes;
      continue;
    }
    part.reason = part.existingId ? `already managed by this journal (${part.existingId})` : `nothing to import: ${part.reason}`;
    part.action = 'skip';
    delete part.changes;
    delete part.generation;
    delete part.needs;
  }
}

/** Per-resource counts for a plan with site rows (undefined otherwise: such plans print and serialise as before). */
export function resourceSummary(rows: readonly PlannedRow[]): Record<ResourceKind, PlanSummary> | undefined {
  if (!rows.some((r) => r.connection || r.gateway2)) return undefined;
  const out: Record<ResourceKind, PlanSummary> = { cgw: emptySummary(), cgw2: emptySummary(), vco: emptySummary() };
  for (const r of rows) {
    for (const { kind, action } of partsOf(r)) {
      const s = out[kind];
      s.rows++;
      if (r.inRun) s[action]++;
      else s.notInRun++;
    }
  }
  return out;
}
