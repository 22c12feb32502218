import type { Knex } from 'knex';
import { Money, moneyToColumn } from '../modification/money';
import type { Engine } from './database';
import type { TransactionValues } from './transaction-store';

/** Milliseconds in an hour; statistics hours are UTC hours. */
export const HOUR_MS = 3_600_000;

/** The UTC hour (epoch ms) a moment falls in. */
export function hourStart(at: number): number {
  return Math.floor(at / HOUR_MS) * HOUR_MS;
}

/** A difference to add to one (hour, campaign, affiliate) statistics row. */
export interface StatisticsDelta {
  transactions: number;
  approvedTransactions: number;
  affiliatePayout: Money;
  merchantRevenue: Money;
  approvedAffiliatePayout: Money;
  approvedMerchantRevenue: Money;
}

/** What one transaction contributes to its hour's statistics. */
export function contribution(values: TransactionValues): StatisticsDelta {
  return {
    transactions: 1,
    approvedTransactions: values.approved ? 1 : 0,
    affiliatePayout: values.affiliatePayout,
    merchantRevenue: values.merchantRevenue,
    approvedAffiliatePayout: values.approved ? values.affiliatePayout : 0n,
    approvedMerchantRevenue: values.approved ? values.merchantRevenue : 0n,
  };
}

/** after − before, for adjusting a rolled-up hour when a transaction changes (before null: a new one). */
export function difference(before: TransactionValues | null, after: TransactionValues): StatisticsDelta {
  const a = contribution(after);
  if (!before) return a;
  const b = contribution(before);
  return {
    transactions: 0,
    approvedTransactions: a.approvedTransactions - b.approvedTransactions,
    affiliatePayout: a.affiliatePayout - b.affiliatePayout,
    merchantRevenue: a.merchantRevenue - b.merchantRevenue,
    approvedAffiliatePayout: a.approvedAffiliatePayout - b.approvedAffiliatePayout,
    approvedMerchantRevenue: a.approvedMerchantRevenue - b.approvedMerchantRevenue,
  };
}

const COLUMNS = ['transactions', 'approved_transactions', 'affiliate_payout', 'merchant_revenue', 'approved_affiliate_payout', 'approved_merchant_revenue'];

/** Hourly statistics rows. */
export class StatisticsStore {
  constructor(
    private readonly knex: Knex,
    private readonly engine: Engine,
  ) {}

  /** Adds a delta to one hour's row, creating it when absent (an upsert; spelled per engine). */
  async addToHour(trx: Knex.Transaction, hour: number, campaignId: number, affiliateId: number, delta: StatisticsDelta): Promise<void> {
    const bindings = [
      hour,
      campaignId,
      affiliateId,
      delta.transactions,
      delta.approvedTransactions,
      moneyToColumn(delta.affiliatePayout),
      moneyToColumn(delta.merchantRevenue),
      moneyToColumn(delta.approvedAffiliatePayout),
      moneyToColumn(delta.approvedMerchantRevenue),
    ];
    const insert = `insert into hourly_statistics (hour_start, campaign_id, affiliate_id, ${COLUMNS.join(', ')}) values (?, ?, ?, ?, ?, ?, ?, ?, ?)`;
    const merge =
      this.engine === 'mysql'
        ? ` on duplicate key update ${COLUMNS.map((c) => `${c} = ${c} + values(${c})`).join(', ')}`
        : ` on conflict (hour_start, campaign_id, affiliate_id) do update set ${COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`;
    await trx.raw(insert + merge, bindings);
  }
}
