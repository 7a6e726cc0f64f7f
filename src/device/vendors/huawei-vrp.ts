// Huawei VRP (AR routers, USG firewalls; V200R008 and later syntax): IKE peer and proposal, an IPsec policy with an
// ACL for protected data flows, an IPsec profile on a tunnel interface for destination routing, dual tunnel and BGP.
// Guides: AlibabaCloudDocs/vpn "Load the IPsec-VPN configuration to a Huawei firewall device.md" (the parameters, web
// UI) and Huawei's "IPSec Configuration" guide for AR routers (CLI: ike proposal, ike peer, ipsec policy / profile).
import { cidrParts } from '../net.js';
import { commonChecks, DH_NUMBER, flowPairs, header, type RenderContext, type Vendor } from '../kit.js';
import type { AuthAlg, EncAlg, Site, Tunnel } from '../types.js';

const DEVICE = 'Huawei VRP';

const ENC: Readonly<Record<EncAlg, string>> = { aes: 'aes-128', aes192: 'aes-192', aes256: 'aes-256', des: 'des', '3des': '3des' };
const IKE_AUTH: Readonly<Record<AuthAlg, string>> = { md5: 'md5', sha1: 'sha1', sha256: 'sha2-256', sha384: 'sha2-384', sha512: 'sha2-512' };
const IKEV2_INTEG: Readonly<Record<AuthAlg, string>> = {
  md5: 'hmac-md5-96',
  sha1: 'hmac-sha1-96',
  sha256: 'hmac-sha2-256',
  sha384: 'hmac-sha2-384',
  sha512: 'hmac-sha2-512',
};
const IKEV2_PRF: Readonly<Record<AuthAlg, string>> = { md5: 'hmac-md5', sha1: 'hmac-sha1', sha256: 'hmac-sha2-256', sha384: 'hmac-sha2-384', sha512: 'hmac-sha2-512' };
const ESP_AUTH: Readonly<Record<AuthAlg, string>> = { md5: 'md5', sha1: 'sha1', sha256: 'sha2-256', sha384: 'sha2-384', sha512: 'sha2-512' };

const peer = (t: Tunnel) => `aliyun${t.index}`;

