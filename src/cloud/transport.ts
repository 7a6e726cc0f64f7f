// Bounded HTTP under pop-core: a keep-alive agent that gives every request a total deadline, a response size cap and
// no transparent decompression, and that records what came back (status, headers) for the caller to judge.
import { AsyncLocalStorage } from 'node:async_hooks';
import http, { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import diagnostics from 'node:diagnostics_channel';
import https from 'node:https';
import type { Socket } from 'node:net';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { proxyLabel } from './proxy.js';

/** Far above any real answer (a 50-gateway page is about 30 KB); anything larger is a broken or hostile endpoint. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export type ExchangeFailure = 'deadline' | 'too-large' | 'aborted';

/**
 * One call's HTTP exchange. pop-core hides the request and the response from its caller, so the agent hands each
 * ClientRequest to the exchange active in the async context that created it (AsyncLocalStorage), and the exchange
 * enforces the limits on it. Limits reject `failed`; the caller races the pop-core promise against it.
 */
export class Exchange {
  status: number | undefined;
  headers: IncomingHttpHeaders | undefined;
  /** The response had a content-encoding we did not ask for; it was left compressed (and so fails as not JSON). */
  encoded = false;
  bytes = 0;
  failure: ExchangeFailure | undefined;
  /** The proxy this request went through (as messages name it), if any. */
  proxy: string | undefined;
  /** The proxy's answer to CONNECT (200 when the tunnel opened). */
  proxyStatus: number | undefined;
  readonly failed: Promise<never>;
  private reject!: (e: Error) => void;
  private req: ClientRequest | undefined;
  private res: IncomingMessage | undefined;
  private socket: Socket | undefined;
  /** Sockets a proxy agent opened for this request before the request had one (the CONNECT handshake). */
  private readonly handshake = new Set<Socket>();
  private timer: NodeJS.Timeout | undefined;
  private finished = false;
  private readonly onData = (chunk: Buffer) => {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) this.fail('too-large');
  };

  constructor(
    deadlineMs: number,
    private readonly maxBytes: number = MAX_RESPONSE_BYTES,
  ) {
    this.failed = new Promise<never>((_, reject) => (this.reject = reject));
    // Whoever races this promise handles it; a late rejection after finish() must not be "unhandled".
    this.failed.catch(() => undefined);
    this.timer = setTimeout(() => this.fail('deadline'), deadlineMs);
    // The socket keeps the process alive while the request runs; the timer alone must never do so.
    this.timer.unref();
  }

  /** Called by the agent for each request made in this exchange's async context (pop-core makes one). */
  attach(req: ClientRequest, proxy?: string): void {
    if (this.finished) return;
    this.req = req;
    this.proxy = proxy;
    (req as ClientRequest & { [EXCHANGE]?: Exchange })[EXCHANGE] = this;
    // https-proxy-agent emits it once the proxy answered CONNECT, before the tunnel is handed to the request.
    req.once('proxyConnect', (res: { statusCode?: number }) => {
      this.proxyStatus = res.statusCode;
      this.releaseHandshake();
    });
    // Runs before httpx's own listener, so the status is known even when pop-core later fails to parse the body.
    req.prependListener('response', (res: IncomingMessage) => {
      this.res = res;
      this.status = res.statusCode;
      this.headers = res.headers;
      const enc = res.headers['content-encoding'];
      if (enc !== undefined && enc !== '' && enc !== 'identity') {
        // httpx gunzips any gzip/deflate answer, asked for or not, without a size limit (a 1.5 MB bomb became
        // 5 GB). We never send accept-encoding, so the raw bytes go to the size cap and fail as not JSON.
        delete res.headers['content-encoding'];
        this.encoded = true;
      }
    });
    req.once('socket', (socket: Socket) => {
      if (this.finished) return;
      this.releaseHandshake();
      this.socket = socket;
      // Counted on the socket: a 'data' listener on the response would start it flowing before httpx listens.
      socket.on('data', this.onData);
      if (this.failure) socket.destroy();
    });
  }

  /**
   * A socket a proxy agent opens for this request (to the proxy): counted against the size cap while the proxy
   * answers CONNECT, and destroyed if the exchange fails (a proxy that never answers would otherwise hold it open).
   */
  adopt(socket: Socket): void {
    if (this.finished) return;
    if (this.failure) {
      socket.destroy();
      return;
    }
    this.handshake.add(socket);
    socket.on('data', this.onData);
  }

  /** The handshake is over: the request's own socket is counted from here on (never twice). */
  private releaseHandshake(): void {
    for (const s of this.handshake) s.off('data', this.onData);
  }

  fail(why: ExchangeFailure): void {
    if (this.finished || this.failure) return;
    this.failure = why;
    const err = new Error(`exchange ${why}`);
    // Destroying the response with an error makes httpx's read loop fail at once and clear its (ref'ed) read timer;
    // without a listener yet, an 'error' event would be thrown, so then it is destroyed quietly.
    for (const stream of [this.res, this.req]) {
      if (stream && stream.listenerCount('error') > 0) stream.destroy(err);
      else stream?.destroy();
    }
    this.socket?.destroy();
    for (const s of this.handshake) s.destroy();
    this.reject(err);
  }

  /**
   * Ends the exchange: stops the deadline and detaches from the socket. A request that did not complete cleanly
   * loses its socket, so a half-read body can never be parsed as the next answer on a reused connection.
   */
  finish(ok: boolean): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.socket?.off('data', this.onData);
    this.releaseHandshake();
    if (!ok && !this.failure) {
      this.res?.destroy();
      this.req?.destroy();
      for (const s of this.handshake) s.destroy();
    }
    this.handshake.clear();
  }
}

const current = new AsyncLocalStorage<Exchange>();
const EXCHANGE = Symbol('exchange');

