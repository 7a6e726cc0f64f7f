// VPN gateway and IPsec connection actions: asynchronous tasks, referential and pairing rules (site-to-site.md §1.2-§1.5).
import { err, invalidParam, missing, type ApiError } from './api-error.js';
import {
  cgwNotFound,
  defaultResourceGroup,
  region,
  remember,
  replay,
  tokenOf,
  type ActionContext,
  type ActionDef,
  type Body,
} from './action-kit.js';
import { hashParams, type GatewayRecord, type RegionState } from './store.js';
import { intParam, matchesTags, validateTagFilters } from './validate.js';
import {
  DEFAULT_LOCAL_ASN,
  HEALTH_DEFAULTS,
  IKE_DEFAULTS,
  IPSEC_DEFAULTS,
  isDual,
  type BgpSettings,
  type HealthCheckSettings,
  type IkeSettings,
  type NegotiationStatus,
  type TunnelRecord,
  type VpnConnectionRecord,
  type VpnGatewayRecord,
  type VpnTask,
} from './vpn-model.js';
import {
  checkLocalBgpIp,
  checkTunnelCidr,
  DUAL_ONLY,
  intToIp,
  listsOverlap,
  parseBool,
  parseCidr,
  SINGLE_ONLY,
  validateCreateConnection,
  validateModifyConnection,
  type BgpInput,
  type ConnectionChanges,
  type ConnectionInput,
  type TunnelInput,
} from './vpn-validate.js';
import {
  bestStatus,
  connectionView,
  downloadView,
  gatewayStatus,
  modifyView,
  tunnelGatewayIp,
  vpnGatewayView,
  type ViewContext,
} from './vpn-views.js';

export const gwNotFound = (): ApiError =>
  err(404, 'InvalidVpnGatewayInstanceId.NotFound', 'The specified vpn gateway instance id does not exist.');
export const vcoNotFound = (): ApiError =>
  err(404, 'InvalidVpnConnectionInstanceId.NotFound', 'The specified vpn connection instance id does not exist.');
const configuring = (): ApiError => err(400, 'VpnGateway.Configuring', 'The specified service is configuring.');
const taskConflict = (): ApiError => err(400, 'VpnTask.CONFLICT', 'Vpn task has conflict.');

/** Connections (being deleted included) that use a customer gateway, in either mode. */
export function connectionsUsing(r: RegionState, cgwId: string): VpnConnectionRecord[] {
  return [...r.connections.values()].filter((c) => c.CustomerGatewayId === cgwId || c.Tunnels?.some((t) => t.CustomerGatewayId === cgwId));
}

/**
 * Why a write must wait, if it must: a task on this very connection is VpnTask.CONFLICT, any other task (or a
 * gateway not `active`) VpnGateway.Configuring. The API documents both codes without saying which is which.
 */
function busy(g: VpnGatewayRecord, now: number, connectionId?: string): ApiError | undefined {
  if (g.task && now < g.task.until) return connectionId !== undefined && g.task.connectionId === connectionId ? taskConflict() : configuring();
  if (g.Status !== 'active') return configuring();
  return undefined;
}

function startTask(ctx: ActionContext, g: VpnGatewayRecord, kind: VpnTask['kind'], c?: VpnConnectionRecord): void {
  const until = ctx.now + ctx.settings.vpnTaskMs;
  g.task = { kind, until, ...(c ? { connectionId: c.VpnConnectionId } : {}) };
  if (c) c.task = { kind, until };
  ctx.store.taskStarted(until);
}

/**
 * ModifyCustomerGatewayAttribute with an AuthKey reconfigures every VPN gateway with a connection on it: false (and no
 * change) when one of them is busy, else each starts a task.
 */
export function startGatewayTasks(ctx: ActionContext, gatewayIds: string[]): boolean {
  const r = region(ctx);
  const gws = gatewayIds.flatMap((id) => r.vpnGateways.get(id) ?? []);
  if (gws.some((g) => busy(g, ctx.now) !== undefined)) return false;
  for (const g of gws) startTask(ctx, g, 'modify');
  return true;
}

