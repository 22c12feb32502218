import { AfterChange, withAfterChange } from './after-change';
import type { Sql, SqlRunner } from './sql';

/**
 * The one unit-of-work type the stores take: `sql: Sql`, first, in every method that runs inside a unit
 * of work (a change, the roll-up, nightly processing's run records, an admin write with its audit row).
 * A store method that only ever runs alone takes no unit: it reads on the pool, or opens its own unit
 * inside the store; one that also runs inside units takes `sql` all the same, and alone it is given
 * `UnitOfWork.alone` (statements on the pool, each committing as it runs). Stores write their statements as text (`sql.all`, `sql.rows`, `sql.run`: the modification
 * core's hot path, whose unit batches a change's statements per round trip) or with knex's builder
 * (`sql.select`, `sql.write`), both on the unit's connection. No store method takes the engine per call:
 * each store gets it at construction.
 */
export type { Sql } from './sql';
export { inSavepoint } from './sql';

/**
 * Opens units of work for the services that own them. A service holds this, never the knex handle: it
 * decides where a unit begins and ends, and the stores it calls write the SQL.
 */
export class UnitOfWork {
  /** Statements on the pool, each committing as it runs: a store method of units of work, run alone. */
  readonly alone: Sql;

  constructor(private readonly runner: Pick<SqlRunner, 'transaction' | 'alone'>) {
    this.alone = runner.alone;
  }

  /** Runs `work` in a database transaction: committed when it returns, rolled back when it throws. */
  run<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.runner.transaction(work);
  }

  /** Runs `change` and then `afterChange` (the console's audit row), when given, in one unit of work. */
  withAfterChange<T>(change: (sql: Sql) => Promise<T>, afterChange?: AfterChange<T>): Promise<T> {
    return withAfterChange(this.runner, change, afterChange);
  }
}
