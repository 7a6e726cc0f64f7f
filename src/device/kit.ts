// What every vendor renderer shares: the issue collector, API parameter names per tunnel, secrets or their
// placeholders, mapping tables that refuse instead of guessing, and comment-safe text.
import { bgpKeyPlaceholder, pskPlaceholder } from './psk.js';
import type { DeviceIssue, DeviceType, RenderOptions, Site, Tunnel } from './types.js';

/** One renderer per device type; `render` returns files and reports problems through the context. */
export interface Vendor {
  type: DeviceType;
  /** Human name for `--device` listings. */
  name: string;
  /** What the renderer writes, for listings and the README. */
  files: string;
  /** The outside interface written when the user names none. */
  defaultWan: string;
  render(site: Site, ctx: RenderContext): Array<{ name: string; text: string }>;
}

const OPTION_WORD = /^[A-Za-z0-9][A-Za-z0-9/._:-]{0,63}$/;

export class RenderContext {
  readonly issues: DeviceIssue[] = [];
  readonly warnings: DeviceIssue[] = [];
  readonly wan: string;

  constructor(
    readonly site: Site,
    readonly options: RenderOptions,
    vendor: Vendor,
  ) {
    const wan = options.wanInterface ?? vendor.defaultWan;
    if (!OPTION_WORD.test(wan)) {
      this.option('wanInterface', `the interface name ${JSON.stringify(wan.slice(0, 40))} holds characters a device command cannot take`);
    }
    this.wan = wan;
  }

  /** The device cannot express this parameter: an error naming the site and the parameter. */
  unsupported(parameter: string, message: string): void {
    this.issues.push({ severity: 'error', code: 'Device.Unsupported', site: this.site.site, parameter, message });
  }

  option(parameter: string, message: string): void {
    this.issues.push({ severity: 'error', code: 'Device.InvalidOption', site: this.site.site, parameter, message });
  }

  warn(parameter: string, message: string): void {
    this.warnings.push({ severity: 'warning', code: 'Device.Unsupported', site: this.site.site, parameter, message });
  }

  /** The API's name of a tunnel's IKE field: `IkeConfig.X`, or the dual-tunnel path. */
  ikeParam(t: Tunnel, field: string): string {
    return this.site.dual ? `TunnelOptionsSpecification.TunnelOptions[${t.index}].TunnelIkeConfig.${field}` : `IkeConfig.${field}`;
  }

  ipsecParam(t: Tunnel, field: string): string {
    return this.site.dual ? `TunnelOptionsSpecification.TunnelOptions[${t.index}].TunnelIpsecConfig.${field}` : `IpsecConfig.${field}`;
  }

  tunnelParam(t: Tunnel, field: string): string {
    return this.site.dual ? `TunnelOptionsSpecification.TunnelOptions[${t.index}].${field}` : field;
  }

  bgpParam(t: Tunnel, field: string): string {
    return this.site.dual ? `TunnelOptionsSpecification.TunnelOptions[${t.index}].TunnelBgpConfig.${field}` : `VpnBgpConfig.${field}`;
  }

  /** The PSK to write, or its placeholder under --redact-psk. */
  psk(t: Tunnel): string {
    return this.options.redactPsk ? pskPlaceholder(t.index) : t.psk;
  }

  bgpKey(t: Tunnel): string | undefined {
    if (!t.bgp?.authKey) return undefined;
    return this.options.redactPsk ? bgpKeyPlaceholder(t.index) : t.bgp.authKey;
  }

  /** A value from a vendor's table; a missing entry is a parameter the device cannot express. */
  map<K extends string>(table: Readonly<Record<K, string | undefined>>, value: K, parameter: string, device: string): string {
    const v = table[value];
    if (v === undefined) {
      this.unsupported(parameter, `${device} cannot express ${parameter} = ${value}`);
      return `UNSUPPORTED-${value}`;
    }
    return v;
  }

  /** A lifetime inside the device's range, else an error. */
  lifetime(value: number, min: number, max: number, parameter: string, device: string): number {
    if (value < min || value > max) {
      this.unsupported(parameter, `${device} takes a lifetime of ${min} to ${max} seconds; ${parameter} is ${value}`);
    }
    return value;
  }

  /** The VPC routes to write for static routing: the protected flows, or the user's list in destination mode. */
  staticRoutes(): { cidrs: string[]; examples: boolean } {
    if (this.site.routing === 'protected') return { cidrs: this.site.remoteSubnets, examples: false };
    const given = this.options.staticRoutes ?? [];
    return given.length > 0 ? { cidrs: given, examples: false } : { cidrs: ['192.168.0.0/16'], examples: true };
  }

  bgpNetworks(): { cidrs: string[]; examples: boolean } {
    const given = this.options.bgpNetworks ?? [];
    if (given.length > 0) return { cidrs: given, examples: false };
    if (this.site.routing === 'protected') return { cidrs: this.site.localSubnets, examples: false };
    return { cidrs: ['10.0.0.0/8'], examples: true };
  }
}

/** Text safe inside a one-line comment of any syntax: printable ASCII only, clipped. */
export function commentText(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 80 ? clean.slice(0, 80) + '...' : clean;
}

/** The header every file starts with, in the vendor's comment syntax. No clock: the same site renders the same bytes. */
export function header(site: Site, device: string, comment: string, load: string[], holdsSecret = true): string[] {
  const t = site.tunnels;
  const lines = [
    `cgw-batch: ${device} configuration for site ${commentText(site.site)}`,
    `Alibaba Cloud IPsec-VPN connection ${commentText(site.connectionId)}${site.connectionName ? ` (${commentText(site.connectionName)})` : ''}${site.vpnGatewayId ? ` on VPN gateway ${commentText(site.vpnGatewayId)}` : ''}`,
    `${site.dual ? 'dual tunnel' : 'single tunnel'}, ${site.routing === 'destination' ? 'destination routing (0.0.0.0/0 both sides)' : 'protected data flows'}${t.some((x) => x.bgp) ? ', BGP' : ', static routing'}`,
    'Mirror of DescribeVpnConnection: local = this branch device, remote = the VPN gateway.',
    ...t.map((x) => `tunnel ${x.index}${x.role ? ` (${x.role})` : ''}: ${x.localAddress} -> ${x.remoteAddress}${x.tunnelId ? ` ${commentText(x.tunnelId)}` : ''}`),
    ...(holdsSecret ? ['Holds a secret (pre-shared key or BGP key): keep this file private (mode 0600).'] : []),
    ...load,
  ];
  return lines.map((l) => `${comment} ${l}`);
}

/** Parameters a policy-based device cannot hold: the common rules of every vendor. */
export function commonChecks(ctx: RenderContext): void {
  for (const t of ctx.site.tunnels) {
    if (t.bgp && ctx.site.routing !== 'destination') {
      ctx.unsupported(
        ctx.bgpParam(t, 'TunnelCidr'),
        `BGP over the tunnel needs destination routing (LocalSubnet and RemoteSubnet 0.0.0.0/0): the BGP session between ${t.bgp.localIp} and ${t.bgp.remoteIp} lies outside the protected data flows`,
      );
    }
  }
}

/** Every (local, remote) pair of the protected flows: one IKEv1 phase-2 SA or one ACL line each. */
export function flowPairs(site: Site): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const l of site.localSubnets) for (const r of site.remoteSubnets) out.push([l, r]);
  return out;
}

export const DH_NUMBER = { group1: '1', group2: '2', group5: '5', group14: '14' } as const;