function usable(g: VpnGatewayRecord): void {
  if (g.BusinessStatus === 'FinancialLocked') throw err(400, 'VpnGateway.FinancialLocked', 'The specified service is financial locked.');
  if (g.IpsecVpn !== 'enable') throw err(400, 'VpnGateway.IpsecVpnDisabled', 'The vpn gateway does not enable IPSec VPN.');
}

/** The status a client sees: the admin override, else the pluggable source, else not established. */
function statusLookup(ctx: ActionContext, r: RegionState, g: VpnGatewayRecord): ViewContext['statusOf'] {
  const one = (c: VpnConnectionRecord, t?: TunnelRecord): NegotiationStatus => {
    const override = t ? t.StatusOverride : c.StatusOverride;
    if (override) return override;
    const cgwId = (t ? t.CustomerGatewayId : c.CustomerGatewayId) ?? '';
    const asked = ctx.negotiation({
      accountId: ctx.accountId,
      regionId: ctx.regionId,
      vpnConnectionId: c.VpnConnectionId,
      vpnGatewayId: g.VpnGatewayId,
      ...(t ? { tunnelId: t.TunnelId, role: t.Role } : {}),
      state: c.State,
      gatewayIp: t ? tunnelGatewayIp(g, t.Role) : g.InternetIp,
      customerGatewayId: cgwId,
      customerGatewayIp: r.gateways.get(cgwId)?.IpAddress,
    });
    return asked ?? 'ike_sa_not_established';
  };
  return (c, t) => {
    if (t || !c.Tunnels) return one(c, t);
    return c.StatusOverride ?? bestStatus(c.Tunnels.map((x) => one(c, x)));
  };
}

function viewContext(ctx: ActionContext, r: RegionState, g: VpnGatewayRecord): ViewContext {
  return { gateway: g, customerGateways: r.gateways, statusOf: statusLookup(ctx, r, g) };
}

// ---- building and checking a connection ------------------------------------------------------------------------

/** Where a connection's IKE settings meet a customer gateway: (gateway IP, customer gateway). */
interface Peer {
  gatewayIp: string;
  cgwId: string;
  ike: IkeSettings;
}

function peersOf(c: VpnConnectionRecord, g: VpnGatewayRecord): Peer[] {
  if (c.Tunnels) return c.Tunnels.map((t) => ({ gatewayIp: tunnelGatewayIp(g, t.Role), cgwId: t.CustomerGatewayId, ike: t.Ike }));
  return c.Ike ? [{ gatewayIp: g.InternetIp, cgwId: c.CustomerGatewayId ?? '', ike: c.Ike }] : [];
}

function tunnelCidrsOf(c: VpnConnectionRecord): string[] {
  if (c.Tunnels) return c.EnableTunnelsBgp ? c.Tunnels.flatMap((t) => (t.Bgp ? [t.Bgp.TunnelCidr] : [])) : [];
  return c.EnableBgp && c.Bgp ? [c.Bgp.TunnelCidr] : [];
}

const IKE_KEYS: Array<keyof IkeSettings> = ['Psk', 'IkeVersion', 'IkeMode', 'IkeEncAlg', 'IkeAuthAlg', 'IkePfs', 'IkeLifetime', 'LocalId', 'RemoteId'];

function customerGateway(r: RegionState, id: string, g: VpnGatewayRecord): GatewayRecord {
  const cgw = r.gateways.get(id);
  if (!cgw) throw cgwNotFound();
  if (cgw.IpAddress === g.InternetIp || cgw.IpAddress === g.DisasterRecoveryInternetIp)
    throw err(
      400,
      'CustomerGateway.ConflictVpnIp',
      'The customer gateway associated with the IPSec connection should not have the same IP address as the VPN gateway.',
    );
  return cgw;
}

