import type { Knex } from 'knex';

/**
 * Daily statistics per (reporting day, campaign, affiliate), computed by nightly processing from the
 * hourly ones, and one row per reporting day that nightly processing ran for. Dates are `YYYY-MM-DD`
 * in the reporting time zone; times are epoch milliseconds and money is BIGINT ten-thousandths, like
 * the rest of the schema.
 */
export async function up(knex: Knex): Promise<void> {
  // MySQL commits DDL at once, so a half-run migration must be safe to re-run: create only what is missing.
  if (!(await knex.schema.hasTable('daily_statistics'))) {
    await knex.schema.createTable('daily_statistics', (t) => {
      t.string('report_date', 10).notNullable();
      t.integer('campaign_id').unsigned().notNullable();
      t.integer('affiliate_id').unsigned().notNullable();
      t.integer('transactions').notNullable();
      t.integer('approved_transactions').notNullable();
      t.bigInteger('affiliate_payout').notNullable();
      t.bigInteger('merchant_revenue').notNullable();
      t.bigInteger('approved_affiliate_payout').notNullable();
      t.bigInteger('approved_merchant_revenue').notNullable();
      t.bigInteger('computed_at').notNullable();
      t.primary(['report_date', 'campaign_id', 'affiliate_id']);
    });
  }
  if (!(await knex.schema.hasTable('nightly_runs'))) {
    await knex.schema.createTable('nightly_runs', (t) => {
      t.string('report_date', 10).notNullable().primary();
      t.string('time_zone', 64).notNullable();
      t.bigInteger('started_at').notNullable();
      t.bigInteger('completed_at').nullable();
      // Rows where the consistency check found statistics and transactions apart; null until completed.
      t.integer('differences').nullable();
    });
  }
}

/** Drops both tables. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('nightly_runs');
  await knex.schema.dropTableIfExists('daily_statistics');
}
