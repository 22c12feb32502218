import crypto from 'node:crypto';
import bcrypt from 'bcrypt';
import { parseMoney } from '../../src/core/money';
import { runHourlyRollup } from '../../src/processing/hourly-rollup';
import { Services } from '../../src/composition';
import type { Campaign } from '../../src/store/campaign-store';
import type { Affiliate } from '../../src/store/affiliate-store';
import type { Transaction } from '../../src/core/transaction';

const unique = () => crypto.randomBytes(6).toString('hex');
// Counts down from high up: ids the database generates (max + 1) then never meet the factories' ids.
let nextId = 3_000_000_000 - (process.pid % 1000) * 1_000_000;
/** An id no other factory call in this process has used. */
export const freshId = () => nextId--;

/** An affiliate of its own. */
export async function buildAffiliate(
  services: Services,
  fields: Partial<{ postbackUrl: string | null; name: string }> = {},
): Promise<Affiliate> {
  return services.stores.affiliates.create(
    { id: freshId(), name: fields.name ?? `Affiliate ${unique()}`, postbackUrl: fields.postbackUrl ?? null },
    Date.now(),
  );
}

/** A campaign of its own; opted in with password "secret-<id>" unless told otherwise. */
export async function buildCampaign(
  services: Services,
  fields: Partial<{
    allowExternalModification: boolean;
    password: string | null;
    whitelistOnly: boolean;
    uniqueMerchantReference: boolean;
  }> = {},
): Promise<Campaign & { password: string | null }> {
  const id = freshId();
  const password = fields.password === undefined ? `secret-${id}` : fields.password;
  const campaign = await services.stores.campaigns.create(
    services.stores.units.alone,
    {
      id,
      name: `Campaign ${id}`,
      allowExternalModification: fields.allowExternalModification ?? true,
      passwordHash: password === null ? null : await bcrypt.hash(password, 4),
      whitelistOnly: fields.whitelistOnly ?? false,
      uniqueMerchantReference: fields.uniqueMerchantReference ?? true,
    },
    Date.now(),
  );
  return { ...campaign, password };
}

/** Two days ago, on a minute boundary: an hour that a roll-up to now covers. */
export const twoDaysAgo = () => Math.floor((Date.now() - 2 * 86_400_000) / 60_000) * 60_000;

/** A transaction of its own on the campaign/affiliate; money as decimal strings. Not rolled up yet. */
export async function buildTransaction(
  services: Services,
  campaign: { id: number },
  affiliate: { id: number },
  fields: Partial<{
    affiliatePayout: string;
    merchantRevenue: string;
    approved: boolean;
    merchantReferenceId: string | null;
    occurredAt: number;
    clickId: string;
  }> = {},
): Promise<Transaction> {
  const id = freshId();
  return services.stores.transactions.create(
    services.stores.units.alone,
    {
      id,
      clickId: fields.clickId ?? `click-${id}-${unique()}`,
      campaignId: campaign.id,
      affiliateId: affiliate.id,
      merchantReferenceId: fields.merchantReferenceId === undefined ? `ORDER-${id}` : fields.merchantReferenceId,
      subId: null,
      affiliateReferenceId: null,
      affiliatePayout: parseMoney(fields.affiliatePayout ?? '10.00') as bigint,
      merchantRevenue: parseMoney(fields.merchantRevenue ?? '100.00') as bigint,
      approved: fields.approved ?? true,
      occurredAt: fields.occurredAt ?? twoDaysAgo(),
    },
    Date.now(),
  );
}

/** Rolls every complete hour up, so transactions from earlier hours may be modified. */
export async function rollUpToNow(services: Services): Promise<void> {
  await runHourlyRollup(services.stores, { now: Date.now() });
}

/** A ready scene: an affiliate, an opted-in campaign and a rolled-up transaction. */
export async function buildScene(services: Services, campaignFields: Parameters<typeof buildCampaign>[1] = {}) {
  const affiliate = await buildAffiliate(services);
  const campaign = await buildCampaign(services, campaignFields);
  const transaction = await buildTransaction(services, campaign, affiliate);
  await rollUpToNow(services);
  return { affiliate, campaign, transaction };
}
