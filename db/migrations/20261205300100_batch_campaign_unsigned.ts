import type { Knex } from 'knex';

// batches.campaign_id was added as a signed INT, but campaign ids are INT UNSIGNED (up to 4,294,967,295):
// on MySQL a file for a campaign above 2,147,483,647 could not be stored. SQLite's integers hold both.
// MODIFY to the same type again is harmless, so a re-run is safe.

/** Widens batches.campaign_id to the campaigns' own type (MySQL only). */
export async function up(knex: Knex): Promise<void> {
  if (!isMysql(knex)) return;
  await knex.raw('alter table batches modify campaign_id int unsigned null');
}

/** Back to a signed INT (fails, as it should, while a batch holds a campaign id above the signed range). */
export async function down(knex: Knex): Promise<void> {
  if (!isMysql(knex)) return;
  await knex.raw('alter table batches modify campaign_id int null');
}

function isMysql(knex: Knex): boolean {
  const client = knex.client.config.client as string;
  return client === 'mysql2' || client === 'mysql';
}
