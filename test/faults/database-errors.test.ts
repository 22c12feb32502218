import { classifyDatabaseError, isTransientDatabaseError, temporaryFailureType } from '../../src/store/database-errors';

// How the database faults of test/faults reach the client: shaped as mysql2 and knex raise them.
describe('classifying database faults', () => {
  const shaped = (fields: Record<string, unknown>, message = 'x') => Object.assign(new Error(message), fields);

  it.each([
    ['a deadlock victim', shaped({ code: 'ER_LOCK_DEADLOCK', errno: 1213 }), 'deadlock', 'database deadlock'],
    ['a lock wait timeout', shaped({ code: 'ER_LOCK_WAIT_TIMEOUT', errno: 1205 }), 'lock_timeout', 'database busy'],
    ['KILL QUERY', shaped({ code: 'ER_QUERY_INTERRUPTED', errno: 1317 }), 'interrupted', 'database busy'],
    [
      'MariaDB max_statement_time',
      shaped({ errno: 1969 }, 'Query execution was interrupted (max_statement_time exceeded)'),
      'interrupted',
      'database busy',
    ],
    [
      'MariaDB ER_CONNECTION_KILLED',
      shaped({ errno: 1927 }, 'Connection was killed'),
      'connection',
      'database unavailable',
    ],
    [
      'a connection closed under the client',
      shaped({ code: 'PROTOCOL_CONNECTION_LOST', fatal: true }),
      'connection',
      'database unavailable',
    ],
    [
      'KILL during a knex transaction (the rollback meets a closed connection)',
      shaped({}, "ROLLBACK - Can't add new command when connection is in closed state"),
      'connection',
      'database unavailable',
    ],
    ['a refused connection', shaped({ code: 'ECONNREFUSED' }), 'connection', 'database unavailable'],
  ])('treats %s as a temporary failure', (_what, error, kind, failureType) => {
    expect(classifyDatabaseError(error)).toBe(kind);
    expect(isTransientDatabaseError(error)).toBe(true);
    expect(temporaryFailureType(error)).toBe(failureType);
  });

  it.each([
    ['a sum past BIGINT on MySQL', shaped({ code: 'ER_WARN_DATA_OUT_OF_RANGE', errno: 1264 })],
    [
      'a sum past 64 bits on SQLite',
      shaped({ code: 'SQLITE_ERROR' }, 'insert into daily_statistics … - integer overflow'),
    ],
  ])('classifies %s as a bad value, not a fault of the database', (_what, error) => {
    expect(classifyDatabaseError(error)).toBe('bad_value');
    expect(isTransientDatabaseError(error)).toBe(false);
  });

  it.each([
    ['a duplicate key', shaped({ code: 'ER_DUP_ENTRY', errno: 1062 })],
    ['a syntax error (a bug, not a fault)', shaped({ code: 'ER_PARSE_ERROR', errno: 1064 })],
    ['a plain exception', new TypeError('undefined is not a function')],
  ])('does not treat %s as transient', (_what, error) => {
    expect(isTransientDatabaseError(error)).toBe(false);
  });
});