/** Runs `fn` (one pop-core request) inside `exchange`, so the agent attaches the request it makes. */
export function withinExchange<T>(exchange: Exchange, fn: () => Promise<T>): Promise<T> {
  return current.run(exchange, fn);
}

type AddRequest = (req: ClientRequest, options: unknown) => void;

/** A keep-alive agent whose requests join the active Exchange. `addRequest` is how every http(s) agent gets its requests. */
function bounded<T extends typeof http.Agent | typeof https.Agent>(Base: T): T {
  const base = (Base.prototype as unknown as { addRequest: AddRequest }).addRequest;
  const Sub = class extends (Base as typeof http.Agent) {};
  (Sub.prototype as unknown as { addRequest: AddRequest }).addRequest = function (this: http.Agent, req, options) {
    current.getStore()?.attach(req);
    base.call(this, req, options);
  };
  return Sub as unknown as T;
}

const BoundedHttpAgent = bounded(http.Agent);
const BoundedHttpsAgent = bounded(https.Agent);

// Node publishes every socket net.connect() creates; the proxy agents open theirs inside connect(), out of our reach.
const clientSockets = diagnostics.channel('net.client.socket');

/** Runs `open` (a proxy agent's connect) and hands every socket it creates synchronously to the request's exchange. */
function adopting<T>(req: ClientRequest, open: () => T): T {
  const ex = (req as ClientRequest & { [EXCHANGE]?: Exchange })[EXCHANGE];
  if (!ex) return open();
  const adopt = (message: unknown): void => {
    const socket = (message as { socket?: Socket }).socket;
    if (socket) ex.adopt(socket);
  };
  clientSockets.subscribe(adopt);
  try {
    return open();
  } finally {
    clientSockets.unsubscribe(adopt);
  }
}

/** HTTPS through an HTTP proxy (CONNECT tunnel), bounded like a direct request. */
class BoundedHttpsProxyAgent extends HttpsProxyAgent<string> {
  constructor(
    proxy: URL,
    opts: http.AgentOptions,
    readonly proxyName: string,
  ) {
    super(proxy.href, opts);
  }
  override connect(req: ClientRequest, opts: Parameters<HttpsProxyAgent<string>['connect']>[1]): ReturnType<HttpsProxyAgent<string>['connect']> {
    return adopting(req, () => super.connect(req, opts));
  }
}

/** Plain HTTP through an HTTP proxy (absolute-URI requests), bounded like a direct request. */
class BoundedHttpProxyAgent extends HttpProxyAgent<string> {
  constructor(
    proxy: URL,
    opts: http.AgentOptions,
    readonly proxyName: string,
  ) {
    super(proxy.href, opts);
  }
  override connect(req: Parameters<HttpProxyAgent<string>['connect']>[0], opts: Parameters<HttpProxyAgent<string>['connect']>[1]): ReturnType<HttpProxyAgent<string>['connect']> {
    return adopting(req, () => super.connect(req, opts));
  }
}

for (const Agent of [BoundedHttpsProxyAgent, BoundedHttpProxyAgent]) {
  const base = (Object.getPrototypeOf(Agent.prototype) as { addRequest: AddRequest }).addRequest;
  (Agent.prototype as unknown as { addRequest: AddRequest }).addRequest = function (this: { proxyName: string }, req, options) {
    current.getStore()?.attach(req, this.proxyName);
    base.call(this, req, options);
  };
}

/**
 * One pool per client. Idle keep-alive sockets are unref'ed by Node; `destroy()` closes the rest. With `proxy`, the
 * requests go through it (CONNECT for https, absolute URIs for http) under the same deadline and size cap.
 */
export function boundedAgent(endpoint: string, proxy?: URL): http.Agent {
  const opts = { keepAlive: true, keepAliveMsecs: 3000 };
  const secure = endpoint.startsWith('https:');
  if (proxy) {
    const name = proxyLabel(proxy);
    return secure ? new BoundedHttpsProxyAgent(proxy, opts, name) : new BoundedHttpProxyAgent(proxy, opts, name);
  }
  return secure ? new BoundedHttpsAgent(opts) : new BoundedHttpAgent(opts);
}

/**
 * Turns a `Retry-After`-style hint into milliseconds: Alibaba's `x-acs-retry-after` is milliseconds; the standard
 * `retry-after` is seconds or an HTTP date (a proxy's 429). Capped, so a hostile hint cannot park us for hours.
 */
export function retryAfterMs(headers: IncomingHttpHeaders | undefined, now: number = Date.now(), capMs = 60_000): number | undefined {
  if (!headers) return undefined;
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const acs = first(headers['x-acs-retry-after']);
  if (acs !== undefined && /^\d+$/.test(acs.trim())) return Math.min(capMs, Number(acs));
  const std = first(headers['retry-after']);
  if (std === undefined) return undefined;
  if (/^\d+$/.test(std.trim())) return Math.min(capMs, Number(std) * 1000);
  const at = Date.parse(std);
  return Number.isNaN(at) ? undefined : Math.min(capMs, Math.max(0, at - now));
}

const fanouts = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Runs `fn` when `signal` aborts; returns the unsubscribe. Every subscriber of one signal shares a single listener,
 * so hundreds of waiting requests and sleeps never trip Node's MaxListenersExceededWarning on a shared signal.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) {
    fn();
    return () => undefined;
  }
  let set = fanouts.get(signal);
  if (!set) {
    const subscribers = new Set<() => void>();
    set = subscribers;
    fanouts.set(signal, subscribers);
    signal.addEventListener(
      'abort',
      () => {
        for (const f of [...subscribers]) f();
        subscribers.clear();
      },
      { once: true },
    );
  }
  const subscribers = set;
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}
