import type { Knex } from 'knex';

/**
 * Gives the answers remembered before keys belonged to campaigns (campaign 0) the campaign of the
 * transaction they changed, so a merchant's retry across the upgrade is still replayed, not applied
 * twice. A row whose transaction cannot be found could never be asked for under a campaign: dropped.
 * Safe to re-run: it touches only rows still at campaign 0.
 */
export async function up(knex: Knex): Promise<void> {
  await knex('idempotency_keys')
    .where({ campaign_id: 0 })
    .update({
      campaign_id: knex.raw(
        'coalesce((select t.campaign_id from transactions t where t.id = idempotency_keys.transaction_id), 0)',
      ),
    });
  await knex('idempotency_keys').where({ campaign_id: 0 }).delete();
}

/** Nothing to undo: the campaigns leave with their column when the schema migration goes down. */
export async function down(): Promise<void> {}
