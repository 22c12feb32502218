import type { Knex } from 'knex';
import { ClientBusyError, type PasswordVerifier } from '../auth/password-verifier';
import { QueueFullError } from '../auth/bounded-concurrency';
import type { FailureLimiter, LimitKey } from '../auth/failure-limiter';
import { ipIsListed } from '../auth/ip-address';
import type { Campaign, CampaignStore } from '../store/campaign-store';
import { classifyDatabaseError, isTransientDatabaseError, temporaryFailureType } from '../store/database-errors';
import type { ModificationStore, PostbackDisposition } from '../store/modification-store';
import type { ProcessingStateStore } from '../store/processing-state-store';
import { difference, hourStart, StatisticsStore } from '../store/statistics-store';
import type { Transaction, TransactionStore, TransactionValues } from '../store/transaction-store';
import type { WhitelistStore } from '../store/whitelist-store';
import type { ModificationCommand, TransactionIdentifier } from './command';
import type { Outcome } from './outcome';

/** The postback outbox as the core needs it: both calls run inside the change's database transaction. */
export interface PostbackOutbox {
  /** The affiliate's postback URL template, or null when it has none. */
  templateFor(trx: Knex.Transaction, affiliateId: number): Promise<string | null>;
  /** Queues one delivery of the rendered template for this change. */
  enqueue(trx: Knex.Transaction, change: { template: string; transaction: Transaction; modificationId: number; reason: string | null }): Promise<void>;
}

/** Everything the core needs, passed in by the composition root. */
export interface ModificationServiceDeps {
  knex: Knex;
  transactions: TransactionStore;
  campaigns: Pick<CampaignStore, 'get'>;
  modifications: ModificationStore;
  processingState: ProcessingStateStore;
  statistics: StatisticsStore;
  whitelist: WhitelistStore;
  passwords: PasswordVerifier;
  postbacks: PostbackOutbox | null;
  /** Brake on failed attempts from /transaction.edit (not batches, which an admin uploaded). */
  limiter?: { limiter: FailureLimiter; ipFailures: number; campaignFailures: number } | null;
  now?: () => number;
  /** Attempts of the unit of work when the database reports a deadlock or lock timeout. */
  maxAttempts?: number;
}

type Located = { transaction: Transaction; campaign: Campaign };

/** What a front door adds to one call of `modify`. */
export interface ModifyOptions {
  /**
   * Runs inside the change's database transaction, after the history row is written and only when the
   * change applies: work that must commit with the change or not at all (a batch row's result). Throwing
   * rolls the change back and `modify` rethrows.
   */
  afterApply?: (trx: Knex.Transaction, outcome: Extract<Outcome, { kind: 'applied' }>) => Promise<void>;
}

/**
 * The core: every front door's modification command goes through `modify`, which answers with an
 * Outcome. Checks run in LinkTrust's documented order; the change itself is one database transaction.
 */
export class ModificationService {
  private readonly now: () => number;
  private readonly maxAttempts: number;

  constructor(private readonly deps: ModificationServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.maxAttempts = deps.maxAttempts ?? 4;
  }

  /** Applies a command, or says why not. Throws only for unexpected (non-database) bugs. */
  async modify(command: ModificationCommand, options: ModifyOptions = {}): Promise<Outcome> {
    try {
      return await this.checkAndApply(command, options);
    } catch (error) {
      if (isTransientDatabaseError(error)) return { kind: 'temporary_failure', failureType: temporaryFailureType(error) };
      if (error instanceof QueueFullError) return { kind: 'temporary_failure', failureType: 'server busy', retryAfterSeconds: 1 };
      if (error instanceof ClientBusyError) return { kind: 'temporary_failure', failureType: 'rate limited', retryAfterSeconds: 1 };
      throw error;
    }
  }

  private ipKey(command: ModificationCommand): LimitKey[] {
    const limits = this.deps.limiter;
    return limits && limits.ipFailures > 0 ? [{ key: `ip:${command.clientIp}`, limit: limits.ipFailures }] : [];
  }

  private campaignKey(campaignId: number): LimitKey[] {
    const limits = this.deps.limiter;
    return limits && limits.campaignFailures > 0 ? [{ key: `campaign:${campaignId}`, limit: limits.campaignFailures }] : [];
  }

  /** Refusal when a key is over its limit: checked before any password is. */
  private async rateLimited(keys: LimitKey[]): Promise<Outcome | null> {
    if (keys.length === 0 || !this.deps.limiter) return null;
    const seconds = await this.deps.limiter.limiter.blockedFor(keys);
    return seconds > 0 ? { kind: 'temporary_failure', failureType: 'rate limited', retryAfterSeconds: seconds } : null;
  }

  private async countFailure(outcome: Outcome, keys: LimitKey[]): Promise<Outcome> {
    if (keys.length > 0 && this.deps.limiter) await this.deps.limiter.limiter.recordFailure(keys);
    return outcome;
  }

