import type { Knex } from 'knex';

// Data: existing REVERSED actions get the code that reversed them, the reason of their newest history row
// (impact rows and the admin API carry the code there; the console's hand edits of actions before this
// change kept the typed text there instead, so theirs may read as that text, cut to the column's 64).
// Only rows still without a code: a re-run changes nothing.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    `update transactions set disposition_code = (
       select substr(m.reason, 1, 64) from modifications m where m.transaction_id = transactions.id
       order by m.id desc limit 1)
     where event_type_id is not null and state = 'REVERSED' and disposition_code is null`,
  );
}

/**
 * Nothing: the codes it filled cannot be told from those the app wrote since, and the schema migration's
 * down drops the column anyway.
 */
export async function down(): Promise<void> {}
