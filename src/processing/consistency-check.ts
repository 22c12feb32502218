import type { StatisticsTotals } from '../core/statistics';
import type { PairTotals } from '../store/report-queries';

/** A campaign and affiliate whose statistics and transactions disagree for the day checked. */
export interface ConsistencyDifference {
  campaignId: number;
  affiliateId: number;
  /** The totals that differ, e.g. `['affiliatePayout', 'approvedAffiliatePayout']`. */
  fields: Array<keyof StatisticsTotals>;
  /** What the statistics say (null: no row). */
  statistics: StatisticsTotals | null;
  /** What the transactions add up to (null: none). */
  transactions: StatisticsTotals | null;
}

/** The consistency check's verdict. */
export interface ConsistencyReport {
  ok: boolean;
  differences: ConsistencyDifference[];
}

const FIELDS: Array<keyof StatisticsTotals> = [
  'transactions',
  'approvedTransactions',
  'affiliatePayout',
  'merchantRevenue',
  'approvedAffiliatePayout',
  'approvedMerchantRevenue',
];

const NOTHING: StatisticsTotals = {
  transactions: 0,
  approvedTransactions: 0,
  affiliatePayout: 0n,
  merchantRevenue: 0n,
  approvedAffiliatePayout: 0n,
  approvedMerchantRevenue: 0n,
};

const keyOf = (row: { campaignId: number; affiliateId: number }) => `${row.campaignId}:${row.affiliateId}`;

function totalsOf(row: PairTotals): StatisticsTotals {
  const { campaignId: _campaign, affiliateId: _affiliate, ...totals } = row;
  return totals;
}

/**
 * Compares statistics with a recomputation from the transactions, pair by pair (campaign, affiliate);
 * a pair missing on one side counts as all zeros there. Differences come ordered by campaign, affiliate.
 */
export function compareTotals(statistics: PairTotals[], transactions: PairTotals[]): ConsistencyReport {
  const fromStatistics = new Map(statistics.map((row) => [keyOf(row), row]));
  const fromTransactions = new Map(transactions.map((row) => [keyOf(row), row]));
  const pairs = new Map(
    [...statistics, ...transactions].map((row) => [
      keyOf(row),
      { campaignId: row.campaignId, affiliateId: row.affiliateId },
    ]),
  );
  const differences: ConsistencyDifference[] = [];
  for (const [key, pair] of pairs) {
    const stated = fromStatistics.get(key);
    const actual = fromTransactions.get(key);
    const fields = FIELDS.filter((field) => (stated ?? NOTHING)[field] !== (actual ?? NOTHING)[field]);
    if (fields.length > 0) {
      differences.push({
        ...pair,
        fields,
        statistics: stated ? totalsOf(stated) : null,
        transactions: actual ? totalsOf(actual) : null,
      });
    }
  }
  differences.sort((a, b) => a.campaignId - b.campaignId || a.affiliateId - b.affiliateId);
  return { ok: differences.length === 0, differences };
}
