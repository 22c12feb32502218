import type { Knex } from 'knex';

/** Remembered answers of /transaction.edit calls that carried an idempotency key. */
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('idempotency_keys')) return;
  await knex.schema.createTable('idempotency_keys', (t) => {
    // sha256 of the key: keys are up to 255 characters of the merchant's choosing.
    t.string('key_hash', 64).primary();
    t.string('fingerprint', 64).notNullable();
    t.text('response').notNullable();
    t.bigInteger('transaction_id').unsigned().nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['expires_at'], 'idempotency_keys_expires_idx');
  });
}

/** Drops the table. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('idempotency_keys');
}