/** VRP takes strings without `?` (it opens the help) and without spaces. */
/** Checks the real secret `value`; returns `written` (the value, or its placeholder under --redact-psk). */
function cliString(ctx: RenderContext, value: string, parameter: string, what: string, written: string): string {
  // `cipher` takes both plain text and VRP's own ciphertext, which is wrapped in %^%#, %@%@ or %$%$.
  if (/^%(\^%#|@%@|\$%\$)/.test(value)) ctx.unsupported(parameter, `${DEVICE} reads a ${what} that starts with one of its ciphertext markers (%^%#, %@%@, %$%$) as ciphertext`);
  if (value.includes('?')) ctx.unsupported(parameter, `${DEVICE} cannot take a ${what} holding "?" (the CLI reads it as a help request)`);
  return written;
}

function ike(_site: Site, t: Tunnel, ctx: RenderContext, out: string[]): void {
  const v2 = t.ike.version === 'ikev2';
  out.push(`ike proposal ${t.index * 10}`);
  out.push(` encryption-algorithm ${ENC[t.ike.encryption]}`);
  if (v2) {
    out.push(` integrity-algorithm ${IKEV2_INTEG[t.ike.integrity]}`);
    out.push(` prf ${IKEV2_PRF[t.ike.integrity]}`);
  } else out.push(` authentication-algorithm ${IKE_AUTH[t.ike.integrity]}`);
  out.push(' authentication-method pre-share');
  out.push(` dh group${DH_NUMBER[t.ike.dhGroup]}`);
  out.push(` sa duration ${ctx.lifetime(t.ike.lifetime, 60, 604800, ctx.ikeParam(t, 'IkeLifetime'), DEVICE)}`);
  out.push('#');
  out.push(`ike peer ${peer(t)}`);
  out.push(v2 ? ' undo version 1' : ' undo version 2');
  if (!v2 && t.ike.mode === 'aggressive') out.push(' exchange-mode aggressive');
  out.push(` pre-shared-key cipher ${cliString(ctx, t.psk, ctx.ikeParam(t, 'Psk'), 'pre-shared key', ctx.psk(t))}`);
  out.push(` ike-proposal ${t.index * 10}`);
  if (t.ike.localId.kind === 'fqdn') {
    out.push(' local-id-type fqdn');
    out.push(` local-id ${t.ike.localId.value}`);
  } else if (t.ike.localId.value !== t.localAddress) {
    ctx.unsupported(ctx.ikeParam(t, 'RemoteId'), `${DEVICE} sends its own address ${t.localAddress} as an IP identity, not ${t.ike.localId.value}`);
  } else out.push(' local-id-type ip');
  if (t.ike.remoteId.kind === 'fqdn') {
    out.push(' remote-id-type fqdn');
    out.push(` remote-id ${t.ike.remoteId.value}`);
  } else if (t.ike.remoteId.value !== t.remoteAddress) {
    ctx.unsupported(ctx.ikeParam(t, 'LocalId'), `${DEVICE} checks an IP identity against the peer address ${t.remoteAddress}, not ${t.ike.remoteId.value}`);
  } else out.push(' remote-id-type ip');
  out.push(` remote-address ${t.remoteAddress}`);
  if (t.dpd) {
    out.push(' dpd type periodic');
    out.push(' dpd idle-time 10');
  }
  out.push(t.natTraversal ? ' nat traversal' : ' undo nat traversal');
  out.push('#');
  out.push(`ipsec proposal ${peer(t)}`);
  out.push(' transform esp');
  out.push(' encapsulation-mode tunnel');
  out.push(` esp authentication-algorithm ${ESP_AUTH[t.ipsec.integrity]}`);
  out.push(` esp encryption-algorithm ${ENC[t.ipsec.encryption]}`);
  out.push('#');
}

function saLines(t: Tunnel, ctx: RenderContext): string[] {
  return [
    ` ike-peer ${peer(t)}`,
    ` proposal ${peer(t)}`,
    ...(t.ipsec.pfs === 'disabled' ? [] : [` pfs dh-group${DH_NUMBER[t.ipsec.pfs]}`]),
    ` sa duration time-based ${ctx.lifetime(t.ipsec.lifetime, 30, 604800, ctx.ipsecParam(t, 'IpsecLifetime'), DEVICE)}`,
  ];
}

function bgp(site: Site, ctx: RenderContext, out: string[]): void {
  const list = site.tunnels.filter((t) => t.bgp);
  const asn = list[0]!.bgp!.localAsn;
  out.push(`bgp ${asn}`);
  for (const t of list) {
    const b = t.bgp!;
    if (b.localAsn !== asn) ctx.unsupported(ctx.bgpParam(t, 'PeerAsn'), `one ${DEVICE} BGP process has one ASN; the tunnels name ${asn} and ${b.localAsn}`);
    out.push(` peer ${b.remoteIp} as-number ${b.remoteAsn}`);
    const key = ctx.bgpKey(t);
    if (key !== undefined) out.push(` peer ${b.remoteIp} password cipher ${cliString(ctx, b.authKey ?? '', ctx.bgpParam(t, 'AuthKey'), 'BGP password', key)}`);
  }
  out.push(' ipv4-family unicast');
  const nets = ctx.bgpNetworks();
  if (!nets.examples) {
    for (const net of nets.cidrs) {
      const c = cidrParts(net);
      out.push(`  network ${c.address} ${c.mask}`);
    }
  }
  for (const t of list) out.push(`  peer ${t.bgp!.remoteIp} enable`);
  out.push('#');
  if (nets.examples) {
    // Outside the view: a comment line inside it would end the view when pasted.
    out.push(`# announce the branch networks under bgp ${asn} / ipv4-family unicast, for example:`);
    for (const net of nets.cidrs) {
      const c = cidrParts(net);
      out.push(`#  network ${c.address} ${c.mask}`);
    }
  }
}

export const huaweiVrp: Vendor = {
  type: 'huawei-vrp',
  name: 'Huawei VRP (AR / USG, V200R008+: IPsec policy for protected flows, tunnel interfaces for destination routing, dual tunnel and BGP)',
  files: 'huawei-vrp.txt (configuration commands)',
  defaultWan: 'GigabitEthernet0/0/1',
  render(site, ctx) {
    commonChecks(ctx);
    const policy = site.routing === 'protected' && !site.tunnels.some((t) => t.bgp);
    if (policy && site.dual) {
      ctx.unsupported('LocalSubnet', `${DEVICE}: a dual-tunnel connection with protected data flows cannot be expressed (an IPsec policy has one peer, and tunnel interfaces negotiate 0.0.0.0/0): use destination routing`);
    }
    const out = header(site, DEVICE, '#', [
      'Load: `system-view` and paste (lines starting with # are separators), then `save`.',
      `Outside interface: ${ctx.wan} (replace if yours differs).`,
    ]);
    out.push('#');
    for (const t of site.tunnels) ike(site, t, ctx, out);
    const t1 = site.tunnels[0] as Tunnel;
    if (policy) {
      out.push('acl number 3101');
      flowPairs(site).forEach(([l, r], i) => {
        const a = cidrParts(l);
        const b = cidrParts(r);
        out.push(` rule ${(i + 1) * 5} permit ip source ${a.address} ${a.wildcard} destination ${b.address} ${b.wildcard}`);
      });
      out.push('#');
      out.push('ipsec policy aliyun 10 isakmp');
      out.push(' security acl 3101');
      out.push(...saLines(t1, ctx));
      out.push('#');
      out.push(`interface ${ctx.wan}`);
      out.push(' ipsec policy aliyun');
      out.push('#');
      for (const r of site.remoteSubnets) {
        const c = cidrParts(r);
        out.push(`ip route-static ${c.address} ${c.mask} ${t1.remoteAddress}`);
      }
    } else {
      for (const t of site.tunnels) {
        out.push(`ipsec profile ${peer(t)}`);
        out.push(...saLines(t, ctx));
        out.push('#');
        out.push(`interface Tunnel0/0/${t.index}`);
        out.push(` description Alibaba Cloud ${site.connectionId} tunnel ${t.index}${t.role ? ` ${t.role}` : ''}`);
        if (t.bgp) out.push(` ip address ${t.bgp.localIp} ${cidrParts(t.bgp.tunnelCidr).mask}`);
        else out.push(` ip address unnumbered interface ${ctx.wan}`);
        out.push(' tunnel-protocol ipsec');
        out.push(` source ${t.localAddress}`);
        out.push(` destination ${t.remoteAddress}`);
        out.push(` ipsec profile ${peer(t)}`);
        out.push('#');
      }
      if (site.tunnels.some((t) => t.bgp)) bgp(site, ctx, out);
      else {
        const routes = ctx.staticRoutes();
        if (routes.examples) out.push('# static routes: name the VPC CIDRs to send into the tunnel, for example');
        for (const r of routes.cidrs) {
          const c = cidrParts(r);
          for (const t of site.tunnels) {
            out.push(`${routes.examples ? '# ' : ''}ip route-static ${c.address} ${c.mask} Tunnel0/0/${t.index}${t.index === 2 ? ' preference 70' : ''}`);
          }
        }
      }
    }
    out.push('return');
    return [{ name: 'huawei-vrp.txt', text: out.join('\n') + '\n' }];
  },
};
