import * as eventTypes from '../../db/migrations/20261205000000_event_types';
import { createStores } from '../../src/composition';
import { migrateToLatest } from '../../src/store/database';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';

describe.each(testEngines())('the event types migration on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine, { migrate: false });
    await migrateToLatest(database.db);
  });
  afterAll(async () => {
    await database?.drop();
  });

  const createType = async (id: number, codes: Array<{ code: string; effect: 'modify' | 'reverse' }>) => {
    const stores = createStores(database.db);
    if (!(await stores.campaigns.get(9))) await stores.campaigns.create(stores.units.alone, { id: 9, name: 'C' }, 1);
    return stores.units.run((tx) =>
      stores.eventTypes.create(
        tx,
        {
          id,
          campaignId: 9,
          name: 'Sale',
          lockingDays: 30,
          payout: { type: 'percent', value: 125_000n },
          dispositionCodes: codes,
        },
        1,
      ),
    );
  };

  it('keeps custom codes apart by case (a binary key on MySQL), and a supplied id', async () => {
    const created = await createType(2_147_483_647, [
      { code: 'Late', effect: 'reverse' },
      { code: 'LATE', effect: 'modify' },
      { code: 'late', effect: 'modify' },
    ]);
    expect(created).toMatchObject({
      id: 2_147_483_647,
      payout: { type: 'percent', value: 125_000n },
      dispositionCodes: [
        { code: 'Late', effect: 'reverse' },
        { code: 'LATE', effect: 'modify' },
        { code: 'late', effect: 'modify' },
      ],
    });
    const { knex } = database.db;
    expect(await knex('event_type_disposition_codes').where({ code: 'late' }).select('code')).toEqual([
      { code: 'late' },
    ]);
  });

  it('runs again over its own tables, goes down (codes with it) and up again', async () => {
    const { knex } = database.db;
    await createType(77, [{ code: 'X', effect: 'modify' }]);
    await expect(eventTypes.up(knex)).resolves.toBeUndefined();
    expect(await knex('event_type_disposition_codes').where({ event_type_id: 77 }).count({ count: '*' })).toEqual([
      { count: 1 },
    ]);
    await eventTypes.down(knex);
    expect(await knex.schema.hasTable('event_types')).toBe(false);
    expect(await knex.schema.hasTable('event_type_disposition_codes')).toBe(false);
    await eventTypes.down(knex);
    // Half-run: the first table already there.
    await knex.schema.createTable('event_types', (t) => {
      t.increments('id').primary();
      t.integer('campaign_id').unsigned().notNullable().references('id').inTable('campaigns');
      t.string('name', 255).notNullable();
      t.integer('locking_days').notNullable();
      t.string('payout_type', 8).notNullable();
      t.bigInteger('payout_value').notNullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.index(['campaign_id'], 'event_types_campaign_idx');
    });
    await eventTypes.up(knex);
    const again = await createType(78, [
      { code: 'a', effect: 'modify' },
      { code: 'A', effect: 'reverse' },
    ]);
    expect(again.dispositionCodes.map((c) => c.code)).toEqual(['a', 'A']);
  });

  it('deletes a type’s codes with it (cascade)', async () => {
    const { knex } = database.db;
    await createType(79, [{ code: 'Y', effect: 'modify' }]);
    await knex('event_types').where({ id: 79 }).delete();
    expect(await knex('event_type_disposition_codes').where({ event_type_id: 79 }).select('code')).toEqual([]);
  });
});
