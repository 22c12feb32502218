import type { Knex } from 'knex';

/** The postback outbox: one delivery per requested postback, and every attempt at it. */
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasTable('postback_deliveries'))) {
    await knex.schema.createTable('postback_deliveries', (t) => {
      t.bigIncrements('id').primary();
      // Stable across attempts: sent as X-Postback-Id and the [=PostbackID=] token, for receivers to drop repeats.
      t.string('postback_id', 36).notNullable().unique('postback_deliveries_postback_id_unique');
      t.bigInteger('transaction_id').unsigned().notNullable().references('id').inTable('transactions');
      t.bigInteger('modification_id').unsigned().notNullable().references('id').inTable('modifications');
      t.integer('affiliate_id').unsigned().notNullable();
      t.string('url', 8192).notNullable();
      t.string('status', 16).notNullable(); // pending | delivered | failed
      t.integer('attempts').notNullable().defaultTo(0);
      t.bigInteger('next_attempt_at').notNullable();
      t.string('lease_owner', 64).nullable();
      t.bigInteger('lease_expires_at').nullable();
      t.string('last_error', 1024).nullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.bigInteger('finished_at').nullable();
      t.index(['status', 'next_attempt_at'], 'postback_deliveries_due_idx');
      t.index(['transaction_id'], 'postback_deliveries_transaction_idx');
    });
  }
  if (!(await knex.schema.hasTable('postback_attempts'))) {
    await knex.schema.createTable('postback_attempts', (t) => {
      t.bigIncrements('id').primary();
      t.bigInteger('delivery_id').unsigned().notNullable().references('id').inTable('postback_deliveries');
      t.integer('attempt').notNullable();
      t.bigInteger('started_at').notNullable();
      t.string('url', 8192).notNullable();
      t.integer('http_status').nullable();
      t.string('error', 1024).nullable();
      t.integer('duration_ms').notNullable();
      t.string('worker', 64).notNullable();
      t.index(['delivery_id'], 'postback_attempts_delivery_idx');
    });
  }
}

/** Drops the outbox tables. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('postback_attempts');
  await knex.schema.dropTableIfExists('postback_deliveries');
}
