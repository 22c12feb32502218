import type { Knex } from 'knex';

/**
 * impact.com event types (ActionTrackerIds) and their custom disposition codes. An event type's id is
 * the ActionTrackerId brands already put in their files, so a supplied id is kept (auto-increment only
 * when none is given, as for campaigns). A percent payout is stored Money-scaled (12.5 % = 125000).
 */
export async function up(knex: Knex): Promise<void> {
  // MySQL commits DDL at once, so a half-run migration must be safe to re-run: create only what is missing.
  if (!(await knex.schema.hasTable('event_types'))) {
    await knex.schema.createTable('event_types', (t) => {
      t.increments('id').primary();
      t.integer('campaign_id').unsigned().notNullable().references('id').inTable('campaigns');
      t.string('name', 255).notNullable();
      t.integer('locking_days').notNullable();
      t.string('payout_type', 8).notNullable(); // percent | fixed
      t.bigInteger('payout_value').notNullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.index(['campaign_id'], 'event_types_campaign_idx');
    });
  }
  if (!(await knex.schema.hasTable('event_type_disposition_codes'))) {
    await knex.schema.createTable('event_type_disposition_codes', (t) => {
      t.integer('event_type_id').unsigned().notNullable().references('id').inTable('event_types').onDelete('CASCADE');
      t.string('code', 64).notNullable();
      t.string('effect', 8).notNullable(); // modify | reverse | approve
      // The order the codes were given in, so they read back as written.
      t.integer('position').notNullable();
      t.primary(['event_type_id', 'code']);
    });
  }
  await binaryCodes(knex);
}

/**
 * Custom codes match in exact case, so `Late` and `LATE` are two codes: the key must compare bytes.
 * knex creates MySQL columns with the default case-insensitive collation; the NO PAD binary one fixes
 * that (as for click ids, 20261125080000). SQLite compares bytes already. Re-running it is harmless.
 */
async function binaryCodes(knex: Knex): Promise<void> {
  const client = knex.client.config.client as string;
  if (client !== 'mysql2' && client !== 'mysql') return;
  const [[{ v }]] = await knex.raw('select version() as v');
  const collation = /mariadb/i.test(String(v)) ? 'utf8mb4_nopad_bin' : 'utf8mb4_0900_bin';
  await knex.raw(
    `alter table event_type_disposition_codes modify code varchar(64) character set utf8mb4 collate ${collation} not null`,
  );
}

/** Drops both tables, codes first. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('event_type_disposition_codes');
  await knex.schema.dropTableIfExists('event_types');
}
