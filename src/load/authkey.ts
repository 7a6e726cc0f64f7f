// AuthKey resolution: literal values, `env:NAME` references and auth_key_env columns; every value goes to the redactor.
import type { Issue, UnresolvedSecret } from '../types.js';
import type { LoadOptions } from './options.js';

export interface AuthKeyResult {
  value?: string;
  /** True when the manifest itself holds the key (drives the file-permission warning). */
  literal: boolean;
  /** The row refers to a key this run cannot read (its issue is in `issues`): unknown, not absent. */
  unresolved?: UnresolvedSecret;
}

const ENV_PREFIX = 'env:';

/**
 * What reports write in an auth_key column for a key the manifest held literally: never the key, and not a blank
 * (a results file saved as the next manifest would then create the gateway without its key).
 */
export const AUTHKEY_NOT_COPIED = '(AuthKey not copied)';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * The report's echo of an AuthKey cell: an `env:NAME` reference as written, anything else (a literal key) as
 * AUTHKEY_NOT_COPIED. `isEnvColumn`: the cell is an auth_key_env variable name; only a plausible name is echoed (a
 * key pasted there by mistake is not).
 */
export function echoAuthKey(written: string, isEnvColumn = false): string {
  const v = written.trim();
  if (v === '' || written === AUTHKEY_NOT_COPIED) return written;
  if (isEnvColumn) return ENV_NAME.test(v) ? v : AUTHKEY_NOT_COPIED;
  if (v.startsWith(ENV_PREFIX) && ENV_NAME.test(v.slice(ENV_PREFIX.length).trim())) return v;
  return AUTHKEY_NOT_COPIED;
}

/**
 * Resolves the AuthKey of one row. `written` is the auth_key cell/value (may be `env:NAME`), `envName` the
 * auth_key_env cell/value. Both empty -> no key. Problems become row issues; the key itself is never in a message.
 */
export function resolveAuthKey(
  written: string | undefined,
  envName: string | undefined,
  opts: LoadOptions,
  issues: Issue[],
  file: string,
  line: number,
): AuthKeyResult {
  if (written === AUTHKEY_NOT_COPIED) {
    const issue: Issue = {
      severity: 'error',
      code: 'Cgw.AuthKeyNotCopied',
      field: 'auth_key',
      message: 'this row comes from a results file, which never holds AuthKeys: write the key again, or use auth_key: env:NAME',
      file,
      line,
    };
    issues.push(issue);
    return { literal: false, unresolved: { field: 'auth_key', issue, why: 'a results file does not carry AuthKeys' } };
  }
  const hasWritten = written !== undefined && written !== '';
  const hasEnv = envName !== undefined && envName !== '';
  if (hasWritten && hasEnv) {
    issues.push({
      severity: 'error',
      code: 'Cgw.AuthKeyConflict',
      field: 'auth_key',
      message: 'both auth_key and auth_key_env are set; keep one of them',
      file,
      line,
    });
    // The literal is still registered so it is masked wherever it might surface.
    if (!written.startsWith(ENV_PREFIX)) opts.redactor?.add(written);
    return { literal: !written.startsWith(ENV_PREFIX) };
  }
  let name: string | undefined;
  if (hasEnv) name = envName.trim();
  else if (hasWritten && written.startsWith(ENV_PREFIX)) name = written.slice(ENV_PREFIX.length).trim();
  else if (hasWritten) {
    opts.redactor?.add(written);
    return { value: written, literal: true };
  } else return { literal: false };

  if (name !== '' && !ENV_NAME.test(name)) {
    // Not a variable name: perhaps the key itself, pasted where its variable's name belongs. Never printed.
    opts.redactor?.add(name);
    issues.push({
      severity: 'error',
      code: 'Cgw.AuthKeyEnvMissing',
      field: 'auth_key',
      message: `the ${hasEnv ? 'auth_key_env value' : 'env: reference'} is not an environment variable name (letters, digits and _, not starting with a digit); write the variable's name there, never the key itself`,
      file,
      line,
    });
    return { literal: false };
  }
  if (name === '') {
    issues.push({ severity: 'error', code: 'Cgw.AuthKeyEnvMissing', field: 'auth_key', message: 'auth_key env: reference has no variable name (write env:NAME)', file, line });
    return { literal: false };
  }
  const value = opts.env[name];
  if (value === undefined || value === '') {
    const issue: Issue = {
      severity: 'error',
      code: 'Cgw.AuthKeyEnvMissing',
      field: 'auth_key',
      message: `environment variable ${name} is not set (or is empty); export it before running, or remove the auth_key`,
      file,
      line,
    };
    issues.push(issue);
    return { literal: false, unresolved: { field: 'auth_key', issue, why: `environment variable ${name} is not set` } };
  }
  opts.redactor?.add(value);
  return { value, literal: false };
}
