import { migrateAllDown, migrateToLatest } from '../../src/store/database';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';

describe.each(testEngines())('console migration on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('creates the session and audit tables, drops them going down, and creates them again', async () => {
    const tables = async () => ({
      sessions: await database.db.knex.schema.hasTable('console_sessions'),
      audit: await database.db.knex.schema.hasTable('console_audit'),
    });
    expect(await tables()).toEqual({ sessions: true, audit: true });
    await migrateAllDown(database.db);
    expect(await tables()).toEqual({ sessions: false, audit: false });
    await migrateToLatest(database.db);
    expect(await tables()).toEqual({ sessions: true, audit: true });
  });

  it('is safe to re-run after a half-applied run (MySQL commits DDL at once)', async () => {
    const migration = await import('../../db/migrations/20261125030000_console');
    await database.db.knex.schema.dropTable('console_audit');
    await migration.up(database.db.knex);
    await migration.up(database.db.knex);
    expect(await database.db.knex.schema.hasTable('console_audit')).toBe(true);
  });
});
