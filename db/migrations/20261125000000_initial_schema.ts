import type { Knex } from 'knex';

// Times are epoch milliseconds in BIGINT columns and money is a BIGINT count of ten-thousandths:
// both engines store them exactly and compare them the same way (no DATETIME/timezone drift between
// MySQL, MariaDB and SQLite).

/** Affiliates, campaigns, whitelist, transactions, history, processing state, hourly statistics. */
export async function up(knex: Knex): Promise<void> {
  // MySQL commits DDL at once, so a half-run migration must be safe to re-run: create only what is missing.
  const create = async (name: string, build: (t: Knex.CreateTableBuilder) => void) => {
    if (!(await knex.schema.hasTable(name))) await knex.schema.createTable(name, build);
  };
  await create('affiliates', (t) => {
    t.increments('id').primary();
    t.string('name', 255).notNullable();
    t.string('postback_url', 2048).nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });
  await create('campaigns', (t) => {
    t.increments('id').primary();
    t.string('name', 255).notNullable();
    t.boolean('allow_external_modification').notNullable().defaultTo(false);
    t.string('password_hash', 100).nullable();
    t.boolean('whitelist_only').notNullable().defaultTo(false);
    t.boolean('unique_merchant_reference').notNullable().defaultTo(false);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });
  await create('whitelist_entries', (t) => {
    t.increments('id').primary();
    t.integer('campaign_id').unsigned().nullable().references('id').inTable('campaigns').onDelete('CASCADE');
    t.string('address', 64).notNullable();
    t.string('note', 255).nullable();
    t.bigInteger('created_at').notNullable();
    t.index(['campaign_id'], 'whitelist_entries_campaign_idx');
  });
  await create('transactions', (t) => {
    t.bigIncrements('id').primary();
    t.string('click_id', 64).notNullable().unique('transactions_click_id_unique');
    t.integer('campaign_id').unsigned().notNullable().references('id').inTable('campaigns');
    t.integer('affiliate_id').unsigned().notNullable().references('id').inTable('affiliates');
    t.string('merchant_reference_id', 255).nullable();
    t.string('sub_id', 255).nullable();
    t.string('affiliate_reference_id', 255).nullable();
    t.bigInteger('affiliate_payout').notNullable();
    t.bigInteger('merchant_revenue').notNullable();
    t.boolean('approved').notNullable();
    t.bigInteger('occurred_at').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.index(['campaign_id', 'merchant_reference_id'], 'transactions_campaign_reference_idx');
    t.index(['occurred_at'], 'transactions_occurred_at_idx');
    t.index(['affiliate_id'], 'transactions_affiliate_idx');
  });
  await create('modifications', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('transaction_id').unsigned().notNullable().references('id').inTable('transactions');
    t.string('identifier', 32).notNullable();
    t.string('source', 16).notNullable();
    t.bigInteger('before_affiliate_payout').notNullable();
    t.bigInteger('before_merchant_revenue').notNullable();
    t.boolean('before_approved').notNullable();
    t.bigInteger('after_affiliate_payout').notNullable();
    t.bigInteger('after_merchant_revenue').notNullable();
    t.boolean('after_approved').notNullable();
    t.string('reason', 255).nullable();
    t.string('client_ip', 45).nullable();
    t.string('request_id', 64).nullable();
    t.string('postback', 32).notNullable();
    t.bigInteger('created_at').notNullable();
    t.index(['transaction_id'], 'modifications_transaction_idx');
  });
  await create('processing_state', (t) => {
    t.integer('id').primary();
    t.boolean('nightly_in_progress').notNullable().defaultTo(false);
    t.bigInteger('nightly_started_at').nullable();
    t.bigInteger('nightly_last_completed_at').nullable();
    t.bigInteger('rolled_up_through').notNullable().defaultTo(0);
    t.bigInteger('hourly_last_run_at').nullable();
  });
  await create('hourly_statistics', (t) => {
    t.bigInteger('hour_start').notNullable();
    t.integer('campaign_id').unsigned().notNullable();
    t.integer('affiliate_id').unsigned().notNullable();
    t.integer('transactions').notNullable();
    t.integer('approved_transactions').notNullable();
    t.bigInteger('affiliate_payout').notNullable();
    t.bigInteger('merchant_revenue').notNullable();
    t.bigInteger('approved_affiliate_payout').notNullable();
    t.bigInteger('approved_merchant_revenue').notNullable();
    t.primary(['hour_start', 'campaign_id', 'affiliate_id']);
  });
}

/** Drops everything `up` created, dependents first. */
export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'hourly_statistics',
    'processing_state',
    'modifications',
    'transactions',
    'whitelist_entries',
    'campaigns',
    'affiliates',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
