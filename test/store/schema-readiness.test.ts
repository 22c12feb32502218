import net from 'node:net';
import { migrationSource } from '../../db/migrations';
import { openDatabase, pendingMigrations } from '../../src/store/database';
import { SchemaReadiness } from '../../src/store/schema-readiness';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';

/** Every migration this build knows, in order. */
async function knownMigrations(): Promise<string[]> {
  return (await migrationSource.getMigrations([])).map((migration) => migrationSource.getMigrationName(migration));
}

describe.each(testEngines())('schema readiness on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine, { migrate: false });
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('follows the schema from empty to current, then asks the database nothing more', async () => {
    const known = await knownMigrations();
    const { knex } = database.db;
    const readiness = new SchemaReadiness(database.db);

    // Empty: every migration pending, and the look did not create knex's tables.
    expect(await readiness.notReadyReason()).toBe(`database schema is not current: ${known.length} migrations pending`);
    expect(await readiness.healthProblem()).toBe(`database schema is not current: ${known.length} migrations pending`);
    expect(await knex.schema.hasTable('knex_migrations')).toBe(false);

    // All but the last applied (as during a start's migration run).
    for (let step = 0; step < known.length - 1; step++) await knex.migrate.up({ migrationSource });
    expect(await pendingMigrations(database.db)).toEqual(known.slice(-1));
    expect(await readiness.notReadyReason()).toBe('database schema is not current: 1 migration pending');
    expect(readiness.isCurrent).toBe(false);

    // Concurrent askers share one look.
    const statements: string[] = [];
    const count = (query: { sql: string }) => statements.push(query.sql);
    knex.on('query', count);
    await readiness.notReadyReason();
    const oneLook = statements.length;
    statements.length = 0;
    await Promise.all(Array.from({ length: 5 }, () => readiness.notReadyReason()));
    expect(statements.length).toBe(oneLook);

    await knex.migrate.up({ migrationSource });
    expect(await readiness.notReadyReason()).toBeNull();
    expect(readiness.isCurrent).toBe(true);
    statements.length = 0;
    expect(await Promise.all([readiness.notReadyReason(), readiness.notReadyReason()])).toEqual([null, null]);
    expect(statements).toEqual([]);
    // /healthz still asks whether the database answers.
    expect(await readiness.healthProblem()).toBeNull();
    expect(statements).toHaveLength(1);
    knex.off('query', count);
  });

  it('takes a schema a newer build has migrated further as current', async () => {
    await database.db
      .knex('knex_migrations')
      .insert({ name: '29991231000000_from_a_newer_build', batch: 99, migration_time: new Date() });
    try {
      expect(await new SchemaReadiness(database.db).notReadyReason()).toBeNull();
    } finally {
      await database.db.knex('knex_migrations').where({ name: '29991231000000_from_a_newer_build' }).delete();
    }
  });
});

describe('schema readiness of a database that does not answer', () => {
  it('says the database is unreachable', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const db = openDatabase({ client: 'mysql', url: `mysql://root@127.0.0.1:${port}/txedit` });
    try {
      const readiness = new SchemaReadiness(db);
      expect([await readiness.notReadyReason(), await readiness.healthProblem(), readiness.isCurrent]).toEqual([
        'database unreachable',
        'database unreachable',
        false,
      ]);
    } finally {
      await db.knex.destroy();
    }
  });
});
