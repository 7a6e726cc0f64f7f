// Which proxy a URL goes through: --proxy, HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and NO_PROXY (either case), as curl reads them.
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';

export interface ProxySettings {
  /** `--proxy`: every URL (NO_PROXY still applies, as with curl's -x). */
  explicit?: URL;
  https?: URL;
  http?: URL;
  /** NO_PROXY entries, lower case. */
  noProxy: string[];
}

export const NO_PROXY_SETTINGS: ProxySettings = { noProxy: [] };

/** Lower case first, as curl and wget read them; the upper-case spelling is honoured too. */
function envVar(env: Record<string, string | undefined>, name: string): { name: string; value: string } | undefined {
  for (const n of [name.toLowerCase(), name.toUpperCase()]) {
    const v = env[n];
    if (v !== undefined && v.trim() !== '') return { name: n, value: v.trim() };
  }
  return undefined;
}

/** A proxy URL as curl takes it (no scheme means http://); only plain HTTP proxies: CONNECT tunnels TLS to the API. */
export function parseProxyUrl(value: string, source: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new UsageError(`${source} is not a proxy URL (http://[user:password@]host:port)`);
  }
  if (u.protocol !== 'http:') {
    throw new UsageError(`${source}: only http:// proxies are supported (the TLS to Alibaba Cloud is tunnelled through CONNECT); got ${u.protocol}//`);
  }
  if (u.hostname === '') throw new UsageError(`${source} names no proxy host`);
  return u;
}

export function proxySettings(env: Record<string, string | undefined>, flag?: string): ProxySettings {
  const read = (name: string): URL | undefined => {
    const v = envVar(env, name);
    return v === undefined ? undefined : parseProxyUrl(v.value, v.name);
  };
  const all = read('all_proxy');
  return {
    explicit: flag !== undefined ? parseProxyUrl(flag, '--proxy') : undefined,
    https: read('https_proxy') ?? all,
    http: read('http_proxy') ?? all,
    noProxy: (envVar(env, 'no_proxy')?.value ?? '')
      .split(/[,\s]+/)
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  };
}

function ipv4(s: string): number | undefined {
  if (isIP(s) !== 4) return undefined;
  return s.split('.').reduce((n, p) => n * 256 + Number(p), 0);
}

function ipv6Bits(s: string): bigint | undefined {
  if (isIP(s) !== 6) return undefined;
  const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const expand = (parts: string[]): string[] =>
    parts.flatMap((p) => {
      const v4 = ipv4(p);
      return v4 === undefined ? [p] : [(v4 >>> 16).toString(16), (v4 & 0xffff).toString(16)];
    });
  const hh = expand(h);
  const tt = expand(t);
  const groups = tail === undefined ? hh : [...hh, ...Array(8 - hh.length - tt.length).fill('0'), ...tt];
  return groups.reduce((n, g) => (n << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
}

/** One NO_PROXY entry against a host (and port): `*`, a name and its subdomains, `.suffix`, an IP or a CIDR. */
function bypassedBy(entry: string, host: string, port: number): boolean {
  if (entry === '*') return true;
  let e = entry;
  const portMatch = /^(.*[^:]):(\d+)$/.exec(e);
  if (portMatch && !e.startsWith('[') && isIP(e) !== 6) {
    if (Number(portMatch[2]) !== port) return false;
    e = portMatch[1]!;
  } else if (/^\[.*\]:(\d+)$/.test(e)) {
    const [, inner, p] = /^\[(.*)\]:(\d+)$/.exec(e)!;
    if (Number(p) !== port) return false;
    e = inner!;
  }
  e = e.replace(/^\[|\]$/g, '');
  const slash = e.indexOf('/');
  if (slash > 0) {
    const base = e.slice(0, slash);
    const bits = Number(e.slice(slash + 1));
    const h4 = ipv4(host);
    const b4 = ipv4(base);
    if (h4 !== undefined && b4 !== undefined && bits >= 0 && bits <= 32) {
      const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
      return ((h4 & mask) >>> 0) === ((b4 & mask) >>> 0);
    }
    const h6 = ipv6Bits(host);
    const b6 = ipv6Bits(base);
    if (h6 !== undefined && b6 !== undefined && bits >= 0 && bits <= 128) {
      const shift = BigInt(128 - bits);
      return h6 >> shift === b6 >> shift;
    }
    return false;
  }
  if (isIP(e) !== 0) {
    const a6 = ipv6Bits(e);
    const h6 = ipv6Bits(host);
    return a6 !== undefined && h6 !== undefined ? a6 === h6 : e === host;
  }
  const name = e.replace(/^\*?\./, '');
  return host === name || host.endsWith(`.${name}`);
}

/**
 * The proxy for `url`, or undefined for a direct connection. Loopback is not special: it is proxied unless NO_PROXY
 * names it, as curl does (a proxy in front of a local test endpoint must be testable).
 */
export function proxyFor(url: string, s: ProxySettings): URL | undefined {
  const u = new URL(url);
  const proxy = s.explicit ?? (u.protocol === 'https:' ? s.https : s.http);
  if (!proxy) return undefined;
  const host = u.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  return s.noProxy.some((e) => bypassedBy(e, host, port)) ? undefined : proxy;
}

/** How messages name a proxy: scheme, user, host and port; a password shows as `***`. */
export function proxyLabel(u: URL): string {
  const user = u.username !== '' ? `${decodeURIComponent(u.username)}${u.password !== '' ? ':***' : ''}@` : '';
  return `${u.protocol}//${user}${u.host}`;
}

/** The proxy passwords, raw and as written in the URL, for the redactor. */
export function proxySecrets(s: ProxySettings): string[] {
  const out = new Set<string>();
  for (const u of [s.explicit, s.https, s.http]) {
    if (!u || u.password === '') continue;
    out.add(u.password);
    try {
      out.add(decodeURIComponent(u.password));
    } catch {
      // a malformed escape stays as written
    }
  }
  return [...out];
}
