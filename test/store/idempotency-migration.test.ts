import type { Knex } from 'knex';
import { migrationSource } from '../../db/migrations';
import * as scopedToCampaign from '../../db/migrations/20261204100000_idempotency_scoped_to_campaign';
import * as campaignsFilled from '../../db/migrations/20261204100100_idempotency_campaigns_filled';
import { createStores } from '../../src/composition';
import { classifyDatabaseError } from '../../src/store/database-errors';
import { createTestDatabase, testEngines, type TestDatabase } from '../support/databases';

/** The migrations before keys belonged to campaigns. */
const before: Knex.MigrationSource<unknown> = {
  ...migrationSource,
  getMigrations: async (loadExtensions) =>
    (await migrationSource.getMigrations(loadExtensions)).filter(([name]) => name < '20261204100000'),
} as Knex.MigrationSource<unknown>;

const row = (keyHash: string, transactionId: number | null, createdAt: number) => ({
  key_hash: keyHash,
  fingerprint: 'f'.repeat(64),
  response: `<answer for ${keyHash}/>`,
  transaction_id: transactionId,
  created_at: createdAt,
  expires_at: Date.now() + 86_400_000,
});

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );

describe.each(testEngines())('idempotency keys scoped to campaigns: migrations on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine, { migrate: false });
  });
  afterAll(async () => {
    await database?.drop();
  });

  it("gives remembered answers their transaction's campaign, then keeps campaigns apart, and goes down and up again", async () => {
    const { knex } = database.db;
    await knex.migrate.latest({ migrationSource: before });
    const stores = createStores(database.db);
    const affiliate = await stores.affiliates.create({ id: 5, name: 'A' }, 1);
    for (const id of [10, 11]) await stores.campaigns.create(stores.units.alone, { id, name: `C${id}` }, 1);
    // Written as the schema of that time had them (today's store writes columns added later).
    const transaction = (id: number, campaignId: number) =>
      knex('transactions').insert({
        id,
        click_id: `c${id}`,
        campaign_id: campaignId,
        affiliate_id: affiliate.id,
        affiliate_payout: 1,
        merchant_revenue: 2,
        approved: true,
        occurred_at: 0,
        created_at: 1,
        updated_at: 1,
      });
    await transaction(100, 10);
    await transaction(110, 11);
    await knex('idempotency_keys').insert([
      row('a'.repeat(64), 100, 1),
      row('b'.repeat(64), 110, 2),
      row('c'.repeat(64), null, 3),
    ]);

    await knex.migrate.latest({ migrationSource });
    const scoped = await knex('idempotency_keys').select('campaign_id', 'key_hash').orderBy('key_hash');
    // The row without a transaction could never be asked for under a campaign: gone.
    expect(scoped).toEqual([
      { campaign_id: 10, key_hash: 'a'.repeat(64) },
      { campaign_id: 11, key_hash: 'b'.repeat(64) },
    ]);
    // Campaign 11 may now hold campaign 10's key; the same campaign may not hold it twice.
    await knex('idempotency_keys').insert({ ...row('a'.repeat(64), 110, 4), campaign_id: 11 });
    const twice = await failure(knex('idempotency_keys').insert({ ...row('a'.repeat(64), 100, 5), campaign_id: 10 }));
    expect(classifyDatabaseError(twice)).toBe('duplicate_key');

    // Down keeps the earliest answer of a shared key, and one key space again.
    await campaignsFilled.down();
    await scopedToCampaign.down(knex);
    expect(await knex.schema.hasColumn('idempotency_keys', 'campaign_id')).toBe(false);
    expect(await knex('idempotency_keys').select('key_hash', 'transaction_id').orderBy('key_hash')).toEqual([
      { key_hash: 'a'.repeat(64), transaction_id: 100 },
      { key_hash: 'b'.repeat(64), transaction_id: 110 },
    ]);
    const shared = await failure(knex('idempotency_keys').insert(row('a'.repeat(64), 110, 6)));
    expect(classifyDatabaseError(shared)).toBe('duplicate_key');
    // A down that already ran is harmless.
    await scopedToCampaign.down(knex);

    // Up again, twice (MySQL commits DDL at once: a re-run must be harmless), then the data again.
    await scopedToCampaign.up(knex);
    await scopedToCampaign.up(knex);
    await campaignsFilled.up(knex);
    await campaignsFilled.up(knex);
    expect(await knex('idempotency_keys').select('campaign_id', 'key_hash').orderBy('key_hash')).toEqual([
      { campaign_id: 10, key_hash: 'a'.repeat(64) },
      { campaign_id: 11, key_hash: 'b'.repeat(64) },
    ]);
    await knex('idempotency_keys').insert({ ...row('b'.repeat(64), 100, 7), campaign_id: 10 });
  });
});
