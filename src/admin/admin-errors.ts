/** An admin API refusal: HTTP status, a stable code, and a message for people. */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** 404 for a missing resource. */
export const notFound = (what: string) => new AdminError(404, 'not_found', `${what} not found`);

/** 400 for input that fails validation. */
export const invalid = (message: string) => new AdminError(400, 'validation_failed', message);

/** 409 for a conflict with existing data. */
export const conflict = (message: string) => new AdminError(409, 'conflict', message);
