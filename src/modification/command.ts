import type { Money } from '../core/money';
import type { ModificationSource } from '../core/modification-kinds';
import type { ActionRowChange } from '../core/action';

/**
 * How the request names its transaction. `campaignId` with an id or click id must match the campaign.
 * `campaignIds` on LinkTrust's identifiers: the campaigns the channel may touch (a merchant's batch, a
 * merchant's hand edit) — another campaign's transaction is not found; absent or null: any.
 */
export type TransactionIdentifier =
  | { kind: 'transaction_id'; transactionId: number; campaignId: number | null; campaignIds?: readonly number[] | null }
  | { kind: 'click_id'; clickId: string; campaignId: number | null; campaignIds?: readonly number[] | null }
  | {
      kind: 'merchant_reference';
      merchantReferenceId: string;
      campaignId: number;
      campaignIds?: readonly number[] | null;
    }
  /**
   * impact.com: an action id, or the newest action with an order id on an event type. `campaignIds`: the
   * campaigns the channel may touch (an intake's campaign, an API account's); null: any (the admin API).
   */
  | { kind: 'action_id'; actionId: string; campaignIds: readonly number[] | null }
  | { kind: 'order'; merchantReferenceId: string; eventTypeId: number; campaignIds: readonly number[] | null };

/** The changes requested; an absent field keeps its value. */
export interface RequestedChanges {
  affiliatePayout?: Money;
  merchantRevenue?: Money;
  approved?: boolean;
}

/** What a caller asks for, in the form every front door translates into. */
export interface ModificationRequest {
  identifier: TransactionIdentifier;
  changes: RequestedChanges;
  password: string | null;
  reason: string | null;
  executeAffiliatePixel: boolean;
  /** impact.com's row: what its rules turn into new values under the lock (none for LinkTrust). */
  action?: ActionRowChange;
}

/** A request plus who sent it: the core's input. */
export interface ModificationCommand extends ModificationRequest {
  clientIp: string;
  requestId: string;
  source: ModificationSource;
  /** Who made the change by hand (an admin, a merchant user), written to the history; absent otherwise. */
  actor?: string;
  /**
   * The merchant a change is made for (its user's hand edit, its batch): besides the scope checked before
   * the locks (`campaignIds`), the transaction's campaign must still be the merchant's under them — one
   * the network took away meanwhile is not found. Absent: any owner.
   */
  merchantId?: number;
}

/**
 * The command for a parsed request from a front door. Field by field rather than a spread with extra
 * properties: on Node 20's V8 that spread is slow and its garbage outlives young-generation collections
 * (measured on the hot path), which lengthens every GC pause.
 */
export function commandFor(
  request: ModificationRequest,
  from: { clientIp: string; requestId: string; source: ModificationSource },
): ModificationCommand {
  return {
    identifier: request.identifier,
    changes: request.changes,
    password: request.password,
    reason: request.reason,
    executeAffiliatePixel: request.executeAffiliatePixel,
    action: request.action,
    clientIp: from.clientIp,
    requestId: from.requestId,
    source: from.source,
  };
}
