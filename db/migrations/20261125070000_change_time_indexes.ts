import type { Knex } from 'knex';

// Nightly processing finds days changed since its last run by transactions.created_at and
// modifications.created_at while it holds the processing-state lock: index both.
const INDEXES: Array<[table: string, column: string, name: string]> = [
  ['transactions', 'created_at', 'transactions_created_at_idx'],
  ['modifications', 'created_at', 'modifications_created_at_idx'],
];

async function hasIndex(knex: Knex, table: string, name: string): Promise<boolean> {
  const client = knex.client.config.client as string;
  if (client === 'mysql2' || client === 'mysql') {
    const [rows] = await knex.raw(
      'select 1 from information_schema.statistics where table_schema = database() and table_name = ? and index_name = ?',
      [table, name],
    );
    return rows.length > 0;
  }
  const rows = await knex.raw(`select 1 from sqlite_master where type = 'index' and tbl_name = ? and name = ?`, [
    table,
    name,
  ]);
  return rows.length > 0;
}

/** Adds the indexes (skipping any that a half-run migration already made). */
export async function up(knex: Knex): Promise<void> {
  for (const [table, column, name] of INDEXES) {
    if (!(await hasIndex(knex, table, name))) await knex.schema.alterTable(table, (t) => t.index([column], name));
  }
}

/** Drops them. */
export async function down(knex: Knex): Promise<void> {
  for (const [table, column, name] of INDEXES) {
    if (await hasIndex(knex, table, name)) await knex.schema.alterTable(table, (t) => t.dropIndex([column], name));
  }
}
