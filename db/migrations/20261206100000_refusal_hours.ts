import type { Knex } from 'knex';

// Refusals per UTC hour and message, for the dashboard's "refused per hour" bands: the per-client table
// keeps only first and last times. Written by the same flush as that table.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('refusal_hours')) return;
  await knex.schema.createTable('refusal_hours', (t) => {
    t.bigInteger('hour_start').notNullable();
    t.string('message', 255).notNullable();
    t.bigInteger('count').notNullable();
    t.primary(['hour_start', 'message']);
  });
}

/** Drops the table. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('refusal_hours');
}
