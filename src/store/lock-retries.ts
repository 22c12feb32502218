import { classifyDatabaseError } from './database-errors';

/** Attempts of a unit of work when the database reports a deadlock or lock timeout (the core's default too). */
export const LOCK_RETRY_ATTEMPTS = 4;

/**
 * Runs a unit of work — one database transaction, or one statement on its own — again after a deadlock
 * or a lock wait timeout, a bounded number of times: the database rolled it back (InnoDB picks a deadlock
 * victim; `SqlRunner.transaction` rolls a unit back when its statement fails), so another attempt cannot apply it
 * twice. A short, growing, jittered pause lets the other party finish. A lost connection is not retried
 * here — a COMMIT may have reached the server — nor is anything else; the last error is thrown as it came.
 *
 * Every write of the core, the admin API, the console, processing and batch uploads goes through this,
 * so start-up's catch-up roll-up or a nightly run never turns a concurrent admin call into a 500.
 */
export async function retryingLockConflicts<T>(work: () => Promise<T>, attempts = LOCK_RETRY_ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const kind = classifyDatabaseError(error);
      if (attempt >= attempts || (kind !== 'deadlock' && kind !== 'lock_timeout')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10 * attempt));
    }
  }
}
