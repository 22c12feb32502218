import type { Knex } from 'knex';
import type { Engine } from './database';

/** Refusals of one client address, campaign and message, as counted since the last flush or in all. */
export interface RefusalCount {
  /** The front door that refused (`linktrust`). */
  door: string;
  clientIp: string;
  /** The campaign the request named or whose transaction it named; null when none was known. */
  campaignId: number | null;
  message: string;
  count: number;
  firstAt: number;
  lastAt: number;
}

/** Refusals of one message in one UTC hour. */
export interface RefusalHour {
  /** The UTC hour start, epoch ms. */
  hour: number;
  message: string;
  count: number;
}

/** Which refusals to list: newest last refusal first. */
export interface RefusalQuery {
  campaignIds?: number[];
  clientIp?: string;
  /** Only those refused again at or after this time (epoch ms). */
  since?: number;
  limit: number;
}

type Row = Record<string, unknown>;

/** Rows per upsert: far below SQLite's bound variables (7 each). */
const UPSERT_CHUNK = 500;

/** Refusals counted per client address, campaign and message (the `refusals` table). */
export class RefusalStore {
  constructor(
    private readonly knex: Knex,
    private readonly engine: Engine,
  ) {}

  /** Adds counts: a key seen before grows its count and moves its last time; a new one is inserted. */
  async add(counts: RefusalCount[]): Promise<void> {
    const added =
      this.engine === 'mysql' ? (column: string) => `values(${column})` : (column: string) => `excluded.${column}`;
    for (let start = 0; start < counts.length; start += UPSERT_CHUNK) {
      const rows = counts.slice(start, start + UPSERT_CHUNK).map((c) => ({
        door: c.door,
        client_ip: c.clientIp,
        campaign_id: c.campaignId ?? 0,
        message: c.message.slice(0, 255),
        count: c.count,
        first_at: c.firstAt,
        last_at: c.lastAt,
      }));
      await this.knex('refusals')
        .insert(rows)
        .onConflict(['door', 'client_ip', 'campaign_id', 'message'])
        .merge({
          count: this.knex.raw(`count + ${added('count')}`),
          last_at: this.knex.raw(
            this.engine === 'mysql' ? `greatest(last_at, ${added('last_at')})` : `max(last_at, ${added('last_at')})`,
          ),
        });
    }
  }

  /** Adds hourly counts: an hour and message seen before grows its count. */
  async addHours(hours: RefusalHour[]): Promise<void> {
    const added = this.engine === 'mysql' ? 'values(count)' : 'excluded.count';
    for (let start = 0; start < hours.length; start += UPSERT_CHUNK) {
      const rows = hours.slice(start, start + UPSERT_CHUNK).map((h) => ({
        hour_start: h.hour,
        message: h.message.slice(0, 255),
        count: h.count,
      }));
      await this.knex('refusal_hours')
        .insert(rows)
        .onConflict(['hour_start', 'message'])
        .merge({ count: this.knex.raw(`count + ${added}`) });
    }
  }

  /** Hourly counts of `from` ≤ hour < `to`, oldest hour first. */
  async hours(span: { from: number; to: number }): Promise<RefusalHour[]> {
    const rows: Row[] = await this.knex('refusal_hours')
      .where('hour_start', '>=', span.from)
      .andWhere('hour_start', '<', span.to)
      .orderBy(['hour_start', 'message']);
    return rows.map((r) => ({ hour: Number(r.hour_start), message: String(r.message), count: Number(r.count) }));
  }

  /** The counts, most recently refused first. */
  async list(query: RefusalQuery): Promise<RefusalCount[]> {
    if (query.campaignIds?.length === 0) return [];
    const select = this.knex('refusals').orderBy([
      { column: 'last_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ]);
    if (query.campaignIds !== undefined) select.whereIn('campaign_id', query.campaignIds);
    if (query.clientIp !== undefined) select.where('client_ip', query.clientIp);
    if (query.since !== undefined) select.where('last_at', '>=', query.since);
    const rows: Row[] = await select.limit(query.limit);
    return rows.map((r) => ({
      door: String(r.door),
      clientIp: String(r.client_ip),
      campaignId: Number(r.campaign_id) === 0 ? null : Number(r.campaign_id),
      message: String(r.message),
      count: Number(r.count),
      firstAt: Number(r.first_at),
      lastAt: Number(r.last_at),
    }));
  }
}
