// The `psk` cell: an `env:NAME` reference (read here, the value joins the Redactor) or `generate`; never a key itself.
import type { Issue } from '../types.js';
import type { LoadOptions } from './options.js';

/**
 * What the loader keeps of a `psk` cell that held something other than a reference (a key typed into the manifest,
 * or a results file's echo): reports write it, the row is refused, and the key is never copied anywhere.
 */
export const PSK_NOT_COPIED = '(PSK not copied)';

export const PSK_GENERATE = 'generate';
const ENV_PREFIX = 'env:';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** The report's echo of a `psk` cell: a reference or `generate` as written, anything else PSK_NOT_COPIED. */
export function echoPsk(written: string): string {
  const v = written.trim();
  if (v === '') return written;
  if (v.toLowerCase() === PSK_GENERATE) return v;
  if (v.startsWith(ENV_PREFIX) && ENV_NAME.test(v.slice(ENV_PREFIX.length).trim())) return v;
  return PSK_NOT_COPIED;
}

export interface PskRead {
  /** What the row keeps as its `psk` field: `env:NAME`, `generate`, or PSK_NOT_COPIED (with an error issue). */
  text?: string;
  /** The environment variable's value. */
  value?: string;
}

/** Reads one row's `psk` cell. Problems become row issues on the field `psk`; a key is never in a message. */
export function resolvePsk(written: string | undefined, opts: LoadOptions, issues: Issue[], file: string, line: number): PskRead {
  const v = written?.trim() ?? '';
  if (v === '') return {};
  const add = (code: string, message: string): void => {
    issues.push({ severity: 'error', code, field: 'psk', message, file, line });
  };
  if (v.toLowerCase() === PSK_GENERATE) return { text: PSK_GENERATE };
  if (written === PSK_NOT_COPIED || v === PSK_NOT_COPIED) {
    add('Cgw.PskNotCopied', 'this row comes from a results file, which never holds PSKs: write env:NAME (the variable holding the key) or generate');
    return { text: PSK_NOT_COPIED };
  }
  if (!v.startsWith(ENV_PREFIX)) {
    // A key typed into the manifest: masked wherever it might surface, and refused (the file would hold it in clear).
    opts.redactor?.add(written!);
    opts.redactor?.add(v);
    add('Cgw.PskLiteral', 'a pre-shared key is never written into the manifest: put it in an environment variable and write env:NAME, or write generate (cgw-batch makes one)');
    return { text: PSK_NOT_COPIED };
  }
  const name = v.slice(ENV_PREFIX.length).trim();
  if (!ENV_NAME.test(name)) {
    // Perhaps the key itself after `env:`: never printed.
    if (name !== '') opts.redactor?.add(name);
    add('Cgw.PskEnvMissing', name === '' ? 'the psk env: reference has no variable name (write env:NAME)' : "the psk env: reference is not an environment variable name (letters, digits and _, not starting with a digit); write the variable's name, never the key");
    return { text: PSK_NOT_COPIED };
  }
  const text = `${ENV_PREFIX}${name}`;
  const value = opts.env[name];
  if (value === undefined || value === '') {
    add('Cgw.PskEnvMissing', `environment variable ${name} (the row's psk) is not set (or is empty); export it before running`);
    return { text };
  }
  opts.redactor?.add(value);
  return { text, value };
}