function resolveIke(given: Partial<IkeSettings>, prev: IkeSettings | undefined, localId: string, remoteId: string, newPsk: () => string): IkeSettings {
  const base: IkeSettings = prev ?? { ...IKE_DEFAULTS, Psk: '', LocalId: localId, RemoteId: remoteId };
  const out: IkeSettings = { ...base, ...given };
  if (out.Psk === '') out.Psk = newPsk();
  return out;
}

/** A BGP block that is switched on: TunnelCidr required, LocalBgpIp inside it (the first host by default). */
function resolveBgp(given: BgpInput, prev: BgpSettings | undefined): BgpSettings {
  const tunnelCidr = given.TunnelCidr ?? prev?.TunnelCidr;
  if (tunnelCidr === undefined) throw err(400, 'MissingParameter.TunnelCidr', 'The parameter TunnelCidr is mandatory when BGP is enabled.');
  const cidr = checkTunnelCidr(tunnelCidr);
  const keepIp = given.TunnelCidr === undefined || given.TunnelCidr === prev?.TunnelCidr;
  const localBgpIp = given.LocalBgpIp ?? (keepIp ? prev?.LocalBgpIp : undefined) ?? intToIp(cidr.base + 1);
  checkLocalBgpIp(localBgpIp, cidr);
  return { LocalAsn: given.LocalAsn ?? prev?.LocalAsn ?? DEFAULT_LOCAL_ASN, TunnelCidr: tunnelCidr, LocalBgpIp: localBgpIp };
}

function bgpAllowed(g: VpnGatewayRecord, cgw: GatewayRecord): void {
  if (!g.EnableBgp) throw err(400, 'OperationUnsupported.EnableBgp', 'Current version of the VPN does not support enable BGP.');
  if (cgw.Asn === undefined)
    throw err(400, 'MissingParam.CustomerGatewayAsn', 'Asn of customer gateway is mandatory when BGP is enabled.');
}

function resolveHealth(given: Partial<HealthCheckSettings> | undefined, prev: HealthCheckSettings | undefined): HealthCheckSettings {
  const out = { ...(prev ?? HEALTH_DEFAULTS), ...(given ?? {}) };
  if (out.enable && (out.dip === '' || out.sip === ''))
    throw invalidParam('HealthCheckConfig', 'needs dip and sip when enable is true');
  return out;
}

/** Single-tunnel parameters on a dual-tunnel gateway and the other way round, with the codes the API documents. */
function checkMode(dual: boolean, c: ConnectionChanges): void {
  if (c.RemoteCaCertificate !== undefined) throw invalidParam('RemoteCaCertificate', 'must be empty on a Normal VPN gateway');
  if (dual) {
    for (const k of SINGLE_ONLY) {
      if (c[k] === undefined) continue;
      if (k === 'EnableDpd') throw err(400, 'OperationUnsupported.SetDPD', 'Current version of the VPN does not support setting DPD.');
      if (k === 'EnableNatTraversal')
        throw err(400, 'OperationUnsupported.SetNatTraversal', 'Current version of the VPN does not support setting NAT traversal.');
      if (k === 'BgpConfig') throw err(400, 'OperationUnsupported.EnableBgp', 'Current version of the VPN does not support enable BGP.');
      throw invalidParam(k, 'is not supported on a dual-tunnel VPN gateway; configure each tunnel with TunnelOptionsSpecification');
    }
  } else {
    for (const k of DUAL_ONLY)
      if (c[k] !== undefined)
        throw invalidParam(k === 'Tunnels' ? 'TunnelOptionsSpecification' : k, 'is supported on dual-tunnel VPN gateways only');
  }
}

/** Exactly two tunnels, one master and one slave, each with its customer gateway (Create). */
function checkTunnelSet(tunnels: TunnelInput[] | undefined): TunnelInput[] {
  const missingSpec = () =>
    err(400, 'MissingParameter.TunnelOptionsSpecification', 'The required parameters are missing when creating a tunnel for dual-tunnel VPN.');
  if (!tunnels || tunnels.length < 2) throw missingSpec();
  if (tunnels.length > 2) throw invalidParam('TunnelOptionsSpecification', 'takes exactly two tunnels (master and slave)');
  const roles = tunnels.map((t) => t.Role);
  if (!roles.includes('master') || !roles.includes('slave')) throw err(400, 'IllegalParam.Role', 'The specified Role is invalid.');
  for (const t of tunnels) if (t.CustomerGatewayId === undefined) throw missingSpec();
  return tunnels;
}

