// STS 2015-04-01: GetCallerIdentity (which account a key speaks for) and AssumeRole / AssumeRoleWithOIDC (temporary keys).
import { createHash, randomBytes } from 'node:crypto';
import { err, missing } from './api-error.js';
import type { AuthAccount } from './auth.js';

export const STS_VERSION = '2015-04-01';
export const STS_ACTION = 'GetCallerIdentity';

/** A stable numeric id derived from a label: the real ids are 16-19 digits. */
function numericId(label: string, digits: number): string {
  const hex = createHash('sha256').update(label).digest('hex').slice(0, 15);
  return (BigInt('0x' + hex) % 10n ** BigInt(digits - 1) + 10n ** BigInt(digits - 1)).toString();
}

/**
 * The identity behind a key, shaped like the real response: a key with an STS token is an assumed role
 * (no UserId, a RoleId), a key with `ramUser` a RAM user, any other key the account itself (root).
 */
export function callerIdentity(a: AuthAccount): Record<string, string> {
  if (a.securityToken !== undefined) {
    const role = a.roleName ?? 'cgw-batch-role';
    const roleId = numericId(`role:${a.accountId}:${role}`, 17);
    const session = 'cgw-batch';
    return {
      IdentityType: 'AssumedRoleUser',
      AccountId: a.accountId,
      PrincipalId: `${roleId}:${session}`,
      RoleId: roleId,
      Arn: `acs:ram::${a.accountId}:assumed-role/${role}/${session}`,
    };
  }
  if (a.ramUser !== undefined) {
    const userId = numericId(`user:${a.accountId}:${a.ramUser}`, 16);
    return {
      IdentityType: 'RAMUser',
      AccountId: a.accountId,
      PrincipalId: userId,
      UserId: userId,
      Arn: `acs:ram::${a.accountId}:user/${a.ramUser}`,
    };
  }
  return {
    IdentityType: 'Account',
    AccountId: a.accountId,
    PrincipalId: a.accountId,
    UserId: a.accountId,
    Arn: `acs:ram::${a.accountId}:root`,
  };
}

/** Every STS action the emulator answers (on any host, like the VPC ones; the Host is recorded in the stats). */
export const STS_ACTIONS: ReadonlySet<string> = new Set([STS_ACTION, 'AssumeRole', 'AssumeRoleWithOIDC']);
/** Answered without a signature: the OIDC token is the proof. */
export const ANONYMOUS_STS_ACTIONS: ReadonlySet<string> = new Set(['AssumeRoleWithOIDC']);

export interface StsOptions {
  /**
   * Lifetime of issued credentials in ms, whatever DurationSeconds asked (tests of expiry mid-run; the real minimum
   * is 900 s). Default: DurationSeconds.
   */
  tokenTtlMs?: number;
  /** OIDC identity providers: provider ARN -> the OIDC tokens it vouches for. */
  oidcProviders?: Record<string, string[]>;
}

interface Issued extends AuthAccount {
  expiresAt: number;
}

const ROLE_ARN = /^acs:ram::(\d{1,20}):role\/([A-Za-z0-9._-]{1,64})$/;
const OIDC_PROVIDER_ARN = /^acs:ram::\d{1,20}:oidc-provider\/[A-Za-z0-9._-]{1,128}$/;
const SESSION_NAME = /^[A-Za-z0-9.@_-]{2,64}$/;
const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomText(n: number): string {
  const bytes = randomBytes(n);
  let s = '';
  for (const b of bytes) s += KEY_ALPHABET[b % KEY_ALPHABET.length];
  return s;
}

/** `YYYY-MM-DDThh:mm:ssZ`, as STS writes Expiration. */
function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * AssumeRole and AssumeRoleWithOIDC: temporary credentials (an `STS.` key, a secret, a token) for a role of an
 * account the emulator knows; requests signed with them are accepted until they expire, then refused with
 * InvalidSecurityToken.Expired as the real API does.
 */
export class StsService {
  private readonly issued = new Map<string, Issued>();

  constructor(
    private readonly opts: StsOptions,
    private readonly knownAccount: (accountId: string) => boolean,
  ) {}

