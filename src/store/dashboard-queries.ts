import type { Knex } from 'knex';
import type { Engine } from './database';
import { EXACT_INTEGERS } from './daily-statistics-store';
import { hourOf } from './report-queries';
import { moneyFromColumn, type Money } from '../core/money';

/** A span of time, `from` inclusive to `to` exclusive (epoch ms). */
export interface Span {
  from: number;
  to: number;
}

/** Changes applied in one UTC hour through one door (`linktrust`, `batch`, `impact`, `hand`…). */
export interface AppliedHour {
  hour: number;
  source: string;
  count: number;
}

/** The net change the applied modifications of a span made (after − before), exact. */
export interface NetChange {
  changes: number;
  affiliatePayout: Money;
  merchantRevenue: Money;
}

/** Postback deliveries created in a span, by where they stand. */
export interface DeliveryCounts {
  delivered: number;
  /** Pending after at least one failed attempt. */
  retrying: number;
  /** Pending, not tried yet. */
  waiting: number;
  failed: number;
}

type Row = Record<string, unknown>;

/** The dashboard's read model: counts and sums over the modifications history and the postback outbox. */
export class DashboardQueries {
  constructor(
    private readonly knex: Knex,
    private readonly engine: Engine,
  ) {}

  /** Applied changes per UTC hour and door, oldest hour first. */
  async appliedPerHour(span: Span): Promise<AppliedHour[]> {
    const hour = hourOf(this.engine, 'created_at');
    const rows: Row[] = await this.knex('modifications')
      .where('created_at', '>=', span.from)
      .andWhere('created_at', '<', span.to)
      .select(this.knex.raw(`${hour} as hour`), 'source')
      .count({ count: '*' })
      .groupByRaw(`${hour}, source`)
      .orderByRaw(`${hour}, source`);
    return rows.map((r) => ({ hour: Number(r.hour), source: String(r.source), count: Number(r.count) }));
  }

  /**
   * Sum of after − before of payout and revenue over the span's modifications. In SQL over the BIGINT
   * minor units, read back exactly (SQLite as bigints, MySQL's DECIMAL sums as strings).
   */
  async netChange(span: Span): Promise<NetChange> {
    const rows: Row[] = await this.knex('modifications')
      .where('created_at', '>=', span.from)
      .andWhere('created_at', '<', span.to)
      .select(
        this.knex.raw('count(*) as changes'),
        this.knex.raw('coalesce(sum(after_affiliate_payout - before_affiliate_payout), 0) as payout'),
        this.knex.raw('coalesce(sum(after_merchant_revenue - before_merchant_revenue), 0) as revenue'),
      )
      .options(EXACT_INTEGERS);
    const row = rows[0] ?? {};
    return {
      changes: Number(row.changes ?? 0),
      affiliatePayout: moneyFromColumn((row.payout ?? 0) as number | string | bigint),
      merchantRevenue: moneyFromColumn((row.revenue ?? 0) as number | string | bigint),
    };
  }

  /** Deliveries created in the span, by status (pending split by whether an attempt failed already). */
  async deliveries(span: Span): Promise<DeliveryCounts> {
    const rows: Row[] = await this.knex('postback_deliveries')
      .where('created_at', '>=', span.from)
      .andWhere('created_at', '<', span.to)
      .select('status', this.knex.raw('case when attempts > 0 then 1 else 0 end as tried'))
      .count({ count: '*' })
      .groupByRaw('status, case when attempts > 0 then 1 else 0 end');
    const counts: DeliveryCounts = { delivered: 0, retrying: 0, waiting: 0, failed: 0 };
    for (const r of rows) {
      const count = Number(r.count);
      if (r.status === 'delivered') counts.delivered += count;
      else if (r.status === 'failed') counts.failed += count;
      else if (Number(r.tried) === 1) counts.retrying += count;
      else counts.waiting += count;
    }
    return counts;
  }
}
