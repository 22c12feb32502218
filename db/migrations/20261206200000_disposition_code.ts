import type { Knex } from 'knex';

// The disposition code of the change that put an impact action in its current state (REVERSED: the code
// that reversed it), for the reports' reversals by code. Null for a transaction no impact change has
// moved. Additive and nullable; guarded because MySQL commits DDL at once (a re-run finds the column).
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('transactions', 'disposition_code')) return;
  await knex.schema.alterTable('transactions', (t) => {
    t.string('disposition_code', 64).nullable();
  });
}

/** Drops the column. */
export async function down(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('transactions', 'disposition_code'))) return;
  await knex.schema.alterTable('transactions', (t) => {
    t.dropColumn('disposition_code');
  });
}
