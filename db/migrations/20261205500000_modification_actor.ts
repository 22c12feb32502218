import type { Knex } from 'knex';

// Who made a change by hand (an admin's or a merchant user's name), beside its source: the history shows
// it. Null for every other source (a merchant's CRM, a file row, impact.com's API), which name their client
// address or request instead.
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('modifications', 'actor')))
    await knex.schema.alterTable('modifications', (t) => t.string('actor', 64).nullable());
}

/**
 * Drops the column with a plain ALTER TABLE on both engines: knex's SQLite dropColumn rebuilds the table,
 * which would drop the history's append-only triggers with it.
 */
export async function down(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('modifications', 'actor'))
    await knex.raw('alter table modifications drop column actor');
}