function zoneOf(regionId: string, role: 'master' | 'slave'): string {
  return `${regionId}-${role === 'master' ? 'a' : 'b'}`;
}

/** The new connection (ids still empty) from a checked input, or the first rule it breaks. */
function buildConnection(ctx: ActionContext, r: RegionState, g: VpnGatewayRecord, input: ConnectionInput, rg: string): VpnConnectionRecord {
  const dual = isDual(g);
  checkMode(dual, input);
  const c: VpnConnectionRecord = {
    VpnConnectionId: '',
    VpnGatewayId: g.VpnGatewayId,
    Name: input.Name ?? '',
    LocalSubnet: input.LocalSubnet,
    RemoteSubnet: input.RemoteSubnet,
    CreateTime: ctx.now,
    EffectImmediately: input.EffectImmediately ?? false,
    AutoConfigRoute: input.AutoConfigRoute ?? true,
    ResourceGroupId: rg,
    Tags: input.Tags,
    ClientTokens: [],
    State: 'provisioning',
  };
  if (dual) {
    const tunnels = checkTunnelSet(input.Tunnels);
    c.EnableTunnelsBgp = input.EnableTunnelsBgp ?? false;
    c.Tunnels = tunnels
      .map((t): TunnelRecord => {
        const role = t.Role ?? 'master';
        const cgw = customerGateway(r, t.CustomerGatewayId ?? '', g);
        const rec: TunnelRecord = {
          TunnelId: '',
          Role: role,
          CustomerGatewayId: cgw.CustomerGatewayId,
          EnableDpd: t.EnableDpd ?? true,
          EnableNatTraversal: t.EnableNatTraversal ?? true,
          Ike: resolveIke(t.Ike, undefined, tunnelGatewayIp(g, role), cgw.IpAddress, ctx.newPsk),
          Ipsec: { ...IPSEC_DEFAULTS, ...t.Ipsec },
          State: 'updating',
          ZoneNo: zoneOf(ctx.regionId, role),
        };
        if (c.EnableTunnelsBgp) {
          bgpAllowed(g, cgw);
          rec.Bgp = resolveBgp(t.Bgp, undefined);
        }
        return rec;
      })
      .sort((a, b) => (a.Role === b.Role ? 0 : a.Role === 'master' ? -1 : 1));
    return c;
  }
  if (input.CustomerGatewayId === undefined) throw missing('CustomerGatewayId');
  const cgw = customerGateway(r, input.CustomerGatewayId, g);
  c.CustomerGatewayId = cgw.CustomerGatewayId;
  c.EnableDpd = input.EnableDpd ?? true;
  c.EnableNatTraversal = input.EnableNatTraversal ?? true;
  c.Ike = resolveIke(input.IkeConfig ?? {}, undefined, g.InternetIp, cgw.IpAddress, ctx.newPsk);
  c.Ipsec = { ...IPSEC_DEFAULTS, ...(input.IpsecConfig ?? {}) };
  c.HealthCheck = resolveHealth(input.HealthCheckConfig, undefined);
  c.EnableBgp = input.BgpConfig?.EnableBgp ?? false;
  if (c.EnableBgp) {
    bgpAllowed(g, cgw);
    c.Bgp = resolveBgp(input.BgpConfig ?? {}, undefined);
  }
  return c;
}

/**
 * The rules between connections of one gateway (the connection itself excluded): TunnelCidr unique, and for the same
 * (gateway IP, customer gateway) the same PSK and IKE settings and no overlapping traffic selectors.
 */
