import type { Knex } from 'knex';

// impact.com files in the bulk-file tables: which kind of file a batch is (`format` may now also be 'xml',
// which its 8 characters hold), and per row the impact.com result code and the identifiers the results
// file echoes (the Oid goes in merchant_reference_id, which Lead Poster rows already echo it in).
const COLUMNS: Array<[table: string, name: string, add: (t: Knex.AlterTableBuilder) => void]> = [
  ['batches', 'kind', (t) => t.string('kind', 16).notNullable().defaultTo('lead-poster')],
  ['batch_rows', 'code', (t) => t.string('code', 64).nullable()],
  ['batch_rows', 'action_id', (t) => t.text('action_id').nullable()],
  ['batch_rows', 'action_tracker_id', (t) => t.text('action_tracker_id').nullable()],
  ['batch_rows', 'sku', (t) => t.text('sku').nullable()],
];

/** Adds the columns, skipping any that a half-run migration already added (MySQL commits DDL at once). */
export async function up(knex: Knex): Promise<void> {
  for (const [table, name, add] of COLUMNS) {
    if (!(await knex.schema.hasColumn(table, name))) await knex.schema.alterTable(table, add);
  }
}

/** Drops them (those present). */
export async function down(knex: Knex): Promise<void> {
  for (const [table, name] of [...COLUMNS].reverse()) {
    if (await knex.schema.hasColumn(table, name)) await knex.schema.alterTable(table, (t) => t.dropColumn(name));
  }
}
