// H3C Comware 7 (MSR routers, SecPath/F firewalls): IKE (v1) or IKEv2 profile and keychain, an IPsec policy with an
// advanced ACL for protected data flows, an IPsec profile on an IPsec tunnel interface for destination routing, dual
// tunnel and BGP. Guides: AlibabaCloudDocs/vpn "Configure H3C firewall.md" (the parameters, web UI) and the H3C
// Comware 7 "IPsec" / "IKE" / "IKEv2" command references.
import { cidrParts } from '../net.js';
import { commonChecks, DH_NUMBER, flowPairs, header, type RenderContext, type Vendor } from '../kit.js';
import type { AuthAlg, EncAlg, Site, Tunnel } from '../types.js';

const DEVICE = 'H3C Comware';

const ENC: Readonly<Record<EncAlg, string>> = { aes: 'aes-cbc-128', aes192: 'aes-cbc-192', aes256: 'aes-cbc-256', des: 'des-cbc', '3des': '3des-cbc' };
const IKE_AUTH: Readonly<Record<AuthAlg, string>> = { md5: 'md5', sha1: 'sha', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };
const IKEV2_HASH: Readonly<Record<AuthAlg, string>> = { md5: 'md5', sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };
const ESP_AUTH: Readonly<Record<AuthAlg, string>> = { md5: 'md5', sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };

const name = (t: Tunnel) => `aliyun${t.index}`;

/** Comware takes strings without `?` (it opens the help) and without spaces. */
/** Checks the real secret `value`; returns `written` (the value, or its placeholder under --redact-psk). */
function cliString(ctx: RenderContext, value: string, parameter: string, what: string, written: string): string {
  if (value.includes('?')) ctx.unsupported(parameter, `${DEVICE} cannot take a ${what} holding "?" (the CLI reads it as a help request)`);
  return written;
}

function ike(t: Tunnel, ctx: RenderContext, out: string[]): void {
  const key = cliString(ctx, t.psk, ctx.ikeParam(t, 'Psk'), 'pre-shared key', ctx.psk(t));
  if (t.ike.version === 'ikev1') {
    out.push(`ike proposal ${t.index * 10}`);
    out.push(` encryption-algorithm ${ENC[t.ike.encryption]}`);
    out.push(` authentication-algorithm ${IKE_AUTH[t.ike.integrity]}`);
    out.push(' authentication-method pre-share');
    out.push(` dh group${DH_NUMBER[t.ike.dhGroup]}`);
    out.push(` sa duration ${ctx.lifetime(t.ike.lifetime, 60, 604800, ctx.ikeParam(t, 'IkeLifetime'), DEVICE)}`);
    out.push('#');
    out.push(`ike keychain ${name(t)}`);
    out.push(` pre-shared-key address ${t.remoteAddress} 255.255.255.255 key simple ${key}`);
    out.push('#');
    out.push(`ike profile ${name(t)}`);
    out.push(` keychain ${name(t)}`);
    if (t.ike.mode === 'aggressive') out.push(' exchange-mode aggressive');
    out.push(t.ike.localId.kind === 'fqdn' ? ` local-identity fqdn ${t.ike.localId.value}` : ` local-identity address ${t.ike.localId.value}`);
    out.push(t.ike.remoteId.kind === 'fqdn' ? ` match remote identity fqdn ${t.ike.remoteId.value}` : ` match remote identity address ${t.ike.remoteId.value} 255.255.255.255`);
    out.push(` proposal ${t.index * 10}`);
    if (t.dpd) out.push(' dpd interval 10 retry 3 periodic');
    out.push('#');
  } else {
    out.push(`ikev2 proposal ${name(t)}`);
    out.push(` encryption ${ENC[t.ike.encryption]}`);
    out.push(` integrity ${IKEV2_HASH[t.ike.integrity]}`);
    out.push(` prf ${IKEV2_HASH[t.ike.integrity]}`);
    out.push(` dh group${DH_NUMBER[t.ike.dhGroup]}`);
    out.push('#');
    out.push(`ikev2 policy ${name(t)}`);
    out.push(` match local address ${t.localAddress}`);
    out.push(` proposal ${name(t)}`);
    out.push('#');
    out.push(`ikev2 keychain ${name(t)}`);
    out.push(` peer ${name(t)}`);
    out.push(`  address ${t.remoteAddress} 32`);
    out.push(`  pre-shared-key plaintext ${key}`);
    out.push('#');
    out.push(`ikev2 profile ${name(t)}`);
    out.push(' authentication-method local pre-share');
    out.push(' authentication-method remote pre-share');
    out.push(` keychain ${name(t)}`);
    out.push(t.ike.localId.kind === 'fqdn' ? ` identity local fqdn ${t.ike.localId.value}` : ` identity local address ${t.ike.localId.value}`);
    out.push(t.ike.remoteId.kind === 'fqdn' ? ` match remote identity fqdn ${t.ike.remoteId.value}` : ` match remote identity address ${t.ike.remoteId.value} 32`);
    out.push(` sa duration ${ctx.lifetime(t.ike.lifetime, 120, 86400, ctx.ikeParam(t, 'IkeLifetime'), DEVICE)}`);
    if (t.dpd) out.push(' dpd interval 10 periodic');
    out.push('#');
  }
  if (!t.natTraversal) out.push('# NAT traversal is off on the VPN gateway: Comware detects NAT itself and encapsulates only behind one');
  out.push(`ipsec transform-set ${name(t)}`);
  out.push(' encapsulation-mode tunnel');
  out.push(' protocol esp');
  out.push(` esp encryption-algorithm ${ENC[t.ipsec.encryption]}`);
  out.push(` esp authentication-algorithm ${ESP_AUTH[t.ipsec.integrity]}`);
  if (t.ipsec.pfs !== 'disabled') out.push(` pfs dh-group${DH_NUMBER[t.ipsec.pfs]}`);
  out.push('#');
}

