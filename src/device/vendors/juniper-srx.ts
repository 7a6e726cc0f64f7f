// Juniper SRX (Junos): a route-based VPN on st0 units, `set` commands. Protected data flows become traffic selectors
// (one SA per pair, with auto route insertion); destination routing uses static routes or BGP on st0.
// Guides: AlibabaCloudDocs/vpn "Configure an IPsec-VPN connection through an SRX series Services Gateway firewall device
// from Juniper.md" (st0.0, ike policy/gateway, ipsec policy/vpn, zones and policies) and Juniper's "Route-Based IPsec
// VPNs" and "Traffic Selectors in Route-Based VPNs" (Junos 12.1X46 and later).
import { cidrParts } from '../net.js';
import { commonChecks, DH_NUMBER, flowPairs, header, type RenderContext, type Vendor } from '../kit.js';
import type { AuthAlg, EncAlg, Site, Tunnel } from '../types.js';

const DEVICE = 'Juniper SRX';

const ENC: Readonly<Record<EncAlg, string>> = { aes: 'aes-128-cbc', aes192: 'aes-192-cbc', aes256: 'aes-256-cbc', des: 'des-cbc', '3des': '3des-cbc' };
const IKE_AUTH: Readonly<Record<AuthAlg, string>> = { md5: 'md5', sha1: 'sha1', sha256: 'sha-256', sha384: 'sha-384', sha512: 'sha-512' };
const ESP_AUTH: Readonly<Record<AuthAlg, string>> = {
  md5: 'hmac-md5-96',
  sha1: 'hmac-sha1-96',
  sha256: 'hmac-sha-256-128',
  sha384: 'hmac-sha-384-192',
  sha512: 'hmac-sha-512-256',
};

