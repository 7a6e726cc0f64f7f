// strongSwan 5.8+: swanctl.conf (connections and secrets), a strongswan.d snippet, the XFRM interfaces of a
// route-based setup and the FRR snippet for BGP. Guide: Alibaba Cloud "Configure strongSwan" (current: dual tunnel,
// XFRM interfaces, BGP) and AlibabaCloudDocs/vpn "Configure strongSwan.md" (single tunnel).
import { commentText, header, flowPairs, commonChecks, type RenderContext, type Vendor } from '../kit.js';
import { cidrParts } from '../net.js';
import type { AuthAlg, DhGroup, EncAlg, Identity, Site, Tunnel } from '../types.js';

const DEVICE = 'strongSwan';

export const ENC: Readonly<Record<EncAlg, string>> = { aes: 'aes128', aes192: 'aes192', aes256: 'aes256', des: 'des', '3des': '3des' };
export const INTEG: Readonly<Record<AuthAlg, string>> = { md5: 'md5', sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };
export const DH: Readonly<Record<DhGroup, string>> = { group1: 'modp768', group2: 'modp1024', group5: 'modp1536', group14: 'modp2048' };

/** The XFRM interface id of a tunnel (the Alibaba guide's 41 / 42). */
const IF_ID_BASE = 40;

