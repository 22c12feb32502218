import type { Knex } from 'knex';

/**
 * impact.com's actions are transactions: each gains an action id (NULL: the transaction id in decimal),
 * an event type, a state, a locking date, item lines, the customer's status, a count of its
 * modifications and the values it was created with (what RESET restores). Items and originals are JSON
 * text: they are read and written whole with their row, never queried inside.
 */
export async function up(knex: Knex): Promise<void> {
  const missing = async (column: string) => !(await knex.schema.hasColumn('transactions', column));
  // MySQL commits each DDL statement at once: a re-run adds only what is missing.
  const add = async (column: string, build: (t: Knex.AlterTableBuilder) => void) => {
    if (await missing(column)) await knex.schema.alterTable('transactions', build);
  };
  await add('action_id', (t) => t.string('action_id', 64).nullable());
  await add('event_type_id', (t) => t.integer('event_type_id').unsigned().nullable());
  await add('state', (t) => t.string('state', 16).notNullable().defaultTo('PENDING'));
  await add('locking_at', (t) => t.bigInteger('locking_at').nullable());
  await add('items', (t) => t.text('items', 'mediumtext').nullable());
  await add('customer_status', (t) => t.string('customer_status', 8).nullable());
  await add('modification_count', (t) => t.integer('modification_count').notNullable().defaultTo(0));
  await add('original', (t) => t.text('original', 'mediumtext').nullable());

  const client = knex.client.config.client as string;
  if (client === 'mysql2' || client === 'mysql') {
    // Action ids are matched byte for byte, like click ids (see the binary identifier collation migration).
    const [[{ v }]] = await knex.raw('select version() as v');
    const collation = /mariadb/i.test(String(v)) ? 'utf8mb4_nopad_bin' : 'utf8mb4_0900_bin';
    await knex.raw(
      `alter table transactions modify action_id varchar(64) character set utf8mb4 collate ${collation} null`,
    );
  }
  if (!(await hasIndex(knex, 'transactions_action_id_unique')))
    await knex.schema.alterTable('transactions', (t) =>
      t.unique(['action_id'], { indexName: 'transactions_action_id_unique' }),
    );
  if (!(await hasIndex(knex, 'transactions_order_event_type_idx')))
    await knex.schema.alterTable('transactions', (t) =>
      t.index(['merchant_reference_id', 'event_type_id', 'occurred_at'], 'transactions_order_event_type_idx'),
    );
}

/** Drops the columns and their indexes. */
export async function down(knex: Knex): Promise<void> {
  if (await hasIndex(knex, 'transactions_order_event_type_idx'))
    await knex.schema.alterTable('transactions', (t) => t.dropIndex([], 'transactions_order_event_type_idx'));
  if (await hasIndex(knex, 'transactions_action_id_unique'))
    await knex.schema.alterTable('transactions', (t) => t.dropUnique([], 'transactions_action_id_unique'));
  for (const column of [
    'original',
    'modification_count',
    'customer_status',
    'items',
    'locking_at',
    'state',
    'event_type_id',
    'action_id',
  ]) {
    if (await knex.schema.hasColumn('transactions', column))
      await knex.schema.alterTable('transactions', (t) => t.dropColumn(column));
  }
}

async function hasIndex(knex: Knex, name: string): Promise<boolean> {
  const client = knex.client.config.client as string;
  if (client === 'mysql2' || client === 'mysql') {
    const [rows] = await knex.raw(
      'select 1 from information_schema.statistics where table_schema = database() and table_name = ? and index_name = ?',
      ['transactions', name],
    );
    return (rows as unknown[]).length > 0;
  }
  const rows = await knex.raw("select 1 from sqlite_master where type = 'index' and name = ?", [name]);
  return (rows as unknown[]).length > 0;
}
