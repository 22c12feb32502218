import type { ModificationStore } from '../store/modification-store';
import type { ProcessingStateStore } from '../store/processing-state-store';
import type { Sql, SqlRunner } from '../store/sql';
import type { StatisticsStore } from '../store/statistics-store';
import type { TransactionLookup, TransactionStore } from '../store/transaction-store';
import { forEachConcurrently } from '../workers/for-each-concurrently';
import { ChangeWriter, type PostbackOutbox, type ReadyChange } from './change-writer';
import type { ModificationCommand, TransactionIdentifier } from './command';
import { isPassing, type Outcome } from './outcome';
import type { MerchantStore } from '../store/merchant-store';
import type { ModificationRules } from './rules';
import { outcomeOfTrouble, UnitOfWork } from './unit-of-work';
import { OneUnitPath } from './one-unit-path';
import type { IdempotencyService, IdempotentRequest } from './idempotency-service';

export type { PostbackOutbox, QueuedChange } from './change-writer';

/** Everything the core needs, passed in by the composition root. */
export interface ModificationServiceDeps {
  /** Prepared statements on knex's connections: the unit of work of a change. */
  sql: SqlRunner;
  transactions: TransactionStore;
  modifications: ModificationStore;
  processingState: ProcessingStateStore;
  statistics: StatisticsStore;
  postbacks: PostbackOutbox | null;
  /** The front door's checks, in its order (LinkTrust's: `LinkTrustRules`). */
  rules: ModificationRules;
  /** The campaigns' owners, for merchants' changes (`ModificationCommand.merchantId`); absent, those are not found. */
  merchants?: Pick<MerchantStore, 'campaignOwnersStatement'>;
  now?: () => number;
  /** Attempts of the unit of work when the database reports a deadlock or lock timeout. */
  maxAttempts?: number;
  /**
   * Coalescing of one-unit changes (see `SmartBatcher`): at most `maxChanges` per unit of work and
   * `maxUnits` units in flight. Default: 64 changes, 2 units on MySQL/MariaDB and 1 on SQLite (one writer).
   * `false` (`EDIT_COALESCING=false`): each change runs at once in a unit of its own, as before coalescing.
   */
  coalesce?: { maxChanges: number; maxUnits: number } | false;
  /** Remembered answers of keyed requests (`ModifyOptions.idempotency`); absent, `modify` refuses such options. */
  keyedAnswers?: IdempotencyService;
}

/** What a front door adds to one call of `modify`. */
export interface ModifyOptions {
  /**
   * A keyed request (`Idempotency-Key`): once every pre-check has passed — the campaign's opt-in and the
   * credentials included, exactly as for any request — the answer remembered under the key of the
   * transaction's campaign is returned verbatim (a string) and nothing is written; the same key with other
   * parameters is refused; otherwise the change runs and its rendered answer is stored with it. Keyed
   * requests are coalesced like any other (`KeyedUnit`).
   */
  idempotency?: IdempotentRequest;
  /**
   * Runs inside the change's database transaction, after the history row is written and only when the
   * change applies: work that must commit with the change or not at all (a batch row's result). Throwing
   * rolls the change back and `modify` rethrows.
   */
  afterApply?: (sql: Sql, outcome: Extract<Outcome, { kind: 'applied' }>) => Promise<void>;
}

/** What a front door adds to one call of `modifyMany`. */
export interface ModifyManyOptions {
  /** Commands pre-checked at once (each may wait on a password compare or a lookup). */
  concurrency: number;
  /**
   * Runs inside the unit of work of the applied commands, with their indexes: work that must commit
   * with them or not at all. Throwing rolls them all back and `modifyMany` rethrows.
   */
  afterApply?: (sql: Sql, applied: number[], outcomes: Array<Extract<Outcome, { kind: 'applied' }>>) => Promise<void>;
}

/**
 * The core: every front door's modification command goes through `modify`, which answers with an
 * Outcome. A thin composition: the front door's rules decide (in its documented order), the unit of work
 * runs the change as one database transaction (retries, recovery after a lost connection), the writer
 * writes it (row, statistics, history, outbox).
 */
export class ModificationService {
  private readonly writer: ChangeWriter;
  private readonly unit: UnitOfWork;
  private readonly rules: ModificationRules;
  /** The common success, coalesced: changes whose checks may run under their row locks. */
  private readonly oneUnit: OneUnitPath;

