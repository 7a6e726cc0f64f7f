// Opens a state backend from a location (a path, postgres://..., oss://bucket/prefix) or a serialisable spec.
import { UsageError } from '../../errors.js';
import { openFileBackend } from './file.js';
import { redactUrl } from './url.js';

export { redactUrl } from './url.js';
import { leaseTiming, type StateBackend } from './types.js';


export interface OssCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/** Everything needed to open a backend, as plain data (a child process gets it as JSON). */
export type BackendSpec =
  | { kind: 'file'; path: string; ttlMs?: number }
  | {
      kind: 'postgres';
      /** libpq-style URL; its password is never printed. */
      url: string;
      estate: string;
      ttlMs?: number;
      /** Server-side TCP keepalive idle/interval (s), probe count and tcp_user_timeout (ms) for the lease's session. */
      keepalive?: { idleS?: number; intervalS?: number; count?: number; userTimeoutMs?: number };
      /** Per-statement deadline on our side (ms). */
      queryTimeoutMs?: number;
    }
  | {
      kind: 'oss';
      /** http(s)://host[:port]; path-style addressing (`/bucket/key`) when `pathStyle`. */
      endpoint: string;
      bucket: string;
      /** `<prefix>/<estate>`: the folder holding journal.<gen>.jsonl objects. */
      prefix: string;
      region?: string;
      pathStyle?: boolean;
      credentials?: OssCredentials;
      ttlMs?: number;
      requestTimeoutMs?: number;
    };

export interface OpenDeps {
  /** Credentials for OSS when the spec carries none (the same chain as the VPC calls). */
  ossCredentials?: () => Promise<OssCredentials>;
}

export async function openBackend(spec: BackendSpec, deps: OpenDeps = {}): Promise<StateBackend> {
  switch (spec.kind) {
    case 'file':
      return openFileBackend({ path: spec.path, ...(spec.ttlMs ? { timing: leaseTiming(spec.ttlMs) } : {}) });
    case 'postgres': {
      const { openPostgresBackend } = await import('./postgres.js');
      return openPostgresBackend({
        url: spec.url,
        estate: spec.estate,
        ...(spec.ttlMs ? { timing: leaseTiming(spec.ttlMs) } : {}),
        ...(spec.keepalive ? { keepalive: spec.keepalive } : {}),
        ...(spec.queryTimeoutMs ? { queryTimeoutMs: spec.queryTimeoutMs } : {}),
      });
    }
    case 'oss': {
      const { openOssBackend } = await import('./oss.js');
      const creds = spec.credentials;
      const provider = creds ? async () => creds : deps.ossCredentials;
      if (!provider) throw new UsageError(`no credentials for ${describeSpec(spec)}`);
      return openOssBackend({
        endpoint: spec.endpoint,
        bucket: spec.bucket,
        prefix: spec.prefix,
        credentials: provider,
        ...(spec.region ? { region: spec.region } : {}),
        ...(spec.pathStyle !== undefined ? { pathStyle: spec.pathStyle } : {}),
        ...(spec.ttlMs ? { timing: leaseTiming(spec.ttlMs) } : {}),
        ...(spec.requestTimeoutMs ? { requestTimeoutMs: spec.requestTimeoutMs } : {}),
      });
    }
  }
}

/** A spec for messages: never a password or a key. */
export function describeSpec(spec: BackendSpec): string {
  switch (spec.kind) {
    case 'file':
      return spec.path;
    case 'postgres':
      return `${redactUrl(spec.url)}#${spec.estate}`;
    case 'oss':
      return `oss://${spec.bucket}/${spec.prefix}`;
  }
}

/**
 * A `--state` value to a spec: `postgres://` / `postgresql://` URLs (the estate from `?estate=` or else
 * `defaultEstate`), `oss://bucket/prefix`, anything else a file path.
 */
export function parseStateLocation(location: string, defaultEstate: string, ossEndpoint?: string): BackendSpec {
  if (/^postgres(ql)?:\/\//i.test(location)) {
    let u: URL;
    try {
      u = new URL(location);
    } catch {
      throw new UsageError(`--state: not a valid PostgreSQL URL: ${redactUrl(location)}`);
    }
    const estate = u.searchParams.get('estate') ?? defaultEstate;
    u.searchParams.delete('estate');
    return { kind: 'postgres', url: u.toString(), estate };
  }
  if (/^oss:\/\//i.test(location)) {
    const m = /^oss:\/\/([a-z0-9][a-z0-9-]{1,61}[a-z0-9])\/(.+?)\/?$/.exec(location);
    if (!m) throw new UsageError(`--state: expected oss://BUCKET/PREFIX, got ${location}`);
    if (!ossEndpoint) throw new UsageError('--state oss://... needs an endpoint: --state-endpoint URL (or CGW_BATCH_STATE_ENDPOINT)');
    return { kind: 'oss', endpoint: ossEndpoint, bucket: m[1] ?? '', prefix: m[2] ?? '' };
  }
  return { kind: 'file', path: location };
}
