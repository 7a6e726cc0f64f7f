// The parameter matrix: connections as the API describes them (DescribeVpnConnection / DescribeVpnGateway /
// DescribeCustomerGateway bodies, field names and value types as the real answers have them), shared by the
// negotiation test and the golden files. Each set gets its own addresses so many negotiate side by side.

export type Obj = Record<string, unknown>;

export interface IkeSpec {
  IkeVersion?: string;
  IkeMode?: string;
  IkeEncAlg?: string;
  IkeAuthAlg?: string;
  IkePfs?: string;
  IkeLifetime?: number;
  LocalId?: string;
  RemoteId?: string;
}
export interface IpsecSpec {
  IpsecEncAlg?: string;
  IpsecAuthAlg?: string;
  IpsecPfs?: string;
  IpsecLifetime?: number;
}

/** How a set must end: established (IKE + every CHILD_SA, traffic, rekey), or refused at a stage for a reason. */
export type Expect =
  | { established: true }
  | { established: false; reason: 'auth' | 'proposal' | 'selectors' | 'identity'; stage: 'ike' | 'child' | 'rekey' };

export interface MatrixSet {
  n: number;
  name: string;
  /** What this set proves, for the test names. */
  about: string;
  connection: Obj;
  gateway: Obj;
  customerGateways: Obj[];
  /** For a mismatch: the connection the branch config is rendered from (as if the console changed since). */
  branchConnection?: Obj;
  expect: Expect;
  /** Rendered for every vendor into test/fixtures/device/<vendor>/<name>/. */
  golden?: boolean;
}

/** Every special character the API allows in a PSK (site-to-site.md §1.7). */
export const SPECIALS = "~!`@#$%^&*()_-+={}[]|;:',.<>/?";
/**
 * A PSK holding every special character but `?`, distinct per set: `?` is the one Huawei VRP and H3C Comware cannot
 * take, so the sets meant to show those devices' configs leave it out; psk-100-chars holds all of them.
 */
export function pskFor(n: number): string {
  return `Sp1ke${n}${SPECIALS.replace('?', '')}k3y`;
}

export const addr = {
  branch: (n: number, second = false) => `198.18.${second ? 1 : 0}.${n}`,
  ali: (n: number, dr = false) => `198.19.${dr ? 1 : 0}.${n}`,
  branchLan: (n: number, k: number) => `10.${n}.${k}.0/24`,
  vpc: (n: number, k: number) => `172.${15 + k}.${n}.0/24`,
  tunnelCidr: (n: number, tunnel: 1 | 2) => `169.254.${n}.${tunnel === 1 ? 0 : 4}/30`,
};

interface SingleOpts {
  ike?: IkeSpec;
  ipsec?: IpsecSpec;
  psk?: string;
  /** VPC CIDRs (LocalSubnet) and branch CIDRs (RemoteSubnet); default one /24 each. */
  local?: string[];
  remote?: string[];
  dpd?: boolean;
  nat?: boolean;
  bgp?: boolean;
  asn?: number;
}

function ikeConfig(n: number, psk: string, spec: IkeSpec, localDefault: string, remoteDefault: string, asString: boolean): Obj {
  const life = spec.IkeLifetime ?? 86400;
  return {
    Psk: psk,
    IkeVersion: spec.IkeVersion ?? 'ikev1',
    IkeMode: spec.IkeMode ?? 'main',
    IkeEncAlg: spec.IkeEncAlg ?? 'aes',
    IkeAuthAlg: spec.IkeAuthAlg ?? 'md5',
    IkePfs: spec.IkePfs ?? 'group2',
    IkeLifetime: asString ? String(life) : life,
    LocalId: spec.LocalId ?? localDefault,
    RemoteId: spec.RemoteId ?? remoteDefault,
  };
}

