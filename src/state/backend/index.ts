// Opens a state backend from a location (a path, postgres://..., oss://bucket/prefix) or a serialisable spec.
import { UsageError } from '../../errors.js';
import { openFileBackend } from './file.js';
import { leaseTiming, type StateBackend } from './types.js';
import { redactUrl } from './url.js';

export { redactUrl } from './url.js';

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

/** Whether a `--state` value names a remote backend (a URL) rather than a file. */
export function isStateUrl(location: string): boolean {
  return /^(postgres(ql)?|oss):\/\//i.test(location);
}

/** `90`, `90s`, `1500ms`, `2m` -> milliseconds; undefined when the text is none of these. */
function durationMs(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000);
}

/** An estate name from `?estate=` or the default: one path segment, so it can never escape its prefix. */
function estateName(given: string | null, fallback: string | undefined, location: string): string {
  const e = given ?? fallback;
  if (e === undefined) throw new UsageError(`--state ${location}: which estate? add ?estate=NAME (commands with a manifest default to the manifest's file name)`);
  if (e === '' || e === '.' || e === '..' || e.includes('/') || e.length > 200 || /[\u0000-\u001f]/.test(e)) {
    throw new UsageError(`--state: the estate name ${JSON.stringify(e)} must be 1-200 characters without '/' or control characters`);
  }
  return e;
}

/** `?ttl=` (the lease's ttl, same for every runner of the estate): at least 300 ms. */
function ttlParam(u: URL, location: string): number | undefined {
  const v = u.searchParams.get('ttl');
  u.searchParams.delete('ttl');
  if (v === null) return undefined;
  const ms = durationMs(v);
  if (ms === undefined || ms < 300 || ms > 3_600_000) throw new UsageError(`--state ${location}: ttl must be a duration between 300ms and 60m (60s, 1500ms, 2m), got '${v}'`);
  return ms;
}

/**
 * A `--state` value to a spec. A path is the file backend. `postgres://` / `postgresql://` URLs and
 * `oss://BUCKET/PREFIX` name a place that holds many estates: the estate is `?estate=NAME`, else `defaultEstate`
 * (the manifest's file name), so one URL (CGW_BATCH_STATE) serves a whole team's manifests. `?ttl=` sets the lease's
 * ttl. OSS keeps an estate under `PREFIX/ESTATE/`.
 */
export function parseStateLocation(location: string, defaultEstate: string | undefined, ossEndpoint?: string): BackendSpec {
  if (/^postgres(ql)?:\/\//i.test(location)) {
    let u: URL;
    try {
      u = new URL(location);
    } catch {
      throw new UsageError(`--state: not a valid PostgreSQL URL: ${redactUrl(location)}`);
    }
    const shown = redactUrl(location);
    const estate = estateName(u.searchParams.get('estate'), defaultEstate, shown);
    u.searchParams.delete('estate');
    const ttlMs = ttlParam(u, shown);
    return { kind: 'postgres', url: u.toString(), estate, ...(ttlMs ? { ttlMs } : {}) };
  }
  if (/^oss:\/\//i.test(location)) {
    const [base = '', query = ''] = location.split('?', 2);
    const m = /^oss:\/\/([a-z0-9][a-z0-9-]{1,61}[a-z0-9])\/(.+?)\/?$/.exec(base);
    if (!m || m[2]?.split('/').some((seg) => seg === '' || seg === '.' || seg === '..')) throw new UsageError(`--state: expected oss://BUCKET/PREFIX, got ${location}`);
    if (!ossEndpoint) throw new UsageError('--state oss://... needs an endpoint: --state-endpoint URL (or CGW_BATCH_STATE_ENDPOINT)');
    const u = new URL(`http://x/?${query}`);
    const estate = estateName(u.searchParams.get('estate'), defaultEstate, base);
    u.searchParams.delete('estate');
    const ttlMs = ttlParam(u, base);
    const unknown = [...u.searchParams.keys()];
    if (unknown.length) throw new UsageError(`--state ${base}: unknown parameter ${unknown.join(', ')} (estate and ttl are known)`);
    return { kind: 'oss', endpoint: ossEndpoint, bucket: m[1] ?? '', prefix: `${m[2] ?? ''}/${estate}`, ...(ttlMs ? { ttlMs } : {}) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) throw new UsageError(`--state: unknown kind of location ${location.split(':')[0]}://; use a file path, postgres://... or oss://BUCKET/PREFIX`);
  return { kind: 'file', path: location };
}
