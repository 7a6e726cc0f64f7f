// Cisco IOS / IOS-XE: IKEv1 or IKEv2 with a crypto map for protected data flows, a static VTI (tunnel interface) for
// destination routing, dual tunnel and BGP. Guides: AlibabaCloudDocs/vpn "Load the IPsec-VPN configuration to a Cisco
// firewall device.md" (IKEv1 crypto map, IKEv2 keyring/profile); Cisco IOS Security Configuration Guide (FlexVPN and
// IKEv2, IPsec Virtual Tunnel Interfaces).
import { cidrParts } from '../net.js';
import { commonChecks, DH_NUMBER, flowPairs, header, type RenderContext, type Vendor } from '../kit.js';
import type { AuthAlg, EncAlg, Site, Tunnel } from '../types.js';

const DEVICE = 'Cisco IOS';

const ISAKMP_ENC: Readonly<Record<EncAlg, string>> = { aes: 'aes', aes192: 'aes 192', aes256: 'aes 256', des: 'des', '3des': '3des' };
const ISAKMP_HASH: Readonly<Record<AuthAlg, string>> = { md5: 'md5', sha1: 'sha', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };
const IKEV2_ENC: Readonly<Record<EncAlg, string>> = { aes: 'aes-cbc-128', aes192: 'aes-cbc-192', aes256: 'aes-cbc-256', des: 'des', '3des': '3des' };
const IKEV2_INTEG: Readonly<Record<AuthAlg, string>> = { md5: 'md5', sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };
const ESP_ENC: Readonly<Record<EncAlg, string>> = { aes: 'esp-aes', aes192: 'esp-aes 192', aes256: 'esp-aes 256', des: 'esp-des', '3des': 'esp-3des' };
const ESP_AUTH: Readonly<Record<AuthAlg, string>> = {
  md5: 'esp-md5-hmac',
  sha1: 'esp-sha-hmac',
  sha256: 'esp-sha256-hmac',
  sha384: 'esp-sha384-hmac',
  sha512: 'esp-sha512-hmac',
};

/** Names that do not clash with the router's own objects. */
const n = (kind: string, t: Tunnel | 1 | 2) => `ALIYUN-${kind}${typeof t === 'number' ? t : t.index}`;

function psk(ctx: RenderContext, t: Tunnel, lines: string[]): string {
  const key = ctx.psk(t);
  // At the interactive CLI `?` lists help; a file copied into running-config takes it as is.
  if (t.psk.includes('?') && !ctx.options.redactPsk) lines.push('! the pre-shared key holds "?": paste with Ctrl-V before each "?", or copy this file to running-config');
  return key;
}

function ikeV1(_site: Site, t: Tunnel, ctx: RenderContext, out: string[]): void {
  const lt = ctx.lifetime(t.ike.lifetime, 60, 86400, ctx.ikeParam(t, 'IkeLifetime'), DEVICE);
  out.push(`crypto isakmp policy ${t.index * 10}`);
  out.push(` encryption ${ISAKMP_ENC[t.ike.encryption]}`);
  out.push(` hash ${ISAKMP_HASH[t.ike.integrity]}`);
  out.push(' authentication pre-share');
  out.push(` group ${DH_NUMBER[t.ike.dhGroup]}`);
  out.push(` lifetime ${lt}`);
  out.push('!');
  if (t.ike.localId.kind === 'fqdn') {
    ctx.unsupported(ctx.ikeParam(t, 'RemoteId'), `${DEVICE} IKEv1 sends the router's own hostname as its FQDN identity, not ${t.ike.localId.value}: use IKEv2 or an IP identity`);
  } else if (t.ike.localId.value !== t.localAddress) {
    ctx.unsupported(ctx.ikeParam(t, 'RemoteId'), `${DEVICE} IKEv1 sends its interface address ${t.localAddress} as identity, not ${t.ike.localId.value}`);
  }
  out.push(`crypto keyring ${n('KEYRING', t)}`);
  const key = psk(ctx, t, out);
  out.push(` pre-shared-key address ${t.remoteAddress} key ${key}`);
  out.push('!');
  out.push(`crypto isakmp profile ${n('ISAKMP', t)}`);
  out.push(` keyring ${n('KEYRING', t)}`);
  out.push(' self-identity address');
  out.push(t.ike.remoteId.kind === 'fqdn' ? ` match identity host ${t.ike.remoteId.value}` : ` match identity address ${t.ike.remoteId.value} 255.255.255.255`);
  if (t.ike.mode === 'aggressive') out.push(' initiate mode aggressive');
  if (t.dpd) out.push(' keepalive 10 retry 3');
  out.push('!');
}

