import type { Sql, SqlRunner } from './sql';

/**
 * Work that must commit with a change or not at all — the console's audit row — run inside the change's
 * own unit of work, after the change, with what the change produced. Whoever owns the change's unit of
 * work calls it; should it fail, the change is rolled back with it.
 */
export type AfterChange<T> = (sql: Sql, result: T) => Promise<void>;

/** Runs `change` and then `afterChange`, when given, in one unit of work. */
export function withAfterChange<T>(
  runner: Pick<SqlRunner, 'transaction'>,
  change: (sql: Sql) => Promise<T>,
  afterChange?: AfterChange<T>,
): Promise<T> {
  return runner.transaction(async (sql) => {
    const result = await change(sql);
    if (afterChange) await afterChange(sql, result);
    return result;
  });
}
