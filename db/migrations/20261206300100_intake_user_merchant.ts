import type { Knex } from 'knex';

// An FTP/SFTP upload user may be tied to a merchant instead of a campaign: it then covers exactly the
// merchant's campaigns, read when each file's rows run. Such a user has no campaign, so campaign_id becomes
// nullable (MODIFY on MySQL is idempotent; knex rebuilds the SQLite table, keeping its indexes).
const isMysql = (knex: Knex) => ['mysql', 'mysql2'].includes(knex.client.config.client as string);

export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('intake_users', 'merchant_id')))
    await knex.schema.alterTable('intake_users', (t) => {
      t.integer('merchant_id').unsigned().nullable().index('intake_users_merchant_index');
    });
  if (isMysql(knex)) await knex.raw('alter table `intake_users` modify `campaign_id` int unsigned null');
  else
    await knex.schema.alterTable('intake_users', (t) => {
      t.integer('campaign_id').unsigned().nullable().alter();
    });
}

/** Merchants' upload users go (they have no campaign), then the column. */
export async function down(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('intake_users', 'merchant_id'))) return;
  await knex('intake_users').whereNull('campaign_id').delete();
  if (isMysql(knex)) await knex.raw('alter table `intake_users` modify `campaign_id` int unsigned not null');
  else
    await knex.schema.alterTable('intake_users', (t) => {
      t.integer('campaign_id').unsigned().notNullable().alter();
    });
  await knex.schema.alterTable('intake_users', (t) => {
    t.dropIndex(['merchant_id'], 'intake_users_merchant_index');
  });
  if (isMysql(knex)) await knex.raw('alter table `intake_users` drop column `merchant_id`');
  else await knex.raw('alter table intake_users drop column merchant_id');
}
