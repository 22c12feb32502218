import * as dailyStatistics from '../../db/migrations/20261125010000_daily_statistics';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';

describe.each(testEngines())('daily statistics migration on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
  });
  afterAll(async () => {
    await database?.drop();
  });

  const tables = async () => {
    const { knex } = database.db;
    return [await knex.schema.hasTable('daily_statistics'), await knex.schema.hasTable('nightly_runs')];
  };

  it('can run again, be reverted and run again', async () => {
    expect(await tables()).toEqual([true, true]);
    await dailyStatistics.up(database.db.knex);
    expect(await tables()).toEqual([true, true]);
    await dailyStatistics.down(database.db.knex);
    expect(await tables()).toEqual([false, false]);
    await dailyStatistics.down(database.db.knex);
    await dailyStatistics.up(database.db.knex);
    expect(await tables()).toEqual([true, true]);
    await database.db.knex('daily_statistics').insert({
      report_date: '2026-11-25',
      campaign_id: 1,
      affiliate_id: 2,
      transactions: 1,
      approved_transactions: 1,
      affiliate_payout: 999_999_999_999_999,
      merchant_revenue: 0,
      approved_affiliate_payout: 999_999_999_999_999,
      approved_merchant_revenue: 0,
      computed_at: 1,
    });
    const [row] = await database.db.knex('daily_statistics');
    expect(Number(row.affiliate_payout)).toBe(999_999_999_999_999);
  });
});
