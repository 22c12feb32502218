import type { Knex } from 'knex';
import type { Engine } from './database';
import { mysqlDriver, sqliteDriver, type Driver } from './sql-drivers';

/** A value bound to a statement: both drivers take these as they are (booleans as 0/1). */
export type SqlValue = string | number | bigint | null;

/**
 * `once`: a statement whose text varies with its number of values (an IN list, a multi-row insert of a
 * chunk): sent without preparing it, so connections do not pile up prepared statements (MySQL counts them
 * against `max_prepared_stmt_count`, 16,382 by default across all connections).
 */
export interface StatementOptions {
  once?: boolean;
  /** SQLite: integers read as bigint, exact beyond 2^53 (sums of money in minor units). MySQL reads big numbers as strings anyway. */
  exactIntegers?: boolean;
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
  readonly exactIntegers?: boolean;
  readonly read: (result: StatementResult) => T;
}

/** A read whose rows `read` turns into the caller's value. */
export function readStatement<Row, T>(
  sql: string,
  values: SqlValue[],
  read: (rows: Row[]) => T,
  options?: StatementOptions,
): Statement<T> {
  return {
    sql,
    values,
    once: options?.once,
    exactIntegers: options?.exactIntegers,
    read: (result) => read(result.rows as Row[]),
  };
}

/** A query written with knex's builder (or `knex.raw`), to run on a unit of work's connection. */
export type Query = Knex.QueryBuilder | Knex.Raw;

/** A value knex may hold as a binding, as the drivers take it (knex's SQLite client turns these the same way). */
function bindable(value: unknown): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.valueOf();
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') return value;
  throw new TypeError(`a ${typeof value} cannot be bound to a statement`);
}

/**
 * A knex query compiled to its engine's text and values: written with the builder, run by `Sql` like the
 * stores' own statements (unprepared, as knex sends its queries: the texts vary with their values).
 */
export function compileQuery(query: Query): { sql: string; values: SqlValue[] } {
  const { sql, bindings } = query.toSQL().toNative();
  return { sql, values: (bindings as unknown[]).map(bindable) };
}

/** Where a store's read runs: knex's pool (a builder awaited as it is), or a unit of work (`readerOf`). */
export type Reader = <T>(query: Knex.QueryBuilder) => Promise<T[]>;

/** Reads on knex's pool, outside any unit: what a store method that also runs inside units reads with alone. */
export const onPool: Reader = <T>(query: Knex.QueryBuilder) => query.then((rows: T[]) => rows);

/** Reads inside the unit of work `sql`. */
export const readerOf =
  (sql: Sql): Reader =>
  <T>(query: Knex.QueryBuilder) =>
    sql.select<T>(query);

/** A write, read as its counts (and the id it inserted). */
export function writeStatement(sql: string, values: SqlValue[], options?: StatementOptions): Statement<WriteResult> {
  return { sql, values, once: options?.once, read: ({ insertId, affectedRows }) => ({ insertId, affectedRows }) };
}

/** How `Sql.all` ends. */
export interface AllOptions {
  /**
   * The statements are the last of a unit of work the runner opened (`SqlRunner.transaction`): COMMIT
   * travels with them, and the unit takes no further statement. Outside a unit (`SqlRunner.alone`) it is
   * ignored: each statement commits as it runs.
   */
  commit?: boolean;
}

/** The values of a list of statements, in order. */
export type StatementValues<S extends readonly Statement<unknown>[]> = {
  -readonly [K in keyof S]: S[K] extends Statement<infer T> ? T : never;
};

/**
 * A unit of work, as the stores take it: statements on one connection, prepared once per connection and
 * reused (the hot path's alternative to running knex's builder, which cost about half of Node's CPU per
 * edit, measured by `npm run bench`), or built with knex's builder and compiled (`select`, `write`) where
 * speed does not matter. Stores own the SQL either way.
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
  /** A query written with knex's builder, on this unit's connection: the rows it reads. */
  select<T>(query: Query, options?: Pick<StatementOptions, 'exactIntegers'>): Promise<T[]>;
  /** A write written with knex's builder, on this unit's connection: its counts. */
  write(query: Query): Promise<WriteResult>;
  /** Runs `callback` once the unit of work has committed (never when it rolls back). */
  afterCommit(callback: () => void): void;
}

let savepoints = 0;

/**
 * Runs `work` in a savepoint of the unit of work: a failure inside rolls back only what `work` did, and
 * the unit carries on (nightly processing computes each campaign's day this way).
 */
export async function inSavepoint<T>(sql: Sql, work: (sql: Sql) => Promise<T>): Promise<T> {
  const name = `txedit_savepoint_${(savepoints = (savepoints + 1) % 1_000_000)}`;
  await sql.run(`SAVEPOINT ${name}`, [], { once: true });
  let result: T;
  try {
    result = await work(sql);
  } catch (error) {
    await sql.run(`ROLLBACK TO SAVEPOINT ${name}`, [], { once: true });
    await sql.run(`RELEASE SAVEPOINT ${name}`, [], { once: true });
    throw error;
  }
  await sql.run(`RELEASE SAVEPOINT ${name}`, [], { once: true });
  return result;
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
  select<T>(query: Query, options?: Pick<StatementOptions, 'exactIntegers'>): Promise<T[]> {
    const { sql, values } = compileQuery(query);
    return this.rows<T>(sql, values, { once: true, exactIntegers: options?.exactIntegers });
  }
  write(query: Query): Promise<WriteResult> {
    const { sql, values } = compileQuery(query);
    if (sql === '') return Promise.resolve({ insertId: 0, affectedRows: 0 }); // knex's insert of no rows
    return this.run(sql, values, { once: true });
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

/**
 * Opens units of work of prepared statements on connections of knex's pool (so pool size, timeouts and
 * the check that drops a broken connection stay knex's): every unit of work of the service, the hot
 * path's and the admin's, roll-up's and nightly processing's alike.
 */
export class SqlRunner {
  private readonly driver: Driver;

  constructor(
    private readonly knex: Knex,
    readonly engine: Engine,
  ) {
    this.driver = engine === 'mysql' ? mysqlDriver : sqliteDriver;
    this.alone = {
      engine,
      rows: (sql, values, options) => this.rows(sql, values, options),
      run: (sql, values, options) => this.run(sql, values, options),
      all: (statements) => this.pooled(false, (connection) => connection.all(statements)),
      select: (query, options) => this.pooled(false, (connection) => connection.select(query, options)),
      write: (query) => this.pooled(false, (connection) => connection.write(query)),
      afterCommit: () => {
        throw new Error('afterCommit needs a unit of work: outside one, nothing commits later');
      },
    };
  }

  /**
   * Statements on the pool, outside any unit of work, each committing as it runs: where a store method
   * that takes part in units of work runs alone (an admin's read, a write that needs no other).
   */
  readonly alone: Sql;

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
}
