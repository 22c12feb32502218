import type { Knex } from 'knex';
import type { Engine } from './database';
import type { Sql } from './unit-of-work';
import { readStatement, type Statement } from './sql';

/** A merchant (brand, advertiser) and the campaigns it owns. */
export interface Merchant {
  id: number;
  name: string;
  /** Whether the network lets its users rotate campaign passwords and manage white-lists themselves. */
  selfService: boolean;
  campaignIds: number[];
  createdAt: number;
  updatedAt: number;
}

type Row = {
  id: number | string;
  name: string;
  self_service: number | boolean;
  created_at: number | string;
  updated_at: number | string;
};

function merchantFromRow(row: Row, campaignIds: number[]): Merchant {
  return {
    id: Number(row.id),
    name: row.name,
    selfService: Boolean(row.self_service),
    campaignIds,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** The merchants table, and campaigns.merchant_id (which campaigns each owns). */
export class MerchantStore {
  constructor(
    private readonly knex: Knex,
    private readonly engine: Engine,
  ) {}

  /** Every merchant, by id, each with its campaigns (two queries in all). */
  async list(): Promise<Merchant[]> {
    const rows: Row[] = await this.knex('merchants').orderBy('id');
    const owned: Array<{ id: number | string; merchant_id: number | string }> = await this.knex('campaigns')
      .whereNotNull('merchant_id')
      .orderBy('id')
      .select('id', 'merchant_id');
    const byMerchant = new Map<number, number[]>();
    for (const campaign of owned) {
      const list = byMerchant.get(Number(campaign.merchant_id)) ?? [];
      list.push(Number(campaign.id));
      byMerchant.set(Number(campaign.merchant_id), list);
    }
    return rows.map((row) => merchantFromRow(row, byMerchant.get(Number(row.id)) ?? []));
  }

  /** Whether a merchant exists (read on the pool). */
  async exists(id: number): Promise<boolean> {
    return (await this.knex('merchants').where({ id }).first('id')) !== undefined;
  }

  /** One merchant with its campaigns, or null, read inside a unit of work. */
  async getIn(sql: Sql, id: number): Promise<Merchant | null> {
    const [row] = await sql.select<Row>(this.knex('merchants').where({ id }).first());
    if (!row) return null;
    const campaigns = await sql.select<{ id: number | string }>(
      this.knex('campaigns').where({ merchant_id: id }).orderBy('id').select('id'),
    );
    return merchantFromRow(
      row,
      campaigns.map((campaign) => Number(campaign.id)),
    );
  }

  /** Inserts a merchant (keeping a supplied id); its campaigns are set by `assignCampaigns`. */
  async create(sql: Sql, merchant: { id?: number; name: string; selfService: boolean }, now: number): Promise<number> {
    const { insertId } = await sql.write(
      this.knex('merchants').insert({
        ...(merchant.id ? { id: merchant.id } : {}),
        name: merchant.name,
        self_service: merchant.selfService,
        created_at: now,
        updated_at: now,
      }),
    );
    return merchant.id ?? insertId;
  }

  /** Changes name or switch; false when there is no such merchant. */
  async update(sql: Sql, id: number, changes: { name?: string; selfService?: boolean }, now: number): Promise<boolean> {
    const columns: Record<string, unknown> = { updated_at: now };
    if (changes.name !== undefined) columns.name = changes.name;
    if (changes.selfService !== undefined) columns.self_service = changes.selfService;
    return (await sql.write(this.knex('merchants').where({ id }).update(columns))).affectedRows > 0;
  }

  /**
   * Of these campaigns, those that exist, each with its owner (locked for the unit on MySQL/MariaDB, so two
   * merchants cannot take the same campaign at once).
   */
  async campaignOwnersForUpdate(sql: Sql, campaignIds: number[]): Promise<Map<number, number | null>> {
    if (campaignIds.length === 0) return new Map();
    const query = this.knex('campaigns').whereIn('id', campaignIds).select('id', 'merchant_id');
    const rows = await sql.select<{ id: number | string; merchant_id: number | string | null }>(
      this.engine === 'mysql' ? query.forUpdate() : query,
    );
    return new Map(rows.map((row) => [Number(row.id), row.merchant_id === null ? null : Number(row.merchant_id)]));
  }

  /**
   * The owners of these campaigns (null: the network's), as a statement for a unit of work that has taken
   * its row locks: a merchant's change checks under them that its campaign is still the merchant's. On
   * MySQL/MariaDB a shared lock, so a hand-over (`assignCampaigns`, which writes the row) waits for the
   * unit to end, and a hand-over committed first is what the unit reads; SQLite's one writer does that alone.
   */
  campaignOwnersStatement(campaignIds: number[]): Statement<Map<number, number | null>> {
    const placeholders = campaignIds.map(() => '?').join(', ');
    return readStatement(
      `select id, merchant_id from campaigns where id in (${placeholders})${this.engine === 'mysql' ? ' lock in share mode' : ''}`,
      campaignIds,
      (rows: Array<{ id: number | string; merchant_id: number | string | null }>) =>
        new Map(rows.map((row) => [Number(row.id), row.merchant_id === null ? null : Number(row.merchant_id)])),
      { once: campaignIds.length > 1 },
    );
  }

  /** Makes exactly these campaigns the merchant's: the others it owned go back to the network. */
  async assignCampaigns(sql: Sql, merchantId: number, campaignIds: number[], now: number): Promise<void> {
    const released = this.knex('campaigns').where({ merchant_id: merchantId });
    if (campaignIds.length > 0) released.whereNotIn('id', campaignIds);
    await sql.write(released.update({ merchant_id: null, updated_at: now }));
    if (campaignIds.length > 0)
      await sql.write(
        this.knex('campaigns').whereIn('id', campaignIds).update({ merchant_id: merchantId, updated_at: now }),
      );
  }
}
