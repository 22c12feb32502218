import type { Knex } from 'knex';
import type { Sql } from './unit-of-work';
import { moneyFromColumn } from '../core/money';
import { HOUR_MS, hourStart } from '../core/hours';
import type { StatisticsTotals } from '../core/statistics';

/** The six total columns, as both statistics tables and the recomputations name them. */
export const TOTAL_COLUMNS = [
  'transactions',
  'approved_transactions',
  'affiliate_payout',
  'merchant_revenue',
  'approved_affiliate_payout',
  'approved_merchant_revenue',
] as const;

/**
 * The aggregate expressions that turn transactions into statistics, in TOTAL_COLUMNS order. The roll-up,
 * the part-hours of a day and every recomputation share them, so they cannot drift apart.
 */
export const TRANSACTION_TOTALS = [
  'count(*)',
  'sum(case when approved then 1 else 0 end)',
  'sum(affiliate_payout)',
  'sum(merchant_revenue)',
  'sum(case when approved then affiliate_payout else 0 end)',
  'sum(case when approved then merchant_revenue else 0 end)',
];

/** TRANSACTION_TOTALS as one select list. */
export const TRANSACTION_TOTALS_SQL = TRANSACTION_TOTALS.join(', ');

/** The first UTC hour boundary at or after an instant. */
const ceilingHour = (at: number) => Math.ceil(at / HOUR_MS) * HOUR_MS;

/** A row carrying the six total columns, as either engine returns it (MySQL sums are DECIMAL strings). */
export type TotalsRow = Record<(typeof TOTAL_COLUMNS)[number], number | string | bigint>;

/**
 * Query options for every read of statistics. A total passes 2^53 ten-thousandths long before BIGINT ends
 * (ten amounts near the largest accepted one do), and better-sqlite3 would hand it back as a rounded
 * number: asked for safe integers, it gives bigints. mysql2 already answers such a BIGINT, and every SUM
 * (DECIMAL), as a string; it ignores query options it does not know.
 */
export const EXACT_INTEGERS = { safeIntegers: true } as const;

/** Maps the six total columns of a row. */
export function totalsFromRow(row: TotalsRow): StatisticsTotals {
  return {
    transactions: Number(row.transactions),
    approvedTransactions: Number(row.approved_transactions),
    affiliatePayout: moneyFromColumn(row.affiliate_payout),
    merchantRevenue: moneyFromColumn(row.merchant_revenue),
    approvedAffiliatePayout: moneyFromColumn(row.approved_affiliate_payout),
    approvedMerchantRevenue: moneyFromColumn(row.approved_merchant_revenue),
  };
}

/** One reporting day's statistics for one campaign and affiliate. */
export interface DailyStatistics extends StatisticsTotals {
  date: string;
  campaignId: number;
  affiliateId: number;
  computedAt: number;
}

/** A daily_statistics row. */
export type DailyStatisticsRow = TotalsRow & {
  report_date: string;
  campaign_id: number | string | bigint;
  affiliate_id: number | string | bigint;
  computed_at: number | string | bigint;
};

/** Maps a daily_statistics row. */
export function dailyStatisticsFromRow(row: DailyStatisticsRow): DailyStatistics {
  return {
    date: row.report_date,
    campaignId: Number(row.campaign_id),
    affiliateId: Number(row.affiliate_id),
    ...totalsFromRow(row),
    computedAt: Number(row.computed_at),
  };
}

/** Daily statistics and the record of which reporting days nightly processing has run for. */
export class DailyStatisticsStore {
  constructor(private readonly knex: Knex) {}

