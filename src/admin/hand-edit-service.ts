import type { Money } from '../core/money';
import type { Transaction } from '../core/transaction';
import type { ModificationCommand } from '../modification/command';
import type { ModifyOptions } from '../modification/modification-service';
import type { AfterChange } from '../store/after-change';
import { describeOutcome, type Outcome } from '../modification/outcome';
import type { Modification, ModificationStore } from '../store/modification-store';
import type { TransactionStore } from '../store/transaction-store';
import type { CampaignStore } from '../store/campaign-store';
import { AdminError, invalid, notFound } from '../http/admin-errors';

/** A change typed by a person: LinkTrust's values for a transaction, impact.com's row for an action. */
export interface HandEdit {
  affiliatePayout?: Money;
  merchantRevenue?: Money;
  approved?: boolean;
  /** impact.com actions only: the new sale amount (the payout follows the event type's rule). */
  amount?: Money;
  /** impact.com actions only: a disposition code (REJECTED, RESET, ITEM_RETURNED, a custom code…); ORDER_UPDATE when absent. */
  dispositionCode?: string;
  /** Why, for the history (required: a hand edit always says why). */
  reason: string;
  executeAffiliatePixel?: boolean;
}

/** Who typed it, and from where. */
export interface HandEditor {
  actor: string;
  /**
   * A merchant user's merchant: the transaction must be on one of its campaigns (else it is not found, as a
   * missing one), that campaign must allow external modification, and the history's source is `merchant`.
   * Absent or null: a network admin (source `admin`).
   */
  merchantId?: number | null;
  clientIp: string;
  requestId: string;
}

/** What a hand edit answers: the transaction as it now is, and its history row. */
export interface HandEditResult {
  transaction: Transaction;
  modification: Modification;
}

/** The cores a hand edit goes through: one with the hand-edit rules (`HandEditRules`), one with impact's. */
type Core = { modify(command: ModificationCommand, options?: ModifyOptions): Promise<Outcome> };

export interface HandEditServiceDeps {
  values: Core;
  actions: Core;
  transactions: Pick<TransactionStore, 'getById'>;
  campaigns: Pick<CampaignStore, 'get'>;
  modifications: Pick<ModificationStore, 'listForTransaction'>;
}

/**
 * Amends a transaction by hand (admin API, console) through the same core as every other front door:
 * source `admin`, the person in the history. A transaction of impact.com (an action: it has an event
 * type) follows impact's rules and answers its codes; any other, LinkTrust's values with the processing
 * rules (nightly, hourly) in LinkTrust's words. Refusals throw `AdminError`s with those words.
 */
export class HandEditService {
  constructor(private readonly deps: HandEditServiceDeps) {}

  /** `afterChange` (the console's audit row) commits with the change, or neither does. */
  async amend(id: number, edit: HandEdit, who: HandEditor, afterChange?: AfterChange<number>): Promise<HandEditResult> {
    const options: ModifyOptions = afterChange
      ? { afterApply: (sql, applied) => afterChange(sql, applied.modificationId) }
      : {};
    const transaction = await this.deps.transactions.getById(id);
    if (!transaction) throw notFound(`transaction ${id}`);
    const merchantId = who.merchantId ?? null;
    if (merchantId !== null) {
      const campaign = await this.deps.campaigns.get(transaction.campaignId);
      if (campaign?.merchantId !== merchantId) throw notFound(`transaction ${id}`);
      if (!campaign.allowExternalModification)
        throw new AdminError(409, 'campaign_closed', describeOutcome({ kind: 'campaign_closed' }).message);
    }
    const isAction = transaction.eventTypeId !== null;
    const base = {
      password: null,
      reason: edit.reason,
      executeAffiliatePixel: edit.executeAffiliatePixel ?? false,
      clientIp: who.clientIp,
      requestId: who.requestId,
      source: merchantId === null ? ('admin' as const) : ('merchant' as const),
      actor: who.actor,
      // Checked again under the row lock: a campaign the network takes away meanwhile is not found.
      ...(merchantId === null ? {} : { merchantId }),
    };
    let outcome: Outcome;
    if (isAction) {
      if (edit.affiliatePayout !== undefined || edit.merchantRevenue !== undefined || edit.approved !== undefined)
        throw invalid(
          `transaction ${id} is an impact.com action: amend it by amount and disposition code (impact's rules), not affiliatePayout, merchantRevenue or approved`,
        );
      if (edit.amount === undefined && edit.dispositionCode === undefined)
        throw invalid('give amount, dispositionCode, or both');
      outcome = await this.deps.actions.modify(
        {
          ...base,
          identifier: { kind: 'action_id', actionId: transaction.actionId, campaignIds: null },
          changes: {},
          action: {
            actionId: transaction.actionId,
            oid: null,
            actionTrackerId: null,
            amount: edit.amount ?? null,
            // impact takes no change without a code: an amount alone is an order update.
            reason: edit.dispositionCode ?? 'ORDER_UPDATE',
            currencyCode: null,
            customerStatus: null,
            items: [],
          },
        },
        options,
      );
    } else {
      if (edit.amount !== undefined || edit.dispositionCode !== undefined)
        throw invalid(
          `transaction ${id} is not an impact.com action: amend affiliatePayout, merchantRevenue or approved`,
        );
      const changes = {
        ...(edit.affiliatePayout !== undefined ? { affiliatePayout: edit.affiliatePayout } : {}),
        ...(edit.merchantRevenue !== undefined ? { merchantRevenue: edit.merchantRevenue } : {}),
        ...(edit.approved !== undefined ? { approved: edit.approved } : {}),
      };
      if (Object.keys(changes).length === 0) throw invalid('give affiliatePayout, merchantRevenue or approved');
      outcome = await this.deps.values.modify(
        {
          ...base,
          identifier: { kind: 'transaction_id', transactionId: id, campaignId: null },
          changes,
        },
        options,
      );
    }
    if (outcome.kind !== 'applied') throw refusalOf(outcome, id);
    const history = await this.deps.modifications.listForTransaction(id);
    const modification = history.find((row) => row.id === outcome.modificationId);
    if (!modification) throw new Error(`history row ${outcome.modificationId} not found after it was written`);
    return { transaction: outcome.transaction, modification };
  }
}

/**
 * A refusal as the admin API answers it: the core's message word for word (LinkTrust's, or impact's with
 * its code). Passing trouble is a 503 to try again; the processing rules and impact's are 409s.
 */
function refusalOf(outcome: Exclude<Outcome, { kind: 'applied' }>, id: number): AdminError {
  const { type, message } = describeOutcome(outcome);
  switch (outcome.kind) {
    case 'invalid_transaction':
      return notFound(`transaction ${id}`);
    case 'nightly_in_progress':
    case 'hourly_pending':
      return new AdminError(409, outcome.kind, message);
    case 'refused':
      return new AdminError(409, outcome.code, message);
    case 'temporary_failure':
      return new AdminError(503, 'temporary_failure', message);
    default:
      return new AdminError(type === 'permanent' ? 409 : 503, outcome.kind, message);
  }
}
