import type { Tx } from './unit-of-work';
import type { Knex } from 'knex';

/**
 * Work that must commit with a change or not at all — the console's audit row — run inside the change's
 * own database transaction, after the change, with what the change produced. Whoever owns the change's
 * unit of work calls it; should it fail, the change is rolled back with it.
 */
export type AfterChange<T> = (tx: Tx, result: T) => Promise<void>;

/**
 * Runs `change` and then `afterChange` in one database transaction; without `afterChange`, `change`
 * alone on the plain handle (as before: a single statement needs no transaction of its own).
 */
export async function withAfterChange<T>(
  knex: Knex,
  change: (db: Knex) => Promise<T>,
  afterChange?: AfterChange<T>,
): Promise<T> {
  if (!afterChange) return change(knex);
  return knex.transaction(async (trx) => {
    const result = await change(trx);
    await afterChange(trx, result);
    return result;
  });
}
