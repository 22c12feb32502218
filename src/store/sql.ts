import type { Knex } from 'knex';
import type { Engine } from './database';
import { mysqlDriver, sqliteDriver, type Driver } from './sql-drivers';

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

/** A statement's result as both drivers report it: the rows of a read, the counts of a write. */
export interface StatementResult extends WriteResult {
  rows: unknown[];
}

/**
 * A statement and how its result is read: what a store hands the unit of work when several statements
 * can go to the database together (`Sql.all`).
 */
export interface Statement<T> {
  readonly sql: string;
  readonly values: SqlValue[];
  readonly once?: boolean;
  readonly read: (result: StatementResult) => T;
}

/** A read whose rows `read` turns into the caller's value. */
export function readStatement<Row, T>(
  sql: string,
  values: SqlValue[],
  read: (rows: Row[]) => T,
  options?: StatementOptions,
): Statement<T> {
  return { sql, values, once: options?.once, read: (result) => read(result.rows as Row[]) };
}

/** A write, read as its counts (and the id it inserted). */
export function writeStatement(sql: string, values: SqlValue[], options?: StatementOptions): Statement<WriteResult> {
  return { sql, values, once: options?.once, read: ({ insertId, affectedRows }) => ({ insertId, affectedRows }) };
}

/** How `Sql.all` ends. */
export interface AllOptions {
  /**
   * The statements are the last of a unit of work the runner opened (`SqlRunner.transaction`): COMMIT
   * travels with them, and the unit takes no further statement. Within a caller's transaction (`within`)
   * it is ignored: the caller commits.
   */
  commit?: boolean;
}

/** The values of a list of statements, in order. */
export type StatementValues<S extends readonly Statement<unknown>[]> = {
  -readonly [K in keyof S]: S[K] extends Statement<infer T> ? T : never;
};

/**
 * Statements on one connection, prepared once per connection and reused: the hot path's alternative to
 * knex's query builder, which cost about half of Node's CPU per edit (measured by `npm run bench`). Stores
 * still own the SQL;
 * the unit of work hands them this instead of a knex transaction.
 */
export interface Sql {
  readonly engine: Engine;
  rows<T>(sql: string, values: SqlValue[], options?: StatementOptions): Promise<T[]>;
  run(sql: string, values: SqlValue[], options?: StatementOptions): Promise<WriteResult>;
  /**
   * Runs the statements in order, stopping at the first that fails, and reads their results. On
   * MySQL/MariaDB they travel in one round trip (a multi-statement text query, values escaped by mysql2
   * as knex's own queries are), together with a unit of work's deferred START TRANSACTION: on loopback
   * each round trip costs more CPU than the statement it carries.
   */
  all<S extends readonly Statement<unknown>[] | []>(statements: S, options?: AllOptions): Promise<StatementValues<S>>;
  /** Runs `callback` once the unit of work has committed (never when it rolls back). */
  afterCommit(callback: () => void): void;
}

/**
 * Tells knex's 'query' listeners about a statement, as knex does for its own (logging, tests that watch
 * statements). No object is built when nobody listens.
 */
function announce(knex: Knex, sql: string, values: SqlValue[]): void {
  if (knex.listenerCount('query') > 0) knex.client.emit('query', { method: 'raw', sql, bindings: values });
}

class ConnectionSql implements Sql {
  readonly committed: Array<() => void> = [];
  /** BEGIN not sent yet: it goes with the unit's first statements. */
  private deferredBegin: string | null = null;
  /** Committed by `all(…, { commit: true })`: no statement may follow. */
  private committedEarly = false;
  constructor(
    readonly engine: Engine,
    private readonly knex: Knex,
    private readonly driver: Driver,
    private readonly connection: unknown,
    /** Whether the unit of work is the runner's own (it may commit with `all`), not a caller's. */
    private readonly ownsUnit: boolean,
  ) {}
  async rows<T>(sql: string, values: SqlValue[], options?: StatementOptions): Promise<T[]> {
    const [rows] = await this.all([readStatement(sql, values, (found: T[]) => found, options)]);
    return rows;
  }
  async run(sql: string, values: SqlValue[], options?: StatementOptions): Promise<WriteResult> {
    const [written] = await this.all([writeStatement(sql, values, options)]);
    return written;
  }
  async all<S extends readonly Statement<unknown>[] | []>(
    statements: S,
    options?: AllOptions,
  ): Promise<StatementValues<S>> {
    this.assertOpen();
    for (const { sql, values } of statements) announce(this.knex, sql, values);
    const begin = this.deferredBegin;
    this.deferredBegin = null;
    const commit = options?.commit === true && this.ownsUnit;
    const results = await this.driver.all(this.connection, statements, begin, commit);
    const read = () => statements.map((statement, i) => statement.read(results[i])) as StatementValues<S>;
    if (!commit) return read();
    this.committedEarly = true;
    try {
      return read();
    } catch (error) {
      // Not a database error, whatever it says: the unit has committed, and must not be retried as if
      // it had rolled back.
      throw new Error('the unit of work committed, but reading its results failed', { cause: error });
    }
  }

  private assertOpen(): void {
    if (this.committedEarly) throw new Error('the unit of work has committed: no statement may follow');
  }
  afterCommit(callback: () => void): void {
    this.committed.push(callback);
  }

  /** BEGIN, COMMIT, ROLLBACK: sent unprepared, and not announced on knex's 'query' event (the unit's statements are). */
  control(sql: string): Promise<void> {
    return this.driver.control(this.connection, sql);
  }

  /** Opens the unit of work: at once, or with its first statements where the driver allows. */
  async begin(): Promise<void> {
    if (this.driver.defersBegin) this.deferredBegin = this.driver.begin;
    else await this.control(this.driver.begin);
  }

  /** COMMIT or ROLLBACK: nothing to send when no statement (and so no BEGIN) went out, or the unit committed with its last statements. */
  async end(sql: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    if (this.deferredBegin) this.deferredBegin = null;
    else if (!this.committedEarly) await this.control(sql);
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
    return this.pooled(false, (connection) => connection.rows<T>(sql, values, options));
  }

  /** One write on a pooled connection, outside any transaction. */
  run(sql: string, values: SqlValue[], options?: StatementOptions): Promise<WriteResult> {
    return this.pooled(false, (connection) => connection.run(sql, values, options));
  }

  /**
   * Runs `work` in a database transaction of its own: committed when it returns, rolled back when it
   * throws. A connection whose rollback fails is broken; knex's pool check discards it on its next use.
   */
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.pooled(true, async (sql) => {
      await sql.begin();
      let result: T;
      try {
        result = await work(sql);
        await sql.end('COMMIT');
      } catch (error) {
        await sql.end('ROLLBACK').catch(() => undefined);
        throw error;
      }
      sql.runCommitted();
      return result;
    });
  }

  /** Uses a connection of knex's pool, given back whatever happens; `ownsUnit` for a unit of work of its own. */
  private async pooled<T>(ownsUnit: boolean, use: (connection: ConnectionSql) => Promise<T>): Promise<T> {
    const connection = await this.knex.client.acquireConnection();
    try {
      return await use(new ConnectionSql(this.engine, this.knex, this.driver, connection, ownsUnit));
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
    const sql = new ConnectionSql(this.engine, this.knex, this.driver, connection, false);
    let root = trx;
    while ((root as { outerTx?: Knex.Transaction }).outerTx)
      root = (root as unknown as { outerTx: Knex.Transaction }).outerTx;
    committedFlag(root).then((committed) => (committed ? sql.runCommitted() : undefined));
    return sql;
  }
}
