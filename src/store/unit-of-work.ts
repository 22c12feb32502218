import type { Knex } from 'knex';
import { AfterChange, withAfterChange } from './after-change';

/**
 * A unit of work on the knex path: the database transaction a store method takes as its leading argument
 * when it only makes sense inside a change (locks, the roll-up, nightly processing's run records).
 *
 * The conventions, all from this module and ./sql.ts:
 * - `tx: Tx` first: the method must run inside a unit of work the caller opened (`UnitOfWork.run`).
 * - `db: Db = this.knex` last: the method runs alone on the pool, or inside a caller's unit when given
 *   one (admin writes that may carry the console's audit row).
 * - `sql: Sql` first: the modification core's hot path, whose unit of work batches a change's statements
 *   per round trip (on loopback a round trip costs more CPU than the statement it carries); `SqlRunner.within(tx)` binds it to a `Tx` where both paths meet.
 * No store method takes the engine per call: each store gets it at construction.
 */
export type Tx = Knex.Transaction;

/** Where a store method that may also run alone reads or writes: the pool, or a unit of work. */
export type Db = Knex;

/**
 * Opens units of work for the services that own them. A service holds this, never the knex handle: it
 * decides where a unit begins and ends, and the stores it calls write the SQL.
 */
export class UnitOfWork {
  constructor(private readonly knex: Knex) {}

  /** Runs `work` in a database transaction: committed when it returns, rolled back when it throws. */
  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.knex.transaction(work);
  }

  /**
   * Runs `change` and then `afterChange` (the console's audit row) in one transaction; without
   * `afterChange`, `change` alone on the plain handle (a single statement needs no transaction of its own).
   */
  withAfterChange<T>(change: (db: Db) => Promise<T>, afterChange?: AfterChange<T>): Promise<T> {
    return withAfterChange(this.knex, change, afterChange);
  }
}

/**
 * Runs `work` in a savepoint of `tx`: a failure inside rolls back only what `work` did, and the outer
 * unit carries on (nightly processing computes each campaign's day this way).
 */
export function inSavepoint<T>(tx: Tx, work: (savepoint: Tx) => Promise<T>): Promise<T> {
  return tx.transaction(work);
}
