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
import { SmartBatcher } from './smart-batcher';
import { classifyDatabaseError } from '../store/database-errors';
import type { Transaction } from '../core/transaction';
import type { Located } from './rules';
import type { IdempotencyService, IdempotentRequest } from './idempotency-service';
import { KeyedUnit, type UnitChange } from './keyed-unit';

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

/** A command of the one-unit path, with its key when it has one. */
interface AtOnce {
  command: ModificationCommand;
  idempotency?: IdempotentRequest;
}

/**
 * A coalesced command's answer: its outcome or a keyed request's remembered answer (a string, replayed
 * verbatim), null to take the usual path; or the trouble its unit met.
 */
type Settled = { ok: true; outcome: Outcome | string | null } | { ok: false; error: unknown };

const DEFAULT_COALESCED_CHANGES = 64;

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
  /** Null when coalescing is off: each one-unit change then has a unit of its own. */
  private readonly atOnce: SmartBatcher<AtOnce, Settled> | null;
  /** Changes run without coalescing, each its own unit (`coalesce: false`). */
  private aloneUnits = 0;
  /** Keyed changes sent to the one-unit path (coalesced, or alone with `coalesce: false`). */
  private keyedAtOnce = 0;

  constructor(private readonly deps: ModificationServiceDeps) {
    this.rules = deps.rules;
    this.writer = new ChangeWriter({ ...deps, now: deps.now ?? Date.now });
    this.unit = new UnitOfWork(deps);
    const { coalesce } = deps;
    this.atOnce =
      coalesce === false
        ? null
        : new SmartBatcher((items) => this.applyCoalesced(items), {
            maxBatch: coalesce?.maxChanges ?? DEFAULT_COALESCED_CHANGES,
            maxInFlight: coalesce?.maxUnits ?? (deps.sql.engine === 'sqlite' ? 1 : 2),
            // SQLite's units run without giving the event loop a turn: nothing could queue behind them.
            startOnNextTurn: deps.sql.engine === 'sqlite',
          });
  }

  /**
   * Changes and units of work of the one-unit path so far (how much coalescing saved), and how many of
   * those changes were keyed (`Idempotency-Key`).
   */
  coalescing(): { changes: number; units: number; keyed: number } {
    const keyed = this.keyedAtOnce;
    if (!this.atOnce) return { changes: this.aloneUnits, units: this.aloneUnits, keyed };
    const { items, batches } = this.atOnce.stats();
    return { changes: items, units: batches, keyed };
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
        const item: AtOnce = keyed ? { command, idempotency: keyed } : { command };
        if (keyed) this.keyedAtOnce += 1;
        const settled = this.atOnce ? await this.atOnce.submit(item) : await this.applyAlone(item);
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
        (landed) => this.answerOfLanded(landed, keyed),
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
   * What a command whose COMMIT landed despite a lost connection answers: a keyed one the answer stored
   * with its change (so a retry gets the same bytes); the applied outcome when that cannot be read.
   */
  private async answerOfLanded(landed: Outcome, keyed: IdempotentRequest | undefined): Promise<Outcome | string> {
    if (!keyed || landed.kind !== 'applied') return landed;
    const remembered = await this.deps.keyedAnswers!.answerFor(landed.transaction.campaignId, keyed).catch(() => null);
    return typeof remembered === 'string' ? remembered : landed;
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
   * The one-unit path for the commands that arrived together (`SmartBatcher`): one unit of work for all,
   * retried whole after a deadlock. When it still fails, a lone command fails as it always did (a lost
   * connection: applied if its history row says so); several fall back to smaller units — each command
   * whose COMMIT did not land takes the usual path on its own, so nothing applies twice, and one whose
   * landing cannot be told is answered with the trouble.
   */
  private async applyCoalesced(items: AtOnce[]): Promise<Settled[]> {
    // A unit's history rows are told apart by request id (read back after the insert, looked up after a
    // lost connection): commands repeating one run in the next unit, in arrival order.
    const settled: Settled[] = [];
    for (const run of runsOfDistinctRequestIds(items)) settled.push(...(await this.applyUnit(run)));
    return settled;
  }

  /** The one-unit path without coalescing: the change in a unit of its own, at once. */
  private async applyAlone(item: AtOnce): Promise<Settled> {
    this.aloneUnits += 1;
    const [settled] = await this.applyUnit([item]);
    return settled;
  }

  private async applyUnit(items: AtOnce[]): Promise<Settled[]> {
    const { unit } = this;
    try {
      const outcomes = await unit.withRetries(() => this.applyAtOnce(items));
      return outcomes.map((outcome) => ({ ok: true, outcome }));
    } catch (error) {
      const trouble = classifyDatabaseError(error);
      // A keyed change's answer collided with a concurrent unit's (the same key, stored between our read and
      // our insert): the unit rolled back, and each command takes the usual path, which answers twins.
      if (trouble === 'duplicate_key' && items.some((item) => item.idempotency))
        return items.map(() => ({ ok: true, outcome: null }));
      // Several commands fall back to smaller units (each on its own, by the usual path); a lone one answers the trouble.
      const alone: Settled = items.length > 1 ? { ok: true, outcome: null } : { ok: false, error };
      if (trouble === 'deadlock' || trouble === 'lock_timeout') return items.map(() => alone);
      if (trouble !== 'connection') return items.map(() => ({ ok: false, error }));
      // The COMMIT may have landed: each command's history row says so; when that cannot be told, the trouble.
      return Promise.all(
        items.map(({ command, idempotency }) =>
          unit
            .landedDespiteLoss(command, null)
            .then((landed) => (landed ? this.answerOfLanded(landed, idempotency) : null))
            .then(
              (landed): Settled => (landed ? { ok: true, outcome: landed } : alone),
              (): Settled => ({ ok: false, error }),
            ),
        ),
      );
    }
  }

  /**
   * The common success in one unit of work, for every command that came together: take the shared lock on
   * the processing state and each named transaction's row lock (which reads its campaign's settings) in
   * one round trip, run the same pre-checks on what was read (`under-lock`), then write all the passing
   * changes in arrival order, the COMMIT going with the writes — two round trips for the lot, where each
   * change alone took two. A command whose pre-checks would not pass without a compare gets null, having
   * written nothing: the caller takes the usual path, which answers every refusal (and counts every
   * failure) exactly once. Rows are locked in primary-key order where the ids are known, so two units in
   * flight do not deadlock each other. Keyed commands are answered as `KeyedUnit` says: their remembered
   * answers read in one more statement, theirs stored with the writes (before a COMMIT of its own).
   */
  private async applyAtOnce(items: AtOnce[]): Promise<Array<Outcome | string | null>> {
    const { deps, rules } = this;
    const lockOrder = items
      .map(({ command }, index) => ({ index, identifier: command.identifier }))
      .sort((a, b) => lockRank(a.identifier) - lockRank(b.identifier));
    return deps.sql.transaction(async (sql) => {
      const [state, ...lockedInOrder] = await sql.all([
        deps.processingState.readForModificationStatement(),
        ...lockOrder.map(({ identifier }) =>
          deps.transactions.lockWithCampaignStatement(
            identifier.kind === 'transaction_id'
              ? { id: identifier.transactionId }
              : { clickId: clickIdOf(identifier) },
          ),
        ),
      ]);
      const found: Located[][] = new Array(items.length);
      lockOrder.forEach(({ index }, position) => (found[index] = lockedInOrder[position] as Located[]));
      const results: Array<Outcome | string | null> = items.map(() => null);
      const ready: UnitChange[] = [];
      const locked = new Map<number, Transaction>();
      for (const [index, { command, idempotency }] of items.entries()) {
        const checked = await rules.precheck(
          command,
          { nightlyInProgress: state.nightlyInProgress, found: found[index] },
          'under-lock',
        );
        if ('kind' in checked) continue;
        for (const match of found[index]) locked.set(match.transaction.id, match.transaction);
        const change = { index, transactionId: checked.transaction.id, campaignId: checked.campaign.id, command };
        ready.push(idempotency ? { ...change, idempotency } : change);
      }
      if (ready.length === 0) return results;
      // Only a unit holding a keyed change reads remembered answers: unkeyed edits pay nothing for it.
      const keyed = ready.some((change) => change.idempotency)
        ? await KeyedUnit.read(sql, deps.keyedAnswers!, ready)
        : null;
      const toWrite = keyed ? keyed.toWrite : ready;
      if (toWrite.length > 0) {
        const outcomes = await this.writer.writeLocked(sql, state, [...locked.values()], toWrite, {
          commit: !keyed?.remembers,
        });
        toWrite.forEach((change, position) => (results[change.index] = outcomes[position]));
        const remember = keyed?.rememberStatements(outcomes) ?? [];
        if (remember.length > 0) await sql.all(remember, { commit: true });
      }
      keyed?.answers.forEach((answer, index) => (results[index] = answer));
      return results;
    });
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

/** Lock order of the one-unit path: transaction ids ascending (as InnoDB takes them), click ids after. */
function lockRank(identifier: TransactionIdentifier): number {
  return identifier.kind === 'transaction_id' ? identifier.transactionId : Number.MAX_SAFE_INTEGER;
}

function clickIdOf(identifier: TransactionIdentifier): string {
  if (identifier.kind !== 'click_id') throw new Error(`the one-unit path cannot lock by ${identifier.kind}`);
  return identifier.clickId;
}

/** Consecutive runs of commands whose request ids differ within each run (arrival order kept). */
function runsOfDistinctRequestIds(items: AtOnce[]): AtOnce[][] {
  const runs: AtOnce[][] = [];
  let seen = new Set<string>();
  for (const item of items) {
    if (runs.length === 0 || seen.has(item.command.requestId)) {
      runs.push([]);
      seen = new Set();
    }
    seen.add(item.command.requestId);
    runs[runs.length - 1].push(item);
  }
  return runs;
}