function ikeV2(_site: Site, t: Tunnel, ctx: RenderContext, out: string[]): void {
  const lt = ctx.lifetime(t.ike.lifetime, 120, 86400, ctx.ikeParam(t, 'IkeLifetime'), DEVICE);
  out.push(`crypto ikev2 proposal ${n('PROPOSAL', t)}`);
  out.push(` encryption ${IKEV2_ENC[t.ike.encryption]}`);
  out.push(` integrity ${IKEV2_INTEG[t.ike.integrity]}`);
  out.push(` group ${DH_NUMBER[t.ike.dhGroup]}`);
  out.push('!');
  out.push(`crypto ikev2 policy ${n('POLICY', t)}`);
  out.push(` match address local ${t.localAddress}`);
  out.push(` proposal ${n('PROPOSAL', t)}`);
  out.push('!');
  out.push(`crypto ikev2 keyring ${n('KEYRING', t)}`);
  out.push(` peer ${n('PEER', t)}`);
  out.push(`  address ${t.remoteAddress}`);
  const key = psk(ctx, t, out);
  out.push(`  pre-shared-key 0 ${key}`);
  out.push('!');
  out.push(`crypto ikev2 profile ${n('PROFILE', t)}`);
  out.push(t.ike.remoteId.kind === 'fqdn' ? ` match identity remote fqdn ${t.ike.remoteId.value}` : ` match identity remote address ${t.ike.remoteId.value} 255.255.255.255`);
  out.push(t.ike.localId.kind === 'fqdn' ? ` identity local fqdn ${t.ike.localId.value}` : ` identity local address ${t.ike.localId.value}`);
  out.push(' authentication remote pre-share');
  out.push(' authentication local pre-share');
  out.push(` keyring local ${n('KEYRING', t)}`);
  out.push(` lifetime ${lt}`);
  if (t.dpd) out.push(' dpd 10 3 periodic');
  out.push('!');
}

function transformSet(t: Tunnel, out: string[]): void {
  out.push(`crypto ipsec transform-set ${n('TS', t)} ${ESP_ENC[t.ipsec.encryption]} ${ESP_AUTH[t.ipsec.integrity]}`);
  out.push(' mode tunnel');
  out.push('!');
}

function saLines(t: Tunnel, ctx: RenderContext): string[] {
  const lt = ctx.lifetime(t.ipsec.lifetime, 120, 2592000, ctx.ipsecParam(t, 'IpsecLifetime'), DEVICE);
  return [
    ...(t.ipsec.pfs === 'disabled' ? [] : [` set pfs group${DH_NUMBER[t.ipsec.pfs]}`]),
    ` set security-association lifetime seconds ${lt}`,
    t.ike.version === 'ikev2' ? ` set ikev2-profile ${n('PROFILE', t)}` : ` set isakmp-profile ${n('ISAKMP', t)}`,
  ];
}

function cryptoMap(site: Site, ctx: RenderContext, out: string[]): void {
  const first = site.tunnels[0] as Tunnel;
  out.push('ip access-list extended ALIYUN-FLOWS');
  for (const [l, r] of flowPairs(site)) {
    const a = cidrParts(l);
    const b = cidrParts(r);
    out.push(` permit ip ${a.address} ${a.wildcard} ${b.address} ${b.wildcard}`);
  }
  out.push('!');
  out.push('crypto map ALIYUN-MAP 10 ipsec-isakmp');
  out.push(` description Alibaba Cloud ${site.connectionId}`);
  out.push(` set peer ${first.remoteAddress}`);
  out.push(` set transform-set ${n('TS', first)}`);
  out.push(...saLines(first, ctx));
  out.push(' match address ALIYUN-FLOWS');
  out.push('!');
  out.push(`interface ${ctx.wan}`);
  out.push(' crypto map ALIYUN-MAP');
  out.push('!');
  // As the Alibaba guide does: VPC-bound traffic leaves by the outside interface, where the crypto map applies.
  for (const r of site.remoteSubnets) {
    const c = cidrParts(r);
    out.push(`ip route ${c.address} ${c.mask} ${first.remoteAddress}`);
  }
}

