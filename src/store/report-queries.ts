import type { Knex } from 'knex';
import type { Sql } from './unit-of-work';
import type { Engine } from './database';
import {
  DailyStatistics,
  DailyStatisticsRow,
  dailyStatisticsFromRow,
  EXACT_INTEGERS,
  TOTAL_COLUMNS,
  TRANSACTION_TOTALS,
  TRANSACTION_TOTALS_SQL,
  totalsFromRow,
  TotalsRow,
} from './daily-statistics-store';
import { StatisticsTotals } from '../core/statistics';
import { HOUR_MS } from '../core/hours';

/** One rolled-up hour's statistics for one campaign and affiliate. */
export interface HourlyStatistics extends StatisticsTotals {
  /** The UTC hour start, epoch ms. */
  hour: number;
  campaignId: number;
  affiliateId: number;
}

/** Statistics of a campaign and affiliate over some span, recomputed from the transactions. */
export interface PairTotals extends StatisticsTotals {
  campaignId: number;
  affiliateId: number;
}

/** Impact actions of one UTC hour, campaign and affiliate now REVERSED by one disposition code. */
export interface HourlyReversals {
  /** The UTC hour start of the actions' own time (occurred_at), epoch ms. */
  hour: number;
  campaignId: number;
  affiliateId: number;
  /** The code that reversed them; null for a reversal from before codes were kept with no history row. */
  dispositionCode: string | null;
  reversals: number;
}

/** Which rows a report wants. `from` inclusive, `to` exclusive (hourly) or inclusive (daily dates). */
export interface ReportFilter<T> {
  campaignId?: number;
  /** Only these campaigns (a merchant's); empty: none. */
  campaignIds?: readonly number[];
  affiliateId?: number;
  from?: T;
  to?: T;
  limit: number;
}

/**
 * The SQL for "the UTC hour start of this epoch-ms column". Integer arithmetic: MySQL's `/` is decimal
 * division, so DIV there; SQLite's `/` on integers already truncates.
 */
export function hourOf(engine: Engine, column: string): string {
  return engine === 'mysql' ? `(${column} div ${HOUR_MS}) * ${HOUR_MS}` : `(${column} / ${HOUR_MS}) * ${HOUR_MS}`;
}

export { TRANSACTION_TOTALS_SQL };

const totalsSelect = TRANSACTION_TOTALS.map((expression, index) => `${expression} as ${TOTAL_COLUMNS[index]}`).join(
  ', ',
);

type Id = number | string | bigint;
type HourlyRow = TotalsRow & { hour_start: Id; campaign_id: Id; affiliate_id: Id };
type PairRow = TotalsRow & { campaign_id: Id; affiliate_id: Id };
type ReversalRow = { hour: Id; campaign_id: Id; affiliate_id: Id; disposition_code: string | null; reversals: Id };

/**
 * The reporting read model: statistics for reports, recomputations from the transactions, and the
 * hourly roll-up that writes them.
 */
export class ReportQueries {
  constructor(
    private readonly knex: Knex,
    private readonly engine: Engine,
  ) {}

  /** Hourly statistics rows, oldest hour first. */
  async hourly(filter: ReportFilter<number>): Promise<HourlyStatistics[]> {
    const query = this.knex('hourly_statistics');
    if (filter.campaignId !== undefined) query.where('campaign_id', filter.campaignId);
    if (filter.campaignIds !== undefined) query.whereIn('campaign_id', [...filter.campaignIds]);
    if (filter.affiliateId !== undefined) query.where('affiliate_id', filter.affiliateId);
    if (filter.from !== undefined) query.where('hour_start', '>=', filter.from);
    if (filter.to !== undefined) query.where('hour_start', '<', filter.to);
    const rows: HourlyRow[] = await query
      .orderBy(['hour_start', 'campaign_id', 'affiliate_id'])
      .limit(filter.limit)
      .options(EXACT_INTEGERS);
    return rows.map((row) => ({
      hour: Number(row.hour_start),
      campaignId: Number(row.campaign_id),
      affiliateId: Number(row.affiliate_id),
      ...totalsFromRow(row),
    }));
  }

  /** Daily statistics rows, oldest day first. */
  async daily(filter: ReportFilter<string>): Promise<DailyStatistics[]> {
    const query = this.knex('daily_statistics');
    if (filter.campaignId !== undefined) query.where('campaign_id', filter.campaignId);
    if (filter.campaignIds !== undefined) query.whereIn('campaign_id', [...filter.campaignIds]);
    if (filter.affiliateId !== undefined) query.where('affiliate_id', filter.affiliateId);
    if (filter.from !== undefined) query.where('report_date', '>=', filter.from);
    if (filter.to !== undefined) query.where('report_date', '<=', filter.to);
    const rows: DailyStatisticsRow[] = await query
      .orderBy(['report_date', 'campaign_id', 'affiliate_id'])
      .limit(filter.limit)
      .options(EXACT_INTEGERS);
    return rows.map(dailyStatisticsFromRow);
  }