function checkNeighbours(r: RegionState, g: VpnGatewayRecord, c: VpnConnectionRecord): void {
  const own = tunnelCidrsOf(c);
  if (new Set(own.map((x) => parseCidr(x)?.base)).size !== own.length)
    throw err(400, 'IllegalParam.TunnelCidr', 'The specified TunnelCidr is invalid: both tunnels use the same one.');
  const mine = peersOf(c, g);
  for (const o of r.connections.values()) {
    if (o.VpnGatewayId !== g.VpnGatewayId || o.VpnConnectionId === c.VpnConnectionId) continue;
    const taken = new Set(tunnelCidrsOf(o).map((x) => parseCidr(x)?.base));
    if (own.some((x) => taken.has(parseCidr(x)?.base)))
      throw err(400, 'IllegalParam.TunnelCidr', 'The specified TunnelCidr is invalid: another IPsec connection of this VPN gateway uses it.');
    for (const p of mine) {
      for (const q of peersOf(o, g)) {
        if (p.gatewayIp !== q.gatewayIp || p.cgwId !== q.cgwId) continue;
        if (IKE_KEYS.some((k) => p.ike[k] !== q.ike[k]))
          throw err(
            400,
            'VpnConnectionParamInvalid.SameVpnAndCgwDifferentIkeConfigs',
            'IPSec connections associated with the same user gateway and VPN gateway should have the same pre-shared key and IKE configuration.',
          );
        if (listsOverlap(c.LocalSubnet, o.LocalSubnet) && listsOverlap(c.RemoteSubnet, o.RemoteSubnet))
          throw err(
            400,
            'VpnConnectionParamInvalid.SameVpnAndCgwTrafficSelectorOverlap',
            'Traffic selectors of IPSec connections associated with the same user gateway and VPN gateway should not overlap.',
          );
      }
    }
  }
}

// ---- actions ---------------------------------------------------------------------------------------------------

function describeVpnGateway(ctx: ActionContext): Body {
  const g = region(ctx).vpnGateways.get(ctx.params.get('VpnGatewayId') ?? '');
  if (!g) throw gwNotFound();
  return vpnGatewayView(g, ctx.now, false);
}

function describeVpnGateways(ctx: ActionContext): Body {
  const pageNumber = intParam(ctx.params, 'PageNumber', 1, 1_000_000_000) ?? 1;
  const pageSize = intParam(ctx.params, 'PageSize', 1, 50) ?? 10;
  const filters = validateTagFilters(ctx.params);
  const want = (k: string) => ctx.params.get(k) || undefined;
  const [vpc, id, status, business, rg] = ['VpcId', 'VpnGatewayId', 'Status', 'BusinessStatus', 'ResourceGroupId'].map(want);
  const all = [...region(ctx).vpnGateways.values()].filter(
    (g) =>
      (vpc === undefined || g.VpcId === vpc) &&
      (id === undefined || g.VpnGatewayId === id) &&
      (status === undefined || gatewayStatus(g, ctx.now) === status) &&
      (business === undefined || g.BusinessStatus === business) &&
      (rg === undefined || g.ResourceGroupId === rg) &&
      matchesTags(g, filters),
  );
  const page = all.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
  return {
    PageNumber: pageNumber,
    PageSize: pageSize,
    TotalCount: all.length,
    VpnGateways: { VpnGateway: page.map((g) => vpnGatewayView(g, ctx.now, true)) },
  };
}

