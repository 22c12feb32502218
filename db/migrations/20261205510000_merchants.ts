import type { Knex } from 'knex';

// Merchants (brands, advertisers) own campaigns: a campaign belongs to at most one (campaigns.merchant_id,
// null: the network's own). `self_service`: whether the network lets the merchant's users rotate their
// campaigns' passwords and manage their white-lists. The column on campaigns has no foreign key: adding
// one on SQLite would rebuild the table; the merchant service only ever writes ids of existing merchants.
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasTable('merchants')))
    await knex.schema.createTable('merchants', (t) => {
      t.increments('id').primary();
      t.string('name', 255).notNullable();
      t.boolean('self_service').notNullable().defaultTo(false);
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
    });
  if (!(await knex.schema.hasColumn('campaigns', 'merchant_id')))
    await knex.schema.alterTable('campaigns', (t) => {
      t.integer('merchant_id').unsigned().nullable();
      t.index(['merchant_id'], 'campaigns_merchant_index');
    });
}

/** Drops the column (with a plain ALTER TABLE: knex's SQLite dropColumn would rebuild the table) and the table. */
export async function down(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('campaigns', 'merchant_id')) {
    await knex.raw(
      knex.client.config.client === 'mysql2'
        ? 'alter table campaigns drop index campaigns_merchant_index'
        : 'drop index if exists campaigns_merchant_index',
    );
    await knex.raw('alter table campaigns drop column merchant_id');
  }
  await knex.schema.dropTableIfExists('merchants');
}