function ipsecConfig(spec: IpsecSpec, asString: boolean): Obj {
  const life = spec.IpsecLifetime ?? 86400;
  return {
    IpsecEncAlg: spec.IpsecEncAlg ?? 'aes',
    IpsecAuthAlg: spec.IpsecAuthAlg ?? 'md5',
    IpsecPfs: spec.IpsecPfs ?? 'group2',
    IpsecLifetime: asString ? String(life) : life,
  };
}

function single(n: number, name: string, about: string, o: SingleOpts, expect: Expect = { established: true }): MatrixSet {
  const gwIp = addr.ali(n);
  const cgwIp = addr.branch(n);
  const psk = o.psk ?? pskFor(n);
  const local = o.local ?? [addr.vpc(n, 1)];
  const remote = o.remote ?? [addr.branchLan(n, 1)];
  const connection: Obj = {
    RequestId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    VpnConnectionId: `vco-m${n}`,
    Name: `site-${n}`,
    VpnGatewayId: `vpn-m${n}`,
    CustomerGatewayId: `cgw-m${n}`,
    LocalSubnet: local.join(','),
    RemoteSubnet: remote.join(','),
    CreateTime: 1700000000000,
    EffectImmediately: false,
    State: 'active',
    Status: 'ike_sa_not_established',
    EnableDpd: o.dpd ?? true,
    EnableNatTraversal: o.nat ?? true,
    IkeConfig: ikeConfig(n, psk, o.ike ?? {}, gwIp, cgwIp, false),
    IpsecConfig: ipsecConfig(o.ipsec ?? {}, false),
    VpnBgpConfig: o.bgp
      ? {
          EnableBgp: 'true',
          LocalAsn: 45104,
          PeerAsn: o.asn ?? 65000 + n,
          TunnelCidr: addr.tunnelCidr(n, 1),
          LocalBgpIp: `169.254.${n}.1`,
          PeerBgpIp: `169.254.${n}.2`,
          Status: 'false',
        }
      : { EnableBgp: 'false' },
  };
  return {
    n,
    name,
    about,
    connection,
    gateway: { VpnGatewayId: `vpn-m${n}`, InternetIp: gwIp, Status: 'active', IpsecVpn: 'enable' },
    customerGateways: [{ CustomerGatewayId: `cgw-m${n}`, IpAddress: cgwIp, ...(o.bgp ? { Asn: o.asn ?? 65000 + n } : {}) }],
    expect,
  };
}

interface TunnelOpts {
  ike?: IkeSpec;
  ipsec?: IpsecSpec;
  psk?: string;
  bgp?: boolean;
}

