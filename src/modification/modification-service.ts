import { ClientBusyError, type PasswordVerifier } from '../auth/password-verifier';
import { QueueFullError } from '../auth/bounded-concurrency';
import { clientKeyOf, ipIsListed } from '../auth/ip-address';
import type { CampaignStore } from '../store/campaign-store';
import { classifyDatabaseError, isTransientDatabaseError, temporaryFailureType } from '../store/database-errors';
import { LOCK_RETRY_ATTEMPTS, retryingLockConflicts } from '../store/lock-retries';
import type { ModificationStore } from '../store/modification-store';
import type { ProcessingStateStore } from '../store/processing-state-store';
import type { Sql, SqlRunner } from '../store/sql';
import type { StatisticsStore } from '../store/statistics-store';
import type { TransactionLookup, TransactionStore } from '../store/transaction-store';
import type { CampaignSettings, Transaction } from '../core/transaction';
import type { WhitelistStore } from '../store/whitelist-store';
import { forEachConcurrently } from '../workers/for-each-concurrently';
import { FailureBrake, type FailureLimits } from './failure-brake';
import { ChangeWriter, type PostbackOutbox, type ReadyChange } from './change-writer';
import type { ModificationCommand, TransactionIdentifier } from './command';
import { isPassing, type Outcome } from './outcome';

export type { PostbackOutbox } from './change-writer';

/** Everything the core needs, passed in by the composition root. */
export interface ModificationServiceDeps {
  /** Prepared statements on knex's connections: the unit of work of a change. */
  sql: SqlRunner;
  transactions: TransactionStore;
  campaigns: Pick<CampaignStore, 'get'>;
  modifications: ModificationStore;
  processingState: ProcessingStateStore;
  statistics: StatisticsStore;
  whitelist: WhitelistStore;
  passwords: PasswordVerifier;
  postbacks: PostbackOutbox | null;
  /** Brake on failed attempts from /transaction.edit (not batches, which an admin uploaded). */
  limiter?: FailureLimits | null;
  now?: () => number;
  /** Attempts of the unit of work when the database reports a deadlock or lock timeout. */
  maxAttempts?: number;
}

type Located = { transaction: Transaction; campaign: CampaignSettings };
/** The nightly flag and the transactions an identifier matched (a TransactionLookup, or the one-unit path's read). */
type Lookup = { nightlyInProgress: boolean; found: Located[] };

/** What a front door adds to one call of `modify`; `Early` is what `beforeApply` may answer instead. */
export interface ModifyOptions<Early = never> {
  /**
   * Runs once every pre-check has passed — the campaign's opt-in and the credentials included, exactly as
   * for any request — just before the unit of work: a non-null answer ends the call with it and nothing is
   * written (an idempotent replay, which must be authenticated like a fresh request first).
   */
  beforeApply?: (located: { campaignId: number; transactionId: number }) => Promise<Early | null>;
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
  afterApply?: (sql: Sql, applied: number[]) => Promise<void>;
}

/** The answer to a client that already has its share of password compares under way. */
function clientBusy(): Outcome {
  return { kind: 'temporary_failure', failureType: 'rate limited', retryAfterSeconds: 1 };
}

/**
 * The core: every front door's modification command goes through `modify`, which answers with an
 * Outcome. Checks run in LinkTrust's documented order; the change itself is one database transaction.
 */
export class ModificationService {
  private readonly maxAttempts: number;
  private readonly writer: ChangeWriter;
  private readonly brake: FailureBrake;

  constructor(private readonly deps: ModificationServiceDeps) {
    this.maxAttempts = deps.maxAttempts ?? LOCK_RETRY_ATTEMPTS;
    this.writer = new ChangeWriter({ ...deps, now: deps.now ?? Date.now });
    this.brake = new FailureBrake(deps.limiter ?? null);
  }

  /** Applies a command, or says why not. Throws only for unexpected (non-database) bugs. */
  async modify<Early = never>(command: ModificationCommand, options: ModifyOptions<Early> = {}): Promise<Outcome | Early> {
    return this.modifyStep(() => this.checkAndApply(command, options));
  }

  private async checkAndApply<Early>(command: ModificationCommand, options: ModifyOptions<Early>): Promise<Outcome | Early> {
    if (this.mayApplyAtOnce(command, options)) {
      const applied = await this.lookingAfterLoss(command, null, () => this.withRetries(() => this.applyAtOnce(command)));
      if (applied) return applied;
    }
    const checked = await this.precheck(command);
    if ('kind' in checked) return checked;
    const { transaction } = checked;
    const early = options.beforeApply ? await options.beforeApply({ campaignId: checked.campaign.id, transactionId: transaction.id }) : null;
    if (early !== null) return early;
    return this.lookingAfterLoss(command, transaction, () => this.withRetries(() => this.apply(transaction.id, command, options)));
  }

