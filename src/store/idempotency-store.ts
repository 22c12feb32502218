import type { Knex } from 'knex';
import type { Sql } from './sql';

/** A remembered answer. */
export interface RememberedAnswer {
  fingerprint: string;
  response: string;
  expiresAt: number;
}

/** The idempotency_keys table: one campaign's keys apart from another's (primary key campaign, key hash). */
export class IdempotencyStore {
  constructor(private readonly knex: Knex) {}

  /** The unexpired answer stored under a campaign's key hash, or null. */
  async find(campaignId: number, keyHash: string, now: number): Promise<RememberedAnswer | null> {
    const row = await this.knex('idempotency_keys')
      .where({ campaign_id: campaignId, key_hash: keyHash })
      .andWhere('expires_at', '>', now)
      .first();
    return row ? { fingerprint: row.fingerprint, response: row.response, expiresAt: Number(row.expires_at) } : null;
  }

  /** Stores an answer inside the change's transaction; a concurrent twin fails on the primary key. */
  async insert(
    sql: Sql,
    entry: {
      campaignId: number;
      keyHash: string;
      fingerprint: string;
      response: string;
      transactionId: number;
      now: number;
      ttlMs: number;
    },
  ): Promise<void> {
    // An expired entry under the same key no longer counts: replace it.
    await sql.run('delete from idempotency_keys where campaign_id = ? and key_hash = ? and expires_at <= ?', [
      entry.campaignId,
      entry.keyHash,
      entry.now,
    ]);
    await sql.run(
      'insert into idempotency_keys (campaign_id, key_hash, fingerprint, response, transaction_id, created_at, expires_at) values (?, ?, ?, ?, ?, ?, ?)',
      [
        entry.campaignId,
        entry.keyHash,
        entry.fingerprint,
        entry.response,
        entry.transactionId,
        entry.now,
        entry.now + entry.ttlMs,
      ],
    );
  }

  /** Deletes expired entries; returns how many. */
  async deleteExpired(now: number): Promise<number> {
    return this.knex('idempotency_keys').where('expires_at', '<=', now).delete();
  }
}
