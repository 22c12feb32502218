import type { Knex } from 'knex';

// batches.campaign_id was created as a signed INT on MySQL, while campaign ids run to 4,294,967,295
// (unsigned, as campaigns.id): a file taken in for a campaign above 2,147,483,647 could not be stored.
// SQLite's integers hold both; only MySQL/MariaDB changes. MODIFY is idempotent, so a re-run is harmless.
const isMysql = (knex: Knex) => ['mysql', 'mysql2'].includes(knex.client.config.client as string);

/** Widens batches.campaign_id to unsigned on MySQL. */
export async function up(knex: Knex): Promise<void> {
  if (isMysql(knex)) await knex.raw('alter table `batches` modify `campaign_id` int unsigned null');
}

/** Back to signed (ids above the signed range must be gone first). */
export async function down(knex: Knex): Promise<void> {
  if (isMysql(knex)) await knex.raw('alter table `batches` modify `campaign_id` int null');
}
