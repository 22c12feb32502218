import type { Knex } from 'knex';

/** The single processing-state row (id 1) that the core reads and the processing jobs update. */
export async function up(knex: Knex): Promise<void> {
  const existing = await knex('processing_state').where({ id: 1 }).first();
  if (!existing) await knex('processing_state').insert({ id: 1, nightly_in_progress: false, rolled_up_through: 0 });
}

/** Removes the row. */
export async function down(knex: Knex): Promise<void> {
  await knex('processing_state').where({ id: 1 }).delete();
}