function dual(
  n: number,
  name: string,
  about: string,
  o: { t1?: TunnelOpts; t2?: TunnelOpts; local?: string[]; remote?: string[]; twoCgws?: boolean; bgp?: boolean },
): MatrixSet {
  const gwIp = addr.ali(n);
  const drIp = addr.ali(n, true);
  const cgw1 = { CustomerGatewayId: `cgw-m${n}a`, IpAddress: addr.branch(n), ...(o.bgp ? { Asn: 65000 + n } : {}) };
  const cgw2 = o.twoCgws ? { CustomerGatewayId: `cgw-m${n}b`, IpAddress: addr.branch(n, true), ...(o.bgp ? { Asn: 65000 + n } : {}) } : cgw1;
  const tunnel = (k: 1 | 2, t: TunnelOpts, cgw: typeof cgw1): Obj => {
    const ip = k === 1 ? gwIp : drIp;
    return {
      TunnelId: `tun-m${n}${k === 1 ? 'a' : 'b'}`,
      TunnelIndex: k,
      Role: k === 1 ? 'master' : 'slave',
      CustomerGatewayId: cgw.CustomerGatewayId,
      InternetIp: ip,
      ZoneNo: k === 1 ? 'cn-hangzhou-h' : 'cn-hangzhou-i',
      State: 'active',
      Status: 'ike_sa_not_established',
      EnableDpd: 'true',
      EnableNatTraversal: 'true',
      TunnelIkeConfig: ikeConfig(n, t.psk ?? `${pskFor(n)}${k}`, t.ike ?? {}, ip, cgw.IpAddress, true),
      TunnelIpsecConfig: ipsecConfig(t.ipsec ?? {}, true),
      TunnelBgpConfig: o.bgp
        ? {
            LocalAsn: '45104',
            PeerAsn: String(cgw.Asn ?? ''),
            TunnelCidr: addr.tunnelCidr(n, k),
            LocalBgpIp: `169.254.${n}.${k === 1 ? 1 : 5}`,
            PeerBgpIp: `169.254.${n}.${k === 1 ? 2 : 6}`,
            BgpStatus: 'false',
          }
        : {},
    };
  };
  const local = o.local ?? ['0.0.0.0/0'];
  const remote = o.remote ?? ['0.0.0.0/0'];
  const connection: Obj = {
    RequestId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    VpnConnectionId: `vco-m${n}`,
    Name: `site-${n}`,
    VpnGatewayId: `vpn-m${n}`,
    LocalSubnet: local.join(','),
    RemoteSubnet: remote.join(','),
    CreateTime: 1700000000000,
    EffectImmediately: false,
    State: 'active',
    Status: 'ike_sa_not_established',
    EnableTunnelsBgp: o.bgp ?? false,
    TunnelOptionsSpecification: { TunnelOptions: [tunnel(1, o.t1 ?? {}, cgw1), tunnel(2, o.t2 ?? {}, cgw2)] },
  };
  return {
    n,
    name,
    about,
    connection,
    gateway: { VpnGatewayId: `vpn-m${n}`, InternetIp: gwIp, DisasterRecoveryInternetIp: drIp, Status: 'active', IpsecVpn: 'enable' },
    customerGateways: o.twoCgws ? [cgw1, cgw2] : [cgw1],
    expect: { established: true },
  };
}

/** A copy of `c` with the IkeConfig / IpsecConfig / top-level fields changed: the stale branch view of a mismatch. */
function changed(c: Obj, patch: { ike?: Obj; ipsec?: Obj; top?: Obj }): Obj {
  const copy = structuredClone(c);
  if (patch.ike) copy['IkeConfig'] = { ...(copy['IkeConfig'] as Obj), ...patch.ike };
  if (patch.ipsec) copy['IpsecConfig'] = { ...(copy['IpsecConfig'] as Obj), ...patch.ipsec };
  if (patch.top) Object.assign(copy, patch.top);
  return copy;
}

function mismatch(base: MatrixSet, about: string, patch: Parameters<typeof changed>[1], expect: Expect): MatrixSet {
  return { ...base, about, branchConnection: changed(base.connection, patch), expect };
}

const V1 = { IkeVersion: 'ikev1', IkeMode: 'main' };
const V1A = { IkeVersion: 'ikev1', IkeMode: 'aggressive' };
const V2 = { IkeVersion: 'ikev2' };
const ZERO = ['0.0.0.0/0'];

