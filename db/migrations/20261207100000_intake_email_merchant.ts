import type { Knex } from 'knex';

// A merchant may have an e-mail intake address of its own: its files cover exactly the merchant's
// campaigns, read when each file's rows run. Such an address (and the messages taken through it) has no
// campaign, so campaign_id becomes nullable and merchant_id names the owner. Each step is guarded (MySQL
// commits DDL at once, so a half-run migration re-runs); MODIFY on MySQL is idempotent, and knex rebuilds
// the SQLite table keeping its indexes, as in 20261206300100_intake_user_merchant.
const isMysql = (knex: Knex) => ['mysql', 'mysql2'].includes(knex.client.config.client as string);

const TABLES = ['intake_email_addresses', 'intake_messages'] as const;
const indexOf = (table: string) => `${table}_merchant_index`;

export async function up(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    if (!(await knex.schema.hasColumn(table, 'merchant_id')))
      await knex.schema.alterTable(table, (t) => {
        t.integer('merchant_id').unsigned().nullable().index(indexOf(table));
      });
    if (isMysql(knex)) await knex.raw(`alter table \`${table}\` modify \`campaign_id\` int unsigned null`);
    else
      await knex.schema.alterTable(table, (t) => {
        t.integer('campaign_id').unsigned().nullable().alter();
      });
  }
}

/** Merchants' addresses and messages go (they have no campaign), then the column. */
export async function down(knex: Knex): Promise<void> {
  for (const table of [...TABLES].reverse()) {
    if (!(await knex.schema.hasColumn(table, 'merchant_id'))) continue;
    await knex(table).whereNull('campaign_id').delete();
    if (isMysql(knex)) await knex.raw(`alter table \`${table}\` modify \`campaign_id\` int unsigned not null`);
    else
      await knex.schema.alterTable(table, (t) => {
        t.integer('campaign_id').unsigned().notNullable().alter();
      });
    await knex.schema.alterTable(table, (t) => {
      t.dropIndex(['merchant_id'], indexOf(table));
    });
    if (isMysql(knex)) await knex.raw(`alter table \`${table}\` drop column \`merchant_id\``);
    else await knex.raw(`alter table ${table} drop column merchant_id`);
  }
}