  /**
   * Runs a unit of work that may apply `command`. The connection may die after the COMMIT reached the
   * database, with only its acknowledgement lost: a failure would tell the client that nothing changed,
   * so look before answering.
   */
  private async lookingAfterLoss<T>(command: ModificationCommand, transaction: Transaction | null, work: () => Promise<T>): Promise<T | Outcome> {
    try {
      return await work();
    } catch (error) {
      if (classifyDatabaseError(error) === 'connection') {
        const landed = await this.appliedDespite(transaction, command).catch(() => null);
        if (landed) return landed;
      }
      throw error;
    }
  }

  /**
   * Whether `command` may try the one-unit path: a unique identifier, no work of the caller's before or inside the
   * unit, and a password verified lately (so the pre-checks will not need a bcrypt compare, which must
   * never run under the row lock that path takes first).
   */
  private mayApplyAtOnce(command: ModificationCommand, options: ModifyOptions<unknown>): boolean {
    return !options.afterApply && !options.beforeApply && command.identifier.kind !== 'merchant_reference' && this.deps.passwords.mayBeKnown(command.password);
  }

  /**
   * The common success in one unit of work: take the shared lock on the processing state and the
   * transaction's row lock (which reads its campaign's settings) first, run the same pre-checks on what
   * was read, then write, the COMMIT going with the writes. Two round trips instead of four. Null, having
   * written nothing, unless the command passes every pre-check without a compare: the caller then takes
   * the usual path, which answers every refusal (and counts every failure) exactly once.
   */
  private async applyAtOnce(command: ModificationCommand): Promise<Outcome | null> {
    const { deps } = this;
    const { identifier } = command;
    if (identifier.kind === 'merchant_reference') return null;
    // A client over its limit is refused without taking a lock (the usual path answers it).
    if (command.source === 'api' && (await this.brake.refusal(this.brake.ipKeys(clientKeyOf(command.clientIp))))) return null;
    return deps.sql.transaction(async (sql) => {
      const [state, found] = await sql.all([
        deps.processingState.readForModificationStatement(),
        deps.transactions.lockWithCampaignStatement(identifier.kind === 'transaction_id' ? { id: identifier.transactionId } : { clickId: identifier.clickId }),
      ]);
      const checked = await this.precheck(command, { nightlyInProgress: state.nightlyInProgress, found }, true);
      if ('kind' in checked) return null;
      const locked = found.map((match) => match.transaction);
      const [outcome] = await this.writer.writeLocked(sql, state, locked, [{ transactionId: checked.transaction.id, command }], { commit: true });
      return outcome;
    });
  }

