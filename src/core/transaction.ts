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