  /**
   * Replaces a day's rows — or one campaign's rows of it — by the statistics of the instants it spans
   * (`from` ≤ t < `to`), so that running a day again gives the same rows. Returns how many rows it wrote.
   *
   * Hourly statistics are per UTC hour. The whole hours inside the span come from them; where the span
   * begins or ends inside an hour (a zone whose offset is not a whole number of hours: Asia/Kolkata,
   * Asia/Kathmandu, Australia/Adelaide), that part-hour is summed from the transactions themselves, with
   * the very expressions the roll-up uses. So a day holds exactly its own local hours' share.
   */
  async replaceDay(
    sql: Sql,
    date: string,
    span: { from: number; to: number },
    now: number,
    campaignId?: number,
  ): Promise<number> {
    const existing = this.knex('daily_statistics').where({ report_date: date });
    if (campaignId !== undefined) existing.andWhere({ campaign_id: campaignId });
    await sql.write(existing.delete());
    const ofCampaign = campaignId === undefined ? '' : ' and campaign_id = ?';
    const campaign = campaignId === undefined ? [] : [campaignId];
    const [wholeFrom, wholeTo] = [ceilingHour(span.from), Math.max(ceilingHour(span.from), hourStart(span.to))];
    const partHour = `select campaign_id, affiliate_id, ${TRANSACTION_TOTALS_SQL} from transactions
         where occurred_at >= ? and occurred_at < ?${ofCampaign} group by campaign_id, affiliate_id`;
    await sql.run(
      `insert into daily_statistics (report_date, campaign_id, affiliate_id, ${TOTAL_COLUMNS.join(', ')}, computed_at)
       select ?, campaign_id, affiliate_id, ${TOTAL_COLUMNS.map((c) => `sum(${c})`).join(', ')}, ?
       from (
         select campaign_id, affiliate_id, ${TOTAL_COLUMNS.join(', ')} from hourly_statistics
         where hour_start >= ? and hour_start < ?${ofCampaign}
         union all ${partHour}
         union all ${partHour}
       ) day_parts
       group by campaign_id, affiliate_id`,
      [
        date,
        now,
        wholeFrom,
        wholeTo,
        ...campaign,
        span.from,
        Math.min(wholeFrom, span.to),
        ...campaign,
        Math.max(wholeTo, span.from),
        span.to,
        ...campaign,
      ],
      { once: true },
    );
    const written = this.knex('daily_statistics').where({ report_date: date });
    if (campaignId !== undefined) written.andWhere({ campaign_id: campaignId });
    const [{ rows }] = await sql.select<{ rows: number | string }>(written.count({ rows: '*' }));
    return Number(rows);
  }

  /**
   * The campaigns a day's statistics concern: those with hourly statistics in the hours it touches,
   * transactions in its last part-hour, or daily rows already. Nightly processing works through them one by one when the day as a whole fails.
   */
  async campaignsOfDay(sql: Sql, date: string, span: { from: number; to: number }): Promise<number[]> {
    type Row = { campaign_id: number | string };
    const hourly = await sql.select<Row>(
      this.knex('hourly_statistics')
        .distinct('campaign_id')
        .where('hour_start', '>=', hourStart(span.from))
        .andWhere('hour_start', '<', ceilingHour(span.to)),
    );
    // The part-hour at the day's end need not be rolled up yet: its transactions name their campaigns.
    const lastPart = await sql.select<Row>(
      this.knex('transactions')
        .distinct('campaign_id')
        .where('occurred_at', '>=', Math.max(hourStart(span.to), span.from))
        .andWhere('occurred_at', '<', span.to),
    );
    const daily = await sql.select<Row>(
      this.knex('daily_statistics').distinct('campaign_id').where({ report_date: date }),
    );
    return [...new Set([...hourly, ...lastPart, ...daily].map((row) => Number(row.campaign_id)))].sort((a, b) => a - b);
  }

  /** A day's rows (or one campaign's), by campaign and affiliate. */
  async listDay(sql: Sql, date: string, campaignId?: number): Promise<DailyStatistics[]> {
    const query = this.knex('daily_statistics').where({ report_date: date });
    if (campaignId !== undefined) query.andWhere({ campaign_id: campaignId });
    const rows = await sql.select<DailyStatisticsRow>(query.orderBy(['campaign_id', 'affiliate_id']), {
      exactIntegers: true,
    });
    return rows.map(dailyStatisticsFromRow);
  }

