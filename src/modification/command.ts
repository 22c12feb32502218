import type { Money } from './money';
import type { ModificationSource } from '../store/modification-store';

/** How the request names its transaction. `campaignId` with an id or click id must match the campaign. */
export type TransactionIdentifier =
  | { kind: 'transaction_id'; transactionId: number; campaignId: number | null }
  | { kind: 'click_id'; clickId: string; campaignId: number | null }
  | { kind: 'merchant_reference'; merchantReferenceId: string; campaignId: number };

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
}

/** A request plus who sent it: the core's input. */
export interface ModificationCommand extends ModificationRequest {
  clientIp: string;
  requestId: string;
  source: ModificationSource;
}
