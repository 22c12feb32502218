import type { Knex } from 'knex';
import type { Engine } from './database';

/** A value bound to a statement: both drivers take these as they are (booleans as 0/1). */
export type SqlValue = string | number | null;

/**
 * `once`: a statement whose text varies with its number of values (an IN list, a multi-row insert of a
 * chunk): sent without preparing it, so connections do not pile up prepared statements (MySQL counts them
 * against `max_prepared_stmt_count`, 16,382 by default across all connections).
 */
export interface StatementOptions {
  once?: boolean;
}

/** What a write reports. */
export interface WriteResult {
  insertId: number;
  affectedRows: number;
}

/**
 * Statements on one connection, prepared once per connection and reused: the hot path's alternative to
 * knex's query builder, which costs about half of Node's CPU per edit (issue 8). Stores still own the SQL;
 * the unit of work hands them this instead of a knex transaction.
 */
export interface Sql {
  readonly engine: Engine;
  rows<T>(sql: string, values: SqlValue[], options?: StatementOptions): Promise<T[]>;
  run(sql: string, values: SqlValue[], options?: StatementOptions): Promise<WriteResult>;
  /** Runs `callback` once the unit of work has committed (never when it rolls back). */
  afterCommit(callback: () => void): void;
}

// --- drivers -------------------------------------------------------------------------------------

/** The slice of a mysql2 (callback API) connection used here; knex's pool hands these out. */
interface MysqlConnection {
  execute(sql: string, values: SqlValue[], callback: (error: Error | null, result: unknown) => void): void;
  query(sql: string, values: SqlValue[], callback: (error: Error | null, result: unknown) => void): void;
}

/** The slice of a better-sqlite3 database used here. */
interface SqliteStatement {
  reader: boolean;
  all(...values: SqlValue[]): unknown[];
  run(...values: SqlValue[]): { changes: number; lastInsertRowid: number | bigint };
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
}

type Driver = {
  rows<T>(connection: unknown, sql: string, values: SqlValue[], once: boolean): Promise<T[]>;
  run(connection: unknown, sql: string, values: SqlValue[], once: boolean): Promise<WriteResult>;
  /** Text-protocol control statements (BEGIN, COMMIT, ROLLBACK). */
  control(connection: unknown, sql: string): Promise<void>;
  begin: string;
};

/** mysql2: prepared (binary protocol, each distinct text prepared once per connection and kept in its statement cache), or escaped into the text once. */
function mysqlCall(connection: unknown, sql: string, values: SqlValue[], once: boolean): Promise<unknown> {
  const mysql = connection as MysqlConnection;
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, result: unknown) => (error ? reject(error) : resolve(result));
    if (once) mysql.query(sql, values, done);
    else mysql.execute(sql, values, done);
  });
}

const mysqlDriver: Driver = {
  rows: async <T>(connection: unknown, sql: string, values: SqlValue[], once: boolean) => (await mysqlCall(connection, sql, values, once)) as T[],
  run: async (connection, sql, values, once) => {
    const header = (await mysqlCall(connection, sql, values, once)) as { insertId: number; affectedRows: number };
    return { insertId: Number(header.insertId), affectedRows: header.affectedRows };
  },
  control: (connection, sql) => mysqlCall(connection, sql, [], true).then(() => undefined),
  begin: 'START TRANSACTION',
};

/** Prepared statements per better-sqlite3 connection (a connection's statements die with it). */
const sqliteStatements = new WeakMap<SqliteConnection, Map<string, SqliteStatement>>();

function sqliteStatement(connection: unknown, sql: string, once = false): SqliteStatement {
  const database = connection as SqliteConnection;
  if (once) return database.prepare(sql);
  let cache = sqliteStatements.get(database);
  if (!cache) sqliteStatements.set(database, (cache = new Map()));
  let statement = cache.get(sql);
  if (!statement) cache.set(sql, (statement = database.prepare(sql)));
  return statement;
}

// better-sqlite3 is synchronous: a throw becomes a rejection so both engines fail the same way.
const sqliteDriver: Driver = {
  rows: async <T>(connection: unknown, sql: string, values: SqlValue[], once: boolean) => sqliteStatement(connection, sql, once).all(...values) as T[],
  run: async (connection, sql, values, once) => {
    const result = sqliteStatement(connection, sql, once).run(...values);
    return { insertId: Number(result.lastInsertRowid), affectedRows: result.changes };
  },
  control: async (connection, sql) => {
    sqliteStatement(connection, sql).run();
  },
  // Takes the write lock at once, so another process's writer makes this one wait (busy_timeout)
  // instead of failing when a read lock would have to be upgraded.
  begin: 'BEGIN IMMEDIATE',
};

/**
 * Tells knex's 'query' listeners about a statement, as knex does for its own (logging, tests that watch
 * statements). No object is built when nobody listens.
 */
