// AuthKey resolution: literal values, `env:NAME` references and auth_key_env columns; every value goes to the redactor.
import type { Issue } from '../types.js';
import type { LoadOptions } from './options.js';

export interface AuthKeyResult {
  value?: string;
  /** True when the manifest itself holds the key (drives the file-permission warning). */
  literal: boolean;
}

const ENV_PREFIX = 'env:';

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

  const value = name === '' ? undefined : opts.env[name];
  if (value === undefined || value === '') {
    issues.push({
      severity: 'error',
      code: 'Cgw.AuthKeyEnvMissing',
      field: 'auth_key',
      message:
        name === ''
          ? 'auth_key env: reference has no variable name (write env:NAME)'
          : `environment variable ${shortName(name)} is not set (or is empty); export it before running, or remove the auth_key`,
      file,
      line,
    });
    return { literal: false };
  }
  opts.redactor?.add(value);
  return { value, literal: false };
}

// A variable name is echoed; a pasted value in its place could be huge (the loader caps a value at 64 K characters).
function shortName(name: string): string {
  return name.length <= 130 ? name : `${name.slice(0, 40)}... (${name.length} characters)`;
}
