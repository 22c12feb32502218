import type { Knex } from 'knex';
import type { Db } from './unit-of-work';
import type { Engine } from './database';
import type { Tx } from './unit-of-work';

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
}

/** Fields a caller may set; `passwordHash: null` clears the password. */
export type CampaignChanges = Partial<Omit<Campaign, 'id' | 'createdAt' | 'updatedAt'>>;

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
  async create(
    campaign: { id?: number; name: string } & CampaignChanges,
    now: number,
    db: Db = this.knex,
  ): Promise<Campaign> {
    const columns = {
      ...toColumns(campaign),
      created_at: now,
      updated_at: now,
      ...(campaign.id ? { id: campaign.id } : {}),
    };
    const [id] = await db('campaigns').insert(columns);
    const created = await this.get(campaign.id ?? Number(id), db);
    if (!created) throw new Error('campaign vanished after insert');
    return created;
  }

  /** One campaign, or null. */
  async get(id: number, db: Db = this.knex): Promise<Campaign | null> {
    const row = await db('campaigns').where({ id }).first();
    return row ? campaignFromRow(row) : null;
  }

  /** Locks the campaign row for the rest of the transaction (MySQL/MariaDB; SQLite serialises writers). */
  async getForUpdate(tx: Tx, id: number): Promise<Campaign | null> {
    const query = tx('campaigns').where({ id });
    const row = await (this.engine === 'mysql' ? query.forUpdate() : query).first();
    return row ? campaignFromRow(row) : null;
  }

  /** Campaigns by name or id, ordered by id. */
  async list(search: string | null, limit: number, db: Db = this.knex): Promise<Campaign[]> {
    const query = db('campaigns').orderBy('id').limit(limit);
    if (search) {
      const id = /^\d+$/.test(search) ? Number(search) : -1;
      query.where((q) => q.where('name', 'like', `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`).orWhere('id', id));
    }
    return (await query).map(campaignFromRow);
  }

  /** Applies changes; returns the updated campaign or null when absent. */
  async update(id: number, changes: CampaignChanges, now: number, db: Db = this.knex): Promise<Campaign | null> {
    const columns = toColumns(changes);
    const count = await db('campaigns')
      .where({ id })
      .update({ ...columns, updated_at: now });
    return count === 0 ? null : this.get(id, db);
  }

  /** True when two transactions of the campaign share a merchant reference id. */
  async hasDuplicateMerchantReferences(id: number, db: Db = this.knex): Promise<boolean> {
    const row = await db('transactions')
      .select('merchant_reference_id')
      .where({ campaign_id: id })
      .whereNotNull('merchant_reference_id')
      .groupBy('merchant_reference_id')
      .havingRaw('count(*) > 1')
      .first();
    return row !== undefined;
  }
}
