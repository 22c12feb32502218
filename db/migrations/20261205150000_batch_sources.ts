import type { Knex } from 'knex';

// Where a batch came from: the channel that took the file in (the admin API, the console, FTP, SFTP, a pull
// from the brand's server, e-mail), the campaign an intake channel belongs to (its rows may only touch that
// campaign's transactions; null: any) and who sent it (an intake user, a pull, an e-mail's sender).
const COLUMNS: Array<[name: string, add: (t: Knex.AlterTableBuilder) => void]> = [
  ['channel', (t) => t.string('channel', 16).notNullable().defaultTo('api')],
  // One ALTER with its index, so a re-run never finds the column without the index or tries the index twice.
  [
    'campaign_id',
    (t) => {
      t.integer('campaign_id').unsigned().nullable();
      t.index(['campaign_id', 'id'], 'batches_campaign_id_index');
    },
  ],
  ['submitted_by', (t) => t.string('submitted_by', 320).nullable()],
];

/** Adds the columns, skipping any a half-run migration added (MySQL commits DDL at once). */
export async function up(knex: Knex): Promise<void> {
  for (const [name, add] of COLUMNS) {
    if (!(await knex.schema.hasColumn('batches', name))) await knex.schema.alterTable('batches', add);
  }
}

/** Drops the columns (the campaign's index with its column). */
export async function down(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('batches', 'campaign_id'))
    await knex.schema.alterTable('batches', (t) => t.dropIndex(['campaign_id', 'id'], 'batches_campaign_id_index'));
  for (const [name] of [...COLUMNS].reverse()) {
    if (await knex.schema.hasColumn('batches', name))
      await knex.schema.alterTable('batches', (t) => t.dropColumn(name));
  }
}
