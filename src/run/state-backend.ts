// Where a command's journal lives: --state (or CGW_BATCH_STATE) to a backend spec, opened with the OSS credentials
// from the same chain as the VPC calls. The estate of a shared location defaults to the manifest's file name.
import { basename } from 'node:path';
import { credentialProvider } from '../cloud/connect.js';
import type { CredentialProvider } from '../cloud/credentials.js';
import { resolveEndpoints } from '../cloud/endpoints.js';
import { proxySettings } from '../cloud/proxy.js';
import { describeSpec, isStateUrl, openBackend, parseStateLocation, redactUrl, type BackendSpec, type OssCredentials } from '../state/backend/index.js';
import type { StateBackend } from '../state/backend/types.js';
import { shownPath } from '../load/index.js';
import type { Context } from './context.js';

/**
 * The spec of `location` (default: the command's --state), its estate defaulting to `estate`, else to the manifest's
 * file name.
 */
export function stateSpec(ctx: Context, location?: string, estate?: string): BackendSpec {
  const o = ctx.options;
  const where = location ?? ('statePath' in o ? o.statePath : undefined);
  if (where === undefined) throw new Error(`cgw-batch ${o.command} has no state location`);
  const manifest = 'manifest' in o ? o.manifest : undefined;
  return parseStateLocation(where, estate ?? (manifest ? basename(manifest) : undefined), o.stateEndpoint);
}

/** The command's journal as it may be printed: a path as it is; a shared estate by its place and name, never a password. */
export function stateLabel(ctx: Context, location?: string): string {
  try {
    return describeSpec(stateSpec(ctx, location));
  } catch {
    const where = location ?? ('statePath' in ctx.options ? ctx.options.statePath : undefined) ?? '';
    return isStateUrl(where) ? redactUrl(where) : where;
  }
}

/** Whether a --state value names a shared backend (postgres://, oss://) rather than a journal file. */
export function isSharedState(location: string): boolean {
  return isStateUrl(location);
}

/** stateLabel for people: a journal file under the working directory is named relative to it, like the manifest. */
export function stateShown(ctx: Context): string {
  const where = 'statePath' in ctx.options ? ctx.options.statePath : undefined;
  return where !== undefined && !isStateUrl(where) ? shownPath(where, ctx.io.cwd) : stateLabel(ctx);
}

/**
 * The credentials an OSS state uses: the VPC calls' chain (--profile, the environment keys, OIDC, the CLI config,
 * the ECS RAM role), resolved on first use only, every secret handed to the redactor.
 */
function ossCredentials(ctx: Context): () => Promise<OssCredentials> {
  const o = ctx.options;
  let provider: CredentialProvider | undefined;
  return async () => {
    if (!provider) {
      const proxy = proxySettings(ctx.io.env, o.proxy);
      const stsRegion = ctx.io.env.ALIBABA_CLOUD_STS_REGION || ctx.io.env.ALIBABA_CLOUD_REGION_ID || undefined;
      provider = credentialProvider(
        { env: ctx.io.env, profile: o.profile },
        {
          timeoutMs: o.timeoutMs,
          proxy,
          sts: (profileRegion) => resolveEndpoints({ endpoint: undefined, network: o.network, stsEndpoint: o.stsEndpoint, stsRegion: stsRegion ?? profileRegion }).sts,
          onSecret: (secret) => ctx.redactor.add(secret),
        },
      );
    }
    const c = await provider.get();
    ctx.redactor.add(c.accessKeySecret);
    ctx.redactor.add(c.securityToken);
    return { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, ...(c.securityToken ? { securityToken: c.securityToken } : {}) };
  };
}

/** Opens the backend of a spec; the caller closes it. */
export function openState(ctx: Context, spec: BackendSpec): Promise<StateBackend> {
  return openBackend(spec, { ossCredentials: ossCredentials(ctx) });
}

/** Runs `fn` with the backend of `spec` open, and closes it after. */
export async function withState<T>(ctx: Context, spec: BackendSpec, fn: (backend: StateBackend) => Promise<T>): Promise<T> {
  const backend = await openState(ctx, spec);
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}
