// The connection a command works over: credentials (or the embedded sandbox), one client per endpoint, and the caller's
// account from STS GetCallerIdentity (the journal belongs to the account, not to a key).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { connect, credentialProvider, type Connection } from '../cloud/connect.js';
import { staticProvider, type CredentialProvider } from '../cloud/credentials.js';
import { checkEndpointUrl, resolveEndpoints, type EndpointOptions } from '../cloud/endpoints.js';
import type { Credentials } from '../cloud/pop-client.js';
import { NO_PROXY_SETTINGS, proxyFor, proxySecrets, proxySettings } from '../cloud/proxy.js';
import { getCallerIdentity } from '../cloud/sts.js';
import { AuthError } from '../errors.js';
import { checkJournalEndpoint, type Caller } from '../state/journal.js';
import type { Context } from './context.js';

export interface Session {
  conn: Connection;
  /** Who the credentials belong to; the plan header and the confirmation name the account and the endpoint. */
  caller: Caller & { arn?: string };
  /** What the plan header and the journal call the endpoint. */
  endpoint: string;
  close(): Promise<void>;
}

/** Why there is no session (plan runs offline and says so). */
export interface NoSession {
  offline: string;
}

/** The sandbox's built-in key (the emulator is loaded only when --sandbox asks for it). */
async function startSandbox(ctx: Context): Promise<{ credentials: Credentials; url: string; label: string; close: () => Promise<void> }> {
  const o = ctx.options;
  const { DEFAULT_ACCOUNT, startEmulator } = await import('../emulator/index.js');
  const home = ctx.io.env.HOME ?? ctx.io.cwd;
  const dataFile = o.sandboxData ?? join(home, '.cgw-batch', 'sandbox.json');
  mkdirSync(dirname(dataFile), { recursive: true, mode: 0o700 });
  // sandbox: one VPN gateway per region and a short gateway task (README, "The emulator").
  const emu = await startEmulator({ dataFile, port: 0, sandbox: true, ...(o.quotaGiven ? { quota: o.quota } : {}) });
  ctx.err.write(`SANDBOX: talking to the embedded emulator at ${emu.url} (data: ${dataFile}); nothing is created in Alibaba Cloud\n`);
  return {
    credentials: { accessKeyId: DEFAULT_ACCOUNT.accessKeyId, accessKeySecret: DEFAULT_ACCOUNT.accessKeySecret },
    url: emu.url,
    // The port changes on every start; the journal must see the same sandbox as the same endpoint.
    label: `sandbox:${dataFile}`,
    close: () => emu.close(),
  };
}

/**
 * Opens the connection and asks STS who the caller is. Without credentials: `required` commands fail (exit 2), and
 * plan gets a NoSession saying why (it then plans offline and says so on stderr).
 */
export async function openSession(ctx: Context, required: boolean): Promise<Session | NoSession> {
  const o = ctx.options;
  const env = ctx.io.env;
  let provider: CredentialProvider;
  let endpointOptions: EndpointOptions = { endpoint: o.endpoint, network: o.network, stsEndpoint: o.stsEndpoint };
  let label: string | undefined;
  let proxy = NO_PROXY_SETTINGS;
  let closeSandbox: (() => Promise<void>) | undefined;
  if (o.sandbox) {
    const sb = await startSandbox(ctx);
    provider = staticProvider(sb.credentials, 'sandbox');
    endpointOptions = { endpoint: sb.url, network: 'public' };
    label = sb.label;
    closeSandbox = sb.close;
  } else {
    if (o.endpoint !== undefined) checkEndpointUrl('endpoint', o.endpoint, true);
    if (o.stsEndpoint !== undefined) checkEndpointUrl('sts-endpoint', o.stsEndpoint, false);
    proxy = proxySettings(env, o.proxy);
    for (const s of proxySecrets(proxy)) ctx.redactor.add(s);
    const stsRegion = env.ALIBABA_CLOUD_STS_REGION || env.ALIBABA_CLOUD_REGION_ID || undefined;
    endpointOptions = { ...endpointOptions, stsRegion };
    const options = endpointOptions;
    try {
      provider = credentialProvider(
        { env, profile: o.profile },
        {
          timeoutMs: o.timeoutMs,
          proxy,
          sts: (profileRegion) => resolveEndpoints({ ...options, stsRegion: stsRegion ?? profileRegion }).sts,
          onSecret: (secret) => ctx.redactor.add(secret),
        },
      );
    } catch (e) {
      if (!required && e instanceof AuthError && !o.profile) return { offline: e.message };
      throw e;
    }
  }
  const endpoints = resolveEndpoints(endpointOptions);
  let credentials: Credentials;
  try {
    credentials = await provider.get();
  } catch (e) {
    await closeSandbox?.();
    throw e;
  }
  ctx.redactor.add(credentials.accessKeySecret);
  ctx.redactor.add(credentials.securityToken);
  const conn = connect({ credentials: provider, endpoints, proxy, timeoutMs: o.timeoutMs, label });
  const close = async (): Promise<void> => {
    conn.close();
    await closeSandbox?.();
  };
  try {
    // A journal of another endpoint is refused before any request (the account check needs the STS answer below).
    if (o.statePath) await checkJournalEndpoint(o.statePath, conn.endpoint);
    const who = await getCallerIdentity({ credentials: provider, endpoint: endpoints.sts, proxy: proxyFor(endpoints.sts, proxy), timeoutMs: o.timeoutMs });
    return {
      conn,
      caller: { accountId: who.accountId, accessKeyId: credentials.accessKeyId, arn: who.arn },
      endpoint: conn.endpoint,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

export function isSession(s: Session | NoSession): s is Session {
  return 'conn' in s;
}