  /**
   * Notes that nightly processing started for a day (again, when it ran before). A mark of an earlier
   * run's interruption stays, so the record shows the day was interrupted and then done again.
   */
  async recordRunStarted(sql: Sql, date: string, timeZone: string, startedAt: number): Promise<void> {
    const restarted = await sql.write(
      this.knex('nightly_runs')
        .where({ report_date: date })
        .update({ time_zone: timeZone, started_at: startedAt, completed_at: null, differences: null }),
    );
    if (restarted.affectedRows === 0)
      await sql.write(
        this.knex('nightly_runs').insert({
          report_date: date,
          time_zone: timeZone,
          started_at: startedAt,
          completed_at: null,
          differences: null,
        }),
      );
  }

  /** Marks the run of `date` that started at `startedAt` as interrupted, unless it has completed. */
  async recordRunInterrupted(sql: Sql, date: string, startedAt: number, at: number): Promise<void> {
    await sql.write(
      this.knex('nightly_runs')
        .where({ report_date: date, started_at: startedAt })
        .whereNull('completed_at')
        .update({ interrupted_at: at }),
    );
  }

  /** Days whose run was interrupted and has not completed since, oldest first: the ones to run again. */
  async interruptedDays(): Promise<string[]> {
    const rows: Array<{ report_date: string }> = await this.knex('nightly_runs')
      .whereNotNull('interrupted_at')
      .whereNull('completed_at')
      .orderBy('report_date')
      .select('report_date');
    return rows.map((row) => row.report_date);
  }

  /** The latest interruptions, newest first: the day, when its run was found interrupted, when it was done since (null: not yet). */
  async recentInterruptions(
    limit: number,
  ): Promise<Array<{ date: string; interruptedAt: number; completedAt: number | null }>> {
    const rows: Array<{ report_date: string; interrupted_at: number | string; completed_at: number | string | null }> =
      await this.knex('nightly_runs')
        .whereNotNull('interrupted_at')
        .orderBy('interrupted_at', 'desc')
        .limit(limit)
        .select('report_date', 'interrupted_at', 'completed_at');
    return rows.map((row) => ({
      date: row.report_date,
      interruptedAt: Number(row.interrupted_at),
      completedAt: row.completed_at === null ? null : Number(row.completed_at),
    }));
  }

  /** Notes that nightly processing completed a day, with how many rows the consistency check flagged. */
  async recordRunCompleted(sql: Sql, date: string, completedAt: number, differences: number): Promise<void> {
    await sql.write(
      this.knex('nightly_runs').where({ report_date: date }).update({ completed_at: completedAt, differences }),
    );
  }

  /** True when nightly processing has completed the day at least once. */
  async isCompleted(sql: Sql, date: string): Promise<boolean> {
    const rows = await sql.select(
      this.knex('nightly_runs').where({ report_date: date }).whereNotNull('completed_at').first('report_date'),
    );
    return rows.length > 0;
  }

  /** Of these days, the ones nightly processing has completed. */
  async completedAmong(sql: Sql, dates: string[]): Promise<Set<string>> {
    if (dates.length === 0) return new Set();
    const rows = await sql.select<{ report_date: string }>(
      this.knex('nightly_runs').whereIn('report_date', dates).whereNotNull('completed_at').select('report_date'),
    );
    return new Set(rows.map((r) => r.report_date));
  }

  /** When the most recent completed nightly run started, or null when none has completed. */
  async lastCompletedRunStartedAt(sql: Sql): Promise<number | null> {
    const [row] = await sql.select<{ at: number | string | null }>(
      this.knex('nightly_runs').whereNotNull('completed_at').max({ at: 'started_at' }),
    );
    return row && row.at !== null && row.at !== undefined ? Number(row.at) : null;
  }
}
