// HTTP layer: reads and decodes the request, then auth -> rate limit -> faults -> region/flags -> action; admin API in admin.ts.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ActionSettings, NegotiationSource } from './action-kit.js';
import { ACTIONS, MUTATIONS } from './actions.js';
import { handleAdmin, NotFoundError } from './admin.js';
import { ApiError, err, missing } from './api-error.js';
import { authenticate, NonceCache, type AuthAccount } from './auth.js';
import { FAULT_KINDS, pickFault, RandomStreams, type FaultConfig, type FaultKind } from './faults.js';
import { DEFAULT_RATES, RateLimiter } from './ratelimit.js';
import { isKnownRegion } from './regions.js';
import { NO_FLAGS, Store, type AccountFlags, type EmulatorStateDump } from './store.js';
import { sandboxGatewaySpecs, upsertVpnGateway, type VpnGatewaySpec } from './vpn-fixtures.js';
import { NEGOTIATION_STATUSES, type NegotiationStatus, type VpnGatewayRecord } from './vpn-model.js';
import { ANONYMOUS_STS_ACTIONS, callerIdentity, STS_ACTION, STS_ACTIONS, STS_VERSION, StsService, type StsOptions } from './sts.js';
import { errorBody, newRequestId, parseForm, toXml } from './wire.js';

export const API_VERSION = '2016-04-28';
export const MAX_BODY_BYTES = 1024 * 1024;
/** Beyond this we stop draining an oversized body and drop the connection. */
const MAX_DRAIN_BYTES = 16 * 1024 * 1024;

export interface EmulatorConfig {
  host: string;
  port: number;
  accounts: AuthAccount[];
  dataFile?: string;
  rates: Record<string, number>;
  rateLimits: boolean;
  retryAfterHeader: boolean;
  faults: FaultConfig;
  faultActions?: string[];
  latency?: { minMs: number; maxMs: number };
  seed?: number;
  quota: number;
  tokenRetentionMs: number;
  duplicateIpCheckBeforeToken: boolean;
  vpnTaskMs: number;
  vpnConnectionQuota: number;
  /** VPN gateway fixtures added at start (after the sandbox's, if any). */
  vpnGateways: VpnGatewaySpec[];
  /** One VPN gateway per region, for `--sandbox`. */
  sandbox: boolean;
  negotiation?: NegotiationSource;
  adminToken: string;
  clock: () => number;
  log?: (line: string) => void;
  sts?: StsOptions;
}

export type ConfigPatch = Partial<
  Pick<
    EmulatorConfig,
    | 'faults'
    | 'faultActions'
    | 'latency'
    | 'rates'
    | 'rateLimits'
    | 'retryAfterHeader'
    | 'quota'
    | 'tokenRetentionMs'
    | 'duplicateIpCheckBeforeToken'
    | 'vpnTaskMs'
    | 'vpnConnectionQuota'
  >
>;

export interface EmulatorStats {
  total: number;
  /** action -> outcome (`ok`, an error Code, or `fault:<kind>`) -> count. */
  actions: Record<string, Record<string, number>>;
  /** Host header -> `<Action> <RegionId or ->` -> count: which endpoint each request named. */
  hosts: Record<string, Record<string, number>>;
}