function announce(knex: Knex, sql: string, values: SqlValue[]): void {
  if (knex.listenerCount('query') > 0) knex.client.emit('query', { method: 'raw', sql, bindings: values });
}

class ConnectionSql implements Sql {
  readonly committed: Array<() => void> = [];
  constructor(
    readonly engine: Engine,
    private readonly knex: Knex,
    private readonly driver: Driver,
    private readonly connection: unknown,
  ) {}
  rows<T>(sql: string, values: SqlValue[], options?: StatementOptions): Promise<T[]> {
    announce(this.knex, sql, values);
    return this.driver.rows<T>(this.connection, sql, values, options?.once ?? false);
  }
  run(sql: string, values: SqlValue[], options?: StatementOptions): Promise<WriteResult> {
    announce(this.knex, sql, values);
    return this.driver.run(this.connection, sql, values, options?.once ?? false);
  }
  afterCommit(callback: () => void): void {
    this.committed.push(callback);
  }

  /** BEGIN, COMMIT, ROLLBACK: sent unprepared, and not announced on knex's 'query' event (the unit's statements are). */
  control(sql: string): Promise<void> {
    return this.driver.control(this.connection, sql);
  }

  /** Runs the callbacks once the work is durable. They only notify (wake a worker): one that throws cannot undo the commit, so it must not fail the caller or skip the others. */
  runCommitted(): void {
    for (const callback of this.committed) {
      try {
        callback();
      } catch {
        // The change is committed; a failed notification costs at most a poll interval.
      }
    }
  }
}

/** Per outermost knex transaction: resolves true once it has committed, false when it ended otherwise. */
const commits = new WeakMap<Knex.Transaction, Promise<boolean>>();

function committedFlag(root: Knex.Transaction): Promise<boolean> {
  let flag = commits.get(root);
  if (!flag) {
    let committed = false;
    root.on('query', (query: { sql?: string }) => (committed ||= /^commit\b/i.test(query.sql ?? '')));
    flag = root.executionPromise.then(
      () => committed,
      () => false,
    );
    commits.set(root, flag);
  }
  return flag;
}

/**
 * Opens units of work of prepared statements on connections of knex's pool (so pool size, timeouts and
 * the check that drops a broken connection stay knex's), and binds statements to a knex transaction
 * where a caller already holds one.
 */
export class SqlRunner {
  private readonly driver: Driver;

  constructor(
    private readonly knex: Knex,
    readonly engine: Engine,
  ) {
    this.driver = engine === 'mysql' ? mysqlDriver : sqliteDriver;
  }

  /** One statement on a pooled connection, outside any transaction. */
  rows<T>(sql: string, values: SqlValue[], options?: StatementOptions): Promise<T[]> {
    return this.pooled((connection) => connection.rows<T>(sql, values, options));
  }

  /** One write on a pooled connection, outside any transaction. */
  run(sql: string, values: SqlValue[], options?: StatementOptions): Promise<WriteResult> {
    return this.pooled((connection) => connection.run(sql, values, options));
  }

  /**
   * Runs `work` in a database transaction of its own: committed when it returns, rolled back when it
   * throws. A connection whose rollback fails is broken; knex's pool check discards it on its next use.
   */
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.pooled(async (sql) => {
      await sql.control(this.driver.begin);
      let result: T;
      try {
        result = await work(sql);
        await sql.control('COMMIT');
      } catch (error) {
        await sql.control('ROLLBACK').catch(() => undefined);
        throw error;
      }
      sql.runCommitted();
      return result;
    });
  }

  /** Uses a connection of knex's pool, given back whatever happens. */
  private async pooled<T>(use: (connection: ConnectionSql) => Promise<T>): Promise<T> {
    const connection = await this.knex.client.acquireConnection();
    try {
      return await use(new ConnectionSql(this.engine, this.knex, this.driver, connection));
    } finally {
      this.knex.client.releaseConnection(connection);
    }
  }

  /**
   * Statements inside a knex transaction the caller opened (and commits). afterCommit callbacks wait for
   * the outermost transaction's COMMIT: knex resolves a transaction rolled back without an error too, and
   * a nested transaction's savepoint is only committed with its outer transaction.
   */
  async within(trx: Knex.Transaction): Promise<Sql> {
    // A transaction's client hands out the transaction's own connection.
    const connection = await trx.client.acquireConnection();
    const sql = new ConnectionSql(this.engine, this.knex, this.driver, connection);
    let root = trx;
    while ((root as { outerTx?: Knex.Transaction }).outerTx) root = (root as unknown as { outerTx: Knex.Transaction }).outerTx;
    committedFlag(root).then((committed) => (committed ? sql.runCommitted() : undefined));
    return sql;
  }
}
