import type { Knex } from 'knex';

// A batch a merchant user uploads (or one of its channels takes in) belongs to the merchant: its rows may
// touch only the merchant's campaigns as they are when the rows run, and only the merchant sees it.
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('batches', 'merchant_id')))
    await knex.schema.alterTable('batches', (t) => {
      t.integer('merchant_id').unsigned().nullable();
    });
  if (!(await hasIndex(knex)))
    await knex.schema.alterTable('batches', (t) => t.index(['merchant_id', 'id'], 'batches_merchant_idx'));
}

/** Drops the index and the column with plain statements (knex's SQLite dropColumn would rebuild the table). */
export async function down(knex: Knex): Promise<void> {
  if (await hasIndex(knex)) await knex.schema.alterTable('batches', (t) => t.dropIndex([], 'batches_merchant_idx'));
  if (await knex.schema.hasColumn('batches', 'merchant_id')) await knex.raw('alter table batches drop column merchant_id');
}

async function hasIndex(knex: Knex): Promise<boolean> {
  const client = knex.client.config.client as string;
  if (client === 'mysql2' || client === 'mysql') {
    const [rows] = await knex.raw("show index from batches where Key_name = 'batches_merchant_idx'");
    return (rows as unknown[]).length > 0;
  }
  const rows = await knex.raw("select name from sqlite_master where type = 'index' and name = 'batches_merchant_idx'");
  return (rows as unknown[]).length > 0;
}
