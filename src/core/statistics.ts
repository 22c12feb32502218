import type { Money } from './money';
import type { TransactionValues } from './transaction';

/**
 * Counts and exact totals of a group of transactions: all of them, and the approved ones. A difference to
 * add to a statistics row (after − before) has the same shape, so it is the same type.
 */
export interface StatisticsTotals {
  transactions: number;
  approvedTransactions: number;
  affiliatePayout: Money;
  merchantRevenue: Money;
  approvedAffiliatePayout: Money;
  approvedMerchantRevenue: Money;
}

/** What one transaction contributes to its hour's statistics. */
export function contribution(values: TransactionValues): StatisticsTotals {
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
export function difference(before: TransactionValues | null, after: TransactionValues): StatisticsTotals {
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