  private async checkAndApply(command: ModificationCommand, options: ModifyOptions): Promise<Outcome> {
    const { deps } = this;
    const limited = command.source === 'api';
    const ipKeys = limited ? this.ipKey(command) : [];
    const ipBlocked = await this.rateLimited(ipKeys);
    if (ipBlocked) return ipBlocked;
    // Read without locks first: the password check may take a bcrypt compare, which must not hold a
    // row lock. The decisive checks (nightly flag, hour) are repeated under locks in apply().
    const located = await this.locate(command.identifier);
    if ('kind' in located) {
      // Unknown ids cost a compare too, so response time does not tell which ids exist.
      if (located.kind !== 'invalid_transaction') return located;
      if (command.password !== null) await deps.passwords.spendCompareTime();
      return this.countFailure(located, ipKeys);
    }
    const { transaction, campaign } = located;
    if (!campaign.allowExternalModification) return { kind: 'campaign_closed' };
    const campaignKeys = limited ? this.campaignKey(campaign.id) : [];
    const campaignBlocked = await this.rateLimited(campaignKeys);
    // A flood against one campaign must not lock out its merchant: white-listed IPs pass the campaign brake.
    if (campaignBlocked && !(await this.whitelisted(campaign.id, command.clientIp))) return campaignBlocked;
    if (!(await this.authorised(campaign, command))) return this.countFailure({ kind: 'unauthorized' }, [...ipKeys, ...campaignKeys]);
    try {
      return await this.withRetries(() => this.apply(transaction.id, command, options));
    } catch (error) {
      // The connection may have died after the COMMIT reached the database, with only its acknowledgement
      // lost. A failure would tell the client that nothing changed, so look before answering.
      if (classifyDatabaseError(error) === 'connection') {
        const landed = await this.appliedDespite(transaction, command).catch(() => null);
        if (landed) return landed;
      }
      throw error;
    }
  }

  /**
   * After a lost connection: the applied outcome when this request's history row exists, else null.
   * Taking the row lock first waits for a unit of work the database is still finishing (committing, or
   * rolling back once it notices its client is gone), so the history read after it is final.
   */
  private async appliedDespite(transaction: Transaction, command: ModificationCommand): Promise<Outcome | null> {
    const { deps } = this;
    if (!command.requestId) return null;
    await deps.knex.transaction((trx) => deps.transactions.lockById(trx, transaction.id));
    const history = await deps.modifications.listForTransaction(transaction.id);
    const row = history.find((modification) => modification.requestId === command.requestId);
    return row ? { kind: 'applied', transaction: { ...transaction, ...row.after, updatedAt: row.createdAt }, modificationId: row.id } : null;
  }

  private async locate(identifier: TransactionIdentifier): Promise<Located | Outcome> {
    const { transactions } = this.deps;
    const lookup =
      identifier.kind === 'merchant_reference'
        ? await transactions.findWithCampaign({ campaignId: identifier.campaignId, merchantReferenceId: identifier.merchantReferenceId })
        : identifier.kind === 'transaction_id'
          ? await transactions.findWithCampaign({ id: identifier.transactionId })
          : await transactions.findWithCampaign({ clickId: identifier.clickId });
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

  private async whitelisted(campaignId: number, clientIp: string): Promise<boolean> {
    return ipIsListed(clientIp, await this.deps.whitelist.addressesFor(campaignId));
  }

  private async authorised(campaign: Campaign, command: ModificationCommand): Promise<boolean> {
    // Same answer for a bad password and a refused IP, so neither can be probed on its own.
    if (campaign.whitelistOnly && !(await this.whitelisted(campaign.id, command.clientIp))) return false;
    return this.deps.passwords.verify(campaign.id, campaign.passwordHash, command.password, command.source === 'api' ? command.clientIp : undefined);
  }

  private async apply(transactionId: number, command: ModificationCommand, options: ModifyOptions): Promise<Outcome> {
    const { deps } = this;
    return deps.knex.transaction(async (trx) => {
      const state = await deps.processingState.readForModification(trx);
      if (state.nightlyInProgress) return { kind: 'nightly_in_progress' } as const;
      const current = await deps.transactions.lockById(trx, transactionId);
      if (!current) return { kind: 'invalid_transaction' } as const;
      if (hourStart(current.occurredAt) >= state.rolledUpThrough) return { kind: 'hourly_pending' } as const;

      const now = this.now();
      const before: TransactionValues = pick(current);
      const after: TransactionValues = {
        affiliatePayout: command.changes.affiliatePayout ?? before.affiliatePayout,
        merchantRevenue: command.changes.merchantRevenue ?? before.merchantRevenue,
        approved: command.changes.approved ?? before.approved,
      };
      await deps.transactions.updateValues(trx, current.id, after, now);
      await deps.statistics.addToHour(trx, hourStart(current.occurredAt), current.campaignId, current.affiliateId, difference(before, after));
      const updated: Transaction = { ...current, ...after, updatedAt: now };

      let postback: PostbackDisposition = 'not_requested';
      let template: string | null = null;
      if (command.executeAffiliatePixel && deps.postbacks) {
        template = await deps.postbacks.templateFor(trx, current.affiliateId);
        postback = template ? 'queued' : 'no_postback_url';
      }
      const modificationId = await deps.modifications.append(trx, {
        transactionId: current.id,
        identifier: command.identifier.kind,
        source: command.source,
        before,
        after,
        reason: command.reason,
        clientIp: command.clientIp || null,
        requestId: command.requestId,
        postback,
        createdAt: now,
      });
      if (template && deps.postbacks) {
        await deps.postbacks.enqueue(trx, { template, transaction: updated, modificationId, reason: command.reason });
      }
      const applied = { kind: 'applied', transaction: updated, modificationId } as const;
      await options.afterApply?.(trx, applied);
      return applied;
    });
  }

  /**
   * Re-runs the unit of work after a deadlock or lock timeout, a bounded number of times: the database
   * rolled it back, so another attempt cannot apply it twice. A lost connection is not retried here —
   * the commit may have reached the server — and becomes a temporary failure.
   */
  private async withRetries(work: () => Promise<Outcome>): Promise<Outcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        const kind = classifyDatabaseError(error);
        if (attempt >= this.maxAttempts || (kind !== 'deadlock' && kind !== 'lock_timeout')) throw error;
        await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10 * attempt));
      }
    }
  }
}

function pick(transaction: Transaction): TransactionValues {
  return { affiliatePayout: transaction.affiliatePayout, merchantRevenue: transaction.merchantRevenue, approved: transaction.approved };
}