/** Every set; numbers are addresses, so they never change meaning. */
export function matrix(): MatrixSet[] {
  const sets: MatrixSet[] = [
    // Every IkeEncAlg x IkeAuthAlg x IkePfs and IpsecEncAlg x IpsecAuthAlg x IpsecPfs value at least once per IKE version.
    single(1, 'v1-main-aes-md5-g1', 'IKEv1 main, aes/md5/group1, ESP aes/md5 without PFS', { ike: { ...V1, IkeEncAlg: 'aes', IkeAuthAlg: 'md5', IkePfs: 'group1' }, ipsec: { IpsecEncAlg: 'aes', IpsecAuthAlg: 'md5', IpsecPfs: 'disabled' } }),
    single(2, 'v1-main-aes192-sha1-g2', 'IKEv1 main, aes192/sha1/group2, ESP aes192/sha1 PFS group1', { ike: { ...V1, IkeEncAlg: 'aes192', IkeAuthAlg: 'sha1', IkePfs: 'group2' }, ipsec: { IpsecEncAlg: 'aes192', IpsecAuthAlg: 'sha1', IpsecPfs: 'group1' } }),
    single(3, 'v1-main-aes256-sha256-g5', 'IKEv1 main, aes256/sha256/group5, ESP aes256/sha256 PFS group2, short lifetimes', { ike: { ...V1, IkeEncAlg: 'aes256', IkeAuthAlg: 'sha256', IkePfs: 'group5', IkeLifetime: 28800 }, ipsec: { IpsecEncAlg: 'aes256', IpsecAuthAlg: 'sha256', IpsecPfs: 'group2', IpsecLifetime: 3600 } }),
    single(4, 'v1-main-des-sha384-g14', 'IKEv1 main, des/sha384/group14, ESP des/sha384 PFS group5', { ike: { ...V1, IkeEncAlg: 'des', IkeAuthAlg: 'sha384', IkePfs: 'group14' }, ipsec: { IpsecEncAlg: 'des', IpsecAuthAlg: 'sha384', IpsecPfs: 'group5' } }),
    single(5, 'v1-main-3des-sha512-g2', 'IKEv1 main, 3des/sha512/group2, ESP 3des/sha512 PFS group14', { ike: { ...V1, IkeEncAlg: '3des', IkeAuthAlg: 'sha512', IkePfs: 'group2' }, ipsec: { IpsecEncAlg: '3des', IpsecAuthAlg: 'sha512', IpsecPfs: 'group14' } }),
    single(6, 'v2-aes-sha1-g2', 'IKEv2, aes/sha1/group2, ESP aes/sha1 PFS group2', { ike: { ...V2, IkeEncAlg: 'aes', IkeAuthAlg: 'sha1', IkePfs: 'group2' }, ipsec: { IpsecEncAlg: 'aes', IpsecAuthAlg: 'sha1', IpsecPfs: 'group2' } }),
    single(7, 'v2-aes192-sha256-g14', 'IKEv2, aes192/sha256/group14, ESP 3des/md5 PFS group1', { ike: { ...V2, IkeEncAlg: 'aes192', IkeAuthAlg: 'sha256', IkePfs: 'group14' }, ipsec: { IpsecEncAlg: '3des', IpsecAuthAlg: 'md5', IpsecPfs: 'group1' } }),
    single(8, 'v2-aes256-sha512-g5', 'IKEv2, aes256/sha512/group5, ESP aes256/sha384 without PFS', { ike: { ...V2, IkeEncAlg: 'aes256', IkeAuthAlg: 'sha512', IkePfs: 'group5' }, ipsec: { IpsecEncAlg: 'aes256', IpsecAuthAlg: 'sha384', IpsecPfs: 'disabled' } }),
    single(9, 'v2-3des-md5-g1', 'IKEv2, 3des/md5/group1, ESP aes192/sha512 PFS group14', { ike: { ...V2, IkeEncAlg: '3des', IkeAuthAlg: 'md5', IkePfs: 'group1' }, ipsec: { IpsecEncAlg: 'aes192', IpsecAuthAlg: 'sha512', IpsecPfs: 'group14' } }),
    single(10, 'v2-des-sha384-g14', 'IKEv2, des/sha384/group14, ESP des/sha256 PFS group5', { ike: { ...V2, IkeEncAlg: 'des', IkeAuthAlg: 'sha384', IkePfs: 'group14' }, ipsec: { IpsecEncAlg: 'des', IpsecAuthAlg: 'sha256', IpsecPfs: 'group5' } }),
    // Modes and identities.
    single(11, 'v1-aggressive-fqdn', 'IKEv1 aggressive with FQDN identities on both sides', { ike: { ...V1A, IkeEncAlg: 'aes', IkeAuthAlg: 'sha1', LocalId: 'vpngw.example.com', RemoteId: 'branch11.example.com' }, ipsec: { IpsecAuthAlg: 'sha1' } }),
    single(12, 'v1-aggressive-ip', 'IKEv1 aggressive with the default IP identities, ESP des/md5 without PFS', { ike: { ...V1A, IkeEncAlg: '3des', IkeAuthAlg: 'md5', IkePfs: 'group5' }, ipsec: { IpsecEncAlg: 'des', IpsecAuthAlg: 'md5', IpsecPfs: 'disabled' } }),
    single(13, 'v2-fqdn', 'IKEv2 with FQDN identities', { ike: { ...V2, IkeAuthAlg: 'sha256', LocalId: 'gw13.example.net', RemoteId: 'branch13.example.net' }, ipsec: { IpsecAuthAlg: 'sha256' } }),
    single(14, 'api-defaults', 'the API defaults (IKEv1 main aes/md5/group2, ESP aes/md5 group2, 86400 s)', {}),
    // Protected data flows with several CIDRs per side.
    single(15, 'v2-multi-cidr', 'IKEv2, 3 VPC x 2 branch CIDRs in one CHILD_SA', { ike: { ...V2, IkeAuthAlg: 'sha256' }, ipsec: { IpsecAuthAlg: 'sha256' }, local: [addr.vpc(15, 1), addr.vpc(15, 2), addr.vpc(15, 3)], remote: [addr.branchLan(15, 1), addr.branchLan(15, 2)] }),
    single(16, 'v1-multi-cidr', 'IKEv1, 2 x 2 CIDRs: one CHILD_SA per pair', { ike: { ...V1, IkeAuthAlg: 'sha1' }, ipsec: { IpsecAuthAlg: 'sha1' }, local: [addr.vpc(16, 1), addr.vpc(16, 2)], remote: [addr.branchLan(16, 1), addr.branchLan(16, 2)] }),
    // PSK forms that configuration syntaxes mangle.
    single(17, 'psk-hex-prefix', 'a PSK starting with 0x (swanctl would read it as hex)', { ike: V2, psk: '0xDEADBEEF#;$`' }),
    single(18, 'psk-base64-prefix', 'a PSK starting with 0s (swanctl would read it as base64)', { ike: V1, psk: '0sQUJD$' + '{HOME}' }),
    single(19, 'psk-100-chars', 'a 100-character PSK of special characters', { ike: V2, psk: (SPECIALS + SPECIALS + SPECIALS + SPECIALS).slice(0, 100) }),
    single(20, 'no-dpd-no-natt', 'DPD and NAT traversal disabled', { ike: V2, dpd: false, nat: false }),
    dual(21, 'dual-protected', 'dual tunnel, protected flows, one customer gateway, IKEv2 + IKEv1 tunnels', {
      local: [addr.vpc(21, 1)],
      remote: [addr.branchLan(21, 1)],
      t1: { ike: { ...V2, IkeEncAlg: 'aes256', IkeAuthAlg: 'sha256', IkePfs: 'group14' }, ipsec: { IpsecEncAlg: 'aes256', IpsecAuthAlg: 'sha256', IpsecPfs: 'group14' } },
      t2: { ike: { ...V1, IkeEncAlg: 'aes', IkeAuthAlg: 'sha1', IkePfs: 'group2' }, ipsec: { IpsecEncAlg: 'aes', IpsecAuthAlg: 'sha1', IpsecPfs: 'group2' } },
    }),
    // Destination routing: 0.0.0.0/0 on both sides (each in its own pair of daemons but the first).
    single(22, 'v1-destination', 'IKEv1 main, destination routing (0.0.0.0/0 both sides)', { ike: { ...V1, IkeAuthAlg: 'sha1' }, ipsec: { IpsecAuthAlg: 'sha1' }, local: ZERO, remote: ZERO }),
    single(23, 'v2-destination', 'IKEv2, destination routing', { ike: { ...V2, IkeAuthAlg: 'sha256', IkePfs: 'group14' }, ipsec: { IpsecAuthAlg: 'sha256', IpsecPfs: 'group14' }, local: ZERO, remote: ZERO }),
    single(24, 'v2-bgp', 'IKEv2, destination routing, BGP tunnel addresses', { ike: { ...V2, IkeAuthAlg: 'sha256' }, ipsec: { IpsecAuthAlg: 'sha256' }, local: ZERO, remote: ZERO, bgp: true }),
    dual(25, 'dual-bgp', 'dual tunnel, destination routing, BGP on both tunnels, two customer gateways', {
      twoCgws: true,
      bgp: true,
      t1: { ike: { ...V2, IkeAuthAlg: 'sha256', IkePfs: 'group14' }, ipsec: { IpsecAuthAlg: 'sha256', IpsecPfs: 'group14' } },
      t2: { ike: { ...V2, IkeAuthAlg: 'sha256', IkePfs: 'group14' }, ipsec: { IpsecAuthAlg: 'sha256', IpsecPfs: 'group14' } },
    }),
  ];

  // Deliberate mismatches: the gateway holds the set's parameters, the branch was rendered from a changed copy.
  const m = (n: number, name: string, o: SingleOpts) => single(n, name, '', o);
  sets.push(
    mismatch(m(41, 'mismatch-psk-v2', { ike: V2 }), 'wrong PSK, IKEv2', { ike: { Psk: 'Wr0ng#Psk;v2' } }, { established: false, reason: 'auth', stage: 'ike' }),
    mismatch(m(42, 'mismatch-psk-v1', { ike: V1 }), 'wrong PSK, IKEv1 main', { ike: { Psk: 'Wr0ng#Psk;v1' } }, { established: false, reason: 'auth', stage: 'ike' }),
    mismatch(m(43, 'mismatch-psk-v1-aggressive', { ike: V1A }), 'wrong PSK, IKEv1 aggressive', { ike: { Psk: 'Wr0ng#Psk;ag' } }, { established: false, reason: 'auth', stage: 'ike' }),
    mismatch(m(44, 'mismatch-ike-enc-v2', { ike: V2 }), 'IKE encryption differs, IKEv2', { ike: { IkeEncAlg: 'aes256' } }, { established: false, reason: 'proposal', stage: 'ike' }),
    mismatch(m(45, 'mismatch-ike-dh-v1', { ike: V1 }), 'IKE DH group differs, IKEv1', { ike: { IkePfs: 'group14' } }, { established: false, reason: 'proposal', stage: 'ike' }),
    mismatch(m(46, 'mismatch-esp-auth-v2', { ike: V2 }), 'ESP integrity differs, IKEv2', { ipsec: { IpsecAuthAlg: 'sha256' } }, { established: false, reason: 'proposal', stage: 'child' }),
    mismatch(m(47, 'mismatch-pfs-v1', { ike: V1 }), 'PFS on the gateway, none on the branch, IKEv1', { ipsec: { IpsecPfs: 'disabled' } }, { established: false, reason: 'proposal', stage: 'child' }),
    mismatch(m(48, 'mismatch-pfs-v2', { ike: V2 }), 'PFS group differs, IKEv2 (the first CHILD_SA has no DH: only the rekey fails)', { ipsec: { IpsecPfs: 'group5' } }, { established: false, reason: 'proposal', stage: 'rekey' }),
    mismatch(m(49, 'mismatch-subnet-v2', { ike: V2 }), 'branch subnets not mirrored, IKEv2', { top: { RemoteSubnet: addr.branchLan(49, 7) } }, { established: false, reason: 'selectors', stage: 'child' }),
    mismatch(m(50, 'mismatch-identity-v2', { ike: { ...V2, LocalId: 'gw50.example.com' } }), 'the gateway identity differs, IKEv2', { ike: { LocalId: 'other50.example.com' } }, { established: false, reason: 'identity', stage: 'ike' }),
  );
  for (const s of sets) {
    if (['v1-main-aes-md5-g1', 'v2-des-sha384-g14', 'v1-aggressive-fqdn', 'v2-fqdn', 'v2-multi-cidr', 'v1-multi-cidr', 'psk-hex-prefix', 'psk-100-chars', 'dual-protected', 'v2-destination', 'v2-bgp', 'dual-bgp'].includes(s.name)) {
      s.golden = true;
    }
  }
  return sets;
}
