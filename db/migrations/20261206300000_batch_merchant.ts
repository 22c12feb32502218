import type { Knex } from 'knex';

// A batch may belong to a merchant (uploaded by its console users, taken in by its intake credentials): its
// rows then touch only the merchant's campaigns, read at each pass so a campaign given later counts too.
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('batches', 'merchant_id')))
    await knex.schema.alterTable('batches', (t) => {
      t.integer('merchant_id').unsigned().nullable();
    });
}

/** Drops the column with a plain ALTER TABLE (knex's SQLite dropColumn would rebuild the table). */
export async function down(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('batches', 'merchant_id'))
    await knex.raw('alter table batches drop column merchant_id');
}