  /**
   * Everything decided before the change's unit of work, in LinkTrust's order: rate limits, the lookup
   * (nightly flag, identifier), the campaign's opt-in, the credentials. Read without locks: the password
   * check may take a bcrypt compare, which must not hold a row lock. The decisive checks (nightly flag,
   * hour) are repeated under locks by the writer.
   *
   * `atOnce` (the one-unit path, under its locks): any refusal only sends the command to the usual path,
   * which answers it. So nothing is counted or spent, no white-list is read and no compare runs (a
   * password the cache does not know reads as unauthorized); the caller checked the client's limit.
   */
  private async precheck(command: ModificationCommand, prefetched?: Lookup, atOnce = false): Promise<Located | Outcome> {
    const { deps } = this;
    const limited = command.source === 'api';
    // The limits count an IPv6 client by its /64 (`clientKeyOf`).
    const client = limited ? clientKeyOf(command.clientIp) : undefined;
    const ipKeys = client !== undefined ? this.brake.ipKeys(client) : [];
    const ipBlocked = atOnce ? null : await this.brake.refusal(ipKeys);
    if (ipBlocked) return ipBlocked;
    // A failing client with its share of compares under way would be refused at its compare: refuse it
    // before the lookup, so that a flood's refusals cost no database work (not counted, like that refusal).
    if (client !== undefined && !atOnce && deps.passwords.wouldBeBusy(client, command.password)) return clientBusy();
    const located = await this.locate(command.identifier, prefetched);
    if ('kind' in located) {
      // Unknown ids cost a compare too, so response time does not tell which ids exist.
      if (atOnce || located.kind !== 'invalid_transaction') return located;
      if (command.password !== null) await deps.passwords.spendCompareTime(client);
      return this.brake.count(located, ipKeys);
    }
    const { campaign } = located;
    if (!campaign.allowExternalModification) return { kind: 'campaign_closed' };
    const campaignKeys = limited ? this.brake.campaignKeys(campaign.id) : [];
    // The one-unit path passes only a credential the cache knows, which the campaign brake never refuses.
    const campaignBlocked = atOnce ? null : await this.brake.refusal(campaignKeys);
    if (campaignBlocked) {
      // A credential refused for want of a turn was still looked up in the cache: counted against its
      // client, or a braked campaign's cache could be probed for nothing but the wait.
      const refused = await this.underCampaignBrake(campaign, command, client);
      if (refused) return this.brake.count(refused, ipKeys);
    }
    if (!(await this.authorised(campaign, command, atOnce))) {
      const refused: Outcome = { kind: 'unauthorized' };
      return atOnce ? refused : this.brake.count(refused, [...ipKeys, ...campaignKeys]);
    }
    return located;
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
    const lookups = await this.modifyStep(() => this.prefetch(commands));
    if (!(lookups instanceof Map)) return null;
    await forEachConcurrently(commands, options.concurrency, async (command, index) => {
      const checked = await this.modifyStep(() => this.precheck(command, lookups.get(command.identifier)));
      if ('kind' in checked) outcomes[index] = checked;
      else ready.push({ index, transactionId: checked.transaction.id, command });
    });
    if (outcomes.some(isPassing)) return null;
    if (ready.length === 0) return outcomes;
    ready.sort((a, b) => a.index - b.index); // file order: a transaction named twice changes in order
    const written = await this.modifyStep(() =>
      this.withRetries(() =>
        this.deps.sql.transaction(async (sql) => {
          const results = await this.writer.write(sql, ready);
          const applied = ready.filter((_, i) => results[i].kind === 'applied').map((change) => change.index);
          if (applied.length > 0) await options.afterApply?.(sql, applied);
          return results;
        }),
      ),
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
    for (const { identifier } of commands) {
      if (identifier.kind === 'transaction_id') ids.add(identifier.transactionId);
      else if (identifier.kind === 'click_id') clickIds.add(identifier.clickId);
    }
    const byId = ids.size > 0 ? await transactions.findManyWithCampaign({ ids: [...ids] }) : null;
    const byClickId = clickIds.size > 0 ? await transactions.findManyWithCampaign({ clickIds: [...clickIds] }) : null;
    const foundById = new Map(byId?.found.map((found) => [found.transaction.id, found]));
    const foundByClickId = new Map(byClickId?.found.map((found) => [found.transaction.clickId, found]));
    for (const { identifier } of commands) {
      const [lookup, found] =
        identifier.kind === 'transaction_id'
          ? [byId, foundById.get(identifier.transactionId)]
          : identifier.kind === 'click_id'
            ? [byClickId, foundByClickId.get(identifier.clickId)]
            : [null, undefined];
      if (lookup) prefetched.set(identifier, { nightlyInProgress: lookup.nightlyInProgress, found: found ? [found] : [] });
    }
    return prefetched;
  }

  /** Runs a step, turning passing trouble into the outcome `modify` would answer. */
  private async modifyStep<T>(step: () => Promise<T>): Promise<T | Outcome> {
    try {
      return await step();
    } catch (error) {
      if (isTransientDatabaseError(error)) return { kind: 'temporary_failure', failureType: temporaryFailureType(error) };
      if (error instanceof QueueFullError) return { kind: 'temporary_failure', failureType: 'server busy', retryAfterSeconds: 1 };
      if (error instanceof ClientBusyError) return clientBusy();
      throw error;
    }
  }

  /**
   * After a lost connection: the applied outcome when this request's history row exists, else null.
   * Taking the row lock first waits for a unit of work the database is still finishing (committing, or
   * rolling back once it notices its client is gone), so the history read after it is final.
   */
  private async appliedDespite(known: Transaction | null, command: ModificationCommand): Promise<Outcome | null> {
    const { deps } = this;
    if (!command.requestId) return null;
    const transaction = known ?? (await this.locate(command.identifier).then((located) => ('kind' in located ? null : located.transaction)));
    if (!transaction) return null;
    await deps.sql.transaction((sql) => deps.transactions.lockById(sql, transaction.id));
    const history = await deps.modifications.listForTransaction(transaction.id);
    const row = history.find((modification) => modification.requestId === command.requestId);
    return row ? { kind: 'applied', transaction: { ...transaction, ...row.after, updatedAt: row.createdAt }, modificationId: row.id } : null;
  }

  private async locate(identifier: TransactionIdentifier, prefetched?: Lookup): Promise<Located | Outcome> {
    const { transactions } = this.deps;
    const lookup =
      prefetched ??
      (identifier.kind === 'merchant_reference'
        ? await transactions.findWithCampaign({ campaignId: identifier.campaignId, merchantReferenceId: identifier.merchantReferenceId })
        : identifier.kind === 'transaction_id'
          ? await transactions.findWithCampaign({ id: identifier.transactionId })
          : await transactions.findWithCampaign({ clickId: identifier.clickId }));
    // LinkTrust checks nightly processing before it looks at the transaction.
    if (lookup.nightlyInProgress) return { kind: 'nightly_in_progress' };
    const { found } = lookup;
    if (identifier.kind === 'merchant_reference') {
      if (found.length === 0) {
        // The setting decides, whether or not the reference exists.
        const campaign = await this.deps.campaigns.get(identifier.campaignId);
        return campaign && !campaign.uniqueMerchantReference ? { kind: 'invalid_parameter', parameter: 'Merchantreferenceid' } : { kind: 'invalid_transaction' };
      }
      // Only campaigns that enforce unique merchant references may be addressed this way (LinkTrust).
      if (!found[0].campaign.uniqueMerchantReference) return { kind: 'invalid_parameter', parameter: 'Merchantreferenceid' };
      if (found.length > 1) return { kind: 'invalid_transaction' };
      return found[0];
    }
    if (found.length === 0) return { kind: 'invalid_transaction' };
    if (identifier.campaignId !== null && found[0].campaign.id !== identifier.campaignId) return { kind: 'invalid_transaction' };
    return found[0];
  }

  /**
   * A braked campaign (a flood of failures from many addresses) must slow guessing without locking out its
   * merchant: a credential the cache knows, a client that passed a check lately and a white-listed IP go
   * on as usual; any other credential is still checked, a bounded number per minute for the campaign
   * (`FailureBrake.campaignTurn`), and passes when it is right. Null: go on; else the refusal.
   */
  private async underCampaignBrake(campaign: CampaignSettings, command: ModificationCommand, client: string | undefined): Promise<Outcome | null> {
    const { passwords } = this.deps;
    if (passwords.isKnown(campaign.id, campaign.passwordHash, command.password)) return null;
    if (passwords.isKnownClient(client)) return null;
    if (await this.whitelisted(campaign.id, command.clientIp)) return null;
    return this.brake.campaignTurn(campaign.id);
  }

  private async whitelisted(campaignId: number, clientIp: string): Promise<boolean> {
    return ipIsListed(clientIp, await this.deps.whitelist.addressesFor(campaignId));
  }

  /** `cachedOnly`: true only from the verified-credential cache (no compare; false says nothing). */
  private async authorised(campaign: CampaignSettings, command: ModificationCommand, cachedOnly = false): Promise<boolean> {
    const { passwords } = this.deps;
    // The white-list is read through the pool, which must not be asked for a second connection under a
    // unit of work's locks (SQLite's pool has one): such campaigns take the usual path.
    const client = command.source === 'api' ? clientKeyOf(command.clientIp) : undefined;
    if (cachedOnly) return !campaign.whitelistOnly && passwords.isKnown(campaign.id, campaign.passwordHash, command.password, client);
    // Same answer for a bad password and a refused IP, so neither can be probed on its own.
    if (campaign.whitelistOnly && !(await this.whitelisted(campaign.id, command.clientIp))) return false;
    return passwords.verify(campaign.id, campaign.passwordHash, command.password, client);
  }

  private async apply(transactionId: number, command: ModificationCommand, options: ModifyOptions<unknown>): Promise<Outcome> {
    return this.deps.sql.transaction(async (sql) => {
      const [outcome] = await this.writer.write(sql, [{ transactionId, command }]);
      if (outcome.kind === 'applied') await options.afterApply?.(sql, outcome);
      return outcome;
    });
  }

  /**
   * Re-runs the unit of work after a deadlock or lock timeout, a bounded number of times (the shared
   * `retryingLockConflicts`). A lost connection is not retried here and becomes a temporary failure.
   */
  private async withRetries<T>(work: () => Promise<T>): Promise<T> {
    return retryingLockConflicts(work, this.maxAttempts);
  }
}
