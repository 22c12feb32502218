import type { SqlValue, Statement, StatementResult } from './sql';

/**
 * The two drivers under `SqlRunner`: mysql2 (prepared statements, or several statements in one text
 * query) and better-sqlite3 (prepared statements run in process). Each takes a raw connection of knex's
 * pool and knows nothing of units of work; `SqlRunner` decides when BEGIN and COMMIT go.
 */

/** The slice of a mysql2 (callback API) connection used here; knex's pool hands these out. */
interface MysqlConnection {
  execute(sql: string, values: SqlValue[], callback: (error: Error | null, result: unknown) => void): void;
  query(sql: string, values: SqlValue[], callback: (error: Error | null, result: unknown) => void): void;
  query(sql: string, callback: (error: Error | null, result: unknown) => void): void;
  format(sql: string, values: SqlValue[]): string;
  escape(value: SqlValue): string;
  config: { multipleStatements?: boolean };
}

/** The slice of a better-sqlite3 database used here. */
interface SqliteStatement {
  reader: boolean;
  safeIntegers(on: boolean): SqliteStatement;
  all(...values: SqlValue[]): unknown[];
  run(...values: SqlValue[]): { changes: number; lastInsertRowid: number | bigint };
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
}

/** What `SqlRunner` needs of a driver. */
export type Driver = {
  /** The statements in order, after `begin` when it is given, then COMMIT when `commit`. */
  all(
    connection: unknown,
    statements: readonly Statement<unknown>[],
    begin: string | null,
    commit: boolean,
  ): Promise<StatementResult[]>;
  /** Text-protocol control statements (BEGIN, COMMIT, ROLLBACK). */
  control(connection: unknown, sql: string): Promise<void>;
  begin: string;
  /** Whether BEGIN may wait for the unit's first statements and travel with them. */
  defersBegin: boolean;
};

/**
 * A statement's text around its placeholders, for the stores' own statements (constants with `?` for
 * every value: no quotes, comments or `??` identifiers, which mysql2's general formatter must scan for on
 * every call). Null: such a text goes to mysql2's `format`.
 */
const placeholderSplits = new Map<string, string[] | null>();

function splitAtPlaceholders(sql: string): string[] | null {
  return /['"`\\#]|--|\/\*|\?\?/.test(sql) ? null : sql.split('?');
}

/** The statement with its values escaped into it by mysql2, as knex sends its own queries. */
function formatStatement(mysql: MysqlConnection, { sql, values, once }: Statement<unknown>): string {
  // `once` texts vary with their size (IN lists, chunks): split each time rather than kept.
  let parts = once ? splitAtPlaceholders(sql) : placeholderSplits.get(sql);
  if (parts === undefined) placeholderSplits.set(sql, (parts = splitAtPlaceholders(sql)));
  if (!parts || parts.length !== values.length + 1) return mysql.format(sql, values);
  let text = parts[0];
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    text +=
      (typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : mysql.escape(value)) + parts[i + 1];
  }
  return text;
}

/** A driver's answer to one statement, as a StatementResult: rows for a read, counts for a write. */
function statementResult(answer: unknown): StatementResult {
  if (Array.isArray(answer)) return { rows: answer, insertId: 0, affectedRows: 0 };
  const header = answer as { insertId: number | string; affectedRows: number };
  return { rows: [], insertId: Number(header.insertId), affectedRows: header.affectedRows };
}

/** mysql2: prepared (binary protocol, each distinct text prepared once per connection and kept in its statement cache), or escaped into the text once. */
function mysqlCall(connection: unknown, sql: string, values: SqlValue[], once: boolean): Promise<unknown> {
  const mysql = connection as MysqlConnection;
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, result: unknown) => (error ? reject(error) : resolve(result));
    // Without values mysql2 sends the text as it is; with an empty list it would still scan it for placeholders.
    if (once) values.length > 0 ? mysql.query(sql, values, done) : mysql.query(sql, done);
    else mysql.execute(sql, values, done);
  });
}

