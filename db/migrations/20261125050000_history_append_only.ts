import type { Knex } from 'knex';

const TRIGGERS = ['modifications_append_only_update', 'modifications_append_only_delete'];

/**
 * Makes the modification history append-only in the database itself: UPDATE and DELETE of a history
 * row fail on both engines, whoever issues them. Corrections are new rows.
 */
export async function up(knex: Knex): Promise<void> {
  const client = knex.client.config.client as string;
  if (client === 'mysql2' || client === 'mysql') {
    // MySQL commits DDL at once: drop-then-create keeps a half-run migration re-runnable.
    for (const name of TRIGGERS) await knex.raw(`drop trigger if exists ${name}`);
    await knex.raw(
      "create trigger modifications_append_only_update before update on modifications for each row signal sqlstate '45000' set message_text = 'modifications are append-only'",
    );
    await knex.raw(
      "create trigger modifications_append_only_delete before delete on modifications for each row signal sqlstate '45000' set message_text = 'modifications are append-only'",
    );
    return;
  }
  await knex.raw(
    "create trigger if not exists modifications_append_only_update before update on modifications begin select raise(abort, 'modifications are append-only'); end",
  );
  await knex.raw(
    "create trigger if not exists modifications_append_only_delete before delete on modifications begin select raise(abort, 'modifications are append-only'); end",
  );
}

/** Removes the triggers. */
export async function down(knex: Knex): Promise<void> {
  for (const name of TRIGGERS) await knex.raw(`drop trigger if exists ${name}`);
}
