import type { Knex } from 'knex';
import type { Sql } from './unit-of-work';
import { onPool, readerOf, type Reader } from './sql';

/** An affiliate (AFID) and its server-side postback URL template. */
export interface Affiliate {
  id: number;
  name: string;
  postbackUrl: string | null;
  createdAt: number;
  updatedAt: number;
}

interface AffiliateRow {
  id: number;
  name: string;
  postback_url: string | null;
  created_at: number | string;
  updated_at: number | string;
}

function affiliateFromRow(row: AffiliateRow): Affiliate {
  return {
    id: Number(row.id),
    name: row.name,
    postbackUrl: row.postback_url,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Reads and writes affiliates. */
export class AffiliateStore {
  constructor(private readonly knex: Knex) {}

  /** Inserts an affiliate, keeping a supplied id (AFIDs migrate from LinkTrust). */
  async create(affiliate: { id?: number; name: string; postbackUrl?: string | null }, now: number): Promise<Affiliate> {
    const [id] = await this.knex('affiliates').insert({
      ...(affiliate.id ? { id: affiliate.id } : {}),
      name: affiliate.name,
      postback_url: affiliate.postbackUrl ?? null,
      created_at: now,
      updated_at: now,
    });
    const created = await this.get(affiliate.id ?? Number(id));
    if (!created) throw new Error('affiliate vanished after insert');
    return created;
  }

  /** Inserts an affiliate inside a unit of work (with the console's audit row, say). */
  async createIn(
    sql: Sql,
    affiliate: { id?: number; name: string; postbackUrl?: string | null },
    now: number,
  ): Promise<Affiliate> {
    const { insertId } = await sql.write(
      this.knex('affiliates').insert({
        ...(affiliate.id ? { id: affiliate.id } : {}),
        name: affiliate.name,
        postback_url: affiliate.postbackUrl ?? null,
        created_at: now,
        updated_at: now,
      }),
    );
    const created = await this.getIn(sql, affiliate.id ?? insertId);
    if (!created) throw new Error('affiliate vanished after insert');
    return created;
  }

  /** Affiliates by id, a page at a time; `search` matches the name (substring) or the exact id. */
  async list(search: string | null, options: { limit: number; offset?: number }): Promise<Affiliate[]> {
    const query = this.knex('affiliates')
      .orderBy('id')
      .limit(options.limit)
      .offset(options.offset ?? 0);
    if (search) {
      const id = /^\d+$/.test(search) ? Number(search) : -1;
      query.where((q) => q.where('name', 'like', `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`).orWhere('id', id));
    }
    return (await onPool<AffiliateRow>(query)).map(affiliateFromRow);
  }

  /** One affiliate, or null. */
  get(id: number): Promise<Affiliate | null> {
    return this.read(onPool, id);
  }

  /** One affiliate, or null, read inside a unit of work. */
  getIn(sql: Sql, id: number): Promise<Affiliate | null> {
    return this.read(readerOf(sql), id);
  }

  private async read(read: Reader, id: number): Promise<Affiliate | null> {
    const [row] = await read<AffiliateRow>(this.knex('affiliates').where({ id }).limit(1));
    return row ? affiliateFromRow(row) : null;
  }

  /** Applies changes inside a unit of work; the updated affiliate, or null when absent. */
  async updateIn(
    sql: Sql,
    id: number,
    changes: { name?: string; postbackUrl?: string | null },
    now: number,
  ): Promise<Affiliate | null> {
    const columns: Record<string, unknown> = { updated_at: now };
    if (changes.name !== undefined) columns.name = changes.name;
    if (changes.postbackUrl !== undefined) columns.postback_url = changes.postbackUrl;
    const { affectedRows } = await sql.write(this.knex('affiliates').where({ id }).update(columns));
    return affectedRows === 0 ? null : this.getIn(sql, id);
  }
}
