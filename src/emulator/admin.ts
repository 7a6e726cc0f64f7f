// The admin API (`/__emulator/*`): a bearer token, the emulator's own Host and Origin only, JSON bodies only.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { EmulatorStateDump, AccountFlags } from './store.js';
import { FixtureError, checkVpnGatewaySpec, type VpnGatewaySpec } from './vpn-fixtures.js';
import { NEGOTIATION_STATUSES, type NegotiationStatus } from './vpn-model.js';

/** What the admin API can reach in the server. */
export interface AdminTarget {
  state(): EmulatorStateDump;
  stats(): unknown;
  /** Shape-checks and applies a settings patch (throws on an unknown or mistyped setting). */
  configureJson(input: Record<string, unknown>): void;
  setAccountFlags(accountId: string, flags: Partial<AccountFlags>): AccountFlags;
  forgetTokens(): void;
  resetStats(): void;
  addVpnGateway(spec: VpnGatewaySpec): unknown;
  setConnectionStatus(vpnConnectionId: string, status: NegotiationStatus | null, tunnelId?: string): void;
  /** `--ipsec`: the responders' namespace, peers (no PSKs), SAs and statuses; undefined without it. */
  ipsecView(): unknown;
  readBody(req: IncomingMessage): Promise<{ body: Buffer; tooLarge: boolean }>;
  send(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: string): void;
}

export interface AdminGuard {
  token: string;
  /** The address the server listens on (a name given with --host is accepted in Host too). */
  listenHost: string;
  port: () => number;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Host must name this server with its port: the listening address, or a loopback name (`localhost`, 127.x, [::1]);
 * on a wildcard address (0.0.0.0, ::) any IP literal. A DNS-rebinding page can only send a name of its own.
 */
export function hostAllowed(hostHeader: string | undefined, listenHost: string, port: number): boolean {
  if (hostHeader === undefined) return false;
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(hostHeader.trim());
  if (!m) return false;
  if ((m[2] === undefined ? 80 : Number(m[2])) !== port) return false;
  const raw = (m[1] ?? '').toLowerCase();
  const name = raw.startsWith('[') ? raw.slice(1, -1) : raw;
  if (name === 'localhost' || name === '::1' || (isIP(name) === 4 && name.startsWith('127.'))) return true;
  const listen = listenHost.toLowerCase().replace(/^\[|\]$/g, '');
  if (name === listen) return true;
  return (listen === '0.0.0.0' || listen === '::') && isIP(name) !== 0;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function tokenMatches(req: IncomingMessage, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header(req, 'authorization') ?? '');
  // Digests have one length, so the comparison's time says nothing about the token.
  return m !== null && timingSafeEqual(digest(m[1] ?? ''), digest(token));
}

/** Why a request may not use the admin API, or undefined; checked before the body is read. */
function refusal(req: IncomingMessage, g: AdminGuard): { status: number; error: string } | undefined {
  const host = header(req, 'host');
  if (!hostAllowed(host, g.listenHost, g.port())) return { status: 403, error: 'the Host header does not name this emulator' };
  const origin = header(req, 'origin');
  if (origin !== undefined && origin.toLowerCase() !== `http://${(host ?? '').toLowerCase()}`)
    return { status: 403, error: 'cross-site requests are refused' };
  const site = header(req, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return { status: 403, error: 'cross-site requests are refused' };
  if (!tokenMatches(req, g.token)) return { status: 401, error: 'the admin API needs Authorization: Bearer <admin token>' };
  if (req.method !== 'GET' && req.method !== 'POST') return { status: 405, error: 'GET or POST only' };
  if (req.method === 'POST' && !/^application\/json\s*(;.*)?$/i.test(header(req, 'content-type') ?? ''))
    return { status: 415, error: 'POST bodies must be Content-Type: application/json' };
  return undefined;
}

function asStatus(v: unknown): NegotiationStatus | null {
  if (v === null) return null;
  if (typeof v === 'string' && (NEGOTIATION_STATUSES as readonly string[]).includes(v)) return v as NegotiationStatus;
  throw new FixtureError(`Status must be null or one of ${NEGOTIATION_STATUSES.join(', ')}`);
}

export async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string, t: AdminTarget, g: AdminGuard): Promise<void> {
  const json = (status: number, v: unknown, extra: Record<string, string> = {}) =>
    t.send(req, res, status, { 'content-type': 'application/json;charset=utf-8', 'cache-control': 'no-store', ...extra }, JSON.stringify(v));
  const refused = refusal(req, g);
  if (refused) {
    // The body is not read: close the connection rather than leave it half-consumed.
    const extra: Record<string, string> = { connection: 'close' };
    if (refused.status === 401) extra['www-authenticate'] = 'Bearer realm="cgw-batch emulator"';
    return json(refused.status, { error: refused.error }, extra);
  }
  const { body, tooLarge } = await t.readBody(req);
  if (tooLarge) return json(413, { error: 'body too large' });
  let input: Record<string, unknown> = {};
  if (req.method === 'POST' && body.length > 0) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return json(400, { error: 'body is not JSON' });
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return json(400, { error: 'body must be a JSON object' });
    input = parsed as Record<string, unknown>;
  }
  try {
    if (req.method === 'GET' && path === '/__emulator/state') return json(200, t.state());
    if (req.method === 'GET' && path === '/__emulator/stats') return json(200, t.stats());
    if (req.method === 'GET' && path === '/__emulator/ipsec') {
      const view = t.ipsecView();
      return view === undefined ? json(404, { error: 'the emulator runs without --ipsec' }) : json(200, view);
    }
    if (req.method === 'POST') {
      if (path === '/__emulator/config') {
        t.configureJson(input);
        return json(200, { ok: true });
      }
      const account = /^\/__emulator\/accounts\/([A-Za-z0-9_.-]{1,64})$/.exec(path);
      if (account) return json(200, { ok: true, flags: t.setAccountFlags(account[1] ?? '', input as Partial<AccountFlags>) });
      if (path === '/__emulator/vpn-gateways') return json(200, { ok: true, vpnGateway: t.addVpnGateway(checkVpnGatewaySpec(input)) });
      const vco = /^\/__emulator\/vpn-connections\/(vco-[a-z0-9]{1,40})$/.exec(path);
      if (vco) {
        for (const k of Object.keys(input)) if (k !== 'Status' && k !== 'TunnelId') throw new FixtureError('only Status and TunnelId can be set');
        if (!('Status' in input)) throw new FixtureError('Status is required (null clears it)');
        if (input.TunnelId !== undefined && typeof input.TunnelId !== 'string') throw new FixtureError('TunnelId must be a string');
        t.setConnectionStatus(vco[1] ?? '', asStatus(input.Status), input.TunnelId as string | undefined);
        return json(200, { ok: true });
      }
      if (path === '/__emulator/forget-tokens') {
        t.forgetTokens();
        return json(200, { ok: true });
      }
      if (path === '/__emulator/reset-stats') {
        t.resetStats();
        return json(200, { ok: true });
      }
    }
    return json(404, { error: 'unknown admin endpoint' });
  } catch (e) {
    const notFound = e instanceof NotFoundError;
    return json(notFound ? 404 : 400, { error: e instanceof Error ? e.message : 'bad request' });
  }
}

/** An admin call named a connection or tunnel that does not exist. */
export class NotFoundError extends Error {}
