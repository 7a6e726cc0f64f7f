// STS GetCallerIdentity over pop-core and the bounded transport: which account the credentials belong to.
import { systemClock, type Clock } from '../clock.js';
import { rpcClientClass } from './pop-core.js';
import { CloudError } from './errors.js';
import { callRpc, plain, supplierOf, withCredentials, type CredentialSupplier, type Credentials } from './pop-client.js';
import { boundedAgent } from './transport.js';

export const STS_API_VERSION = '2015-04-01';
/** The public STS endpoint; with `--endpoint` (emulator, proxy) the CLI sends STS to that URL instead. */
export const STS_ENDPOINT = 'https://sts.aliyuncs.com';

export interface CallerIdentity {
  /** The main account the credentials act for: what a journal is bound to. */
  accountId: string;
  /** The account or RAM user id; the API omits it for an assumed role. */
  userId?: string;
  arn: string;
  /** 'Account' | 'RAMUser' | 'AssumedRoleUser' (kept as sent, so a new type is not an error). */
  identityType: string;
  principalId?: string;
}

export interface CallerIdentityOptions {
  credentials: Credentials | CredentialSupplier;
  /** Default STS_ENDPOINT. */
  endpoint?: string;
  /** The proxy for this endpoint (already checked against NO_PROXY). */
  proxy?: URL;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Retries of transient failures (default: none, one call). */
  retry?: StsRetry;
}

/** How GetCallerIdentity is retried: every command asks it first, so one transient error must not end the command. */
export interface StsRetry {
  /** Calls at most, the first included. */
  attempts: number;
  /** Full-jitter exponential backoff between calls (the run's configured base and cap). */
  baseMs: number;
  capMs: number;
  clock?: Clock;
  random?: () => number;
}

/** The first call and three retries: with the default backoff (200 ms base) a few seconds at most besides the calls. */
export const STS_ATTEMPTS = 4;

const ACCOUNT_ID = /^[A-Za-z0-9_.-]{1,64}$/;

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
}

/**
 * GetCallerIdentity, retried on transient failures, throttling and conflicts (`opts.retry`, bounded by its attempts
 * and backoff cap). The error that ends it names the call and the endpoint, and how many attempts were made.
 */
export async function getCallerIdentity(opts: CallerIdentityOptions): Promise<CallerIdentity> {
  const endpoint = (opts.endpoint ?? STS_ENDPOINT).replace(/\/+$/, '');
  const r = opts.retry;
  const attempts = Math.max(1, r?.attempts ?? 1);
  for (let attempt = 1; ; attempt++) {
    try {
      return await callerIdentityOnce(opts, endpoint);
    } catch (e) {
      const err = e instanceof CloudError ? e : new CloudError({ code: 'UnknownError', message: 'the request failed with an unexpected error', errorClass: 'transient' });
      if (!err.retryable || attempt >= attempts || opts.signal?.aborted) throw namedCall(err, endpoint, attempt);
      const backoff = Math.floor((r?.random ?? Math.random)() * Math.min(r!.capMs, r!.baseMs * 2 ** (attempt - 1)));
      await (r?.clock ?? systemClock).sleep(Math.min(r!.capMs, Math.max(backoff, err.retryAfterMs ?? 0)), opts.signal);
    }
  }
}

/** The error that ended GetCallerIdentity, saying which call at which endpoint failed (every command calls it first). */
function namedCall(e: CloudError, endpoint: string, attempts: number): CloudError {
  return new CloudError({
    code: e.code,
    message: `STS GetCallerIdentity at ${endpoint} failed${attempts > 1 ? ` after ${attempts} attempts` : ''}: ${e.message}`,
    status: e.status,
    requestId: e.requestId,
    errorClass: e.errorClass,
    retryAfterMs: e.retryAfterMs,
    outcomeUnknown: e.outcomeUnknown,
  });
}

/**
 * One GetCallerIdentity call. Errors are CloudErrors (bad keys: class 'auth'; clock skew: 'clock'); an answer
 * without a usable AccountId is InvalidResponse.MissingAccount. The pool is closed before returning.
 */
async function callerIdentityOnce(opts: CallerIdentityOptions, endpoint: string): Promise<CallerIdentity> {
  const agent = boundedAgent(endpoint, opts.proxy);
  const Ctor = rpcClientClass<any>();
  try {
    const r = plain<Record<string, unknown>>(
      await withCredentials(supplierOf(opts.credentials), (c) => {
        const rpc = new Ctor(
          {
            endpoint,
            apiVersion: STS_API_VERSION,
            accessKeyId: c.accessKeyId,
            accessKeySecret: c.accessKeySecret,
            securityToken: c.securityToken || undefined,
            opts: { method: 'POST', timeout: opts.timeoutMs, agent },
          },
          true,
        );
        return callRpc(rpc, 'GetCallerIdentity', {}, { timeoutMs: opts.timeoutMs, signal: opts.signal, secrets: [c.accessKeySecret, c.securityToken] });
      }),
    );
    const accountId = text(r.AccountId);
    if (accountId === undefined || !ACCOUNT_ID.test(accountId)) {
      throw new CloudError({
        code: 'InvalidResponse.MissingAccount',
        message: 'GetCallerIdentity answered without a usable AccountId (is the endpoint an STS endpoint?)',
        requestId: text(r.RequestId),
        errorClass: 'transient',
      });
    }
    return {
      accountId,
      userId: text(r.UserId),
      arn: text(r.Arn) ?? '',
      identityType: text(r.IdentityType) ?? 'unknown',
      principalId: text(r.PrincipalId),
    };
  } finally {
    agent.destroy();
  }
}
