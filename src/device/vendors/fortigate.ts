// FortiGate (FortiOS 6.4 / 7.x CLI): route-based (interface mode) phase 1 per tunnel, one phase 2 per pair of
// selectors, static routes or BGP over the tunnel interfaces, and the firewall policies that let traffic through.
// Guides: Fortinet FortiOS Administration Guide "IPsec VPN" (phase1-interface / phase2-interface reference and the
// "IKEv2 IPsec site-to-site VPN to an AWS VPN gateway" example: tunnel interface addresses and BGP), and Alibaba
// Cloud's "other on-premises gateway device configuration examples" for the parameter mapping.
import { cidrParts } from '../net.js';
import { commonChecks, DH_NUMBER, flowPairs, header, type RenderContext, type Vendor } from '../kit.js';
import type { AuthAlg, EncAlg, Site, Tunnel } from '../types.js';

const DEVICE = 'FortiGate';

const ENC: Readonly<Record<EncAlg, string>> = { aes: 'aes128', aes192: 'aes192', aes256: 'aes256', des: 'des', '3des': '3des' };
const AUTH: Readonly<Record<AuthAlg, string>> = { md5: 'md5', sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };

/** A FortiOS CLI string: double-quoted, `\` and `"` escaped. */
function quoted(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Tunnel interface names are at most 15 characters. */
const ifname = (t: Tunnel) => `aliyun-${t.index}`;

function phase1(t: Tunnel, ctx: RenderContext, out: string[]): void {
  const key = ctx.psk(t);
  if (t.psk.length < 6) ctx.unsupported(ctx.ikeParam(t, 'Psk'), `${DEVICE} takes a pre-shared key of 6 to 128 characters; this one has ${t.psk.length}`);
  out.push(`    edit ${quoted(ifname(t))}`);
  out.push(`        set interface ${quoted(ctx.wan)}`);
  out.push(`        set ike-version ${t.ike.version === 'ikev1' ? 1 : 2}`);
  if (t.ike.version === 'ikev1') out.push(`        set mode ${t.ike.mode}`);
  // A peer ID can be required only where it arrives before the key is needed: IKEv2 or IKEv1 aggressive mode.
  if (t.ike.remoteId.kind === 'fqdn' && (t.ike.version === 'ikev2' || t.ike.mode === 'aggressive')) {
    out.push('        set peertype one');
    out.push(`        set peerid ${quoted(t.ike.remoteId.value)}`);
  } else out.push('        set peertype any');
  out.push('        set net-device disable');
  out.push(`        set proposal ${ENC[t.ike.encryption]}-${AUTH[t.ike.integrity]}`);
  out.push(`        set dhgrp ${DH_NUMBER[t.ike.dhGroup]}`);
  out.push(`        set keylife ${ctx.lifetime(t.ike.lifetime, 120, 172800, ctx.ikeParam(t, 'IkeLifetime'), DEVICE)}`);
  if (t.ike.localId.kind === 'fqdn') {
    out.push('        set localid-type fqdn');
    out.push(`        set localid ${quoted(t.ike.localId.value)}`);
  } else if (t.ike.localId.value !== t.localAddress) {
    out.push('        set localid-type address');
    out.push(`        set localid ${quoted(t.ike.localId.value)}`);
  }
  out.push(`        set local-gw ${t.localAddress}`);
  out.push(`        set remote-gw ${t.remoteAddress}`);
  if (t.psk.includes('?') && !ctx.options.redactPsk) out.push('        # the pre-shared key holds "?": run this file as a script (at the interactive CLI type Ctrl-V before "?")');
  out.push(`        set psksecret ${quoted(key)}`);
  out.push(t.dpd ? '        set dpd on-idle' : '        set dpd disable');
  if (t.dpd) out.push('        set dpd-retryinterval 10');
  out.push(`        set nattraversal ${t.natTraversal ? 'enable' : 'disable'}`);
  out.push('    next');
}

function phase2(site: Site, t: Tunnel, ctx: RenderContext, out: string[]): void {
  const pairs = site.routing === 'protected' ? flowPairs(site) : [['0.0.0.0/0', '0.0.0.0/0'] as [string, string]];
  const lt = ctx.lifetime(t.ipsec.lifetime, 120, 172800, ctx.ipsecParam(t, 'IpsecLifetime'), DEVICE);
  pairs.forEach(([l, r], i) => {
    const a = cidrParts(l);
    const b = cidrParts(r);
    out.push(`    edit ${quoted(pairs.length > 1 ? `${ifname(t)}-${i + 1}` : ifname(t))}`);
    out.push(`        set phase1name ${quoted(ifname(t))}`);
    out.push(`        set proposal ${ENC[t.ipsec.encryption]}-${AUTH[t.ipsec.integrity]}`);
    if (t.ipsec.pfs === 'disabled') out.push('        set pfs disable');
    else {
      out.push('        set pfs enable');
      out.push(`        set dhgrp ${DH_NUMBER[t.ipsec.pfs]}`);
    }
    out.push(`        set keylifeseconds ${lt}`);
    out.push('        set auto-negotiate enable');
    out.push(`        set src-subnet ${a.address} ${a.mask}`);
    out.push(`        set dst-subnet ${b.address} ${b.mask}`);
    out.push('    next');
  });
}

export const fortigate: Vendor = {
  type: 'fortigate',
  name: 'FortiGate (FortiOS 6.4 / 7.x: interface-mode tunnels, a phase 2 per selector pair, dual tunnel and BGP)',
  files: 'fortigate.conf (CLI script)',
  defaultWan: 'wan1',
  render(site, ctx) {
    commonChecks(ctx);
    const out = header(site, DEVICE, '#', [
      'Load: paste into the CLI, or System > Settings > Run script (upload this file).',
      `Outside interface: ${ctx.wan}; LAN interface: lan (replace if yours differ).`,
    ]);
    out.push('config vpn ipsec phase1-interface');
    for (const t of site.tunnels) phase1(t, ctx, out);
    out.push('end');
    out.push('config vpn ipsec phase2-interface');
    for (const t of site.tunnels) phase2(site, t, ctx, out);
    out.push('end');
    const withBgp = site.tunnels.filter((t) => t.bgp);
    if (withBgp.length > 0) {
      out.push('config system interface');
      for (const t of withBgp) {
        out.push(`    edit ${quoted(ifname(t))}`);
        out.push(`        set ip ${t.bgp!.localIp} 255.255.255.255`);
        out.push(`        set remote-ip ${t.bgp!.remoteIp} ${cidrParts(t.bgp!.tunnelCidr).mask}`);
        out.push('        set allowaccess ping');
        out.push('    next');
      }
      out.push('end');
    }
    // Destination routing without BGP, and protected flows: static routes into the tunnels (tunnel 2 as backup).
    if (withBgp.length === 0) {
      const routes = ctx.staticRoutes();
      const c = routes.examples ? '# ' : '';
      if (routes.examples) out.push('# static routes: name the VPC CIDRs to send into the tunnel, for example');
      out.push(`${c}config router static`);
      for (const r of routes.cidrs) {
        const p = cidrParts(r);
        for (const t of site.tunnels) {
          out.push(`${c}    edit 0`);
          out.push(`${c}        set dst ${p.address} ${p.mask}`);
          out.push(`${c}        set device ${quoted(ifname(t))}`);
          out.push(`${c}        set distance ${t.index === 1 ? 10 : 20}`);
          out.push(`${c}    next`);
        }
      }
      out.push(`${c}end`);
    } else {
      const b0 = withBgp[0]!.bgp!;
      out.push('config router bgp');
      out.push(`    set as ${b0.localAsn}`);
      out.push(`    set router-id ${b0.localIp}`);
      out.push('    config neighbor');
      for (const t of withBgp) {
        const b = t.bgp!;
        if (b.localAsn !== b0.localAsn) ctx.unsupported(ctx.bgpParam(t, 'PeerAsn'), `one ${DEVICE} BGP instance has one ASN; the tunnels name ${b0.localAsn} and ${b.localAsn}`);
        out.push(`        edit ${quoted(b.remoteIp)}`);
        out.push(`            set remote-as ${b.remoteAsn}`);
        const key = ctx.bgpKey(t);
        if (key !== undefined) out.push(`            set password ${quoted(key)}`);
        out.push('        next');
      }
      out.push('    end');
      const nets = ctx.bgpNetworks();
      const c = nets.examples ? '# ' : '';
      if (nets.examples) out.push('    # announce the branch networks, for example:');
      out.push(`    ${c}config network`);
      nets.cidrs.forEach((net, i) => {
        const p = cidrParts(net);
        out.push(`    ${c}    edit ${i + 1}`);
        out.push(`    ${c}        set prefix ${p.address} ${p.mask}`);
        out.push(`    ${c}    next`);
      });
      out.push(`    ${c}end`);
      out.push('end');
    }
    out.push('config firewall policy');
    for (const t of site.tunnels) {
      for (const [dir, src, dst] of [
        ['out', 'lan', ifname(t)],
        ['in', ifname(t), 'lan'],
      ] as const) {
        out.push('    edit 0');
        out.push(`        set name ${quoted(`${ifname(t)}-${dir}`)}`);
        out.push(`        set srcintf ${quoted(src)}`);
        out.push(`        set dstintf ${quoted(dst)}`);
        out.push('        set srcaddr "all"');
        out.push('        set dstaddr "all"');
        out.push('        set action accept');
        out.push('        set schedule "always"');
        out.push('        set service "ALL"');
        out.push('    next');
      }
    }
    out.push('end');
    return [{ name: 'fortigate.conf', text: out.join('\n') + '\n' }];
  },
};
