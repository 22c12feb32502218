import { classifyDatabaseError, isTransientDatabaseError } from '../store/database-errors';

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

/**
 * 503 for passing database trouble that outlasted the retries: `database_busy` (a deadlock or lock
 * timeout every attempt met, or a statement interrupted) or `database_unavailable` (the connection was
 * lost or could not be made). Null for any other error. After `database_busy` nothing was written; after a
 * lost connection a write's COMMIT may have landed, so look before repeating it.
 */
export function databaseTrouble(error: unknown): AdminError | null {
  if (!isTransientDatabaseError(error)) return null;
  return classifyDatabaseError(error) === 'connection'
    ? new AdminError(503, 'database_unavailable', 'the database cannot be reached; try again shortly')
    : new AdminError(
        503,
        'database_busy',
        'the database is busy (a lock conflict outlasted the retries); try again shortly',
      );
}
