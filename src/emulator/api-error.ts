// The one error value handlers return or throw: an API code with its real HTTP status and message.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const err = (status: number, code: string, message: string): ApiError => new ApiError(status, code, message);

/** `Missing<Name>` 400, message `<Name> is mandatory for this action.` (vpc-api.md §2.7). */
export const missing = (name: string): ApiError => err(400, `Missing${name}`, `${name} is mandatory for this action.`);

export const invalidParam = (name: string, why = 'is not valid'): ApiError =>
  err(400, 'InvalidParameter', `The specified parameter ${name} ${why}.`);
