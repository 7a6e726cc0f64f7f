// STS GetCallerIdentity (2015-04-01): which account, user or role an access key speaks for (issue 10 §7, account binding).
import { createHash } from 'node:crypto';
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