interface Outcome {
  action: string;
  accountId?: string;
  regionId?: string;
  outcome: string;
  status: number;
  host?: string;
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export class EmulatorServer {
  readonly store: Store;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly nonces = new NonceCache();
  private readonly limiter: RateLimiter;
  private readonly random: RandomStreams;
  private readonly byKey = new Map<string, AuthAccount>();
  private counts: EmulatorStats = { total: 0, actions: {}, hosts: {} };
  private readonly stsService: StsService;
  private closing = false;
  private lastTokenSweep = 0;
  private listeningPort = 0;
  /** `--ipsec`: what GET /__emulator/ipsec shows (set once the responder runs). */
  ipsecViewOf: (() => unknown) | undefined;
  /** Keys the state dump's fingerprints: stable for this process, useless to anyone without it. */
  private readonly fingerprintKey = randomBytes(32);

  constructor(private readonly cfg: EmulatorConfig) {
    this.store = new Store(cfg.dataFile);
    this.limiter = new RateLimiter(cfg.rates, cfg.clock);
    this.random = new RandomStreams(cfg.seed);
    this.stsService = new StsService(cfg.sts ?? {}, (id) => cfg.accounts.some((a) => a.accountId === id));
    for (const a of cfg.accounts) {
      this.byKey.set(a.accessKeyId, a);
      this.store.account(a.accountId);
    }
    const first = cfg.accounts[0]?.accountId ?? '';
    // The sandbox's gateways are added once; a data file that has them keeps them (and their state) as they are.
    if (cfg.sandbox)
      for (const spec of sandboxGatewaySpecs()) if (!this.store.findVpnGateway(spec.VpnGatewayId)) upsertVpnGateway(this.store, spec, first, cfg.clock());
    for (const spec of cfg.vpnGateways) upsertVpnGateway(this.store, spec, first, cfg.clock());
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        // Last resort: a bug in a handler must cost one request, never the process.
        if (!res.headersSent) this.send(req, res, 500, { 'content-type': 'application/json' }, JSON.stringify(errorBody(err(500, 'InternalError', 'The request processing has failed due to some unknown error, exception or failure.'), newRequestId())));
        else res.destroy();
      });
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('clientError', (_e, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.cfg.port, this.cfg.host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        const port = typeof addr === 'object' && addr ? addr.port : this.cfg.port;
        this.listeningPort = port;
        resolve({ host: this.cfg.host, port });
      });
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Hung and keep-alive sockets would hold close() open forever.
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await done;
    this.store.flush();
  }

  configure(patch: ConfigPatch): void {
    const c = this.cfg;
    if (patch.faults !== undefined) c.faults = { ...patch.faults };
    if (patch.faultActions !== undefined) c.faultActions = patch.faultActions.length ? [...patch.faultActions] : undefined;
    if (patch.latency !== undefined) c.latency = patch.latency;
    if (patch.rates !== undefined) {
      c.rates = { ...c.rates, ...patch.rates };
      this.limiter.setRates(c.rates);
    }
    if (patch.rateLimits !== undefined) c.rateLimits = patch.rateLimits;
    if (patch.retryAfterHeader !== undefined) c.retryAfterHeader = patch.retryAfterHeader;
    if (patch.quota !== undefined) c.quota = patch.quota;
    if (patch.tokenRetentionMs !== undefined) c.tokenRetentionMs = patch.tokenRetentionMs;
    if (patch.duplicateIpCheckBeforeToken !== undefined) c.duplicateIpCheckBeforeToken = patch.duplicateIpCheckBeforeToken;
    if (patch.vpnTaskMs !== undefined) c.vpnTaskMs = patch.vpnTaskMs;
    if (patch.vpnConnectionQuota !== undefined) c.vpnConnectionQuota = patch.vpnConnectionQuota;
  }

  forgetTokens(): void {
    this.store.forgetTokens();
  }

  configureJson(input: Record<string, unknown>): void {
    this.configure(checkPatch(input));
  }

  setAccountFlags(accountId: string, flags: Partial<AccountFlags>): AccountFlags {
    const a = this.store.account(accountId);
    for (const k of Object.keys(NO_FLAGS) as Array<keyof AccountFlags>) if (typeof flags[k] === 'boolean') a.flags[k] = flags[k];
    this.store.changed();
    return { ...a.flags };
  }

  /** Adds or updates a VPN gateway fixture (see vpn-fixtures.ts); throws FixtureError for a bad one. */
  addVpnGateway(spec: VpnGatewaySpec): VpnGatewayRecord {
    return structuredClone(upsertVpnGateway(this.store, spec, this.cfg.accounts[0]?.accountId ?? '', this.cfg.clock()));
  }

  /**
   * Sets (or with null clears) the negotiation status of a connection, or of one tunnel. Without a TunnelId, a
   * dual-tunnel connection's tunnels all get it. An override wins over the status source.
   */
  setConnectionStatus(vpnConnectionId: string, status: NegotiationStatus | null, tunnelId?: string): void {
    if (status !== null && !(NEGOTIATION_STATUSES as readonly string[]).includes(status)) throw new Error(`unknown negotiation status`);
    this.store.settle(this.cfg.clock());
    const found = this.store.findConnection(vpnConnectionId);
    if (!found) throw new NotFoundError(`no IPsec connection ${vpnConnectionId}`);
    const c = found.item;
    const set = (o: { StatusOverride?: NegotiationStatus }) => {
      if (status === null) delete o.StatusOverride;
      else o.StatusOverride = status;
    };
    if (tunnelId !== undefined) {
      const t = c.Tunnels?.find((x) => x.TunnelId === tunnelId);
      if (!t) throw new NotFoundError(`no such tunnel on ${vpnConnectionId}`);
      set(t);
    } else if (c.Tunnels) {
      for (const t of c.Tunnels) set(t);
    } else {
      set(c);
    }
    this.store.changed();
  }

  /** A keyed fingerprint of a secret, as the state dump shows AuthKeys and PSKs. */
  fingerprint(secret: string): string {
    return 'hmac-sha256:' + createHmac('sha256', this.fingerprintKey).update(secret).digest('hex').slice(0, 16);
  }

  ipsecView(): unknown {
    return this.ipsecViewOf?.();
  }

  get adminToken(): string {
    return this.cfg.adminToken;
  }

  state(): EmulatorStateDump {
    this.store.settle(this.cfg.clock());
    return this.store.dump((s) => this.fingerprint(s));
  }

  stats(): EmulatorStats {
    return structuredClone(this.counts);
  }

  resetStats(): void {
    this.counts = { total: 0, actions: {}, hosts: {} };
  }

  private count(o: Outcome, startedAt: number): void {
    const per = (this.counts.actions[o.action] ??= {});
    per[o.outcome] = (per[o.outcome] ?? 0) + 1;
    this.counts.total++;
    if (o.host !== undefined) {
      const byHost = (this.counts.hosts[o.host] ??= {});
      const key = `${o.action} ${o.regionId ?? '-'}`;
      byHost[key] = (byHost[key] ?? 0) + 1;
    }
    // Only names, ids and codes: never parameter values, so AuthKeys, signatures and tokens cannot reach a log.
    this.cfg.log?.(
      `${new Date(this.cfg.clock()).toISOString()} ${o.action} account=${o.accountId ?? '-'} region=${o.regionId ?? '-'} -> ${o.status} ${o.outcome} ${Date.now() - startedAt}ms`,
    );
  }

  private newGatewayId = (): string => this.newId('cgw-', 21);

  /** Ids from one seeded stream per prefix, so connections never shift the customer gateways' ids. */
  private newId = (prefix: string, length: number): string => {
    const rand = this.random.stream(prefix === 'cgw-' ? 'ids' : `ids:${prefix}`);
    for (;;) {
      let id = prefix;
      for (let i = 0; i < length; i++) id += ID_ALPHABET[Math.floor(rand() * ID_ALPHABET.length)] ?? 'a';
      if (!this.store.hasId(id)) return id;
    }
  };

  /** The service's generated PSK: 16 characters (letters and digits, so any device syntax takes it). */
  private newPsk = (): string => {
    const rand = this.random.stream('psk');
    let out = '';
    for (let i = 0; i < 16; i++) out += PSK_ALPHABET[Math.floor(rand() * PSK_ALPHABET.length)] ?? 'a';
    return out;
  };

  send(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
    if (res.destroyed || this.closing) return;
    res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
    void req;
  }

  readBody(req: IncomingMessage): Promise<{ body: Buffer; tooLarge: boolean }> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) tooLarge = true;
        if (size > MAX_DRAIN_BYTES) req.socket.destroy();
        if (!tooLarge) chunks.push(c);
      });
      req.on('end', () => resolve({ body: Buffer.concat(chunks), tooLarge }));
      req.on('error', () => resolve({ body: Buffer.alloc(0), tooLarge: true }));
      req.on('close', () => resolve({ body: Buffer.concat(chunks), tooLarge }));
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = Date.now();
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const path = qi < 0 ? url : url.slice(0, qi);
    const rawQuery = qi < 0 ? '' : url.slice(qi + 1);
    if (path.startsWith('/__emulator/'))
      return handleAdmin(req, res, path, this, { token: this.cfg.adminToken, listenHost: this.cfg.host, port: () => this.listeningPort });

    const { body, tooLarge } = await this.readBody(req);
    if (req.socket.destroyed) return;
    const requestId = newRequestId();
    let xml = /(^|&)Format=xml(&|$)/i.test(rawQuery) || /(^|&)Format=xml(&|$)/i.test(body.toString('latin1'));
    const o: Outcome = { action: '-', outcome: 'ok', status: 200, host: String(req.headers.host ?? '').toLowerCase().slice(0, 255) || undefined };
    const fail = (e: ApiError, extra: Record<string, string> = {}): void => {
      o.outcome = e.code;
      o.status = e.status;
      const b = errorBody(e, requestId);
      this.count(o, startedAt);
      if (xml) this.send(req, res, e.status, { 'content-type': 'text/xml;charset=utf-8', ...extra }, toXml('Error', b));
      else this.send(req, res, e.status, { 'content-type': 'application/json;charset=utf-8', ...extra }, JSON.stringify(b));
    };

    if (tooLarge) {
      res.setHeader('connection', 'close');
      return fail(err(413, 'InvalidParameter.BodyTooLarge', `The request body exceeds ${MAX_BODY_BYTES} bytes.`));
    }
    const query = new Map<string, string>();
    const params = new Map<string, string>();
    try {
      parseForm(rawQuery, query, 'query');
      for (const [k, v] of query) params.set(k, v);
      const ctype = String(req.headers['content-type'] ?? '').toLowerCase();
      if (body.length > 0 && (ctype === '' || ctype.startsWith('application/x-www-form-urlencoded'))) {
        let text: string;
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(body);
        } catch {
          throw err(400, 'InvalidParameter.Encoding', 'The request body is not valid UTF-8.');
        }
        parseForm(text, params, 'body');
      }
    } catch (e) {
      if (e instanceof ApiError) return fail(e);
      throw e;
    }
    xml = (params.get('Format') ?? '').toLowerCase() === 'xml';

    const header = (n: string): string | undefined => {
      const v = req.headers[n];
      return Array.isArray(v) ? v[0] : v;
    };
    const action = params.get('Action') || header('x-acs-action') || '';
    const version = params.get('Version') || header('x-acs-version') || '';
    const def = ACTIONS.get(action);
    o.action = def || STS_ACTIONS.has(action) ? action : action === '' ? '-' : '(unknown)';

    const lat = this.cfg.latency;
    if (lat && lat.maxMs > 0) {
      const r = this.random.stream('latency')();
      await new Promise((resolve) => setTimeout(resolve, lat.minMs + r * Math.max(0, lat.maxMs - lat.minMs)));
      if (this.closing || req.socket.destroyed) return;
    }

    try {
      if (action === '') throw missing('Action');
      if (version === '') throw missing('Version');
      if (STS_ACTIONS.has(action)) return this.sts(req, res, { path, query, params, body, version, o, startedAt, requestId, xml, action });
      if (version !== API_VERSION) throw err(400, 'InvalidVersion', 'Specified parameter Version is not valid.');
      if (!def) throw err(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');

      const now = this.cfg.clock();
      const account = authenticate(
        { method: req.method ?? 'GET', path, query, params, headers: req.headers, bodySha256: createHash('sha256').update(body).digest('hex') },
        (id) => this.byKey.get(id) ?? this.stsService.lookup(id, now),
        this.nonces,
        now,
      );
      o.accountId = account.accountId;
      const regionId = params.get('RegionId') ?? '';
      o.regionId = regionId || undefined;

      if (this.cfg.rateLimits) {
        const wait = this.limiter.take(account.accountId, regionId, action);
        if (wait > 0) return fail(throttled(), this.cfg.retryAfterHeader ? { 'x-acs-retry-after': String(wait) } : {});
      }

      const faultOn = !this.cfg.faultActions || this.cfg.faultActions.includes(action);
      const fault: FaultKind | undefined = faultOn ? pickFault(this.random.stream(`fault:${action}`), this.cfg.faults) : undefined;
      if (fault && !AFTER_COMMIT.has(fault)) return this.injectFault(fault, req, res, o, startedAt, fail);

      if (def.regionRequired && regionId === '') throw missing('RegionId');
      if (regionId !== '' && !isKnownRegion(regionId))
        throw err(404, 'InvalidRegionId.NotFound', 'The specified RegionId does not exist in our records.');
      for (const name of def.required) if ((params.get(name) ?? '') === '') throw missing(name);

      if (def.subUserCode) {
        const flags = this.store.account(account.accountId).flags;
        if (flags.forbidden) throw err(403, 'Forbidden', 'User not authorized to operate on the specified resource.');
        if (flags.subUser)
          throw err(
            403,
            def.subUserCode,
            def.subUserCode === 'Forbidden'
              ? 'User not authorized to operate on the specified resource.'
              : 'User not authorized to operate on the specified resource as your account is created by another user.',
          );
      }

      const settings: ActionSettings = {
        quota: this.cfg.quota,
        tokenRetentionMs: this.cfg.tokenRetentionMs,
        duplicateIpCheckBeforeToken: this.cfg.duplicateIpCheckBeforeToken,
        vpnTaskMs: this.cfg.vpnTaskMs,
        vpnConnectionQuota: this.cfg.vpnConnectionQuota,
      };
      // Tasks whose time is over are finished first: what a call sees depends on the clock alone.
      this.store.settle(now);
      const negotiation = this.cfg.negotiation;
      const result = def.run({
        accountId: account.accountId,
        regionId,
        params,
        store: this.store,
        settings,
        now,
        newGatewayId: this.newGatewayId,
        newId: this.newId,
        newPsk: this.newPsk,
        negotiation: (q) => {
          // A source that throws or answers nonsense must not cost the request its answer.
          try {
            const s = negotiation?.(q);
            return s !== undefined && (NEGOTIATION_STATUSES as readonly string[]).includes(s) ? s : undefined;
          } catch {
            return undefined;
          }
        },
      });
      if (MUTATIONS.has(action) && now - this.lastTokenSweep > 60_000) {
        // Expired tokens are ignored on lookup anyway; sweeping keeps memory and the data file bounded.
        this.lastTokenSweep = now;
        this.store.expireTokens(now, this.cfg.tokenRetentionMs);
      }
      if (fault === 'commit-drop' && MUTATIONS.has(action)) {
        // The change is made and the token remembered; only the answer is lost.
        o.outcome = 'fault:commit-drop';
        o.status = 0;
        this.count(o, startedAt);
        req.socket.destroy();
        return;
      }
      if (fault === 'commit-500' && MUTATIONS.has(action)) {
        // The change is made, then the gateway answers 500 (terraform-provider-alicloud #4808).
        const e = err(500, 'InternalError', 'The request processing has failed due to some unknown error, exception or failure.');
        const b = errorBody(e, requestId);
        o.outcome = 'fault:commit-500';
        o.status = 500;
        this.count(o, startedAt);
        if (xml) this.send(req, res, 500, { 'content-type': 'text/xml;charset=utf-8' }, toXml('Error', b));
        else this.send(req, res, 500, { 'content-type': 'application/json;charset=utf-8' }, JSON.stringify(b));
        return;
      }
      if (fault === 'commit-200' && MUTATIONS.has(action)) {
        // The change is made, then the answer is a 200 whose body is an error: no documented refusal looks like that.
        const b = errorBody(err(400, 'InvalidParameter', 'The specified parameter is not valid.'), requestId);
        o.outcome = 'fault:commit-200';
        o.status = 200;
        this.count(o, startedAt);
        if (xml) this.send(req, res, 200, { 'content-type': 'text/xml;charset=utf-8' }, toXml('Error', b));
        else this.send(req, res, 200, { 'content-type': 'application/json;charset=utf-8' }, JSON.stringify(b));
        return;
      }
      const out = { RequestId: requestId, ...result };
      this.count(o, startedAt);
      if (xml) this.send(req, res, 200, { 'content-type': 'text/xml;charset=utf-8' }, toXml(`${action}Response`, out));
      else this.send(req, res, 200, { 'content-type': 'application/json;charset=utf-8' }, JSON.stringify(out));
    } catch (e) {
      if (e instanceof ApiError) return fail(e);
      throw e;
    }
  }

  /**
   * STS GetCallerIdentity on the same endpoint (with `--endpoint`, the CLI sends STS there too). Signed and
   * checked like any call; never rate limited, and faults only when `faultActions` names it.
   */
  private sts(
    req: IncomingMessage,
    res: ServerResponse,
    r: { path: string; query: Map<string, string>; params: Map<string, string>; body: Buffer; version: string; o: Outcome; startedAt: number; requestId: string; xml: boolean; action: string },
  ): void {
    if (r.version !== STS_VERSION) throw err(400, 'InvalidVersion', 'Specified parameter Version is not valid.');
    const now = this.cfg.clock();
    const account = ANONYMOUS_STS_ACTIONS.has(r.action)
      ? undefined
      : authenticate(
          { method: req.method ?? 'GET', path: r.path, query: r.query, params: r.params, headers: req.headers, bodySha256: createHash('sha256').update(r.body).digest('hex') },
          (id) => this.byKey.get(id) ?? this.stsService.lookup(id, now),
          this.nonces,
          now,
        );
    r.o.accountId = account?.accountId;
    const fault = this.cfg.faultActions?.includes(r.action) ? pickFault(this.random.stream(`fault:${r.action}`), this.cfg.faults) : undefined;
    if (fault && !AFTER_COMMIT.has(fault)) {
      return this.injectFault(fault, req, res, r.o, r.startedAt, (e, extra) => {
        r.o.outcome = e.code;
        r.o.status = e.status;
        this.count(r.o, r.startedAt);
        this.send(req, res, e.status, { 'content-type': 'application/json;charset=utf-8', ...(extra ?? {}) }, JSON.stringify(errorBody(e, r.requestId)));
      });
    }
    const answer = r.action === STS_ACTION && account ? callerIdentity(account) : this.stsService.run(r.action, account, r.params, now);
    const out = { RequestId: r.requestId, ...answer };
    this.count(r.o, r.startedAt);
    if (r.xml) this.send(req, res, 200, { 'content-type': 'text/xml;charset=utf-8' }, toXml(`${r.action}Response`, out));
    else this.send(req, res, 200, { 'content-type': 'application/json;charset=utf-8' }, JSON.stringify(out));
  }

  private injectFault(
    fault: FaultKind,
    req: IncomingMessage,
    res: ServerResponse,
    o: Outcome,
    startedAt: number,
    fail: (e: ApiError, extra?: Record<string, string>) => void,
  ): void {
    switch (fault) {
      case 'conflict':
        return fail(err(409, 'OperationConflict', 'The operation against this instance is too frequent, please try again later.'));
      case 'unavailable':
        return fail(err(503, 'ServiceUnavailable', 'The request has failed due to a temporary failure of the server.'));
      case 'internal':
        return fail(err(500, 'InternalError', 'The request processing has failed due to some unknown error, exception or failure.'));
      case 'throttle':
        return fail(throttled(), this.cfg.retryAfterHeader ? { 'x-acs-retry-after': '100' } : {});
      default:
        break;
    }
    o.outcome = `fault:${fault}`;
    o.status = fault === 'html' ? 502 : fault === 'empty' ? 200 : 0;
    this.count(o, startedAt);
    if (fault === 'html') {
      this.send(req, res, 502, { 'content-type': 'text/html' }, '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>Tengine</center></body></html>');
    } else if (fault === 'empty') {
      // A 200 with nothing in it: the nastiest variant, since the status claims success.
      this.send(req, res, 200, { 'content-type': 'application/json;charset=utf-8' }, '');
    } else if (fault === 'reset') {
      req.socket.destroy();
    }
    // 'hang': no answer at all; close() destroys the socket.
  }
}

