import type { Knex } from 'knex';

/** Each transaction's modifications so far, counted from its history (the 1,000-modification cap counts them). */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    'update transactions set modification_count = (select count(*) from modifications m where m.transaction_id = transactions.id)',
  );
}

/** The counts go with the column (the schema migration's down). */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('update transactions set modification_count = 0');
}
