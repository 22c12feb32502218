import type { Knex } from 'knex';

// An impact.com API account may be tied to a merchant instead of a list of campaigns: it then covers exactly
// the merchant's campaigns, read when a call needs them, so campaigns added to the merchant later count too.
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('api_accounts', 'merchant_id')))
    await knex.schema.alterTable('api_accounts', (t) => {
      t.integer('merchant_id').unsigned().nullable();
    });
}

/** Drops the column with a plain ALTER TABLE (knex's SQLite dropColumn would rebuild the table). */
export async function down(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('api_accounts', 'merchant_id'))
    await knex.raw('alter table api_accounts drop column merchant_id');
}
