import { ClientBusyError } from '../auth/password-verifier';
import { QueueFullError } from '../auth/bounded-concurrency';
import { classifyDatabaseError, isTransientDatabaseError, temporaryFailureType } from '../store/database-errors';
import { LOCK_RETRY_ATTEMPTS, retryingLockConflicts } from '../store/lock-retries';
import type { ModificationStore } from '../store/modification-store';
import type { Sql, SqlRunner } from '../store/sql';
import type { Transaction } from '../core/transaction';
import type { TransactionStore } from '../store/transaction-store';
import type { ModificationCommand } from './command';
import { clientBusy, type Outcome } from './outcome';
import type { ModificationRules } from './rules';

/** What the unit of work needs: the runner of its database transactions, the row lock and the history. */
export interface UnitOfWorkDeps {
  sql: Pick<SqlRunner, 'transaction'>;
  transactions: Pick<TransactionStore, 'lockById'>;
  modifications: Pick<ModificationStore, 'listForTransaction'>;
  /** How the front door reads an identifier: names the transaction when the caller did not know it yet. */
  rules: Pick<ModificationRules, 'locate'>;
  /** Attempts of the unit of work when the database reports a deadlock or lock timeout. */
  maxAttempts?: number;
}

/**
 * The change's database transaction, with what surrounds it whatever the front door: bounded retries
 * after a deadlock or lock timeout, the look after a lost connection (the COMMIT may have landed), and
 * passing trouble turned into the outcome a caller answers.
 */
export class UnitOfWork {
  private readonly maxAttempts: number;

  constructor(private readonly deps: UnitOfWorkDeps) {
    this.maxAttempts = deps.maxAttempts ?? LOCK_RETRY_ATTEMPTS;
  }

  /** Runs `work` in one database transaction, again after a deadlock or lock timeout (`withRetries`). */
  run<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.withRetries(() => this.deps.sql.transaction(work));
  }

  /**
   * Re-runs the unit of work after a deadlock or lock timeout, a bounded number of times (the shared
   * `retryingLockConflicts`). A lost connection is not retried here and becomes a temporary failure.
   */
  withRetries<T>(work: () => Promise<T>): Promise<T> {
    return retryingLockConflicts(work, this.maxAttempts);
  }

  /**
   * Runs a unit of work that may apply `command`. The connection may die after the COMMIT reached the
   * database, with only its acknowledgement lost: a failure would tell the client that nothing changed,
   * so look before answering. `transaction`: the one the command names, or null when not located yet.
   * `answerLanded`: what the caller answers for a command that landed (default: the applied outcome).
   */
  async lookingAfterLoss<T, A = Outcome>(
    command: ModificationCommand,
    transaction: Transaction | null,
    work: () => Promise<T>,
    answerLanded?: (landed: Outcome) => Promise<A>,
  ): Promise<T | Outcome | A> {
    try {
      return await work();
    } catch (error) {
      if (classifyDatabaseError(error) === 'connection') {
        const landed = await this.landedDespiteLoss(command, transaction).catch(() => null);
        if (landed) return answerLanded ? answerLanded(landed) : landed;
      }
      throw error;
    }
  }

  /**
   * After a lost connection: the applied outcome when this request's history row exists, else null.
   * Taking the row lock first waits for a unit of work the database is still finishing (committing, or
   * rolling back once it notices its client is gone), so the history read after it is final. Throws when
   * it cannot tell (the database still out of reach).
   */
  async landedDespiteLoss(command: ModificationCommand, known: Transaction | null): Promise<Outcome | null> {
    const { deps } = this;
    if (!command.requestId) return null;
    const transaction =
      known ??
      (await deps.rules.locate(command.identifier).then((located) => ('kind' in located ? null : located.transaction)));
    if (!transaction) return null;
    await deps.sql.transaction((sql) => deps.transactions.lockById(sql, transaction.id));
    const history = await deps.modifications.listForTransaction(transaction.id);
    const row = history.find((modification) => modification.requestId === command.requestId);
    return row
      ? {
          kind: 'applied',
          transaction: { ...transaction, ...row.after, updatedAt: row.createdAt },
          modificationId: row.id,
        }
      : null;
  }
}

/** Runs a step, turning passing trouble into the outcome `modify` would answer. */
export async function outcomeOfTrouble<T>(step: () => Promise<T>): Promise<T | Outcome> {
  try {
    return await step();
  } catch (error) {
    if (isTransientDatabaseError(error)) return { kind: 'temporary_failure', failureType: temporaryFailureType(error) };
    if (error instanceof QueueFullError)
      return { kind: 'temporary_failure', failureType: 'server busy', retryAfterSeconds: 1 };
    if (error instanceof ClientBusyError) return clientBusy();
    throw error;
  }
}