/** A value in strongswan.conf syntax: bare when it is a plain word, else double-quoted with `\` and `"` escaped. */
function value(s: string): string {
  if (/^[A-Za-z0-9@._:/,-]+$/.test(s)) return s;
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The secret as swanctl must read it: swanctl decodes a value starting with 0x/0s (any case) as hex/base64, so such a
 * key is written hex-encoded; any other key double-quoted (the API excludes `"` and `\`; `#`, `$`, `;` are literal
 * inside quotes).
 */
export function swanctlSecret(psk: string): string {
  if (/^0[xs]/i.test(psk)) return '0x' + Buffer.from(psk, 'utf8').toString('hex');
  return `"${psk.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function id(i: Identity): string {
  // `@` makes strongSwan take the rest as an FQDN whatever it holds (no DN or e-mail parsing).
  return i.kind === 'ip' ? i.value : value(`@${i.value}`);
}

function connName(site: Site, t: Tunnel): string {
  const base = site.connectionId.replace(/[^A-Za-z0-9_-]/g, '_');
  return site.dual ? `${base}-t${t.index}` : base;
}

export function routeBased(site: Site): boolean {
  return site.routing === 'destination' || site.dual || site.tunnels.some((t) => t.bgp !== undefined);
}

function xfrmName(t: Tunnel): string {
  return `xfrm-ali${t.index}`;
}

function lifetimes(ctx: RenderContext, t: Tunnel): { ike: number; ipsec: number } {
  // strongSwan reads 0 as "never": not what the API's 0 can mean for the gateway.
  return {
    ike: ctx.lifetime(t.ike.lifetime, 1, 86400, ctx.ikeParam(t, 'IkeLifetime'), DEVICE),
    ipsec: ctx.lifetime(t.ipsec.lifetime, 1, 86400, ctx.ipsecParam(t, 'IpsecLifetime'), DEVICE),
  };
}

/** Rekey a tenth before the hard limit, so the proposed (IKEv1) or enforced lifetime equals the gateway's. */
function split(life: number): { rekey: number; margin: number } {
  const margin = Math.max(1, Math.floor(life / 10));
  return { rekey: Math.max(1, life - margin), margin };
}

function connection(site: Site, t: Tunnel, ctx: RenderContext, route: boolean): string[] {
  const name = connName(site, t);
  const ike = [ENC[t.ike.encryption], INTEG[t.ike.integrity], DH[t.ike.dhGroup]].join('-');
  const esp = [ENC[t.ipsec.encryption], INTEG[t.ipsec.integrity], ...(t.ipsec.pfs === 'disabled' ? [] : [DH[t.ipsec.pfs]])].join('-');
  const life = lifetimes(ctx, t);
  const ikeLife = split(life.ike);
  const childLife = split(life.ipsec);
  const v1 = t.ike.version === 'ikev1';
  const out: string[] = [];
  out.push(`  ${name} {`);
  out.push(`    # tunnel ${t.index}${t.role ? ` (${t.role})` : ''}`);
  out.push(`    version = ${v1 ? 1 : 2}`);
  if (v1) out.push(`    aggressive = ${t.ike.mode === 'aggressive' ? 'yes' : 'no'}`);
  out.push(`    # this device's public address (the customer gateway's IP); behind NAT, write the private one here`);
  out.push(`    local_addrs = ${t.localAddress}`);
  out.push(`    remote_addrs = ${t.remoteAddress}`);
  out.push(`    proposals = ${ike}`);
  // IKEv1 has no IKE rekeying: reauthentication carries the lifetime, and the initiator proposes reauth + over time.
  out.push(`    ${v1 ? 'reauth_time' : 'rekey_time'} = ${ikeLife.rekey}s`);
  out.push(`    over_time = ${ikeLife.margin}s`);
  if (t.dpd) out.push('    dpd_delay = 10s');
  if (!v1) out.push('    mobike = no');
  if (!t.natTraversal) out.push('    # NAT traversal is off on the VPN gateway: reach it without NAT (strongSwan encapsulates only when it detects one)');
  out.push('    local {');
  out.push('      auth = psk');
  out.push(`      id = ${id(t.ike.localId)}`);
  out.push('    }');
  out.push('    remote {');
  out.push('      auth = psk');
  out.push(`      id = ${id(t.ike.remoteId)}`);
  out.push('    }');
  out.push('    children {');
  // IKEv1 negotiates one pair of selectors per SA: one child per (local, remote) pair.
  const children: Array<{ child: string; local: string[]; remote: string[] }> =
    v1 && (site.localSubnets.length > 1 || site.remoteSubnets.length > 1)
      ? flowPairs(site).map(([l, r], k) => ({ child: `${name}-${k + 1}`, local: [l], remote: [r] }))
      : [{ child: name, local: site.localSubnets, remote: site.remoteSubnets }];
  for (const c of children) {
    out.push(`      ${c.child} {`);
    out.push(`        local_ts = ${c.local.join(',')}`);
    out.push(`        remote_ts = ${c.remote.join(',')}`);
    out.push(`        esp_proposals = ${esp}`);
    out.push(`        rekey_time = ${childLife.rekey}s`);
    out.push(`        life_time = ${life.ipsec}s`);
    if (t.dpd) out.push('        dpd_action = restart');
    out.push('        start_action = start');
    if (route) {
      out.push(`        if_id_in = ${IF_ID_BASE + t.index}`);
      out.push(`        if_id_out = ${IF_ID_BASE + t.index}`);
    }
    out.push('      }');
  }
  out.push('    }');
  out.push('  }');
  return out;
}

function secrets(site: Site, ctx: RenderContext): string[] {
  const out = ['secrets {'];
  for (const t of site.tunnels) {
    out.push(`  ike-${connName(site, t)} {`);
    out.push(`    id-local = ${id(t.ike.localId)}`);
    out.push(`    id-remote = ${id(t.ike.remoteId)}`);
    out.push(`    secret = ${swanctlSecret(ctx.psk(t))}`);
    out.push('  }');
  }
  out.push('}');
  return out;
}

function sameIds(a: Tunnel, b: Tunnel): boolean {
  return a.ike.localId.value === b.ike.localId.value && a.ike.remoteId.value === b.ike.remoteId.value;
}

function interfacesScript(site: Site, ctx: RenderContext): string {
  const lines = [
    '#!/bin/sh',
    ...header(site, DEVICE, '#', [
      'Route-based setup: one XFRM interface per tunnel (strongSwan 5.8+, Linux 4.19+, iproute2 5.1+).',
      'Run once as root after each boot (or turn into your distribution\'s network config); set WAN to the outside interface.',
    ], false),
    'set -e',
    `WAN=${ctx.wan}`,
  ];
  const routes = ctx.staticRoutes();
  for (const t of site.tunnels) {
    const dev = xfrmName(t);
    lines.push(`ip link add ${dev} type xfrm dev "$WAN" if_id ${IF_ID_BASE + t.index}`);
    if (t.bgp) lines.push(`ip addr add ${t.bgp.localIp}/30 dev ${dev}`);
    lines.push(`ip link set ${dev} up`);
  }
  if (!site.tunnels.some((t) => t.bgp)) {
    // Static routing: the master tunnel first; the slave's routes only take over when the master's interface is gone.
    lines.push(routes.examples ? '# static routes: name the VPC CIDRs to send into the tunnel, for example' : '# static routes to the VPC');
    for (const cidr of routes.cidrs) {
      for (const t of site.tunnels) {
        lines.push(`${routes.examples ? '# ' : ''}ip route add ${cidr} dev ${xfrmName(t)} metric ${t.index * 100}`);
      }
    }
  }
  return lines.join('\n') + '\n';
}

function frr(site: Site, ctx: RenderContext): string {
  const bgpTunnels = site.tunnels.filter((t) => t.bgp);
  const first = bgpTunnels[0]?.bgp;
  if (!first) return '';
  const nets = ctx.bgpNetworks();
  const lines = [
    ...header(site, 'FRR bgpd', '!', ['Merge into /etc/frr/frr.conf (bgpd=yes in /etc/frr/daemons), then `systemctl reload frr`.'], ctx.site.tunnels.some((t) => t.bgp?.authKey !== undefined)),
    `router bgp ${first.localAsn}`,
    ` bgp router-id ${first.localIp}`,
    ' no bgp ebgp-requires-policy',
  ];
  for (const t of bgpTunnels) {
    const b = t.bgp!;
    if (b.localAsn !== first.localAsn) ctx.unsupported(ctx.bgpParam(t, 'PeerAsn'), `one FRR bgpd has one local ASN; the tunnels name ${first.localAsn} and ${b.localAsn}`);
    lines.push(` neighbor ${b.remoteIp} remote-as ${b.remoteAsn}`);
    lines.push(` neighbor ${b.remoteIp} description ${commentText(site.connectionId).replace(/\s/g, '_')}-tunnel${t.index}`);
    const key = ctx.bgpKey(t);
    if (key !== undefined) lines.push(` neighbor ${b.remoteIp} password ${key}`);
  }
  lines.push(' address-family ipv4 unicast');
  if (nets.examples) lines.push('  ! announce the branch networks, for example:');
  for (const n of nets.cidrs) lines.push(`  ${nets.examples ? '! ' : ''}network ${n}`);
  for (const t of bgpTunnels) lines.push(`  neighbor ${t.bgp!.remoteIp} activate`);
  lines.push(' exit-address-family');
  lines.push('exit');
  return lines.join('\n') + '\n';
}

export const strongswan: Vendor = {
  type: 'strongswan',
  name: 'strongSwan 5.8+ (swanctl.conf; XFRM interfaces and FRR for route-based and BGP)',
  files: 'swanctl.conf, strongswan.conf snippet, XFRM interface script (route-based), frr.conf (BGP)',
  defaultWan: 'eth0',
  render(site, ctx) {
    commonChecks(ctx);
    const route = routeBased(site);
    const [a, b] = site.tunnels;
    if (a && b && sameIds(a, b) && a.psk !== b.psk) {
      ctx.unsupported(
        ctx.ikeParam(b, 'Psk'),
        `strongSwan picks a PSK by the IKE identities; both tunnels use ${a.ike.localId.value} / ${a.ike.remoteId.value} but their PSKs differ (give the tunnels distinct LocalId or RemoteId)`,
      );
    }
    for (const t of site.tunnels) {
      if (t.bgp) cidrParts(t.bgp.tunnelCidr); // validated by the model; throws only on a programming error
    }
    const aggressive = site.tunnels.some((t) => t.ike.version === 'ikev1' && t.ike.mode === 'aggressive');
    const load = [
      'Install: /etc/swanctl/conf.d/<site>.conf (mode 0600), then `swanctl --load-all`.',
      ...(route ? ['Route-based: run the XFRM interface script and load the strongswan.conf snippet first.'] : []),
    ];
    const swanctl = [...header(site, DEVICE, '#', load), 'connections {'];
    for (const t of site.tunnels) swanctl.push(...connection(site, t, ctx, route));
    swanctl.push('}', ...secrets(site, ctx));
    const files = [{ name: 'swanctl.conf', text: swanctl.join('\n') + '\n' }];

    if (route || aggressive) {
      const conf = [
        ...header(site, 'strongSwan (strongswan.conf)', '#', ['Install: /etc/strongswan.d/charon-cgw-batch.conf, then restart strongSwan.'], false),
        'charon {',
        ...(route ? ['  # routes go through the XFRM interfaces (xfrm-interfaces.sh), not table 220', '  install_routes = no'] : []),
        ...(aggressive
          ? ['  # IKEv1 aggressive mode with a PSK: needed when the VPN gateway initiates (EffectImmediately)', '  i_dont_care_about_security_and_use_aggressive_mode_psk = yes']
          : []),
        '}',
      ];
      files.push({ name: 'strongswan.conf', text: conf.join('\n') + '\n' });
    }
    if (route) files.push({ name: 'xfrm-interfaces.sh', text: interfacesScript(site, ctx) });
    if (site.tunnels.some((t) => t.bgp)) files.push({ name: 'frr.conf', text: frr(site, ctx) });
    return files;
  },
};
