import type { Knex } from 'knex';
import * as initialSchema from '../../db/migrations/20261125000000_initial_schema';
import * as nightlyRunLease from '../../db/migrations/20261204200000_nightly_run_lease';
import { migrationSource } from '../../db/migrations';
import { createStores } from '../../src/composition';
import { migrateAllDown, migrateToLatest } from '../../src/store/database';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';

/** knex's own bookkeeping tables, which a rollback leaves behind by design. */
const BOOKKEEPING = ['knex_migrations', 'knex_migrations_lock'];

/** The tables of the first migration: every later one adds, none removes. */
const CORE_TABLES = [
  'affiliates',
  'campaigns',
  'hourly_statistics',
  'modifications',
  'processing_state',
  'transactions',
  'whitelist_entries',
];

async function tableNames(knex: Knex, engine: 'sqlite' | 'mysql'): Promise<string[]> {
  if (engine === 'sqlite') {
    const rows: Array<{ name: string }> = await knex.raw(
      "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'",
    );
    return rows.map((row) => row.name).sort();
  }
  const [rows] = await knex.raw(
    'select table_name as name from information_schema.tables where table_schema = database()',
  );
  return (rows as Array<{ name: string }>).map((row) => row.name).sort();
}

async function triggerNames(knex: Knex, engine: 'sqlite' | 'mysql'): Promise<string[]> {
  if (engine === 'sqlite') {
    const rows: Array<{ name: string }> = await knex.raw("select name from sqlite_master where type = 'trigger'");
    return rows.map((row) => row.name).sort();
  }
  const [rows] = await knex.raw(
    'select trigger_name as name from information_schema.triggers where trigger_schema = database()',
  );
  return (rows as Array<{ name: string }>).map((row) => row.name).sort();
}

describe.each(testEngines())('migrations on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine, { migrate: false });
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('migrate up, all the way down (every table gone) and up again, ending where the first run ended', async () => {
    const { knex } = database.db;
    expect(await tableNames(knex, engine)).toEqual([]);

    await migrateToLatest(database.db);
    const tablesAfterUp = await tableNames(knex, engine);
    const triggersAfterUp = await triggerNames(knex, engine);
    expect(tablesAfterUp).toEqual(expect.arrayContaining([...CORE_TABLES, ...BOOKKEEPING]));
    const [, pending] = await knex.migrate.list({ migrationSource });
    expect(pending).toEqual([]);

    // Some data, so that down has foreign keys and triggers to get past.
    const stores = createStores(database.db);
    const affiliate = await stores.affiliates.create({ id: 5, name: 'A' }, 1);
    const campaign = await stores.campaigns.create(stores.units.alone, { id: 6, name: 'C' }, 1);
    await stores.transactions.create(
      stores.units.alone,
      {
        id: 7,
        clickId: 'c',
        campaignId: campaign.id,
        affiliateId: affiliate.id,
        merchantReferenceId: null,
        subId: null,
        affiliateReferenceId: null,
        affiliatePayout: 1n,
        merchantRevenue: 2n,
        approved: true,
        occurredAt: 0,
      },
      1,
    );
    await stores.units.run((tx) =>
      stores.eventTypes.create(
        tx,
        {
          id: 8,
          campaignId: campaign.id,
          name: 'E',
          lockingDays: 30,
          payout: { type: 'fixed', value: 0n },
          dispositionCodes: [{ code: 'X', effect: 'modify' }],
        },
        1,
      ),
    );

    await migrateAllDown(database.db);
    expect(await tableNames(knex, engine)).toEqual(BOOKKEEPING);
    expect(await triggerNames(knex, engine)).toEqual([]);
    expect(await knex('knex_migrations').count({ count: '*' })).toEqual([{ count: 0 }]);

    await migrateToLatest(database.db);
    expect(await tableNames(knex, engine)).toEqual(tablesAfterUp);
    expect(await triggerNames(knex, engine)).toEqual(triggersAfterUp);
    expect(await knex('transactions').count({ count: '*' })).toEqual([{ count: 0 }]);
    expect(await createStores(database.db).processingState.read()).toEqual({
      nightlyInProgress: false,
      nightlyHeld: false,
      nightlyRun: null,
      nightlyInterruptions: 0,
      nightlyStartedAt: null,
      nightlyLastCompletedAt: null,
      rolledUpThrough: 0,
      hourlyLastRunAt: null,
    });
  });

  it('does nothing when already at the latest migration', async () => {
    const { knex } = database.db;
    await migrateToLatest(database.db);
    const before = await knex('knex_migrations').select('name').orderBy('id');
    await migrateToLatest(database.db);
    expect(await knex('knex_migrations').select('name').orderBy('id')).toEqual(before);
    expect(before.map((row: { name: string }) => row.name)).toEqual(
      (await migrationSource.getMigrations([])).map(([name]) => name),
    );
  });

  it('lets the nightly-lease migration run again over its own columns, and go down and up again', async () => {
    await migrateToLatest(database.db);
    const { knex } = database.db;
    await expect(nightlyRunLease.up(knex)).resolves.toBeUndefined();
    await nightlyRunLease.down(knex);
    expect(await knex.schema.hasColumn('processing_state', 'nightly_lease_expires_at')).toBe(false);
    expect(await knex.schema.hasColumn('nightly_runs', 'interrupted_at')).toBe(false);
    // Half-run: one column already there.
    await knex.schema.alterTable('processing_state', (t) => t.string('nightly_run_date', 10).nullable());
    await nightlyRunLease.up(knex);
    expect(await knex.schema.hasColumn('processing_state', 'nightly_lease_expires_at')).toBe(true);
    expect((await createStores(database.db).processingState.read()).nightlyRun).toBeNull();
  });

  it('lets the first schema migration run again over its own tables (MySQL commits DDL as it goes)', async () => {
    await migrateToLatest(database.db);
    const tables = await tableNames(database.db.knex, engine);
    await expect(initialSchema.up(database.db.knex)).resolves.toBeUndefined();
    expect(await tableNames(database.db.knex, engine)).toEqual(tables);
  });
});