function saLines(t: Tunnel, ctx: RenderContext): string[] {
  return [
    ` transform-set ${name(t)}`,
    t.ike.version === 'ikev2' ? ` ikev2-profile ${name(t)}` : ` ike-profile ${name(t)}`,
    ` sa duration time-based ${ctx.lifetime(t.ipsec.lifetime, 180, 604800, ctx.ipsecParam(t, 'IpsecLifetime'), DEVICE)}`,
  ];
}

function bgp(site: Site, ctx: RenderContext, out: string[]): void {
  const list = site.tunnels.filter((t) => t.bgp);
  const asn = list[0]!.bgp!.localAsn;
  out.push(`bgp ${asn}`);
  for (const t of list) {
    const b = t.bgp!;
    if (b.localAsn !== asn) ctx.unsupported(ctx.bgpParam(t, 'PeerAsn'), `one ${DEVICE} BGP instance has one ASN; the tunnels name ${asn} and ${b.localAsn}`);
    out.push(` peer ${b.remoteIp} as-number ${b.remoteAsn}`);
    const key = ctx.bgpKey(t);
    if (key !== undefined) out.push(` peer ${b.remoteIp} password simple ${cliString(ctx, b.authKey ?? '', ctx.bgpParam(t, 'AuthKey'), 'BGP password', key)}`);
  }
  out.push(' address-family ipv4 unicast');
  const nets = ctx.bgpNetworks();
  if (!nets.examples) {
    for (const net of nets.cidrs) {
      const c = cidrParts(net);
      out.push(`  network ${c.address} ${c.prefix}`);
    }
  }
  for (const t of list) out.push(`  peer ${t.bgp!.remoteIp} enable`);
  out.push('#');
  if (nets.examples) {
    // Outside the view: a comment line inside it would end the view when pasted.
    out.push(`# announce the branch networks under bgp ${asn} / address-family ipv4 unicast, for example:`);
    for (const net of nets.cidrs) {
      const c = cidrParts(net);
      out.push(`#  network ${c.address} ${c.prefix}`);
    }
  }
}

export const h3cComware: Vendor = {
  type: 'h3c-comware',
  name: 'H3C Comware 7 (IPsec policy for protected flows, IPsec tunnel interfaces for destination routing, dual tunnel and BGP)',
  files: 'h3c-comware.txt (configuration commands)',
  defaultWan: 'GigabitEthernet1/0/1',
  render(site, ctx) {
    commonChecks(ctx);
    const policy = site.routing === 'protected' && !site.tunnels.some((t) => t.bgp);
    if (policy && site.dual) {
      ctx.unsupported('LocalSubnet', `${DEVICE}: a dual-tunnel connection with protected data flows cannot be expressed (an IPsec policy entry has one peer, and IPsec tunnel interfaces negotiate 0.0.0.0/0): use destination routing`);
    }
    const out = header(site, DEVICE, '#', [
      'Load: `system-view` and paste (lines starting with # are separators), then `save force`.',
      `Outside interface: ${ctx.wan} (replace if yours differs).`,
    ]);
    out.push('#');
    for (const t of site.tunnels) ike(t, ctx, out);
    const t1 = site.tunnels[0] as Tunnel;
    if (policy) {
      out.push('acl advanced 3101');
      flowPairs(site).forEach(([l, r], i) => {
        const a = cidrParts(l);
        const b = cidrParts(r);
        out.push(` rule ${(i + 1) * 5} permit ip source ${a.address} ${a.wildcard} destination ${b.address} ${b.wildcard}`);
      });
      out.push('#');
      out.push('ipsec policy aliyun 10 isakmp');
      out.push(' security acl 3101');
      out.push(` local-address ${t1.localAddress}`);
      out.push(` remote-address ${t1.remoteAddress}`);
      out.push(...saLines(t1, ctx));
      out.push('#');
      out.push(`interface ${ctx.wan}`);
      out.push(' ipsec apply policy aliyun');
      out.push('#');
      for (const r of site.remoteSubnets) {
        const c = cidrParts(r);
        out.push(`ip route-static ${c.address} ${c.prefix} ${t1.remoteAddress}`);
      }
    } else {
      for (const t of site.tunnels) {
        out.push(`ipsec profile ${name(t)} isakmp`);
        out.push(...saLines(t, ctx));
        out.push('#');
        out.push(`interface Tunnel${t.index} mode ipsec`);
        out.push(` description Alibaba Cloud ${site.connectionId} tunnel ${t.index}${t.role ? ` ${t.role}` : ''}`);
        if (t.bgp) out.push(` ip address ${t.bgp.localIp} ${cidrParts(t.bgp.tunnelCidr).prefix}`);
        else out.push(` ip address unnumbered interface ${ctx.wan}`);
        out.push(` source ${t.localAddress}`);
        out.push(` destination ${t.remoteAddress}`);
        out.push(` tunnel protection ipsec profile ${name(t)}`);
        out.push('#');
      }
      if (site.tunnels.some((t) => t.bgp)) bgp(site, ctx, out);
      else {
        const routes = ctx.staticRoutes();
        if (routes.examples) out.push('# static routes: name the VPC CIDRs to send into the tunnel, for example');
        for (const r of routes.cidrs) {
          const c = cidrParts(r);
          for (const t of site.tunnels) out.push(`${routes.examples ? '# ' : ''}ip route-static ${c.address} ${c.prefix} Tunnel${t.index}${t.index === 2 ? ' preference 70' : ''}`);
        }
      }
    }
    out.push('return');
    return [{ name: 'h3c-comware.txt', text: out.join('\n') + '\n' }];
  },
};