function tunnels(site: Site, ctx: RenderContext, out: string[]): void {
  for (const t of site.tunnels) {
    out.push(`crypto ipsec profile ${n('IPSEC', t)}`);
    out.push(` set transform-set ${n('TS', t)}`);
    out.push(...saLines(t, ctx));
    out.push('!');
    out.push(`interface Tunnel${t.index}`);
    out.push(` description Alibaba Cloud ${site.connectionId} tunnel ${t.index}${t.role ? ` (${t.role})` : ''}`);
    if (t.bgp) {
      const c = cidrParts(t.bgp.tunnelCidr);
      out.push(` ip address ${t.bgp.localIp} ${c.mask}`);
    } else out.push(` ip unnumbered ${ctx.wan}`);
    out.push(` tunnel source ${t.localAddress}`);
    out.push(' tunnel mode ipsec ipv4');
    out.push(` tunnel destination ${t.remoteAddress}`);
    out.push(` tunnel protection ipsec profile ${n('IPSEC', t)}`);
    out.push('!');
  }
  if (site.tunnels.some((t) => t.bgp)) bgp(site, ctx, out);
  else {
    const routes = ctx.staticRoutes();
    if (routes.examples) out.push('! static routes: name the VPC CIDRs to send into the tunnel, for example');
    for (const r of routes.cidrs) {
      const c = cidrParts(r);
      // The master tunnel is preferred; the slave's route (distance 10) takes over when tunnel 1 is down.
      for (const t of site.tunnels) out.push(`${routes.examples ? '! ' : ''}ip route ${c.address} ${c.mask} Tunnel${t.index}${t.index === 2 ? ' 10' : ''}`);
    }
  }
}

function bgp(site: Site, ctx: RenderContext, out: string[]): void {
  const list = site.tunnels.filter((t) => t.bgp);
  const asn = list[0]!.bgp!.localAsn;
  out.push(`router bgp ${asn}`);
  out.push(' bgp log-neighbor-changes');
  for (const t of list) {
    const b = t.bgp!;
    if (b.localAsn !== asn) ctx.unsupported(ctx.bgpParam(t, 'PeerAsn'), `one ${DEVICE} BGP process has one ASN; the tunnels name ${asn} and ${b.localAsn}`);
    out.push(` neighbor ${b.remoteIp} remote-as ${b.remoteAsn}`);
    const key = ctx.bgpKey(t);
    if (key !== undefined) {
      const real = b.authKey ?? '';
      if (real.length > 25 || /^\d/.test(real)) ctx.unsupported(ctx.bgpParam(t, 'AuthKey'), `${DEVICE} takes a BGP password of at most 25 characters not starting with a digit`);
      out.push(` neighbor ${b.remoteIp} password ${key}`);
    }
  }
  out.push(' address-family ipv4');
  const nets = ctx.bgpNetworks();
  if (nets.examples) out.push('  ! announce the branch networks, for example:');
  for (const net of nets.cidrs) {
    const c = cidrParts(net);
    out.push(`  ${nets.examples ? '! ' : ''}network ${c.address} mask ${c.mask}`);
  }
  for (const t of list) out.push(`  neighbor ${t.bgp!.remoteIp} activate`);
  out.push(' exit-address-family');
  out.push('!');
}

export const ciscoIos: Vendor = {
  type: 'cisco-ios',
  name: 'Cisco IOS / IOS-XE (crypto map for protected flows, tunnel interfaces for destination routing, dual tunnel and BGP)',
  files: 'cisco-ios.txt (configuration commands)',
  defaultWan: 'GigabitEthernet0/0',
  render(site, ctx) {
    commonChecks(ctx);
    const policy = site.routing === 'protected' && !site.tunnels.some((t) => t.bgp);
    if (policy && site.dual) {
      ctx.unsupported(
        'LocalSubnet',
        `${DEVICE}: a dual-tunnel connection with protected data flows needs both tunnels to carry the same selectors; a crypto map entry has one proposal and IOS tunnel interfaces negotiate 0.0.0.0/0 (use destination routing, LocalSubnet and RemoteSubnet 0.0.0.0/0)`,
      );
    }
    const out = header(site, DEVICE, '!', [
      'Load: `configure terminal` and paste, or `copy tftp: running-config`; then `write memory`.',
      `Outside interface: ${ctx.wan} (replace if yours differs).`,
    ]);
    out.push('!');
    for (const t of site.tunnels) {
      if (t.ike.version === 'ikev1') ikeV1(site, t, ctx, out);
      else ikeV2(site, t, ctx, out);
      if (!t.natTraversal) out.push('! NAT traversal is off on the VPN gateway (global: affects every IPsec peer of this router)', 'no crypto ipsec nat-transparency udp-encapsulation', '!');
      transformSet(t, out);
    }
    if (policy) cryptoMap(site, ctx, out);
    else tunnels(site, ctx, out);
    out.push('end');
    return [{ name: 'cisco-ios.txt', text: out.join('\n') + '\n' }];
  },
};