function createVpnConnection(ctx: ActionContext): Body {
  const input = validateCreateConnection(ctx.params);
  const dryRun = parseBool(ctx.params, 'DryRun') === true;
  const token = tokenOf(ctx);
  const rg = input.ResourceGroupId ?? defaultResourceGroup(ctx.accountId);
  const paramsHash = hashParams({ ...input, ResourceGroupId: rg });
  // The token first: a retry after a lost answer must get the connection, not "configuring" from its own task.
  const replayed = dryRun ? undefined : replay(ctx, 'CreateVpnConnection', token, paramsHash);
  if (replayed) return replayed;
  const r = region(ctx);
  const g = r.vpnGateways.get(input.VpnGatewayId);
  if (!g) throw gwNotFound();
  usable(g);
  const c = buildConnection(ctx, r, g, input, rg);
  checkNeighbours(r, g, c);
  const count = [...r.connections.values()].filter((x) => x.VpnGatewayId === g.VpnGatewayId).length;
  if (count >= ctx.settings.vpnConnectionQuota)
    throw err(400, 'CreateVpnConnectionsQuotaFull.QuotaFull', 'The number of VPN connections exceeds the quota limit.');
  const wait = busy(g, ctx.now);
  if (wait) throw wait;
  if (dryRun) throw err(400, 'DryRunOperation', 'Request validation has been passed with DryRun flag set.');
  c.VpnConnectionId = ctx.newId('vco-', 21);
  for (const t of c.Tunnels ?? []) t.TunnelId = ctx.newId('tun-', 18);
  if (token !== undefined) c.ClientTokens = [token];
  r.connections.set(c.VpnConnectionId, c);
  startTask(ctx, g, 'create', c);
  const response: Body = { VpnConnectionId: c.VpnConnectionId, Name: c.Name, CreateTime: c.CreateTime };
  remember(ctx, 'CreateVpnConnection', token, paramsHash, response);
  ctx.store.changed();
  return response;
}

/** Modify's dual-tunnel edits, each addressed by TunnelId (its Role, if given, must be the tunnel's). */
function applyTunnelChanges(ctx: ActionContext, r: RegionState, g: VpnGatewayRecord, next: VpnConnectionRecord, changes: ConnectionChanges): void {
  const tunnels = next.Tunnels ?? [];
  const seen = new Set<string>();
  for (const t of changes.Tunnels ?? []) {
    const target = tunnels.find((x) => x.TunnelId === t.TunnelId);
    if (!target || seen.has(target.TunnelId)) throw err(400, 'IllegalParam.TunnelId', 'The specified TunnelId is invalid.');
    seen.add(target.TunnelId);
    if (t.Role !== undefined && t.Role !== target.Role) throw err(400, 'IllegalParam.Role', 'The specified Role is invalid.');
    if (t.EnableDpd !== undefined) target.EnableDpd = t.EnableDpd;
    if (t.EnableNatTraversal !== undefined) target.EnableNatTraversal = t.EnableNatTraversal;
    target.Ike = resolveIke(t.Ike, target.Ike, '', '', ctx.newPsk);
    target.Ipsec = { ...target.Ipsec, ...t.Ipsec };
  }
  if (changes.EnableTunnelsBgp !== undefined) next.EnableTunnelsBgp = changes.EnableTunnelsBgp;
  if (next.EnableTunnelsBgp) {
    for (const target of tunnels) {
      const given = changes.Tunnels?.find((x) => x.TunnelId === target.TunnelId)?.Bgp ?? {};
      const cgw = customerGateway(r, target.CustomerGatewayId, g);
      bgpAllowed(g, cgw);
      target.Bgp = resolveBgp(given, target.Bgp);
    }
  }
}

function applySingleChanges(ctx: ActionContext, r: RegionState, g: VpnGatewayRecord, next: VpnConnectionRecord, changes: ConnectionChanges): void {
  if (changes.EnableDpd !== undefined) next.EnableDpd = changes.EnableDpd;
  if (changes.EnableNatTraversal !== undefined) next.EnableNatTraversal = changes.EnableNatTraversal;
  if (changes.IkeConfig) next.Ike = resolveIke(changes.IkeConfig, next.Ike, '', '', ctx.newPsk);
  if (changes.IpsecConfig && next.Ipsec) next.Ipsec = { ...next.Ipsec, ...changes.IpsecConfig };
  if (changes.HealthCheckConfig) next.HealthCheck = resolveHealth(changes.HealthCheckConfig, next.HealthCheck);
  if (changes.BgpConfig) {
    next.EnableBgp = changes.BgpConfig.EnableBgp ?? next.EnableBgp ?? false;
    if (next.EnableBgp) {
      bgpAllowed(g, customerGateway(r, next.CustomerGatewayId ?? '', g));
      next.Bgp = resolveBgp(changes.BgpConfig, next.Bgp);
    }
  }
}

