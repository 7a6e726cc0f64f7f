// Run-level errors and the exit-code table. Row-level failures are values (RowResult), never these.

export const EXIT = {
  ok: 0,
  /** Some rows are invalid (plan) or failed (apply). */
  rowsFailed: 1,
  /** Usage, configuration, credentials, unreadable manifest or state problems. */
  usage: 2,
  interrupted: 130,
} as const;

/** Bad command line or configuration. Printed as-is, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The manifest cannot be read at all. Names the file and line; never carries a field value that could be a secret. */
export class ManifestError extends Error {
  override name = 'ManifestError';
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(line === undefined ? `${file}: ${reason}` : `${file}:${line}: ${reason}`);
  }
}

/** The state file is locked, corrupt, or belongs to another batch. Exit 2. */
export class StateError extends Error {
  override name = 'StateError';
}

/** Credentials rejected or missing: every row would fail, so the run stops. Exit 2. */
export class AuthError extends Error {
  override name = 'AuthError';
}

/** Thrown after a message was already printed, to carry an exit code up to cli.ts. */
export class ExitError extends Error {
  override name = 'ExitError';
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

export function isUserError(e: unknown): e is UsageError | ManifestError | StateError | AuthError {
  return e instanceof UsageError || e instanceof ManifestError || e instanceof StateError || e instanceof AuthError;
}