/** A Junos string: double-quoted, with `\` and `"` escaped (the API allows neither in a PSK anyway). */
function quoted(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

const unit = (t: Tunnel) => `st0.${t.index - 1}`;

function tunnel(site: Site, t: Tunnel, ctx: RenderContext, out: string[]): void {
  const k = t.index;
  const prop = `aliyun-ike-${k}`;
  const gw = `aliyun-gw-${k}`;
  const ipsec = `aliyun-ipsec-${k}`;
  const vpn = `aliyun-vpn-${k}`;
  out.push(`# tunnel ${k}${t.role ? ` (${t.role})` : ''}: ${t.localAddress} -> ${t.remoteAddress}`);
  out.push(t.bgp ? `set interfaces ${unit(t).replace('.', ' unit ')} family inet address ${t.bgp.localIp}/${cidrParts(t.bgp.tunnelCidr).prefix}` : `set interfaces ${unit(t).replace('.', ' unit ')} family inet`);
  out.push(`set security zones security-zone vpn interfaces ${unit(t)}`);
  out.push(`set security ike proposal ${prop} authentication-method pre-shared-keys`);
  out.push(`set security ike proposal ${prop} authentication-algorithm ${IKE_AUTH[t.ike.integrity]}`);
  out.push(`set security ike proposal ${prop} encryption-algorithm ${ENC[t.ike.encryption]}`);
  out.push(`set security ike proposal ${prop} dh-group group${DH_NUMBER[t.ike.dhGroup]}`);
  out.push(`set security ike proposal ${prop} lifetime-seconds ${ctx.lifetime(t.ike.lifetime, 180, 86400, ctx.ikeParam(t, 'IkeLifetime'), DEVICE)}`);
  if (t.ike.version === 'ikev1') out.push(`set security ike policy ${prop} mode ${t.ike.mode}`);
  out.push(`set security ike policy ${prop} proposals ${prop}`);
  const key = ctx.psk(t);
  // Junos takes a secret starting with $9$ as already encrypted.
  if (t.psk.startsWith('$9$')) ctx.unsupported(ctx.ikeParam(t, 'Psk'), `${DEVICE} reads a pre-shared key starting with "$9$" as an encrypted one`);
  if (t.psk.includes('?') && !ctx.options.redactPsk) out.push('# the pre-shared key holds "?": load this file with `load set` (the interactive CLI reads "?" as help)');
  out.push(`set security ike policy ${prop} pre-shared-key ascii-text ${quoted(key)}`);
  out.push(`set security ike gateway ${gw} ike-policy ${prop}`);
  out.push(`set security ike gateway ${gw} address ${t.remoteAddress}`);
  out.push(`set security ike gateway ${gw} external-interface ${ctx.wan}`);
  out.push(`set security ike gateway ${gw} local-address ${t.localAddress}`);
  out.push(`set security ike gateway ${gw} local-identity ${t.ike.localId.kind === 'fqdn' ? 'hostname' : 'inet'} ${t.ike.localId.value}`);
  out.push(`set security ike gateway ${gw} remote-identity ${t.ike.remoteId.kind === 'fqdn' ? 'hostname' : 'inet'} ${t.ike.remoteId.value}`);
  if (t.dpd) out.push(`set security ike gateway ${gw} dead-peer-detection interval 10 threshold 3`);
  if (!t.natTraversal) out.push(`set security ike gateway ${gw} no-nat-traversal`);
  out.push(`set security ike gateway ${gw} version ${t.ike.version === 'ikev1' ? 'v1-only' : 'v2-only'}`);
  out.push(`set security ipsec proposal ${ipsec} protocol esp`);
  out.push(`set security ipsec proposal ${ipsec} authentication-algorithm ${ESP_AUTH[t.ipsec.integrity]}`);
  out.push(`set security ipsec proposal ${ipsec} encryption-algorithm ${ENC[t.ipsec.encryption]}`);
  out.push(`set security ipsec proposal ${ipsec} lifetime-seconds ${ctx.lifetime(t.ipsec.lifetime, 180, 86400, ctx.ipsecParam(t, 'IpsecLifetime'), DEVICE)}`);
  if (t.ipsec.pfs !== 'disabled') out.push(`set security ipsec policy ${ipsec} perfect-forward-secrecy keys group${DH_NUMBER[t.ipsec.pfs]}`);
  out.push(`set security ipsec policy ${ipsec} proposals ${ipsec}`);
  out.push(`set security ipsec vpn ${vpn} bind-interface ${unit(t)}`);
  out.push(`set security ipsec vpn ${vpn} ike gateway ${gw}`);
  out.push(`set security ipsec vpn ${vpn} ike ipsec-policy ${ipsec}`);
  out.push(`set security ipsec vpn ${vpn} establish-tunnels immediately`);
  if (site.routing === 'protected') {
    // One SA per (local, remote) pair; Junos installs the routes to the remote CIDRs itself (auto route insertion),
    // for a dual tunnel through both st0 units: the VPN gateway itself sends by the master tunnel.
    flowPairs(site).forEach(([l, r], i) => {
      out.push(`set security ipsec vpn ${vpn} traffic-selector ts${i + 1} local-ip ${l}`);
      out.push(`set security ipsec vpn ${vpn} traffic-selector ts${i + 1} remote-ip ${r}`);
    });
  }
}

function policies(site: Site, out: string[]): void {
  const protectedFlows = site.routing === 'protected';
  if (protectedFlows) {
    for (const [i, c] of site.localSubnets.entries()) out.push(`set security zones security-zone trust address-book address aliyun-local-${i + 1} ${c}`);
    for (const [i, c] of site.remoteSubnets.entries()) out.push(`set security zones security-zone vpn address-book address aliyun-remote-${i + 1} ${c}`);
  }
  const local = protectedFlows ? site.localSubnets.map((_, i) => `aliyun-local-${i + 1}`) : ['any'];
  const remote = protectedFlows ? site.remoteSubnets.map((_, i) => `aliyun-remote-${i + 1}`) : ['any'];
  const set = (names: string[]) => (names.length === 1 ? names[0] : `[ ${names.join(' ')} ]`);
  out.push(`set security policies from-zone trust to-zone vpn policy aliyun-out match source-address ${set(local)}`);
  out.push(`set security policies from-zone trust to-zone vpn policy aliyun-out match destination-address ${set(remote)}`);
  out.push('set security policies from-zone trust to-zone vpn policy aliyun-out match application any');
  out.push('set security policies from-zone trust to-zone vpn policy aliyun-out then permit');
  out.push(`set security policies from-zone vpn to-zone trust policy aliyun-in match source-address ${set(remote)}`);
  out.push(`set security policies from-zone vpn to-zone trust policy aliyun-in match destination-address ${set(local)}`);
  out.push('set security policies from-zone vpn to-zone trust policy aliyun-in match application any');
  out.push('set security policies from-zone vpn to-zone trust policy aliyun-in then permit');
}

function bgp(site: Site, ctx: RenderContext, out: string[]): void {
  const list = site.tunnels.filter((t) => t.bgp);
  const asn = list[0]!.bgp!.localAsn;
  out.push('set security zones security-zone vpn host-inbound-traffic protocols bgp');
  out.push(`set routing-options autonomous-system ${asn}`);
  const nets = ctx.bgpNetworks();
  out.push('set protocols bgp group aliyun type external');
  // The export policy exists only once networks are named: a reference to a missing policy fails the commit.
  out.push(`${nets.examples ? '# ' : ''}set protocols bgp group aliyun export aliyun-export`);
  for (const t of list) {
    const b = t.bgp!;
    if (b.localAsn !== asn) ctx.unsupported(ctx.bgpParam(t, 'PeerAsn'), `one ${DEVICE} has one autonomous system; the tunnels name ${asn} and ${b.localAsn}`);
    out.push(`set protocols bgp group aliyun neighbor ${b.remoteIp} peer-as ${b.remoteAsn}`);
    const key = ctx.bgpKey(t);
    if (key !== undefined) {
      if (b.authKey?.startsWith('$9$')) ctx.unsupported(ctx.bgpParam(t, 'AuthKey'), `${DEVICE} reads a key starting with "$9$" as an encrypted one`);
      out.push(`set protocols bgp group aliyun neighbor ${b.remoteIp} authentication-key ${quoted(key)}`);
    }
  }
  if (nets.examples) out.push('# announce the branch networks, for example (with the export line above):');
  for (const net of nets.cidrs) out.push(`${nets.examples ? '# ' : ''}set policy-options policy-statement aliyun-export term branch from route-filter ${net} exact`);
  out.push(`${nets.examples ? '# ' : ''}set policy-options policy-statement aliyun-export term branch then accept`);
}

export const juniperSrx: Vendor = {
  type: 'juniper-srx',
  name: 'Juniper SRX (Junos: route-based st0 tunnels; traffic selectors for protected flows; dual tunnel and BGP)',
  files: 'juniper-srx.set (set commands)',
  defaultWan: 'ge-0/0/0.0',
  render(site, ctx) {
    commonChecks(ctx);
    const out = header(site, DEVICE, '#', [
      'Load: `configure`, then `load set terminal` and paste (or `load set <file>`), then `commit`.',
      `Outside interface: ${ctx.wan}; LAN zone: trust (replace if yours differ).`,
    ]);
    for (const t of site.tunnels) tunnel(site, t, ctx, out);
    policies(site, out);
    if (site.tunnels.some((t) => t.bgp)) bgp(site, ctx, out);
    else if (site.routing === 'destination') {
      const routes = ctx.staticRoutes();
      if (routes.examples) out.push('# static routes: name the VPC CIDRs to send into the tunnel, for example');
      for (const r of routes.cidrs) {
        const [t1, t2] = site.tunnels;
        out.push(`${routes.examples ? '# ' : ''}set routing-options static route ${r} next-hop ${unit(t1!)}`);
        if (t2) out.push(`${routes.examples ? '# ' : ''}set routing-options static route ${r} qualified-next-hop ${unit(t2)} preference 10`);
      }
    }
    return [{ name: 'juniper-srx.set', text: out.join('\n') + '\n' }];
  },
};