function modifyVpnConnectionAttribute(ctx: ActionContext): Body {
  const id = ctx.params.get('VpnConnectionId') ?? '';
  const changes = validateModifyConnection(ctx.params);
  const token = tokenOf(ctx);
  const paramsHash = hashParams({ id, ...changes });
  const replayed = replay(ctx, 'ModifyVpnConnectionAttribute', token, paramsHash);
  if (replayed) return replayed;
  const r = region(ctx);
  const c = r.connections.get(id);
  if (!c) throw vcoNotFound();
  const g = r.vpnGateways.get(c.VpnGatewayId);
  if (!g) throw gwNotFound();
  if (g.BusinessStatus === 'FinancialLocked') throw err(400, 'VpnGateway.FinancialLocked', 'The specified service is financial locked.');
  checkMode(c.Tunnels !== undefined, changes);
  const next = structuredClone(c);
  if (changes.Name !== undefined) next.Name = changes.Name;
  if (changes.LocalSubnet) next.LocalSubnet = changes.LocalSubnet;
  if (changes.RemoteSubnet) next.RemoteSubnet = changes.RemoteSubnet;
  if (changes.EffectImmediately !== undefined) next.EffectImmediately = changes.EffectImmediately;
  if (changes.AutoConfigRoute !== undefined) next.AutoConfigRoute = changes.AutoConfigRoute;
  if (next.Tunnels) applyTunnelChanges(ctx, r, g, next, changes);
  else applySingleChanges(ctx, r, g, next, changes);
  const touchesSelectors =
    changes.LocalSubnet !== undefined ||
    changes.RemoteSubnet !== undefined ||
    changes.IkeConfig?.IkeVersion !== undefined ||
    (changes.Tunnels ?? []).some((t) => t.Ike.IkeVersion !== undefined);
  const ikev1 = peersOf(next, g).some((p) => p.ike.IkeVersion === 'ikev1');
  if (touchesSelectors && ikev1 && (next.LocalSubnet.length > 1 || next.RemoteSubnet.length > 1))
    throw err(
      400,
      'ModifyIkeV1WithMultiRoutes.Invalid',
      'Failed to modify VPN connection parameters. Multi-network is configured while using IkeV1 protocol.',
    );
  checkNeighbours(r, g, next);
  const wait = busy(g, ctx.now, c.VpnConnectionId);
  if (wait) throw wait;
  next.State = 'updating';
  for (const t of next.Tunnels ?? []) t.State = 'updating';
  r.connections.set(c.VpnConnectionId, next);
  startTask(ctx, g, 'modify', next);
  const response = modifyView(next, viewContext(ctx, r, g));
  remember(ctx, 'ModifyVpnConnectionAttribute', token, paramsHash, response);
  ctx.store.changed();
  return response;
}

function deleteVpnConnection(ctx: ActionContext): Body {
  const id = ctx.params.get('VpnConnectionId') ?? '';
  const token = tokenOf(ctx);
  const paramsHash = hashParams({ id });
  const replayed = replay(ctx, 'DeleteVpnConnection', token, paramsHash);
  if (replayed) return replayed;
  const r = region(ctx);
  const c = r.connections.get(id);
  if (!c) throw vcoNotFound();
  const g = r.vpnGateways.get(c.VpnGatewayId);
  if (!g) throw gwNotFound();
  if (g.BusinessStatus === 'FinancialLocked') throw err(400, 'VpnGateway.FinancialLocked', 'The specified service is financial locked.');
  const wait = busy(g, ctx.now, c.VpnConnectionId);
  if (wait) throw wait;
  // Still listed until the task is over (State updating, tunnels deleting); then gone, tags and all.
  c.State = 'updating';
  for (const t of c.Tunnels ?? []) t.State = 'deleting';
  startTask(ctx, g, 'delete', c);
  remember(ctx, 'DeleteVpnConnection', token, paramsHash, {});
  ctx.store.changed();
  return {};
}

