/** What kind of database trouble an error is, for both engines. */
export type DatabaseErrorKind =
  | 'deadlock'
  | 'lock_timeout'
  | 'interrupted'
  | 'connection'
  | 'duplicate_key'
  | 'foreign_key'
  /** A value the column or the arithmetic cannot hold (a sum past BIGINT, a corrupt row): the data's fault. */
  | 'bad_value'
  | 'other';

const MYSQL_CODES: Record<string, DatabaseErrorKind> = {
  ER_LOCK_DEADLOCK: 'deadlock',
  ER_LOCK_WAIT_TIMEOUT: 'lock_timeout',
  // KILL QUERY by an operator, or a statement time limit (MySQL's max_execution_time): rolled back whole.
  ER_QUERY_INTERRUPTED: 'interrupted',
  ER_QUERY_TIMEOUT: 'interrupted',
  ER_DUP_ENTRY: 'duplicate_key',
  ER_NO_REFERENCED_ROW_2: 'foreign_key',
  ER_NO_REFERENCED_ROW: 'foreign_key',
  ER_ROW_IS_REFERENCED_2: 'foreign_key',
  ER_WARN_DATA_OUT_OF_RANGE: 'bad_value',
  ER_DATA_OUT_OF_RANGE: 'bad_value',
  WARN_DATA_TRUNCATED: 'bad_value',
  ER_TRUNCATED_WRONG_VALUE: 'bad_value',
  ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: 'bad_value',
  PROTOCOL_CONNECTION_LOST: 'connection',
  ECONNREFUSED: 'connection',
  ECONNRESET: 'connection',
  ETIMEDOUT: 'connection',
  EPIPE: 'connection',
  ER_SERVER_SHUTDOWN: 'connection',
  ER_CON_COUNT_ERROR: 'connection',
  ER_CLIENT_INTERACTION_TIMEOUT: 'connection',
};

/**
 * Classifies an error thrown by knex/mysql2/better-sqlite3. Kept in one place so that the rest of the
 * code asks "was this a deadlock?" without knowing either engine's codes.
 */
export function classifyDatabaseError(error: unknown): DatabaseErrorKind {
  if (!error || typeof error !== 'object') return 'other';
  const { code, errno, message, name } = error as {
    code?: unknown;
    errno?: unknown;
    message?: unknown;
    name?: unknown;
  };
  // MariaDB-only errors that mysql2 has no code name for: ER_CONNECTION_KILLED, ER_STATEMENT_TIMEOUT (max_statement_time).
  if (errno === 1927) return 'connection';
  if (errno === 1969) return 'interrupted';
  if (typeof code === 'string') {
    if (MYSQL_CODES[code]) return MYSQL_CODES[code];
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return 'lock_timeout';
    if (code.startsWith('SQLITE_CONSTRAINT_UNIQUE') || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return 'duplicate_key';
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'foreign_key';
    // SQLite reports an overflowing SUM as a plain SQLITE_ERROR.
    if (
      code === 'SQLITE_MISMATCH' ||
      code === 'SQLITE_TOOBIG' ||
      (code === 'SQLITE_ERROR' && /integer overflow/.test(String(message)))
    )
      return 'bad_value';
  }
  // knex's own pool errors when the server cannot be reached.
  if (name === 'KnexTimeoutError') return 'connection';
  if (
    typeof message === 'string' &&
    /Connection lost|connect ECONNREFUSED|Can't add new command when connection is in closed state/i.test(message)
  ) {
    return 'connection';
  }
  return 'other';
}

/** True for failures that another attempt may not meet. */
export function isTransientDatabaseError(error: unknown): boolean {
  const kind = classifyDatabaseError(error);
  return kind === 'deadlock' || kind === 'lock_timeout' || kind === 'interrupted' || kind === 'connection';
}

/** The FAILURE_TYPE words in "Temporary failure: … LinkTrust API was unable to complete the request". */
export function temporaryFailureType(error: unknown): string {
  switch (classifyDatabaseError(error)) {
    case 'deadlock':
      return 'database deadlock';
    case 'lock_timeout':
    case 'interrupted':
      return 'database busy';
    default:
      return 'database unavailable';
  }
}