  constructor(private readonly deps: ModificationServiceDeps) {
    this.rules = deps.rules;
    this.writer = new ChangeWriter({ ...deps, now: deps.now ?? Date.now });
    this.unit = new UnitOfWork(deps);
    this.oneUnit = new OneUnitPath(deps, this.writer, this.unit);
  }

  /**
   * Changes and units of work of the one-unit path so far (how much coalescing saved), and how many of
   * those changes were keyed (`Idempotency-Key`).
   */
  coalescing(): { changes: number; units: number; keyed: number } {
    return this.oneUnit.coalescing();
  }

  /** The campaign a command handled by `modify` concerned, when its checks got that far (refusal counts). */
  campaignOf(command: ModificationCommand): number | undefined {
    return this.rules.campaignOf?.(command);
  }

  /**
   * Applies a command, or says why not; a keyed one (`options.idempotency`) may be answered with its
   * remembered answer, a string to send as it is. Throws only for unexpected (non-database) bugs.
   */
  modify(
    command: ModificationCommand,
    options: ModifyOptions & { idempotency: IdempotentRequest },
  ): Promise<Outcome | string>;
  modify(command: ModificationCommand, options?: ModifyOptions & { idempotency?: undefined }): Promise<Outcome>;
  async modify(command: ModificationCommand, options: ModifyOptions = {}): Promise<Outcome | string> {
    if (options.idempotency && !this.deps.keyedAnswers)
      throw new Error('a keyed modification needs the idempotency service');
    return outcomeOfTrouble(() => this.checkAndApply(command, options));
  }

  private async checkAndApply(command: ModificationCommand, options: ModifyOptions): Promise<Outcome | string> {
    const { unit } = this;
    const keyed = options.idempotency;
    if (this.mayApplyAtOnce(command, options)) {
      // A refusal due before any lock (LinkTrust: a client over its limit) is answered by the usual path.
      const beforeLocks = this.rules.refusalBeforeLocks(command);
      if (beforeLocks === null || !(await beforeLocks)) {
        const settled = await this.oneUnit.submit(keyed ? { command, idempotency: keyed } : { command });
        if (!settled.ok) throw settled.error;
        if (settled.outcome !== null) return settled.outcome;
      }
    }
    const checked = await this.rules.precheck(command, undefined, 'before-lock');
    if ('kind' in checked) return checked;
    const { transaction, campaign } = checked;
    const remembered = keyed ? await this.deps.keyedAnswers!.answerFor(campaign.id, keyed) : null;
    if (remembered !== null) return remembered;
    try {
      return await unit.lookingAfterLoss(
        command,
        transaction,
        () => unit.withRetries(() => this.apply(transaction.id, command, options)),
        (landed) => this.deps.keyedAnswers?.withStoredAnswer(landed, keyed) ?? Promise.resolve(landed),
      );
    } catch (error) {
      // A concurrent twin with the same key committed first: this one rolled back; answer as the twin did.
      if (keyed && this.deps.keyedAnswers!.isTwinCollision(error)) {
        const twin = await this.deps.keyedAnswers!.answerFor(campaign.id, keyed).catch(() => null);
        if (twin !== null) return twin;
      }
      throw error;
    }
  }

  /**
   * Whether `command` may try the one-unit path: a unique identifier, no work of the caller's inside the
   * unit (a keyed request's answer is the core's own), and rules that may pass it under the lock
   * (LinkTrust's: a password verified lately, so the pre-checks will not need a bcrypt compare, which must
   * never run under the row lock that path takes first).
   */
  private mayApplyAtOnce(command: ModificationCommand, options: ModifyOptions): boolean {
    return (
      !options.afterApply &&
      (command.identifier.kind === 'transaction_id' || command.identifier.kind === 'click_id') &&
      this.rules.mayCheckUnderLock(command)
    );
  }

