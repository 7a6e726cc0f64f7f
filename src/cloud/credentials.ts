// Credentials in every aliyun CLI profile mode and the SDK's env variables, refreshed ahead of expiry, over our bounded transport.
import { readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { AuthError } from '../errors.js';
import { CloudError } from './errors.js';
import { callRpc, type Credentials } from './pop-client.js';
import { rpcClientClass } from './pop-core.js';
import { NO_PROXY_SETTINGS, proxyFor, type ProxySettings } from './proxy.js';
import { boundedAgent, Exchange, withinExchange } from './transport.js';

export const STS_API_VERSION = '2015-04-01';
/** The ECS instance metadata service; `CGW_BATCH_ECS_METADATA_URL` moves it (tests, unusual networks). */
export const ECS_METADATA_URL = 'http://100.100.100.200';
const METADATA_TOKEN_TTL_S = 21_600;
/** Refresh this long before expiry at most (the SDKs' stale time); short-lived tokens at half their life. */
const MAX_REFRESH_MARGIN_MS = 15 * 60 * 1000;
/** A credential document (metadata service, credentials URI) is a few hundred bytes. */
const MAX_DOCUMENT_BYTES = 64 * 1024;

export interface CredentialProvider {
  /** Where the credentials come from, for messages: `env`, `profile prod (RamRoleArn)`. */
  readonly source: string;
  /** The current credentials; temporary ones are fetched again ahead of their expiry (one fetch at a time). */
  get(): Promise<Credentials>;
  /** Fetches new temporary credentials now (the server said the token expired); static ones stay as they are. */
  refresh(): Promise<Credentials>;
  /** Whether refresh() can produce other credentials. */
  readonly refreshable: boolean;
}

/** How the providers reach STS, the metadata service and credential URIs. */
export interface CredentialNet {
  timeoutMs: number;
  proxy?: ProxySettings;
  /** The STS endpoint for AssumeRole / AssumeRoleWithOIDC, given a profile's `sts_region` (if any). */
  sts(stsRegion: string | undefined): string;
  clock?: () => number;
  /** Every secret a provider learns (temporary secrets and tokens, OIDC tokens) goes here first: the redactor. */
  onSecret?: (secret: string) => void;
}

export interface CredentialSource {
  env: Record<string, string | undefined>;
  profile?: string;
  home?: string;
}

export function staticProvider(c: Credentials, source: string): CredentialProvider {
  return { source, refreshable: false, get: async () => c, refresh: async () => c };
}

/** Temporary credentials: cached, fetched again when within min(15 min, half their life) of expiry. */
class Refreshing implements CredentialProvider {
  readonly refreshable = true;
  private current: { c: Credentials; fetchedAt: number } | undefined;
  private pending: Promise<Credentials> | undefined;

  constructor(
    readonly source: string,
    private readonly fetch: () => Promise<Credentials>,
    private readonly clock: () => number,
    private readonly onSecret: (s: string) => void,
  ) {}

  private stale(now: number): boolean {
    const cur = this.current;
    if (!cur) return true;
    const exp = cur.c.expiration;
    if (exp === undefined) return false;
    const margin = Math.min(MAX_REFRESH_MARGIN_MS, Math.max(0, exp - cur.fetchedAt) / 2);
    return now >= exp - margin;
  }

  async get(): Promise<Credentials> {
    const now = this.clock();
    if (!this.stale(now)) return this.current!.c;
    try {
      return await this.refresh();
    } catch (e) {
      // A failed refresh is survivable while the old credentials still hold.
      const cur = this.current;
      if (cur && (cur.c.expiration === undefined || now < cur.c.expiration)) return cur.c;
      throw e;
    }
  }

  refresh(): Promise<Credentials> {
    this.pending ??= (async () => {
      try {
        const c = await this.fetch();
        for (const s of [c.accessKeySecret, c.securityToken]) if (s) this.onSecret(s);
        this.current = { c, fetchedAt: this.clock() };
        return c;
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** `2015-04-09T11:52:19Z` (STS, metadata service) to epoch ms. */
function parseExpiration(v: unknown, what: string): number {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw new AuthError(`${what} answered without a valid Expiration`);
  return t;
}

/** The temporary credentials of an STS answer (`Credentials` object) or of a metadata/URI document (top level). */
function temporary(doc: Record<string, unknown>, what: string): Credentials {
  const accessKeyId = text(doc.AccessKeyId);
  const accessKeySecret = text(doc.AccessKeySecret);
  const securityToken = text(doc.SecurityToken);
  if (!accessKeyId || !accessKeySecret || !securityToken) throw new AuthError(`${what} answered without AccessKeyId, AccessKeySecret and SecurityToken`);
  return { accessKeyId, accessKeySecret, securityToken, expiration: parseExpiration(doc.Expiration, what) };
}

type Rpc = { request(action: string, params: object, opts: object): Promise<unknown> };

/** One STS call over pop-core (signed with `signer`, or anonymous), through the proxy and under the deadline. */
async function stsCall(
  endpoint: string,
  signer: Credentials | undefined,
  action: string,
  params: Record<string, unknown>,
  net: CredentialNet,
  secrets: Array<string | undefined>,
): Promise<Record<string, unknown>> {
  const agent = boundedAgent(endpoint, proxyFor(endpoint, net.proxy ?? NO_PROXY_SETTINGS));
  const Ctor = rpcClientClass<Rpc>();
  const rpc = new Ctor(
    {
      endpoint,
      apiVersion: STS_API_VERSION,
      // Anonymous calls (AssumeRoleWithOIDC) go out unsigned: pop-core signs only when a key is there.
      credentialsProvider: { getCredentials: async () => signer ?? {} },
      opts: { method: 'POST', timeout: net.timeoutMs, agent },
    },
    true,
  );
  try {
    return (await callRpc(rpc, action, params, { timeoutMs: net.timeoutMs, secrets: [signer?.accessKeySecret, signer?.securityToken, ...secrets] })) as Record<string, unknown>;
  } finally {
    agent.destroy();
  }
}

function stsFailure(e: unknown, what: string): AuthError {
  if (e instanceof CloudError) return new AuthError(`${what} failed: ${e.code}: ${e.message}`);
  if (e instanceof AuthError) return e;
  return new AuthError(`${what} failed`);
}

interface RoleRequest {
  roleArn: string;
  sessionName?: string;
  durationSeconds?: number;
  externalId?: string;
  stsRegion?: string;
}

const DEFAULT_SESSION = 'cgw-batch';

function durationOf(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
  return n !== undefined && n > 0 ? n : undefined;
}

/** RamRoleArn / ChainableRamRoleArn: AssumeRole signed with the source credentials (themselves refreshed if temporary). */
export function ramRoleArnProvider(sourceProvider: CredentialProvider, r: RoleRequest, net: CredentialNet, source: string): CredentialProvider {
  const what = `AssumeRole of ${r.roleArn}`;
  return new Refreshing(
    source,
    async () => {
      const signer = await sourceProvider.get();
      let doc: Record<string, unknown>;
      try {
        doc = await stsCall(
          net.sts(r.stsRegion),
          signer,
          'AssumeRole',
          { RoleArn: r.roleArn, RoleSessionName: r.sessionName ?? DEFAULT_SESSION, DurationSeconds: r.durationSeconds ?? 3600, ExternalId: r.externalId },
          net,
          [],
        );
      } catch (e) {
        throw stsFailure(e, what);
      }
      return temporary((doc.Credentials ?? {}) as Record<string, unknown>, what);
    },
    net.clock ?? Date.now,
    net.onSecret ?? (() => undefined),
  );
}

/** OIDC / RRSA: AssumeRoleWithOIDC with the token file read afresh each time (the platform rotates it). */
export function oidcProvider(r: RoleRequest & { providerArn: string; tokenFile: string }, net: CredentialNet, source: string): CredentialProvider {
  const what = `AssumeRoleWithOIDC of ${r.roleArn}`;
  const onSecret = net.onSecret ?? (() => undefined);
  return new Refreshing(
    source,
    async () => {
      let token: string;
      try {
        token = readFileSync(r.tokenFile, 'utf8').trim();
      } catch {
        throw new AuthError(`cannot read the OIDC token file ${r.tokenFile}`);
      }
      if (token === '') throw new AuthError(`the OIDC token file ${r.tokenFile} is empty`);
      onSecret(token);
      let doc: Record<string, unknown>;
      try {
        doc = await stsCall(
          net.sts(r.stsRegion),
          undefined,
          'AssumeRoleWithOIDC',
          { RoleArn: r.roleArn, OIDCProviderArn: r.providerArn, OIDCToken: token, RoleSessionName: r.sessionName ?? DEFAULT_SESSION, DurationSeconds: r.durationSeconds ?? 3600 },
          net,
          [token],
        );
      } catch (e) {
        throw stsFailure(e, what);
      }
      return temporary((doc.Credentials ?? {}) as Record<string, unknown>, what);
    },
    net.clock ?? Date.now,
    onSecret,
  );
}

/** One bounded, unproxied HTTP exchange for local credential services (metadata service, credentials URI). */
export async function fetchLocal(url: string, opts: { method?: string; headers?: Record<string, string>; timeoutMs: number }): Promise<{ status: number; body: string }> {
  const agent = boundedAgent(url);
  const ex = new Exchange(opts.timeoutMs, MAX_DOCUMENT_BYTES);
  let ok = false;
  try {
    const done = withinExchange(
      ex,
      () =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          });
          req.on('error', reject);
          req.end();
        }),
    );
    done.catch(() => undefined);
    const r = await Promise.race([done, ex.failed]);
    ok = true;
    return r;
  } finally {
    ex.finish(ok);
    agent.destroy();
  }
}

/** EcsRamRole: the instance's RAM role from the metadata service (IMDSv2 token first; v1 unless disabled). */
export function ecsRamRoleProvider(
  roleName: string | undefined,
  o: { env: Record<string, string | undefined> },
  net: CredentialNet,
  source: string,
): CredentialProvider {
  if (o.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED?.toLowerCase() === 'true') {
    throw new AuthError('the ECS metadata service is disabled (ALIBABA_CLOUD_ECS_METADATA_DISABLED=true), so the EcsRamRole credentials cannot be read');
  }
  const base = (o.env.CGW_BATCH_ECS_METADATA_URL ?? ECS_METADATA_URL).replace(/\/+$/, '');
  const v1Disabled = o.env.ALIBABA_CLOUD_IMDSV1_DISABLED?.toLowerCase() === 'true';
  const timeoutMs = Math.min(net.timeoutMs, 5000);
  const what = 'the ECS metadata service';
  const get = async (path: string, token: string | undefined): Promise<string> => {
    let r: { status: number; body: string };
    try {
      r = await fetchLocal(`${base}${path}`, { headers: token ? { 'X-aliyun-ecs-metadata-token': token } : undefined, timeoutMs });
    } catch {
      throw new AuthError(`${what} (${base}) did not answer: is this an ECS instance with a RAM role?`);
    }
    if (r.status !== 200) throw new AuthError(`${what} answered HTTP ${r.status} for ${path.replace(/[^/]+$/, (s) => (path.endsWith('/') ? s : '<role>'))}`);
    return r.body;
  };
  return new Refreshing(
    source,
    async () => {
      let token: string | undefined;
      try {
        const r = await fetchLocal(`${base}/latest/api/token`, { method: 'PUT', headers: { 'X-aliyun-ecs-metadata-token-ttl-seconds': String(METADATA_TOKEN_TTL_S) }, timeoutMs });
        if (r.status === 200 && r.body.trim() !== '') token = r.body.trim();
      } catch {
        // no IMDSv2: v1 below, unless forbidden
      }
      if (token === undefined && v1Disabled) throw new AuthError(`${what} gave no IMDSv2 token and IMDSv1 is disabled (ALIBABA_CLOUD_IMDSV1_DISABLED=true)`);
      if (token) net.onSecret?.(token);
      const role = roleName ?? (await get('/latest/meta-data/ram/security-credentials/', token)).trim().split('\n')[0]?.trim();
      if (!role || !/^[A-Za-z0-9._@-]{1,64}$/.test(role)) throw new AuthError(`${what} names no RAM role for this instance`);
      let doc: Record<string, unknown>;
      try {
        doc = JSON.parse(await get(`/latest/meta-data/ram/security-credentials/${encodeURIComponent(role)}`, token)) as Record<string, unknown>;
      } catch (e) {
        throw e instanceof AuthError ? e : new AuthError(`${what} answered with a document that is not JSON`);
      }
      if (doc.Code !== undefined && doc.Code !== 'Success') throw new AuthError(`${what} answered Code ${String(doc.Code).slice(0, 64)} for role ${role}`);
      return temporary(doc, `${what} (role ${role})`);
    },
    net.clock ?? Date.now,
    net.onSecret ?? (() => undefined),
  );
}

/** CredentialsURI: a local service that answers `{Code: "Success", AccessKeyId, AccessKeySecret, SecurityToken, Expiration}`. */
export function credentialsUriProvider(uri: string, net: CredentialNet, source: string): CredentialProvider {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw new AuthError(`the credentials URI is not a URL`);
  }
  if (u.protocol !== 'http:') throw new AuthError(`the credentials URI must be an http:// URL (a local credential service), got ${u.protocol}//`);
  const shown = `${u.protocol}//${u.host}${u.pathname}`;
  return new Refreshing(
    source,
    async () => {
      let r: { status: number; body: string };
      try {
        r = await fetchLocal(uri, { timeoutMs: net.timeoutMs });
      } catch {
        throw new AuthError(`the credentials URI ${shown} did not answer`);
      }
      if (r.status !== 200) throw new AuthError(`the credentials URI ${shown} answered HTTP ${r.status}`);
      let doc: Record<string, unknown>;
      try {
        doc = JSON.parse(r.body) as Record<string, unknown>;
      } catch {
        throw new AuthError(`the credentials URI ${shown} answered with a document that is not JSON`);
      }
      if (doc.Code !== undefined && doc.Code !== 'Success') throw new AuthError(`the credentials URI ${shown} answered Code ${String(doc.Code).slice(0, 64)}`);
      return temporary(doc, `the credentials URI ${shown}`);
    },
    net.clock ?? Date.now,
    net.onSecret ?? (() => undefined),
  );
}

/** One profile of ~/.aliyun/config.json, as the aliyun CLI writes it (config/profile.go field names). */
export interface CliProfile {
  name: string;
  mode: string;
  access_key_id?: string;
  access_key_secret?: string;
  sts_token?: string;
  sts_region?: string;
  ram_role_name?: string;
  ram_role_arn?: string;
  ram_session_name?: string;
  external_id?: string;
  source_profile?: string;
  expired_seconds?: number | string;
  credentials_uri?: string;
  oidc_provider_arn?: string;
  oidc_token_file?: string;
}

export function cliConfigPath(home: string): string {
  return join(home, '.aliyun', 'config.json');
}

function readCliConfig(path: string): { current?: string; profiles: CliProfile[] } {
  let raw: string;
  try {
    if (statSync(path).size > 4 * 1024 * 1024) throw new Error('too large');
    raw = readFileSync(path, 'utf8');
  } catch {
    throw new AuthError(`cannot read the aliyun CLI config ${path}`);
  }
  let conf: unknown;
  try {
    conf = JSON.parse(raw);
  } catch {
    // Never quote the file: it holds secrets.
    throw new AuthError(`the aliyun CLI config ${path} is not valid JSON`);
  }
  const c = conf as { current?: unknown; profiles?: unknown };
  if (!c || typeof c !== 'object' || !Array.isArray(c.profiles)) throw new AuthError(`the aliyun CLI config ${path} has no profiles`);
  return { current: typeof c.current === 'string' ? c.current : undefined, profiles: c.profiles.filter((p): p is CliProfile => !!p && typeof p === 'object' && typeof (p as CliProfile).name === 'string') };
}

const MODES = ['AK', 'StsToken', 'RamRoleArn', 'EcsRamRole', 'ChainableRamRoleArn', 'OIDC', 'CredentialsURI'];

/** The provider of one CLI profile; ChainableRamRoleArn follows `source_profile` (cycles refused). */
export function profileProvider(
  conf: { profiles: CliProfile[] },
  name: string,
  o: { env: Record<string, string | undefined>; path: string },
  net: CredentialNet,
  seen: string[] = [],
): CredentialProvider {
  const p = conf.profiles.find((x) => x.name === name);
  if (!p) throw new AuthError(`no profile '${name}' in ${o.path}; check the name with \`aliyun configure list\``);
  if (seen.includes(name)) throw new AuthError(`profile '${name}' is its own source_profile (${[...seen, name].join(' -> ')})`);
  const mode = MODES.find((m) => m.toLowerCase() === String(p.mode ?? '').toLowerCase());
  const source = `profile ${name} (${mode ?? p.mode})`;
  const need = (field: keyof CliProfile): string => {
    const v = p[field];
    if (typeof v !== 'string' || v === '') throw new AuthError(`profile '${name}' (${mode}) has no ${field} in ${o.path}`);
    return v;
  };
  const role = (): RoleRequest => ({
    roleArn: need('ram_role_arn'),
    sessionName: text(p.ram_session_name),
    durationSeconds: durationOf(p.expired_seconds),
    externalId: text(p.external_id),
    stsRegion: text(p.sts_region),
  });
  switch (mode) {
    case 'AK':
      return staticProvider({ accessKeyId: need('access_key_id'), accessKeySecret: need('access_key_secret') }, source);
    case 'StsToken':
      return staticProvider({ accessKeyId: need('access_key_id'), accessKeySecret: need('access_key_secret'), securityToken: need('sts_token') }, source);
    case 'RamRoleArn':
      return ramRoleArnProvider(staticProvider({ accessKeyId: need('access_key_id'), accessKeySecret: need('access_key_secret') }, source), role(), net, source);
    case 'ChainableRamRoleArn':
      return ramRoleArnProvider(profileProvider(conf, need('source_profile'), o, net, [...seen, name]), role(), net, source);
    case 'EcsRamRole':
      return ecsRamRoleProvider(text(p.ram_role_name), o, net, source);
    case 'OIDC':
      return oidcProvider({ ...role(), providerArn: need('oidc_provider_arn'), tokenFile: need('oidc_token_file') }, net, source);
    case 'CredentialsURI':
      return credentialsUriProvider(text(p.credentials_uri) ?? o.env.ALIBABA_CLOUD_CREDENTIALS_URI ?? need('credentials_uri'), net, source);
    default:
      throw new AuthError(`profile '${name}' uses mode ${String(p.mode).slice(0, 40)}, which cgw-batch does not support (supported: ${MODES.join(', ')})`);
  }
}

/**
 * Order: `--profile`; the env keys (ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET, optional _SECURITY_TOKEN); OIDC from env
 * (RRSA: ALIBABA_CLOUD_ROLE_ARN, _OIDC_PROVIDER_ARN, _OIDC_TOKEN_FILE); the CLI config's ALIBABA_CLOUD_PROFILE or current
 * profile; ALIBABA_CLOUD_ECS_METADATA (a role name) for the metadata service; ALIBABA_CLOUD_CREDENTIALS_URI. The
 * metadata service is never probed unasked: a bare chain would wait on 100.100.100.200 on every laptop.
 */
export function resolveProvider(src: CredentialSource, net: CredentialNet): CredentialProvider | undefined {
  const { env } = src;
  const home = src.home ?? env.HOME ?? '';
  const path = cliConfigPath(home);
  if (src.profile) return profileProvider(readCliConfig(path), src.profile, { env, path }, net);
  const id = env.ALIBABA_CLOUD_ACCESS_KEY_ID ?? env.ALICLOUD_ACCESS_KEY;
  const secret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? env.ALICLOUD_SECRET_KEY;
  if (id && secret) {
    return staticProvider({ accessKeyId: id, accessKeySecret: secret, securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN || env.ALICLOUD_SECURITY_TOKEN || undefined }, 'env');
  }
  if (env.ALIBABA_CLOUD_ROLE_ARN && env.ALIBABA_CLOUD_OIDC_PROVIDER_ARN && env.ALIBABA_CLOUD_OIDC_TOKEN_FILE) {
    return oidcProvider(
      {
        roleArn: env.ALIBABA_CLOUD_ROLE_ARN,
        providerArn: env.ALIBABA_CLOUD_OIDC_PROVIDER_ARN,
        tokenFile: env.ALIBABA_CLOUD_OIDC_TOKEN_FILE,
        sessionName: env.ALIBABA_CLOUD_ROLE_SESSION_NAME || undefined,
      },
      net,
      'env (OIDC)',
    );
  }
  if (env.ALIBABA_CLOUD_CLI_PROFILE_DISABLED?.toLowerCase() !== 'true' && existsFile(path)) {
    const conf = readCliConfig(path);
    const name = env.ALIBABA_CLOUD_PROFILE || conf.current;
    if (name) return profileProvider(conf, name, { env, path }, net);
  }
  if (env.ALIBABA_CLOUD_ECS_METADATA) return ecsRamRoleProvider(env.ALIBABA_CLOUD_ECS_METADATA, { env }, net, 'env (EcsRamRole)');
  if (env.ALIBABA_CLOUD_CREDENTIALS_URI) return credentialsUriProvider(env.ALIBABA_CLOUD_CREDENTIALS_URI, net, 'env (CredentialsURI)');
  return undefined;
}

function existsFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