export const mysqlDriver: Driver = {
  all: async (connection, statements, begin, commit) => {
    const mysql = connection as MysqlConnection;
    // A connection opened without multipleStatements (not openDatabase's) takes them one at a time.
    if (!mysql.config.multipleStatements || (!begin && !commit && statements.length === 1)) {
      if (begin) await mysqlCall(connection, begin, [], true);
      const results: StatementResult[] = [];
      for (const { sql, values, once } of statements)
        results.push(statementResult(await mysqlCall(connection, sql, values, once ?? false)));
      if (commit) await mysqlCall(connection, 'COMMIT', [], true);
      return results;
    }
    const texts = statements.map((statement) => formatStatement(mysql, statement));
    if (begin) texts.unshift(begin);
    if (commit) texts.push('COMMIT');
    // One text holding several statements: mysql2 answers with one result per statement.
    const answers = (await mysqlCall(connection, texts.join(';\n'), [], true)) as unknown[];
    return answers.slice(begin ? 1 : 0, begin ? statements.length + 1 : statements.length).map(statementResult);
  },
  control: (connection, sql) => mysqlCall(connection, sql, [], true).then(() => undefined),
  begin: 'START TRANSACTION',
  defersBegin: true,
};

/** Prepared statements per better-sqlite3 connection (a connection's statements die with it). */
const sqliteStatements = new WeakMap<SqliteConnection, Map<string, SqliteStatement>>();
/**
 * The texts that vary with their number of values (`once`), and those read with exact integers, also
 * prepared once per connection, but only the most recently used of them: a coalesced unit's IN lists and
 * multi-row inserts come in one text per size (1 to 64 changes), and preparing each afresh was 9 % of the
 * server's CPU on the SQLite success path (`BENCH_CPU_PROF`). The bound keeps a chunk's odd sizes from piling up.
 */
const sqliteRecentStatements = new WeakMap<SqliteConnection, Map<string, SqliteStatement>>();
const RECENT_STATEMENTS = 256;

function sqliteStatement(connection: unknown, sql: string, once = false, exactIntegers = false): SqliteStatement {
  const database = connection as SqliteConnection;
  if (exactIntegers || once) return recentStatement(database, sql, exactIntegers);
  let cache = sqliteStatements.get(database);
  if (!cache) sqliteStatements.set(database, (cache = new Map()));
  let statement = cache.get(sql);
  if (!statement) cache.set(sql, (statement = database.prepare(sql)));
  return statement;
}

/** A bounded cache, least recently used out (a Map keeps insertion order; a hit moves to the end). */
function recentStatement(database: SqliteConnection, sql: string, exactIntegers: boolean): SqliteStatement {
  let cache = sqliteRecentStatements.get(database);
  if (!cache) sqliteRecentStatements.set(database, (cache = new Map()));
  // safeIntegers changes the statement itself: the same text read both ways is two statements.
  const key = exactIntegers ? `x\0${sql}` : sql;
  let statement = cache.get(key);
  if (statement) cache.delete(key);
  else {
    statement = database.prepare(sql);
    if (exactIntegers) statement.safeIntegers(true);
    if (cache.size >= RECENT_STATEMENTS) cache.delete(cache.keys().next().value as string);
  }
  cache.set(key, statement);
  return statement;
}

// better-sqlite3 is synchronous: a throw becomes a rejection so both engines fail the same way.
export const sqliteDriver: Driver = {
  all: async (connection, statements, begin, commit) => {
    if (begin) sqliteStatement(connection, begin).run();
    const results = statements.map(({ sql, values, once, exactIntegers }) => {
      const statement = sqliteStatement(connection, sql, once, exactIntegers);
      if (statement.reader) return { rows: statement.all(...values), insertId: 0, affectedRows: 0 };
      const result = statement.run(...values);
      return { rows: [], insertId: Number(result.lastInsertRowid), affectedRows: result.changes };
    });
    if (commit) sqliteStatement(connection, 'COMMIT').run();
    return results;
  },
  control: async (connection, sql) => {
    sqliteStatement(connection, sql).run();
  },
  // Takes the write lock at once, so another process's writer makes this one wait (busy_timeout)
  // instead of failing when a read lock would have to be upgraded.
  begin: 'BEGIN IMMEDIATE',
  // In-process, so nothing is saved by waiting: BEGIN goes with the first statements all the same, so a
  // unit's first statement is announced (knex's 'query' event) even when the write lock cannot be had.
  defersBegin: true,
};
