import type { Knex } from 'knex';

// What /transaction.edit refused, for support: per client address, campaign (0: none known) and message,
// how often and when first and last. Counted in memory and added every few seconds, so a flood of refusals
// costs the database one upsert per address, campaign and message per flush, not a write per request.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('refusals')) return;
  await knex.schema.createTable('refusals', (t) => {
    t.increments('id').primary();
    t.string('door', 16).notNullable();
    t.string('client_ip', 45).notNullable();
    t.integer('campaign_id').unsigned().notNullable().defaultTo(0);
    t.string('message', 255).notNullable();
    t.bigInteger('count').notNullable();
    t.bigInteger('first_at').notNullable();
    t.bigInteger('last_at').notNullable();
    t.unique(['door', 'client_ip', 'campaign_id', 'message'], { indexName: 'refusals_key_unique' });
    t.index(['last_at'], 'refusals_last_at_index');
    t.index(['campaign_id', 'last_at'], 'refusals_campaign_index');
  });
}

/** Drops the table. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('refusals');
}
