// The connection a command works over: credentials (or the embedded sandbox), one client per endpoint, the caller's
// account from STS GetCallerIdentity (the journal belongs to the account, not to a key), and the journal checked
// against both before anything is listed or sent.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { connect, credentialProvider, type Connection } from '../cloud/connect.js';
import { staticProvider, type CredentialProvider } from '../cloud/credentials.js';
import { checkEndpointUrl, resolveEndpoints, type EndpointOptions } from '../cloud/endpoints.js';
import { fetchInventory, fetchRegions, fetchVpnInventory } from '../cloud/inventory.js';
import type { Credentials } from '../cloud/pop-client.js';
import { NO_PROXY_SETTINGS, proxyFor, proxySecrets, proxySettings } from '../cloud/proxy.js';
import { getCallerIdentity, STS_ATTEMPTS } from '../cloud/sts.js';
import type { CustomerGateway, VpnConnection, VpnGateway } from '../cloud/types.js';
import { AuthError, StateError } from '../errors.js';
import type { Options } from '../options.js';
import { printable } from '../text.js';
import { checkAccount, checkEndpoint, isUnbound, type Caller, type JournalHeader } from '../state/journal.js';
import type { Context } from './context.js';

export interface Session {
  conn: Connection;
  /** Who the credentials belong to; the plan header and the confirmation name the account and the endpoint. */
  caller: Caller & { arn?: string };
  /** What the plan header and the journal call the endpoint. */
  endpoint: string;
  close(): Promise<void>;
  /** The reads asked for beside GetCallerIdentity (`SessionReads`), once the account check passed. */
  view?: Promise<CloudView>;
}

/** What an online plan reads of the cloud: the offered regions, the regions' gateways and their VPN listing. */
export interface CloudView {
  regions: Set<string>;
  inventory: Map<string, CustomerGateway[]>;
  /** Undefined when no site region was asked for, or when the client cannot list VPN gateways (`vpnUnlisted`). */
  vpn: Map<string, { gateways: VpnGateway[]; connections: VpnConnection[] }> | undefined;
  vpnUnlisted: boolean;
}

/**
 * Reads that need nothing but the connection, started beside STS GetCallerIdentity instead of after it: only reads
 * (the account check still comes before anything is written), and their answer is used only once that check passed.
 */
export type SessionReads = (s: Pick<Session, 'conn'>) => Promise<CloudView>;

/** Why there is no session (plan runs offline and says so). */
export interface NoSession {
  offline: string;
}

/** The journal a session must match: its path (for messages), its header as read, and what it records. */
export interface JournalRef {
  path: string;
  header: JournalHeader;
  /** The gateways the journal owns (a header naming no account is bound only to the account that has them). */
  gateways: Array<{ region: string; id: string }>;
  /** Creates whose outcome is unknown: they may have made gateways in the account that ran them. */
  maybeCreated: number;
}

interface Sandbox {
  credentials: Credentials;
  url: string;
  label: string;
  close: () => Promise<void>;
}

/** The sandbox's built-in key (the emulator is loaded only when --sandbox asks for it). */
async function startSandbox(ctx: Context): Promise<Sandbox> {
  const o = ctx.options;
  const { DEFAULT_ACCOUNT, startEmulator } = await import('../emulator/index.js');
  const home = ctx.io.env.HOME ?? ctx.io.cwd;
  const dataFile = o.sandboxData ?? join(home, '.cgw-batch', 'sandbox.json');
  mkdirSync(dirname(dataFile), { recursive: true, mode: 0o700 });
  // The emulator has one quota for every region: `--quota N` sets it (region=N pairs only shape the plan).
  const emu = await startEmulator({
    dataFile,
    port: 0,
    sandbox: true,
    ...(o.quota?.all !== undefined ? { quota: o.quota.all } : {}),
    ...(o.vpnQuotaGiven ? { vpnConnectionQuota: o.vpnQuota } : {}),
  });
  ctx.err.write(`SANDBOX: talking to the embedded emulator at ${emu.url} (data: ${dataFile}); nothing is created in Alibaba Cloud\n`);
  return {
    credentials: { accessKeyId: DEFAULT_ACCOUNT.accessKeyId, accessKeySecret: DEFAULT_ACCOUNT.accessKeySecret },
    url: emu.url,
    // The port changes on every start; the journal must see the same sandbox as the same endpoint.
    label: `sandbox:${dataFile}`,
    close: () => emu.close(),
  };
}

/** Opens the connection and asks STS who the caller is; without credentials the command fails (exit 2). */
export async function openSession(ctx: Context, journal: JournalRef | undefined, reads?: SessionReads): Promise<Session> {
  const s = await connectSession(ctx, journal, true, reads);
  if ('offline' in s) throw new AuthError(s.offline);
  return s;
}

/** The same for plan: without credentials it gets a NoSession saying why (it then plans offline and says so). */
export function tryOpenSession(ctx: Context, journal: JournalRef | undefined, reads?: SessionReads): Promise<Session | NoSession> {
  return connectSession(ctx, journal, false, reads);
}

