import { moneyToColumn } from '../core/money';
import type { Engine } from './database';
import { writeStatement, type Sql, type SqlValue, type Statement, type WriteResult } from './sql';
import type { StatisticsTotals } from '../core/statistics';

const COLUMNS = [
  'transactions',
  'approved_transactions',
  'affiliate_payout',
  'merchant_revenue',
  'approved_affiliate_payout',
  'approved_merchant_revenue',
];

/** One (hour, campaign, affiliate) row's delta. */
export interface HourDelta {
  hour: number;
  campaignId: number;
  affiliateId: number;
  delta: StatisticsTotals;
}

/** Hourly statistics rows. */
export class StatisticsStore {
  /** The upsert statement per number of rows (a chunk of a batch adds to several rows at once). */
  private readonly upserts = new Map<number, string>();

  constructor(private readonly engine: Engine) {}

  /** Adds a delta to one hour's row, creating it when absent. */
  async addToHour(
    sql: Sql,
    hour: number,
    campaignId: number,
    affiliateId: number,
    delta: StatisticsTotals,
  ): Promise<void> {
    await sql.all([this.addToHoursStatement([{ hour, campaignId, affiliateId, delta }])]);
  }

  /**
   * Adds deltas (at least one) to hours' rows, each (hour, campaign, affiliate) at most once, creating
   * absent rows: a statement to go with the unit's other writes.
   */
  addToHoursStatement(deltas: HourDelta[]): Statement<WriteResult> {
    const values: SqlValue[] = [];
    for (const { hour, campaignId, affiliateId, delta } of deltas) {
      values.push(
        hour,
        campaignId,
        affiliateId,
        delta.transactions,
        delta.approvedTransactions,
        moneyToColumn(delta.affiliatePayout),
        moneyToColumn(delta.merchantRevenue),
        moneyToColumn(delta.approvedAffiliatePayout),
        moneyToColumn(delta.approvedMerchantRevenue),
      );
    }
    return writeStatement(this.upsertFor(deltas.length), values, { once: deltas.length > 1 });
  }

  /** An upsert adding to existing rows, spelled per engine. */
  private upsertFor(rows: number): string {
    let statement = this.upserts.get(rows);
    if (statement) return statement;
    const placeholders = Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
    const insert = `insert into hourly_statistics (hour_start, campaign_id, affiliate_id, ${COLUMNS.join(', ')}) values ${placeholders}`;
    const merge =
      this.engine === 'mysql'
        ? ` on duplicate key update ${COLUMNS.map((c) => `${c} = ${c} + values(${c})`).join(', ')}`
        : ` on conflict (hour_start, campaign_id, affiliate_id) do update set ${COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`;
    statement = insert + merge;
    if (this.upserts.size < 64) this.upserts.set(rows, statement);
    return statement;
  }
}
