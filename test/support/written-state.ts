import type { Knex } from 'knex';
import type { Services } from '../../src/composition';
import type { Modification } from '../../src/store/modification-store';

/** The history row a request wrote (none, or more than one, fails the test). */
export async function historyRowOf(
  services: Services,
  transactionId: number,
  requestId: string,
): Promise<Modification> {
  const rows = (await services.stores.modifications.listForTransaction(transactionId)).filter(
    (row) => row.requestId === requestId,
  );
  expect(rows).toHaveLength(1);
  return rows[0];
}

/** Every row a change may touch, read straight from the tables in both engines' spelling made equal. */
export async function writtenState(knex: Knex, transactionIds: number[]) {
  const plain = (row: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(row).map(([key, value]) => [key, value === null ? null : String(value)]));
  return {
    transactions: (await knex('transactions').whereIn('id', transactionIds).orderBy('id')).map(plain),
    history: (await knex('modifications').whereIn('transaction_id', transactionIds).orderBy('id')).map(plain),
    statistics: (await knex('hourly_statistics').orderBy(['hour_start', 'campaign_id', 'affiliate_id'])).map(plain),
    outbox: (await knex('postback_deliveries').orderBy('id')).map(plain),
  };
}

/** An hourly_statistics row's totals as either engine returns them, counts as numbers and money as bigint. */
export function statisticsTotalsOf(row: Record<string, number | string>) {
  return {
    transactions: Number(row.transactions),
    approvedTransactions: Number(row.approved_transactions),
    affiliatePayout: BigInt(row.affiliate_payout),
    merchantRevenue: BigInt(row.merchant_revenue),
    approvedAffiliatePayout: BigInt(row.approved_affiliate_payout),
    approvedMerchantRevenue: BigInt(row.approved_merchant_revenue),
  };
}
