// Credentials (env, aliyun CLI profile, SDK default chain) and one client per region endpoint.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import credentialsModule, { CLIProfileCredentialsProvider } from '@alicloud/credentials';
import { AuthError } from '../errors.js';
import { PopVpcClient, type Credentials } from './pop-client.js';
import type { VpcClient } from './types.js';

// The package is CommonJS with `exports.default = Credential`; ESM's default import is the exports object.
type CredentialCtor = new () => { getCredential(): Promise<{ accessKeyId?: string; accessKeySecret?: string; securityToken?: string }> };
const Credential: CredentialCtor = (credentialsModule as unknown as { default?: CredentialCtor }).default ?? (credentialsModule as unknown as CredentialCtor);

export interface CredentialSource {
  env: Record<string, string | undefined>;
  profile?: string;
  home?: string;
}

/**
 * Order: explicit env keys, then `--profile` from ~/.aliyun/config.json, then the SDK default chain (only when
 * some credential source is configured: a bare chain would probe the ECS metadata service and fail slowly).
 * Error messages never echo what the providers said (they can quote config values).
 */
export async function resolveCredentials(src: CredentialSource): Promise<Credentials> {
  const { env } = src;
  const id = env.ALIBABA_CLOUD_ACCESS_KEY_ID ?? env.ALICLOUD_ACCESS_KEY;
  const secret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? env.ALICLOUD_SECRET_KEY;
  if (id && secret && !src.profile) {
    return { accessKeyId: id, accessKeySecret: secret, securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN || env.ALICLOUD_SECURITY_TOKEN || undefined };
  }
  const home = src.home ?? env.HOME ?? '';
  if (src.profile) {
    try {
      const provider = CLIProfileCredentialsProvider.builder().withProfileName(src.profile).build();
      const c = await provider.getCredentials();
      return { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, securityToken: c.securityToken || undefined };
    } catch {
      throw new AuthError(
        `could not read credentials of profile '${src.profile}' from ${join(home, '.aliyun', 'config.json')}; ` +
          'check the profile name with `aliyun configure list`',
      );
    }
  }
  const configured =
    existsSync(join(home, '.aliyun', 'config.json')) ||
    existsSync(env.ALIBABA_CLOUD_CREDENTIALS_FILE ?? join(home, '.alibabacloud', 'credentials')) ||
    Boolean(env.ALIBABA_CLOUD_ROLE_ARN && env.ALIBABA_CLOUD_OIDC_TOKEN_FILE) ||
    Boolean(env.ALIBABA_CLOUD_ECS_METADATA) ||
    Boolean(env.ALIBABA_CLOUD_CREDENTIALS_URI);
  if (configured) {
    try {
      const c = await new Credential().getCredential();
      if (c.accessKeyId && c.accessKeySecret) {
        return { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, securityToken: c.securityToken || undefined };
      }
    } catch {
      // fall through to the message below
    }
  }
  throw new AuthError(
    'no Alibaba Cloud credentials found: export ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, ' +
      'or pass --profile NAME (aliyun CLI config), or try the tool locally with --sandbox',
  );
}

export interface Connection {
  /** A label for messages and the journal: the single endpoint, or the regional pattern. */
  endpoint: string;
  accessKeyId: string;
  clientFor(region: string): VpcClient;
  /**
   * Destroys every client's sockets. Call it when the command is done: afterwards nothing of the connection keeps
   * the process alive (a hung endpoint once left 8 sockets open and the CLI never exited). Idempotent.
   */
  close(): void;
}

/** One pop-core client per endpoint (each has its own keep-alive pool); `--endpoint` sends every region to one URL. */
export function connect(opts: { credentials: Credentials; endpoint?: string; timeoutMs: number; label?: string }): Connection {
  const clients = new Map<string, PopVpcClient>();
  const endpointFor = (region: string) => opts.endpoint ?? `https://vpc.${region}.aliyuncs.com`;
  return {
    endpoint: opts.label ?? opts.endpoint ?? 'https://vpc.<region>.aliyuncs.com',
    accessKeyId: opts.credentials.accessKeyId,
    clientFor(region: string): VpcClient {
      const url = endpointFor(region);
      let c = clients.get(url);
      if (!c) {
        c = new PopVpcClient({ endpoint: url, credentials: opts.credentials, timeoutMs: opts.timeoutMs });
        clients.set(url, c);
      }
      return c;
    },
    close(): void {
      for (const c of clients.values()) c.close();
    },
  };
}
