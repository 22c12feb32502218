import type { ActionItem, ActionOriginal, ActionState, CustomerStatus } from './action';
import type { Money } from './money';

/** A tracked conversion. */
export interface Transaction {
  id: number;
  clickId: string;
  campaignId: number;
  affiliateId: number;
  merchantReferenceId: string | null;
  subId: string | null;
  affiliateReferenceId: string | null;
  affiliatePayout: Money;
  merchantRevenue: Money;
  approved: boolean;
  occurredAt: number;
  createdAt: number;
  updatedAt: number;
  /** impact.com's id of this action: given on creation, else the transaction id in decimal. */
  actionId: string;
  /** The action's event type (impact's ActionTrackerId), or null. */
  eventTypeId: number | null;
  /** As stored; see `visibleState` for what a brand sees past the locking date. */
  state: ActionState;
  /** When the action locks (epoch ms): occurredAt + the event type's locking period. */
  lockingDate: number;
  /** Item lines (item-level tracking), or null; when present the merchant revenue is their sum. */
  items: ActionItem[] | null;
  customerStatus: CustomerStatus | null;
  /**
   * The disposition code of the impact change that put the action in its current state (REVERSED: the
   * code that reversed it; RESET's is 'RESET'); null when none has. Absent: not read (a literal in a test).
   */
  dispositionCode?: string | null;
  /** Changes applied so far, from every front door. */
  modificationCount: number;
  /** The values it was created with (what impact's RESET restores); null for transactions created before they were kept. */
  original: ActionOriginal | null;
}

/** What a change may write besides the three values (impact's state and items). */
export interface ActionValues {
  state: ActionState;
  items: ActionItem[] | null;
  customerStatus: CustomerStatus | null;
  /** Written with `state`, by the changes that move it. */
  dispositionCode: string | null;
}

/** The three values a modification can change. */
export interface TransactionValues {
  affiliatePayout: Money;
  merchantRevenue: Money;
  approved: boolean;
}

/** What the pre-checks read of a campaign: LinkTrust's "Allow External Transaction Modifications" settings. */
export interface CampaignSettings {
  id: number;
  allowExternalModification: boolean;
  passwordHash: string | null;
  whitelistOnly: boolean;
  uniqueMerchantReference: boolean;
}