function throttled(): ApiError {
  return err(400, 'Throttling.User', 'Request was denied due to user flow control.');
}

const PATCH_KEYS = new Set([
  'faults',
  'faultActions',
  'latency',
  'rates',
  'rateLimits',
  'retryAfterHeader',
  'quota',
  'tokenRetentionMs',
  'duplicateIpCheckBeforeToken',
  'vpnTaskMs',
  'vpnConnectionQuota',
]);

/** Faults decided after the action ran: they need its change committed first. */
const AFTER_COMMIT: ReadonlySet<FaultKind> = new Set(['commit-drop', 'commit-500', 'commit-200']);

/** The generated PSK's characters (a subset of the allowed ones, safe in every device syntax). */
const PSK_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Shape-checks an admin config patch, so a typo is a 400 instead of a silently ignored setting. */
export function checkPatch(input: Record<string, unknown>): ConfigPatch {
  for (const k of Object.keys(input)) if (!PATCH_KEYS.has(k)) throw new Error(`unknown setting ${k}`);
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  const rec = (v: unknown) => !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every(num);
  if ('faults' in input && !rec(input.faults)) throw new Error('faults must map kinds to probabilities');
  if ('faults' in input)
    for (const k of Object.keys(input.faults as object))
      if (!(FAULT_KINDS as readonly string[]).includes(k)) throw new Error(`unknown fault kind; kinds are ${FAULT_KINDS.join(', ')}`);
  if ('rates' in input && !rec(input.rates)) throw new Error('rates must map actions to numbers');
  if ('faultActions' in input && !(Array.isArray(input.faultActions) && input.faultActions.every((x) => typeof x === 'string')))
    throw new Error('faultActions must be a list of action names');
  if ('latency' in input) {
    const l = input.latency as Record<string, unknown> | null;
    if (!l || !num(l.minMs) || !num(l.maxMs)) throw new Error('latency must be {minMs, maxMs}');
  }
  for (const k of ['rateLimits', 'retryAfterHeader', 'duplicateIpCheckBeforeToken'])
    if (k in input && typeof input[k] !== 'boolean') throw new Error(`${k} must be a boolean`);
  for (const k of ['quota', 'tokenRetentionMs', 'vpnTaskMs', 'vpnConnectionQuota']) if (k in input && !num(input[k])) throw new Error(`${k} must be a number`);
  return input as ConfigPatch;
}

export { DEFAULT_RATES };
