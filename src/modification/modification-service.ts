import type { Knex } from 'knex';
import type { PasswordVerifier } from '../auth/password-verifier';
import { ipIsListed } from '../auth/ip-address';
import type { Campaign } from '../store/campaign-store';
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
  modifications: ModificationStore;
  processingState: ProcessingStateStore;
  statistics: StatisticsStore;
  whitelist: WhitelistStore;
  passwords: PasswordVerifier;
  postbacks: PostbackOutbox | null;
  now?: () => number;
  /** Attempts of the unit of work when the database reports a deadlock or lock timeout. */
  maxAttempts?: number;
}

type Located = { transaction: Transaction; campaign: Campaign };

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
  async modify(command: ModificationCommand): Promise<Outcome> {
    try {
      return await this.checkAndApply(command);
    } catch (error) {
      if (isTransientDatabaseError(error)) return { kind: 'temporary_failure', failureType: temporaryFailureType(error) };
      throw error;
    }
  }

  private async checkAndApply(command: ModificationCommand): Promise<Outcome> {
    const { deps } = this;
    // Read without locks first: the password check may take a bcrypt compare, which must not hold a
    // row lock. The decisive checks are repeated under locks in apply().
    if ((await deps.processingState.read()).nightlyInProgress) return { kind: 'nightly_in_progress' };
    const located = await this.locate(command.identifier);
    if ('kind' in located) {
      // Unknown ids cost a compare too, so response time does not tell which ids exist.
      if (located.kind === 'invalid_transaction' && command.password !== null) await deps.passwords.spendCompareTime();
      return located;
    }
    const { transaction, campaign } = located;
    if (!campaign.allowExternalModification) return { kind: 'campaign_closed' };
    if (!(await this.authorised(campaign, command))) return { kind: 'unauthorized' };
    return this.withRetries(() => this.apply(transaction.id, command));
  }

  private async locate(identifier: TransactionIdentifier): Promise<Located | Outcome> {
    const { transactions } = this.deps;
    let found: Located[];
    if (identifier.kind === 'merchant_reference') {
      found = await transactions.findWithCampaign({ campaignId: identifier.campaignId, merchantReferenceId: identifier.merchantReferenceId });
      if (found.length === 0) return { kind: 'invalid_transaction' };
      // Only campaigns that enforce unique merchant references may be addressed this way (LinkTrust).
      if (!found[0].campaign.uniqueMerchantReference) return { kind: 'invalid_parameter', parameter: 'Merchantreferenceid' };
      if (found.length > 1) return { kind: 'invalid_transaction' };
      return found[0];
    }
    found =
      identifier.kind === 'transaction_id'
        ? await transactions.findWithCampaign({ id: identifier.transactionId })
        : await transactions.findWithCampaign({ clickId: identifier.clickId });
    if (found.length === 0) return { kind: 'invalid_transaction' };
    if (identifier.campaignId !== null && found[0].campaign.id !== identifier.campaignId) return { kind: 'invalid_transaction' };
    return found[0];
  }

  private async authorised(campaign: Campaign, command: ModificationCommand): Promise<boolean> {
    // Same answer for a bad password and a refused IP, so neither can be probed on its own.
    if (campaign.whitelistOnly) {
      const addresses = await this.deps.whitelist.addressesFor(campaign.id);
      if (!ipIsListed(command.clientIp, addresses)) return false;
    }
    return this.deps.passwords.verify(campaign.id, campaign.passwordHash, command.password);
  }

  private async apply(transactionId: number, command: ModificationCommand): Promise<Outcome> {
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
      return { kind: 'applied', transaction: updated, modificationId } as const;
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
