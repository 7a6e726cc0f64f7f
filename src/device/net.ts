// IPv4 addresses, CIDRs and ASNs as device syntaxes need them (masks, wildcards, asplain); pure.

/** The 32-bit value of a dotted-quad IPv4 address, or undefined. No leading zeros (they mean octal to some parsers). */
export function parseIpv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let v = 0;
  for (const part of m.slice(1)) {
    if (part.length > 1 && part.startsWith('0')) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v;
}

export function formatIpv4(v: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.');
}

export interface Cidr {
  /** Network address (host bits cleared). */
  network: number;
  prefix: number;
}

/** `a.b.c.d/n` or a bare address (a /32, as the API accepts in LocalSubnet); `hostBits` tells whether any were set. */
export function parseCidr(s: string): (Cidr & { hostBits: boolean }) | undefined {
  const [addr, len, extra] = s.split('/');
  if (extra !== undefined || addr === undefined) return undefined;
  const ip = parseIpv4(addr);
  if (ip === undefined) return undefined;
  let prefix = 32;
  if (len !== undefined) {
    if (!/^\d{1,2}$/.test(len) || (len.length > 1 && len.startsWith('0'))) return undefined;
    prefix = Number(len);
    if (prefix > 32) return undefined;
  }
  const network = prefix === 0 ? 0 : ip - (ip % 2 ** (32 - prefix));
  return { network, prefix, hostBits: network !== ip };
}

export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.network)}/${c.prefix}`;
}

/** `255.255.255.0` for /24. */
export function netmask(prefix: number): string {
  return formatIpv4(prefix === 0 ? 0 : 2 ** 32 - 2 ** (32 - prefix));
}

/** `0.0.0.255` for /24 (Cisco, Huawei and H3C ACLs). */
export function wildcard(prefix: number): string {
  return formatIpv4(2 ** (32 - prefix) - 1);
}

/** The network and mask of a CIDR string known to be valid (the site model holds only normalised CIDRs). */
export function cidrParts(s: string): { address: string; prefix: number; mask: string; wildcard: string } {
  const c = parseCidr(s);
  if (!c) throw new Error(`not a CIDR: ${s}`);
  return { address: formatIpv4(c.network), prefix: c.prefix, mask: netmask(c.prefix), wildcard: wildcard(c.prefix) };
}

export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr);
  const v = parseIpv4(ip);
  if (!c || v === undefined) return false;
  return v - (c.prefix === 0 ? v : v % 2 ** (32 - c.prefix)) === c.network;
}

export const ANY = '0.0.0.0/0';

/** An ASN in asplain (`65000`) or asdot (`1.10` = 65546) as the API writes LocalAsn; undefined when invalid. */
export function parseAsn(v: unknown): number | undefined {
  const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
  let m = /^(\d{1,10})$/.exec(s);
  if (m) {
    const n = Number(m[1]);
    return n >= 1 && n <= 4294967295 ? n : undefined;
  }
  m = /^(\d{1,5})\.(\d{1,5})$/.exec(s);
  if (m) {
    const hi = Number(m[1]);
    const lo = Number(m[2]);
    if (hi > 65535 || lo > 65535) return undefined;
    const n = hi * 65536 + lo;
    return n >= 1 ? n : undefined;
  }
  return undefined;
}
