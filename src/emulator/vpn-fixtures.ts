// VPN gateways are fixtures, not API resources: their spec (admin API, --vpn-gateway, the sandbox's one per region).
import { defaultResourceGroup } from './action-kit.js';
import { isKnownRegion, REGIONS } from './regions.js';
import { hashParams, type Store } from './store.js';
import { isIpv4 } from './validate.js';
import { GATEWAY_STATUSES, type GatewayStatus, type VpnGatewayRecord } from './vpn-model.js';

/** `POST /__emulator/vpn-gateways` and `--vpn-gateway`: a second IP makes the gateway dual-tunnel. */
export interface VpnGatewaySpec {
  RegionId: string;
  VpnGatewayId: string;
  InternetIp: string;
  DisasterRecoveryInternetIp?: string;
  /** Default true (gateways created today support BGP). */
  EnableBgp?: boolean;
  /** Default `enable`. */
  IpsecVpn?: 'enable' | 'disable';
  /** Default `active`; anything else makes connection writes answer VpnGateway.Configuring. */
  Status?: GatewayStatus;
  /** Default `Normal`; `FinancialLocked` makes writes answer VpnGateway.FinancialLocked. */
  BusinessStatus?: 'Normal' | 'FinancialLocked';
  /** Default: the emulator's first account. */
  AccountId?: string;
  Name?: string;
  VpcId?: string;
}

export class FixtureError extends Error {}

const SPEC_KEYS = new Set([
  'RegionId',
  'VpnGatewayId',
  'InternetIp',
  'DisasterRecoveryInternetIp',
  'EnableBgp',
  'IpsecVpn',
  'Status',
  'BusinessStatus',
  'AccountId',
  'Name',
  'VpcId',
]);

/** Shape-checks a spec from JSON or flags; a typo is an error, never a silently different gateway. */
export function checkVpnGatewaySpec(input: unknown): VpnGatewaySpec {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new FixtureError('a VPN gateway must be a JSON object');
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!SPEC_KEYS.has(k)) throw new FixtureError(`unknown VPN gateway field ${/^[A-Za-z]{1,40}$/.test(k) ? k : '(unprintable)'}`);
  const str = (k: string): string | undefined => {
    if (o[k] === undefined || o[k] === null) return undefined;
    if (typeof o[k] !== 'string') throw new FixtureError(`${k} must be a string`);
    return o[k] as string;
  };
  const regionId = str('RegionId') ?? '';
  if (!isKnownRegion(regionId)) throw new FixtureError('RegionId must be a known region id, e.g. cn-hangzhou');
  const id = str('VpnGatewayId') ?? '';
  if (!/^vpn-[a-z0-9]{4,40}$/.test(id)) throw new FixtureError('VpnGatewayId must be vpn- followed by 4-40 lowercase letters or digits');
  const ip = str('InternetIp') ?? '';
  if (!isIpv4(ip)) throw new FixtureError('InternetIp must be an IPv4 address');
  const spec: VpnGatewaySpec = { RegionId: regionId, VpnGatewayId: id, InternetIp: ip };
  const dr = str('DisasterRecoveryInternetIp');
  if (dr !== undefined) {
    if (!isIpv4(dr) || dr === ip) throw new FixtureError('DisasterRecoveryInternetIp must be an IPv4 address other than InternetIp');
    spec.DisasterRecoveryInternetIp = dr;
  }
  if (o.EnableBgp !== undefined) {
    if (typeof o.EnableBgp !== 'boolean') throw new FixtureError('EnableBgp must be true or false');
    spec.EnableBgp = o.EnableBgp;
  }
  const ipsec = str('IpsecVpn');
  if (ipsec !== undefined) {
    if (ipsec !== 'enable' && ipsec !== 'disable') throw new FixtureError('IpsecVpn must be enable or disable');
    spec.IpsecVpn = ipsec;
  }
  const status = str('Status');
  if (status !== undefined) {
    if (!(GATEWAY_STATUSES as readonly string[]).includes(status)) throw new FixtureError(`Status must be one of ${GATEWAY_STATUSES.join(', ')}`);
    spec.Status = status as GatewayStatus;
  }
  const business = str('BusinessStatus');
  if (business !== undefined) {
    if (business !== 'Normal' && business !== 'FinancialLocked') throw new FixtureError('BusinessStatus must be Normal or FinancialLocked');
    spec.BusinessStatus = business;
  }
  const account = str('AccountId');
  if (account !== undefined) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(account)) throw new FixtureError('AccountId must be 1-64 letters, digits, _ . -');
    spec.AccountId = account;
  }
  const name = str('Name');
  if (name !== undefined) {
    if ([...name].length > 100) throw new FixtureError('Name must be at most 100 characters');
    spec.Name = name;
  }
  const vpc = str('VpcId');
  if (vpc !== undefined) {
    if (!/^vpc-[a-z0-9]{4,40}$/.test(vpc)) throw new FixtureError('VpcId must be vpc- followed by 4-40 lowercase letters or digits');
    spec.VpcId = vpc;
  }
  return spec;
}

