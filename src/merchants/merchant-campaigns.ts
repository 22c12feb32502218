import type { AdminService } from '../admin/admin-service';
import { AdminError, notFound } from '../http/admin-errors';
import type { AfterChange } from '../store/after-change';
import type { Campaign } from '../store/campaign-store';
import type { Merchant } from '../store/merchant-store';
import type { WhitelistEntry } from '../store/whitelist-store';
import type { MerchantService } from './merchant-service';

/** Why a merchant may not change a campaign's password or white-list: the network keeps them. */
export const SELF_SERVICE_OFF =
  'Your network manages this campaign’s password and white-list. Ask the network to change them.';

/**
 * What a merchant user may do with its own campaigns: read them (settings, posting URLs, white-list) and,
 * when the network turned on self-service for the merchant, rotate a campaign's custom password and add or
 * remove the campaign's white-list entries. Ownership and the switch are read on every call, so a campaign
 * taken away or self-service turned off counts at once. Another merchant's campaign is a 404 exactly like a
 * missing one; the writes go through the admin service's units (with the console's audit row).
 */
export class MerchantCampaigns {
  constructor(private readonly deps: { merchants: Pick<MerchantService, 'get'>; admin: AdminService }) {}

  /** The ids of the campaigns the merchant owns now (none for a merchant gone since its user signed in). */
  async campaignIdsOf(merchantId: number): Promise<number[]> {
    return (await this.merchant(merchantId)).campaignIds;
  }

  /** The merchant's campaigns (matching `search`, a name fragment or a CID), by CID. */
  async list(merchantId: number, search: string | null, limit: number): Promise<Campaign[]> {
    const merchant = await this.merchant(merchantId);
    if (merchant.campaignIds.length === 0) return [];
    return this.deps.admin.listCampaigns(search, limit, merchant.campaignIds);
  }

  /** One of the merchant's campaigns and whether the merchant may change its password and white-list. */
  async get(merchantId: number, campaignId: number): Promise<{ campaign: Campaign; selfService: boolean }> {
    const merchant = await this.merchant(merchantId);
    if (!merchant.campaignIds.includes(campaignId)) throw notFound(`campaign ${campaignId}`);
    return { campaign: await this.deps.admin.getCampaign(campaignId), selfService: merchant.selfService };
  }

  /** Sets the campaign's custom password (self-service only). */
  async setPassword(
    merchantId: number,
    campaignId: number,
    password: string,
    afterChange?: AfterChange<Campaign>,
  ): Promise<Campaign> {
    await this.changeable(merchantId, campaignId);
    return this.deps.admin.updateCampaign(campaignId, { password }, afterChange);
  }

  /** Adds an entry to the campaign's own white-list (self-service only; never a global entry). */
  async addWhitelistEntry(
    merchantId: number,
    campaignId: number,
    input: { address: string; note: string | null },
    afterChange?: AfterChange<WhitelistEntry>,
  ): Promise<WhitelistEntry> {
    await this.changeable(merchantId, campaignId);
    return this.deps.admin.addWhitelistEntry({ ...input, campaignId }, afterChange);
  }

  /**
   * Removes an entry of the campaign's own white-list (self-service only). An entry of another campaign, or
   * a global one, is a 404 like a missing entry.
   */
  async removeWhitelistEntry(
    merchantId: number,
    campaignId: number,
    entryId: number,
    afterChange?: (entry: WhitelistEntry) => AfterChange<void>,
  ): Promise<WhitelistEntry> {
    await this.changeable(merchantId, campaignId);
    return this.deps.admin.removeCampaignWhitelistEntry(campaignId, entryId, afterChange);
  }

  private async changeable(merchantId: number, campaignId: number): Promise<void> {
    const { selfService } = await this.get(merchantId, campaignId);
    if (!selfService) throw new AdminError(403, 'self_service_off', SELF_SERVICE_OFF);
  }

  /** What a merchant's users may reach: its campaigns and its switch (none and off for a merchant gone since sign-in). */
  private async merchant(merchantId: number): Promise<Pick<Merchant, 'campaignIds' | 'selfService'>> {
    return this.deps.merchants
      .get(merchantId)
      .catch((error) =>
        error instanceof AdminError && error.status === 404
          ? { campaignIds: [], selfService: false }
          : Promise.reject(error),
      );
  }
}
