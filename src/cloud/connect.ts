// The connection a command works over: a credential provider, the endpoints, the proxy, one client per endpoint.
import { AuthError } from '../errors.js';
import { resolveProvider, staticProvider, type CredentialNet, type CredentialProvider, type CredentialSource } from './credentials.js';
import { resolveEndpoints, type Endpoints } from './endpoints.js';
import { PopVpcClient, type Credentials } from './pop-client.js';
import { NO_PROXY_SETTINGS, proxyFor, type ProxySettings } from './proxy.js';
import type { VpcClient } from './types.js';

export type { CredentialSource };

const NO_CREDENTIALS =
  'no Alibaba Cloud credentials found: export ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, ' +
  'or pass --profile NAME (aliyun CLI config), or try the tool locally with --sandbox';

/**
 * The credential provider for a run (see resolveProvider for the order), or an AuthError saying how to configure one.
 * Error messages never echo a configuration value: they can be secrets.
 */
export function credentialProvider(src: CredentialSource, net: CredentialNet): CredentialProvider {
  const p = resolveProvider(src, net);
  if (!p) throw new AuthError(NO_CREDENTIALS);
  return p;
}

export interface Connection {
  /** A label for messages and the journal: the single endpoint, the template, or the regional pattern. */
  endpoint: string;
  accessKeyId: string;
  credentials: CredentialProvider;
  clientFor(region: string): VpcClient;
  /**
   * Destroys every client's sockets. Call it when the command is done: afterwards nothing of the connection keeps
   * the process alive (a hung endpoint once left 8 sockets open and the CLI never exited). Idempotent.
   */
  close(): void;
}

export interface ConnectOptions {
  credentials: Credentials | CredentialProvider;
  /** `--endpoint`: one URL for every region (as before), or a {region} template. Ignored when `endpoints` is given. */
  endpoint?: string;
  endpoints?: Endpoints;
  proxy?: ProxySettings;
  timeoutMs: number;
  label?: string;
  /** Every PSK and AuthKey a VPN answer carries goes here at once (the command's Redactor). */
  onSecret?: (secret: string) => void;
}

function isProvider(c: Credentials | CredentialProvider): c is CredentialProvider {
  return typeof (c as CredentialProvider).get === 'function';
}

/** One pop-core client per endpoint URL (each has its own keep-alive pool and, if proxied, its own proxy agent). */
export function connect(opts: ConnectOptions): Connection {
  const clients = new Map<string, PopVpcClient>();
  const endpoints = opts.endpoints ?? resolveEndpoints({ endpoint: opts.endpoint, network: 'public' });
  const provider = isProvider(opts.credentials) ? opts.credentials : staticProvider(opts.credentials, 'given');
  const firstKey = isProvider(opts.credentials) ? '' : opts.credentials.accessKeyId;
  return {
    endpoint: opts.label ?? endpoints.label,
    accessKeyId: firstKey,
    credentials: provider,
    clientFor(region: string): VpcClient {
      const url = endpoints.vpc(region);
      let c = clients.get(url);
      if (!c) {
        c = new PopVpcClient({ endpoint: url, credentials: provider, timeoutMs: opts.timeoutMs, proxy: proxyFor(url, opts.proxy ?? NO_PROXY_SETTINGS), onSecret: opts.onSecret });
        clients.set(url, c);
      }
      return c;
    },
    close(): void {
      for (const c of clients.values()) c.close();
    },
  };
}