async function connectSession(ctx: Context, journal: JournalRef | undefined, required: boolean, reads?: SessionReads): Promise<Session | NoSession> {
  const o: Readonly<Options> = ctx.options;
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
  const conn = connect({ credentials: provider, endpoints, proxy, timeoutMs: o.timeoutMs, label, onSecret: (secret) => ctx.redactor.add(secret) });
  const close = async (): Promise<void> => {
    conn.close();
    await closeSandbox?.();
  };
  try {
    // A journal of another endpoint is refused before any request; its account is checked on the STS answer.
    if (journal) checkEndpoint(journal.path, journal.header, conn.endpoint);
    // The reads go out with the STS call; a failure of theirs is the caller's to see once the account is checked
    // (an STS error or another account's journal wins, and then their answer is dropped unseen).
    const view = reads?.({ conn });
    view?.catch(() => undefined);
    const who = await getCallerIdentity({
      credentials: provider,
      endpoint: endpoints.sts,
      proxy: proxyFor(endpoints.sts, proxy),
      timeoutMs: o.timeoutMs,
      retry: { attempts: STS_ATTEMPTS, ...o.retryBackoff },
    });
    const caller = { accountId: who.accountId, accessKeyId: credentials.accessKeyId, arn: who.arn };
    if (journal && isUnbound(journal.header)) await proveOwnership(conn, journal, caller);
    else if (journal) checkAccount(journal.path, journal.header, conn.endpoint, caller);
    return { conn, caller, endpoint: conn.endpoint, close, ...(view ? { view } : {}) };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * A journal whose header names no account and no key: another account must not take it over (the gateways it
 * records would then belong to no journal). It may be used by an account that has one of its gateways (then its
 * first write binds it to that account), or when it records nothing that could exist in an account.
 */
async function proveOwnership(conn: Connection, journal: JournalRef, caller: Caller): Promise<void> {
  const who = caller.accountId ? `account ${caller.accountId}` : `the account of key ${caller.accessKeyId}`;
  if (journal.gateways.length === 0) {
    if (journal.maybeCreated === 0) return;
    throw new StateError(
      `state file ${journal.path} names no account, and ${journal.maybeCreated} create(s) in it have an unknown outcome, so whether they made gateways in ${who} cannot be checked; ` +
        'run it with the credentials it was used with, or use another --state',
    );
  }
  const ids = new Set(journal.gateways.map((g) => g.id));
  const regions = [...new Set(journal.gateways.map((g) => g.region))];
  // Gateway ids are unique across accounts: one of them listed in this account proves the journal is this account's.
  for (const region of regions.slice(0, 3)) {
    const listed = (await fetchInventory([region], (r) => conn.clientFor(r))).get(region) ?? [];
    if (listed.some((g) => ids.has(g.id))) return;
  }
  const shown = [...ids].slice(0, 3).join(', ') + (ids.size > 3 ? `, ... (${ids.size})` : '');
  throw new StateError(
    `state file ${journal.path} names no account, and none of the gateways it records (${shown}) is in ${who}: it belongs to another account ` +
      '(or its gateways were deleted); use that account\'s credentials, or another --state',
  );
}

/** A listing longer than this shows its progress on stderr (one line per thousand gateways). */
const LONG_LISTING = 1000;

/** Every gateway of the regions (listing progress on stderr for long listings). */
export async function listRegions(ctx: Context, session: Pick<Session, 'conn'>, regions: Iterable<string>): Promise<Map<string, CustomerGateway[]>> {
  const shown = new Map<string, number>();
  return fetchInventory([...new Set(regions)], (r) => session.conn.clientFor(r), {
    onProgress: (region, listed, total) => {
      if (total <= LONG_LISTING) return;
      const step = Math.floor(listed / LONG_LISTING);
      if (listed < total && step === (shown.get(region) ?? 0)) return;
      shown.set(region, step);
      ctx.err.write(`listing ${printable(region)}: ${listed} of ${total} gateways\n`);
    },
  });
}

/**
 * Every VPN gateway and IPsec connection of the regions (site rows). Undefined when the client cannot list them yet
 * (the VPN calls of the cloud client, VpnApi): the caller plans those sites offline and says so.
 */
export async function listVpn(session: Pick<Session, 'conn'>, regions: Iterable<string>): Promise<Map<string, { gateways: VpnGateway[]; connections: VpnConnection[] }> | undefined> {
  const list = [...new Set(regions)];
  if (list.length === 0) return new Map();
  return fetchVpnInventory(list, (r) => session.conn.clientFor(r));
}

/** The regions the account is offered (DescribeRegions, asked of `via`'s endpoint). */
export async function offeredRegions(session: Pick<Session, 'conn'>, via: string): Promise<Set<string>> {
  return new Set((await fetchRegions(session.conn.clientFor(via))).map((r) => r.regionId));
}

/**
 * An online plan's reads: the offered regions (DescribeRegions), then the gateways of the wanted regions it offers and
 * the VPN gateways and connections of the site regions, all listings at once.
 */
export async function readCloud(ctx: Context, session: Pick<Session, 'conn'>, wanted: readonly string[], vpnWanted: readonly string[]): Promise<CloudView> {
  const offered = await offeredRegions(session, wanted[0] ?? 'cn-hangzhou');
  const vpnRegions = vpnWanted.filter((r) => offered.has(r));
  const [inventory, vpn] = await Promise.all([
    listRegions(ctx, session, wanted.filter((r) => offered.has(r))),
    vpnRegions.length > 0 ? listVpn(session, vpnRegions) : Promise.resolve(undefined),
  ]);
  return { regions: offered, inventory, vpn, vpnUnlisted: vpnRegions.length > 0 && vpn === undefined };
}
