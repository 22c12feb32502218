import type { Knex } from 'knex';
import type { Sql } from './unit-of-work';
import { onPool, readerOf, type Reader } from './sql';
import type { Engine } from './database';

/** A campaign (CID) and its LinkTrust "Allow External Transaction Modifications" settings. */
export interface Campaign {
  id: number;
  name: string;
  allowExternalModification: boolean;
  passwordHash: string | null;
  whitelistOnly: boolean;
  uniqueMerchantReference: boolean;
  createdAt: number;
  updatedAt: number;
  /** The merchant (brand) that owns it; null: the network's own. Set through the merchant service only. */
  merchantId: number | null;
}

/** Fields a caller may set; `passwordHash: null` clears the password. */
export type CampaignChanges = Partial<Omit<Campaign, 'id' | 'createdAt' | 'updatedAt' | 'merchantId'>>;

/** A campaigns row as either engine returns it. */
export interface CampaignRow {
  id: number;
  name: string;
  allow_external_modification: number | boolean;
  password_hash: string | null;
  whitelist_only: number | boolean;
  unique_merchant_reference: number | boolean;
  created_at: number | string;
  updated_at: number | string;
  /** Absent where a query does not read it (the hot path's join). */
  merchant_id?: number | string | null;
}

/** Maps a row (either engine: booleans are 0/1) to a Campaign. */
export function campaignFromRow(row: CampaignRow): Campaign {
  return {
    id: Number(row.id),
    name: row.name,
    allowExternalModification: Boolean(row.allow_external_modification),
    passwordHash: row.password_hash,
    whitelistOnly: Boolean(row.whitelist_only),
    uniqueMerchantReference: Boolean(row.unique_merchant_reference),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    merchantId: row.merchant_id === null || row.merchant_id === undefined ? null : Number(row.merchant_id),
  };
}

function toColumns(changes: CampaignChanges): Record<string, unknown> {
  const columns: Record<string, unknown> = {};
  if (changes.name !== undefined) columns.name = changes.name;
  if (changes.allowExternalModification !== undefined)
    columns.allow_external_modification = changes.allowExternalModification;
  if (changes.passwordHash !== undefined) columns.password_hash = changes.passwordHash;
  if (changes.whitelistOnly !== undefined) columns.whitelist_only = changes.whitelistOnly;
  if (changes.uniqueMerchantReference !== undefined)
    columns.unique_merchant_reference = changes.uniqueMerchantReference;
  return columns;
}

/** Reads and writes campaigns. */
export class CampaignStore {
  constructor(
    private readonly knex: Knex,
    private readonly engine: Engine,
  ) {}

  /** Inserts a campaign, keeping a supplied id (networks migrate with their CIDs). */
  async create(sql: Sql, campaign: { id?: number; name: string } & CampaignChanges, now: number): Promise<Campaign> {
    const columns = {
      ...toColumns(campaign),
      created_at: now,
      updated_at: now,
      ...(campaign.id ? { id: campaign.id } : {}),
    };
    const { insertId } = await sql.write(this.knex('campaigns').insert(columns));
    const created = await this.getIn(sql, campaign.id ?? insertId);
    if (!created) throw new Error('campaign vanished after insert');
    return created;
  }

  /** One campaign, or null. */
  get(id: number): Promise<Campaign | null> {
    return this.read(onPool, id);
  }

  /** One campaign, or null, read inside a unit of work. */
  getIn(sql: Sql, id: number): Promise<Campaign | null> {
    return this.read(readerOf(sql), id);
  }

  private async read(read: Reader, id: number): Promise<Campaign | null> {
    const [row] = await read<CampaignRow>(this.knex('campaigns').where({ id }).limit(1));
    return row ? campaignFromRow(row) : null;
  }

  /** Locks the campaign row for the rest of the transaction (MySQL/MariaDB; SQLite serialises writers). */
  async getForUpdate(sql: Sql, id: number): Promise<Campaign | null> {
    const query = this.knex('campaigns').where({ id }).first();
    const [row] = await sql.select<CampaignRow>(this.engine === 'mysql' ? query.forUpdate() : query);
    return row ? campaignFromRow(row) : null;
  }

  /** Campaigns by name or id, ordered by id. */
  async list(search: string | null, limit: number, campaignIds?: readonly number[]): Promise<Campaign[]> {
    const query = this.knex('campaigns').orderBy('id').limit(limit);
    if (campaignIds !== undefined) query.whereIn('id', campaignIds);
    if (search) {
      const id = /^\d+$/.test(search) ? Number(search) : -1;
      query.where((q) => q.where('name', 'like', `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`).orWhere('id', id));
    }
    return (await query).map(campaignFromRow);
  }

  /** Applies changes; returns the updated campaign or null when absent. */
  async update(sql: Sql, id: number, changes: CampaignChanges, now: number): Promise<Campaign | null> {
    const columns = toColumns(changes);
    const { affectedRows } = await sql.write(
      this.knex('campaigns')
        .where({ id })
        .update({ ...columns, updated_at: now }),
    );
    return affectedRows === 0 ? null : this.getIn(sql, id);
  }

  /** True when two transactions of the campaign share a merchant reference id. */
  async hasDuplicateMerchantReferences(sql: Sql, id: number): Promise<boolean> {
    const rows = await sql.select(
      this.knex('transactions')
        .select('merchant_reference_id')
        .where({ campaign_id: id })
        .whereNotNull('merchant_reference_id')
        .groupBy('merchant_reference_id')
        .havingRaw('count(*) > 1')
        .first(),
    );
    return rows.length > 0;
  }
}