function located(ctx: ActionContext): { r: RegionState; c: VpnConnectionRecord; g: VpnGatewayRecord } {
  const r = region(ctx);
  const c = r.connections.get(ctx.params.get('VpnConnectionId') ?? '');
  if (!c) throw vcoNotFound();
  const g = r.vpnGateways.get(c.VpnGatewayId);
  if (!g) throw vcoNotFound();
  return { r, c, g };
}

function describeVpnConnection(ctx: ActionContext): Body {
  const { r, c, g } = located(ctx);
  return connectionView(c, viewContext(ctx, r, g), 'Tags');
}

function describeVpnConnections(ctx: ActionContext): Body {
  const pageNumber = intParam(ctx.params, 'PageNumber', 1, 1_000_000_000) ?? 1;
  const pageSize = intParam(ctx.params, 'PageSize', 1, 50) ?? 10;
  const filters = validateTagFilters(ctx.params);
  const want = (k: string) => ctx.params.get(k) || undefined;
  const [gw, cgw, id, rg] = ['VpnGatewayId', 'CustomerGatewayId', 'VpnConnectionId', 'ResourceGroupId'].map(want);
  const r = region(ctx);
  const all = [...r.connections.values()].filter(
    (c) =>
      (gw === undefined || c.VpnGatewayId === gw) &&
      (cgw === undefined || c.CustomerGatewayId === cgw || (c.Tunnels ?? []).some((t) => t.CustomerGatewayId === cgw)) &&
      (id === undefined || c.VpnConnectionId === id) &&
      (rg === undefined || c.ResourceGroupId === rg) &&
      matchesTags(c, filters),
  );
  const page = all.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
  return {
    PageNumber: pageNumber,
    PageSize: pageSize,
    TotalCount: all.length,
    VpnConnections: {
      VpnConnection: page.flatMap((c) => {
        const g = r.vpnGateways.get(c.VpnGatewayId);
        return g ? [connectionView(c, viewContext(ctx, r, g), 'Tag')] : [];
      }),
    },
  };
}

function downloadVpnConnectionConfig(ctx: ActionContext): Body {
  const { r, c, g } = located(ctx);
  return downloadView(c, viewContext(ctx, r, g));
}

export const VPN_ACTIONS: ReadonlyArray<[string, ActionDef]> = [
  ['DescribeVpnGateway', { required: ['VpnGatewayId'], regionRequired: true, subUserCode: 'Forbbiden.SubUser', run: describeVpnGateway }],
  ['DescribeVpnGateways', { required: [], regionRequired: true, subUserCode: 'Forbidden.SubUser', run: describeVpnGateways }],
  [
    'CreateVpnConnection',
    { required: ['VpnGatewayId', 'LocalSubnet', 'RemoteSubnet'], regionRequired: true, subUserCode: 'Forbbiden.SubUser', mutates: true, run: createVpnConnection },
  ],
  ['DescribeVpnConnection', { required: ['VpnConnectionId'], regionRequired: true, subUserCode: 'Forbbiden.SubUser', run: describeVpnConnection }],
  ['DescribeVpnConnections', { required: [], regionRequired: true, subUserCode: 'Forbbiden.SubUser', run: describeVpnConnections }],
  [
    'ModifyVpnConnectionAttribute',
    { required: ['VpnConnectionId'], regionRequired: true, subUserCode: 'Forbbiden.SubUser', mutates: true, run: modifyVpnConnectionAttribute },
  ],
  [
    'DeleteVpnConnection',
    { required: ['VpnConnectionId'], regionRequired: true, subUserCode: 'Forbbiden.SubUser', mutates: true, run: deleteVpnConnection },
  ],
  [
    'DownloadVpnConnectionConfig',
    { required: ['VpnConnectionId'], regionRequired: true, subUserCode: 'Forbbiden.SubUser', run: downloadVpnConnectionConfig },
  ],
];