  /** The account behind an issued key; an expired one is refused here (before its signature is looked at). */
  lookup(accessKeyId: string, now: number): AuthAccount | undefined {
    const k = this.issued.get(accessKeyId);
    if (!k) return undefined;
    if (now >= k.expiresAt) throw err(400, 'InvalidSecurityToken.Expired', 'Specified SecurityToken is expired.');
    return k;
  }

  issuedCount(): number {
    return this.issued.size;
  }

  run(action: string, caller: AuthAccount | undefined, params: ReadonlyMap<string, string>, now: number): Record<string, unknown> {
    if (action === 'AssumeRole') {
      // RAM: "You cannot use an Alibaba Cloud account to call this operation" (only RAM users and roles may).
      if (caller && caller.securityToken === undefined && caller.ramUser === undefined)
        throw err(403, 'NoPermission', 'You are not authorized to do this action. You should be authorized by RAM.');
      return this.issue(params, now);
    }
    if (action === 'AssumeRoleWithOIDC') {
      const providerArn = params.get('OIDCProviderArn') ?? '';
      const token = params.get('OIDCToken') ?? '';
      if (providerArn === '') throw missing('OIDCProviderArn');
      if (token === '') throw missing('OIDCToken');
      if (!OIDC_PROVIDER_ARN.test(providerArn)) throw err(400, 'InvalidParameter.OIDCProviderArn', 'The parameter OIDCProviderArn is wrongly formed.');
      const accepted = this.opts.oidcProviders?.[providerArn];
      if (!accepted) throw err(404, 'EntityNotExist.OIDCProvider', 'The specified OIDC provider does not exist.');
      if (!accepted.includes(token)) throw err(400, 'AuthenticationFail.OIDCToken.Invalid', 'The OIDC token is invalid or expired.');
      return this.issue(params, now);
    }
    throw err(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');
  }

  private issue(params: ReadonlyMap<string, string>, now: number): Record<string, unknown> {
    const roleArn = params.get('RoleArn') ?? '';
    const session = params.get('RoleSessionName') ?? '';
    if (roleArn === '') throw missing('RoleArn');
    if (session === '') throw missing('RoleSessionName');
    const m = ROLE_ARN.exec(roleArn);
    if (!m) throw err(400, 'InvalidParameter.RoleArn', 'The parameter RoleArn is wrongly formed.');
    if (!SESSION_NAME.test(session)) throw err(400, 'InvalidParameter.RoleSessionName', 'The parameter RoleSessionName is wrongly formed.');
    const durationText = params.get('DurationSeconds') ?? '3600';
    const duration = /^\d+$/.test(durationText) ? Number(durationText) : NaN;
    if (!(duration >= 900 && duration <= 43_200)) throw err(400, 'InvalidParameter.DurationSeconds', 'The Min/Max value of DurationSeconds is 15min/12hr.');
    const accountId = m[1]!;
    const roleName = m[2]!;
    if (!this.knownAccount(accountId)) throw err(404, 'EntityNotExist.Role', 'The specified Role not exists .');
    // Expired keys are kept for their error message, but not forever.
    for (const [id, k] of this.issued) if (now - k.expiresAt > 60 * 60 * 1000) this.issued.delete(id);
    const expiresAt = now + (this.opts.tokenTtlMs ?? duration * 1000);
    const key: Issued = {
      accessKeyId: `STS.${randomText(24)}`,
      accessKeySecret: randomText(40),
      securityToken: `CAIS${randomText(300)}`,
      accountId,
      roleName,
      expiresAt,
    };
    this.issued.set(key.accessKeyId, key);
    const roleId = numericId(`role:${accountId}:${roleName}`, 17);
    return {
      AssumedRoleUser: { AssumedRoleId: `${roleId}:${session}`, Arn: `acs:ram::${accountId}:role/${roleName}/${session}` },
      Credentials: { AccessKeyId: key.accessKeyId, AccessKeySecret: key.accessKeySecret, SecurityToken: key.securityToken, Expiration: isoSeconds(expiresAt) },
    };
  }
}