  /**
   * REVERSED impact actions that occurred in `from` ≤ t < `to`, counted per UTC hour, campaign, affiliate
   * and the code that reversed them; oldest hour first. transactions_occurred_at_idx serves the span.
   */
  async reversals(filter: Omit<ReportFilter<number>, 'limit' | 'from' | 'to'> & { from: number; to: number }) {
    const hour = hourOf(this.engine, 'occurred_at');
    const query = this.knex('transactions')
      .select(
        this.knex.raw(`${hour} as hour`),
        'campaign_id',
        'affiliate_id',
        'disposition_code',
        this.knex.raw('count(*) as reversals'),
      )
      .where('occurred_at', '>=', filter.from)
      .andWhere('occurred_at', '<', filter.to)
      .andWhere('state', 'REVERSED')
      .whereNotNull('event_type_id');
    if (filter.campaignId !== undefined) query.where('campaign_id', filter.campaignId);
    if (filter.campaignIds !== undefined) query.whereIn('campaign_id', [...filter.campaignIds]);
    if (filter.affiliateId !== undefined) query.where('affiliate_id', filter.affiliateId);
    const rows: ReversalRow[] = await query
      // One raw group-by: knex keeps only the raw when given it with column names.
      .groupByRaw(`${hour}, campaign_id, affiliate_id, disposition_code`)
      .orderBy('hour');
    return rows.map((row): HourlyReversals => ({
      hour: Number(row.hour),
      campaignId: Number(row.campaign_id),
      affiliateId: Number(row.affiliate_id),
      dispositionCode: row.disposition_code,
      reversals: Number(row.reversals),
    }));
  }

  /**
   * Per campaign and affiliate (of one campaign, when given), the statistics of the transactions that
   * occurred in `from` ≤ t < `to`.
   */
  async transactionTotals(sql: Sql, span: { from: number; to: number }, campaignId?: number): Promise<PairTotals[]> {
    const ofCampaign = campaignId === undefined ? '' : ' and campaign_id = ?';
    const rows = await sql.rows<PairRow>(
      `select campaign_id, affiliate_id, ${totalsSelect} from transactions
       where occurred_at >= ? and occurred_at < ?${ofCampaign} group by campaign_id, affiliate_id`,
      [span.from, span.to, ...(campaignId === undefined ? [] : [campaignId])],
      { once: true, exactIntegers: true },
    );
    return rows.map((row) => ({
      campaignId: Number(row.campaign_id),
      affiliateId: Number(row.affiliate_id),
      ...totalsFromRow(row),
    }));
  }

  /**
   * The hours (before `before`) of transactions created or modified at or after `since`: the hours whose
   * statistics may have changed since then.
   */
  async hoursTouchedSince(sql: Sql, since: number, before: number): Promise<number[]> {
    const hour = hourOf(this.engine, 't.occurred_at');
    const rows = await sql.rows<{ hour: number | string }>(
      `select distinct ${hour} as hour from transactions t where t.created_at >= ? and t.occurred_at < ?
       union
       select distinct ${hour} as hour from modifications m join transactions t on t.id = m.transaction_id
       where m.created_at >= ? and t.occurred_at < ?`,
      [since, before, since, before],
      { once: true },
    );
    return rows.map((row) => Number(row.hour));
  }

  /**
   * The roll-up's statements: replaces the hourly statistics of the hours `from` ≤ h < `through` by the
   * totals of their transactions. Hours at or after the watermark have no statistics (nothing adjusts an
   * hour before it is rolled up), unless someone moved the watermark back by hand: they are cleared so
   * the insert cannot collide.
   */
  async rollUpHours(sql: Sql, span: { from: number; through: number }): Promise<void> {
    await sql.write(
      this.knex('hourly_statistics')
        .where('hour_start', '>=', span.from)
        .andWhere('hour_start', '<', span.through)
        .delete(),
    );
    const hour = hourOf(this.engine, 'occurred_at');
    await sql.run(
      `insert into hourly_statistics (hour_start, campaign_id, affiliate_id, ${TOTAL_COLUMNS.join(', ')})
       select ${hour}, campaign_id, affiliate_id, ${TRANSACTION_TOTALS_SQL}
       from transactions where occurred_at >= ? and occurred_at < ?
       group by ${hour}, campaign_id, affiliate_id`,
      [span.from, span.through],
      { once: true },
    );
  }
}
