import * as modificationActor from '../../db/migrations/20261205500000_modification_actor';
import * as merchants from '../../db/migrations/20261205510000_merchants';
import { createStores } from '../../src/composition';
import { migrateToLatest } from '../../src/store/database';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';

describe.each(testEngines())('the modification actor migration on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine, { migrate: false });
    await migrateToLatest(database.db);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('goes down and up again, and the history stays append-only through both', async () => {
    const { knex } = database.db;
    // A history row to refuse updating (the triggers are per row: an empty table proves nothing).
    const stores = createStores(database.db);
    await stores.affiliates.create({ id: 5, name: 'A' }, 1);
    await stores.campaigns.create(stores.units.alone, { id: 6, name: 'C' }, 1);
    const transaction = await stores.transactions.create(
      stores.units.alone,
      {
        clickId: 'click-actor',
        campaignId: 6,
        affiliateId: 5,
        merchantReferenceId: null,
        subId: null,
        affiliateReferenceId: null,
        affiliatePayout: 10_0000n,
        merchantRevenue: 100_0000n,
        approved: true,
        occurredAt: 1,
      },
      1,
    );
    const before = { affiliate_payout: '10', merchant_revenue: '100', approved: 1 };
    await knex('modifications').insert({
      transaction_id: transaction.id,
      identifier: 'transaction_id',
      source: 'admin',
      ...Object.fromEntries(
        Object.entries(before).flatMap(([k, v]) => [
          [`before_${k}`, v],
          [`after_${k}`, v],
        ]),
      ),
      reason: 'hand edit',
      postback: 'not_requested',
      created_at: 1,
      actor: 'someone',
    });
    const triggers = async () =>
      engine === 'sqlite'
        ? (await knex('sqlite_master').where({ type: 'trigger', tbl_name: 'modifications' }).pluck('name')).sort()
        : (
            await knex('information_schema.triggers')
              .where({ event_object_table: 'modifications' })
              .andWhereRaw('trigger_schema = database()')
              .pluck('trigger_name')
          ).sort();
    const appendOnly = async () => {
      // The triggers are per row: the history holds one row to refuse, and both triggers are there.
      expect(Number((await knex('modifications').count({ n: '*' }))[0].n)).toBe(1);
      expect(await triggers()).toEqual(['modifications_append_only_delete', 'modifications_append_only_update']);
      // That the triggers refuse writes is the append-only migration's own test; here: they survive.
    };
    expect(await knex.schema.hasColumn('modifications', 'actor')).toBe(true);
    await appendOnly();
    await modificationActor.down(knex);
    expect(await knex.schema.hasColumn('modifications', 'actor')).toBe(false);
    await appendOnly();
    await modificationActor.down(knex); // again: nothing to drop
    await modificationActor.up(knex);
    await modificationActor.up(knex); // again: nothing to add
    expect(await knex.schema.hasColumn('modifications', 'actor')).toBe(true);
    await appendOnly();
  });
});

describe.each(testEngines())('the merchants migration on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine, { migrate: false });
    await migrateToLatest(database.db);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('goes down and up again (twice each), keeping the campaigns and their rows', async () => {
    const { knex } = database.db;
    const stores = createStores(database.db);
    await stores.campaigns.create(stores.units.alone, { id: 7, name: 'Kept' }, 1);
    await merchants.down(knex);
    await merchants.down(knex);
    expect([await knex.schema.hasTable('merchants'), await knex.schema.hasColumn('campaigns', 'merchant_id')]).toEqual([
      false,
      false,
    ]);
    await merchants.up(knex);
    await merchants.up(knex);
    expect([await knex.schema.hasTable('merchants'), await knex.schema.hasColumn('campaigns', 'merchant_id')]).toEqual([
      true,
      true,
    ]);
    expect((await stores.campaigns.get(7))?.name).toBe('Kept');
  });
});
