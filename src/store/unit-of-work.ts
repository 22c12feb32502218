import type { Knex } from 'knex';
import { AfterChange, withAfterChange } from './after-change';

/**
 * A unit of work on the knex path: the database transaction that every store method taking part in a
 * change takes as its leading argument (admin writes, the roll-up, nightly processing, the console's
 * audit row). The modification core's hot path has its own unit of work, `Sql` (./sql.ts), which batches
 * a change's statements per round trip; `SqlRunner.within` binds it to a `Tx` where both meet.
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