/** `REGION:ID:INTERNET_IP[:DR_IP]` (the --vpn-gateway flag). */
export function parseVpnGatewayFlag(s: string): VpnGatewaySpec {
  const parts = s.split(':');
  if (parts.length < 3 || parts.length > 4) throw new FixtureError('--vpn-gateway must be REGION:ID:INTERNET_IP[:DR_IP]');
  const [RegionId, VpnGatewayId, InternetIp, DisasterRecoveryInternetIp] = parts;
  return checkVpnGatewaySpec({ RegionId, VpnGatewayId, InternetIp, ...(DisasterRecoveryInternetIp ? { DisasterRecoveryInternetIp } : {}) });
}

/** Deterministic companion ids (`vpc-`, `vsw-`) for a gateway id. */
function derived(prefix: string, id: string, salt: string): string {
  return prefix + hashParams([salt, id]).replace(/[^a-z0-9]/g, '').slice(0, 21);
}

/**
 * Adds the gateway, or updates the given fields of an existing one (same account and region). Its IPs cannot change
 * while connections use it; an id taken in another account or region is refused.
 */
export function upsertVpnGateway(store: Store, spec: VpnGatewaySpec, defaultAccount: string, now: number): VpnGatewayRecord {
  const accountId = spec.AccountId ?? defaultAccount;
  const found = store.findVpnGateway(spec.VpnGatewayId);
  if (found && (found.accountId !== accountId || found.regionId !== spec.RegionId))
    throw new FixtureError(`${spec.VpnGatewayId} exists in another account or region`);
  const region = store.region(accountId, spec.RegionId);
  const g = found?.item;
  if (g) {
    const ipsChange = g.InternetIp !== spec.InternetIp || g.DisasterRecoveryInternetIp !== spec.DisasterRecoveryInternetIp;
    if (ipsChange && [...region.connections.values()].some((c) => c.VpnGatewayId === g.VpnGatewayId))
      throw new FixtureError(`${spec.VpnGatewayId} has IPsec connections: its IPs cannot change`);
  }
  const rec: VpnGatewayRecord = g ?? {
    VpnGatewayId: spec.VpnGatewayId,
    VpcId: spec.VpcId ?? derived('vpc-', spec.VpnGatewayId, 'vpc'),
    VSwitchId: derived('vsw-', spec.VpnGatewayId, 'vsw'),
    Name: spec.Name ?? '',
    Description: '',
    InternetIp: spec.InternetIp,
    IpsecVpn: 'enable',
    EnableBgp: true,
    Status: 'active',
    BusinessStatus: 'Normal',
    Spec: '10',
    CreateTime: now,
    ResourceGroupId: defaultResourceGroup(accountId),
    Tags: [],
  };
  rec.InternetIp = spec.InternetIp;
  if (spec.DisasterRecoveryInternetIp !== undefined) {
    rec.DisasterRecoveryInternetIp = spec.DisasterRecoveryInternetIp;
    rec.DisasterRecoveryVSwitchId = derived('vsw-', spec.VpnGatewayId, 'vsw-dr');
  } else {
    delete rec.DisasterRecoveryInternetIp;
    delete rec.DisasterRecoveryVSwitchId;
  }
  if (spec.EnableBgp !== undefined) rec.EnableBgp = spec.EnableBgp;
  if (spec.IpsecVpn !== undefined) rec.IpsecVpn = spec.IpsecVpn;
  if (spec.Status !== undefined) rec.Status = spec.Status;
  if (spec.BusinessStatus !== undefined) rec.BusinessStatus = spec.BusinessStatus;
  if (spec.Name !== undefined) rec.Name = spec.Name;
  if (spec.VpcId !== undefined) rec.VpcId = spec.VpcId;
  region.vpnGateways.set(rec.VpnGatewayId, rec);
  store.changed();
  return rec;
}

/** `vpn-sbx` + the region id's letters and digits, padded with 0 to the real ids' 21 characters. */
export function sandboxGatewayId(regionId: string): string {
  return `vpn-${`sbx${regionId.toLowerCase().replace(/[^a-z0-9]/g, '')}`.padEnd(21, '0').slice(0, 21)}`;
}

/**
 * The sandbox's gateway per region: dual-tunnel (as gateways created today are), BGP on, IPs 47.100.N.10 and
 * 47.101.N.10 where N is the region's position in DescribeRegions (0-based). Documented in the README.
 */
export function sandboxGatewaySpecs(): VpnGatewaySpec[] {
  return REGIONS.map((r, i) => ({
    RegionId: r.id,
    VpnGatewayId: sandboxGatewayId(r.id),
    InternetIp: `47.100.${i}.10`,
    DisasterRecoveryInternetIp: `47.101.${i}.10`,
    Name: 'sandbox',
  }));
}