  /**
   * Applies several commands (a chunk of a batch file) with the same checks and answers as `modify`,
   * the authorised ones in one unit of work. Each command needs a request id unique among them. Pre-checks
   * run `concurrency` at a time. Null when passing trouble (a temporary failure, nightly processing) met a
   * pre-check or the unit of work: the caller then runs the commands one by one, so that no command
   * overtakes an earlier one on the same transaction. Nothing was written then — except after a lost
   * connection, whose COMMIT may have landed: the caller must record in `afterApply` what it needs to
   * recognise a command already applied (a batch row's result). Throws, like `modify`, only for
   * unexpected (non-database) bugs.
   */
  async modifyMany(commands: ModificationCommand[], options: ModifyManyOptions): Promise<Outcome[] | null> {
    const outcomes: Outcome[] = new Array(commands.length);
    const ready: Array<ReadyChange & { index: number }> = [];
    const lookups = await outcomeOfTrouble(() => this.prefetch(commands));
    if (!(lookups instanceof Map)) return null;
    await forEachConcurrently(commands, options.concurrency, async (command, index) => {
      const checked = await outcomeOfTrouble(() =>
        this.rules.precheck(command, lookups.get(command.identifier), 'before-lock'),
      );
      if ('kind' in checked) outcomes[index] = checked;
      else ready.push({ index, transactionId: checked.transaction.id, command });
    });
    if (outcomes.some(isPassing)) return null;
    if (ready.length === 0) return outcomes;
    ready.sort((a, b) => a.index - b.index); // file order: a transaction named twice changes in order
    const written = await outcomeOfTrouble(() =>
      this.unit.run(async (sql) => {
        const results = await this.writer.write(sql, ready);
        const applied: number[] = [];
        const outcomesApplied: Array<Extract<Outcome, { kind: 'applied' }>> = [];
        ready.forEach((change, i) => {
          const result = results[i];
          if (result.kind !== 'applied') return;
          applied.push(change.index);
          outcomesApplied.push(result);
        });
        if (applied.length > 0) await options.afterApply?.(sql, applied, outcomesApplied);
        return results;
      }),
    );
    // Rolled back, or nightly processing started, or the connection was lost (see above).
    if (!Array.isArray(written) || written.some(isPassing)) return null;
    ready.forEach((change, i) => (outcomes[change.index] = written[i]));
    return outcomes;
  }

  /**
   * The lookups of a chunk's transaction ids and click ids, two statements at most, as each command's
   * own lookup would have found them. Merchant references are looked up one by one (their rules need
   * the campaign's setting and all matches).
   */
  private async prefetch(commands: ModificationCommand[]): Promise<Map<TransactionIdentifier, TransactionLookup>> {
    const { transactions } = this.deps;
    const prefetched = new Map<TransactionIdentifier, TransactionLookup>();
    const ids = new Set<number>();
    const clickIds = new Set<string>();
    const actionIds = new Set<string>();
    for (const { identifier } of commands) {
      if (identifier.kind === 'transaction_id') ids.add(identifier.transactionId);
      else if (identifier.kind === 'click_id') clickIds.add(identifier.clickId);
      else if (identifier.kind === 'action_id') actionIds.add(identifier.actionId);
    }
    const byId = ids.size > 0 ? await transactions.findManyWithCampaign({ ids: [...ids] }) : null;
    const byClickId = clickIds.size > 0 ? await transactions.findManyWithCampaign({ clickIds: [...clickIds] }) : null;
    const byActionId =
      actionIds.size > 0 ? await transactions.findManyWithCampaign({ actionIds: [...actionIds] }) : null;
    const foundById = new Map(byId?.found.map((found) => [found.transaction.id, found]));
    const foundByClickId = new Map(byClickId?.found.map((found) => [found.transaction.clickId, found]));
    const foundByActionId = new Map(byActionId?.found.map((found) => [found.transaction.actionId, found]));
    for (const { identifier } of commands) {
      const [lookup, found] =
        identifier.kind === 'transaction_id'
          ? [byId, foundById.get(identifier.transactionId)]
          : identifier.kind === 'click_id'
            ? [byClickId, foundByClickId.get(identifier.clickId)]
            : identifier.kind === 'action_id'
              ? [byActionId, foundByActionId.get(identifier.actionId)]
              : [null, undefined];
      if (lookup)
        prefetched.set(identifier, { nightlyInProgress: lookup.nightlyInProgress, found: found ? [found] : [] });
    }
    return prefetched;
  }

  private async apply(transactionId: number, command: ModificationCommand, options: ModifyOptions): Promise<Outcome> {
    const { keyedAnswers } = this.deps;
    const keyed = options.idempotency;
    return this.deps.sql.transaction(async (sql) => {
      const [outcome] = await this.writer.write(sql, [{ transactionId, command }]);
      if (outcome.kind !== 'applied') return outcome;
      await options.afterApply?.(sql, outcome);
      if (keyed)
        await keyedAnswers!.remember(sql, {
          campaignId: outcome.transaction.campaignId,
          key: keyed.key,
          fingerprint: keyed.fingerprint,
          response: keyed.render(outcome),
          transactionId: outcome.transaction.id,
        });
      return outcome;
    });
  }
}
