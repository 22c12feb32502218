import type { Services } from '../../src/composition';
import type { ModificationCommand, RequestedChanges } from '../../src/modification/command';
import { parseMoney } from '../../src/core/money';
import type { Transaction } from '../../src/core/transaction';

const HOUR = 3_600_000;

/** Counts and totals as plain strings, so that expectations compare exactly and print readably. */
export interface Totals {
  transactions: number;
  approvedTransactions: number;
  affiliatePayout: string;
  merchantRevenue: string;
  approvedAffiliatePayout: string;
  approvedMerchantRevenue: string;
}

/**
 * A transaction created as the admin API creates it: when its hour is already rolled up it is added to
 * that hour's statistics (late data), so statistics stay true however old the test's hour is.
 */
export async function addTransaction(
  services: Services,
  campaign: { id: number },
  affiliate: { id: number },
  fields: { occurredAt: number; affiliatePayout?: string; merchantRevenue?: string; approved?: boolean },
): Promise<Transaction> {
  return services.admin.createTransaction({
    campaignId: campaign.id,
    affiliateId: affiliate.id,
    merchantReferenceId: null,
    affiliatePayout: parseMoney(fields.affiliatePayout ?? '10.00') as bigint,
    merchantRevenue: parseMoney(fields.merchantRevenue ?? '100.00') as bigint,
    approved: fields.approved ?? true,
    occurredAt: fields.occurredAt,
  });
}

/** A command for the core, as /transaction.edit would build it. */
export function editCommand(transactionId: number, password: string, changes: RequestedChanges): ModificationCommand {
  return {
    identifier: { kind: 'transaction_id', transactionId, campaignId: null },
    changes,
    password,
    reason: null,
    executeAffiliatePixel: false,
    clientIp: '127.0.0.1',
    requestId: 'processing-test',
    source: 'api',
  };
}

interface RawTransaction {
  campaign_id: number | string;
  affiliate_id: number | string;
  affiliate_payout: number | string;
  merchant_revenue: number | string;
  approved: number | boolean;
  occurred_at: number | string;
}

const scaled = (value: bigint) => {
  const whole = value / 10_000n;
  return `${whole}.${(value % 10_000n).toString().padStart(4, '0')}`;
};

/**
 * Statistics recomputed in JavaScript from the transactions themselves (not the production SQL), keyed
 * `hour|campaign|affiliate` — or `campaign|affiliate` with `byHour: false` — for `from` ≤ occurredAt < `to`.
 */
export async function recomputeFromTransactions(
  services: Services,
  span: { from: number; to: number },
  options: { byHour?: boolean; campaignId?: number } = {},
) {
  const query = services.db
    .knex('transactions')
    .where('occurred_at', '>=', span.from)
    .andWhere('occurred_at', '<', span.to);
  if (options.campaignId !== undefined) query.andWhere('campaign_id', options.campaignId);
  const rows: RawTransaction[] = await query.select(
    'campaign_id',
    'affiliate_id',
    'affiliate_payout',
    'merchant_revenue',
    'approved',
    'occurred_at',
  );
  const sums = new Map<string, { n: number; a: number; ap: bigint; mp: bigint; aap: bigint; amp: bigint }>();
  for (const row of rows) {
    const hour = Math.floor(Number(row.occurred_at) / HOUR) * HOUR;
    const key = `${options.byHour === false ? '' : `${hour}|`}${row.campaign_id}|${row.affiliate_id}`;
    const sum = sums.get(key) ?? { n: 0, a: 0, ap: 0n, mp: 0n, aap: 0n, amp: 0n };
    const approved = Boolean(row.approved);
    const [ap, mp] = [BigInt(row.affiliate_payout), BigInt(row.merchant_revenue)];
    sums.set(key, {
      n: sum.n + 1,
      a: sum.a + (approved ? 1 : 0),
      ap: sum.ap + ap,
      mp: sum.mp + mp,
      aap: sum.aap + (approved ? ap : 0n),
      amp: sum.amp + (approved ? mp : 0n),
    });
  }
  const result = new Map<string, Totals>();
  for (const [key, s] of sums) {
    result.set(key, {
      transactions: s.n,
      approvedTransactions: s.a,
      affiliatePayout: scaled(s.ap),
      merchantRevenue: scaled(s.mp),
      approvedAffiliatePayout: scaled(s.aap),
      approvedMerchantRevenue: scaled(s.amp),
    });
  }
  return result;
}

interface RawStatistics {
  hour_start: number | string;
  campaign_id: number | string;
  affiliate_id: number | string;
  transactions: number | string;
  approved_transactions: number | string;
  affiliate_payout: number | string;
  merchant_revenue: number | string;
  approved_affiliate_payout: number | string;
  approved_merchant_revenue: number | string;
}

/** The stored hourly statistics of hours in `from` ≤ hour < `to`, keyed `hour|campaign|affiliate`. */
export async function storedHourlyStatistics(services: Services, span: { from: number; to: number }) {
  const rows: RawStatistics[] = await services.db
    .knex('hourly_statistics')
    .where('hour_start', '>=', span.from)
    .andWhere('hour_start', '<', span.to);
  const result = new Map<string, Totals>();
  for (const row of rows) {
    result.set(`${Number(row.hour_start)}|${row.campaign_id}|${row.affiliate_id}`, {
      transactions: Number(row.transactions),
      approvedTransactions: Number(row.approved_transactions),
      affiliatePayout: scaled(BigInt(row.affiliate_payout)),
      merchantRevenue: scaled(BigInt(row.merchant_revenue)),
      approvedAffiliatePayout: scaled(BigInt(row.approved_affiliate_payout)),
      approvedMerchantRevenue: scaled(BigInt(row.approved_merchant_revenue)),
    });
  }
  return result;
}

/** The whole hourly_statistics table, in a fixed order: for "nothing changed" comparisons. */
export async function hourlyStatisticsSnapshot(services: Services) {
  const rows = await services.db.knex('hourly_statistics').orderBy(['hour_start', 'campaign_id', 'affiliate_id']);
  return rows.map((row: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(row).map(([k, v]) => [k, String(v)])),
  );
}

/** The watermark, straight from the table. */
export async function watermark(services: Services): Promise<number> {
  return (await services.stores.processingState.read()).rolledUpThrough;
}

/** Moves the watermark back to `to` and drops the statistics of the hours after it (a consistent rewind). */
export async function rewindRollup(services: Services, to: number): Promise<void> {
  await services.db.knex.transaction(async (trx) => {
    await trx('hourly_statistics').where('hour_start', '>=', to).delete();
    await trx('processing_state').where({ id: 1 }).update({ rolled_up_through: to });
  });
}
