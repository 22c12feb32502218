import type { Knex } from 'knex';
import type { Sql } from './unit-of-work';

/** A white-listed IP address or CIDR range, global (campaignId null) or for one campaign. */
export interface WhitelistEntry {
  id: number;
  campaignId: number | null;
  address: string;
  note: string | null;
  createdAt: number;
}

interface WhitelistRow {
  id: number;
  campaign_id: number | null;
  address: string;
  note: string | null;
  created_at: number | string;
}

function entryFromRow(row: WhitelistRow): WhitelistEntry {
  return {
    id: Number(row.id),
    campaignId: row.campaign_id === null ? null : Number(row.campaign_id),
    address: row.address,
    note: row.note,
    createdAt: Number(row.created_at),
  };
}

/** Reads and writes the IP whitelist (LinkTrust's Accounts > Domains/IPs). */
export class WhitelistStore {
  constructor(private readonly knex: Knex) {}

  /** Adds an entry (address already validated and normalised). */
  async create(
    sql: Sql,
    entry: { address: string; campaignId: number | null; note: string | null },
    now: number,
  ): Promise<WhitelistEntry> {
    const { insertId } = await sql.write(
      this.knex('whitelist_entries').insert({
        address: entry.address,
        campaign_id: entry.campaignId,
        note: entry.note,
        created_at: now,
      }),
    );
    const [row] = await sql.select<Parameters<typeof entryFromRow>[0]>(
      this.knex('whitelist_entries').where({ id: insertId }).first(),
    );
    return entryFromRow(row);
  }

  /** Every entry, or those of one campaign (`null`: only global ones). */
  async list(filter: { campaignId?: number | null } = {}): Promise<WhitelistEntry[]> {
    const query = this.knex('whitelist_entries').orderBy('id');
    if (filter.campaignId === null) query.whereNull('campaign_id');
    else if (filter.campaignId !== undefined) query.where({ campaign_id: filter.campaignId });
    return (await query).map(entryFromRow);
  }

  /** The addresses that admit a client to a campaign: global entries and the campaign's own. */
  async addressesFor(campaignId: number): Promise<string[]> {
    const rows: Array<{ address: string }> = await this.knex('whitelist_entries')
      .select('address')
      .whereNull('campaign_id')
      .orWhere({ campaign_id: campaignId });
    return rows.map((row) => row.address);
  }

  /** Removes an entry; false when there was none. */
  async delete(sql: Sql, id: number): Promise<boolean> {
    return (await sql.write(this.knex('whitelist_entries').where({ id }).delete())).affectedRows > 0;
  }
}
