import knex, { Knex } from 'knex';
import type { Database } from '../../src/store/database';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildScene } from '../support/factories';
import { startTestServer, TestServer } from '../support/test-server';
import { edit, expectUntouched, failure, success } from './edit-request';

/**
 * A second handle on the same database whose lock waits give up almost at once (SQLite busy timeout,
 * InnoDB lock wait timeout), so a held lock turns into the engine's real lock-timeout error quickly.
 */
function impatientHandle(database: TestDatabase): Database {
  const { config } = database;
  if (config.client === 'sqlite') {
    const handle = knex({
      client: 'better-sqlite3',
      connection: { filename: config.filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
          conn.pragma('foreign_keys = ON');
          conn.pragma('busy_timeout = 20');
          done(null, conn);
        },
      },
    });
    return { knex: handle, engine: 'sqlite' };
  }
  const handle = knex({
    client: 'mysql2',
    connection: {
      uri: config.url,
      supportBigNumbers: true,
      bigNumberStrings: false,
      charset: 'utf8mb4',
    } as Knex.MySql2ConnectionConfig,
    pool: {
      min: 0,
      max: 5,
      afterCreate(
        conn: { query(sql: string, callback: (err: Error | null) => void): void },
        done: (err: Error | null, conn: unknown) => void,
      ) {
        conn.query('set session innodb_lock_wait_timeout = 1', (err) => done(err, conn));
      },
    },
  });
  return { knex: handle, engine: 'mysql' };
}

// The two answers that come from trouble rather than from the request: a transient database failure
// and an unexpected error. Both are reached for real (a held lock, a missing table), not simulated.
describe.each(testEngines())('/transaction.edit temporary and system failures on %s', (engine) => {
  let database: TestDatabase;
  let impatient: Database;
  let server: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    impatient = impatientHandle(database);
    server = await startTestServer(impatient);
  });
  afterAll(async () => {
    await server?.close();
    await impatient?.knex.destroy();
    await database?.drop();
  });

  it('answers a lock that outlasts the bounded retries with a temporary failure, applies nothing, and succeeds once the lock is gone', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    const pairs: Array<[string, string]> = [
      ['Password', campaign.password as string],
      ['Transactionid', String(transaction.id)],
      ['AP', '1.00'],
    ];
    const holder = await database.db.knex.transaction();
    let answer;
    try {
      // MariaDB: another transaction holds the row lock. SQLite: another connection holds the write lock.
      if (engine === 'mysql') await holder.raw('select id from transactions where id = ? for update', [transaction.id]);
      else await holder('processing_state').where({ id: 1 }).update({ hourly_last_run_at: 1 });
      answer = await edit(server.baseUrl, 'GET', pairs);
    } finally {
      await holder.rollback();
    }
    expect(answer).toEqual(
      failure('temporary', 'Temporary failure: database busy LinkTrust API was unable to complete the request', {
        TransactionId: String(transaction.id),
        AP: '1.00',
      }),
    );
    await expectUntouched(server.services, transaction);
    expect(await edit(server.baseUrl, 'GET', pairs)).toEqual(
      success({ TransactionId: String(transaction.id), AP: '1.00' }),
    );
  });

  it('answers an unexpected error with System level error and leaves the change unapplied', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    // Without its history table the unit of work fails after writing the new values: they must roll back.
    await database.db.knex.schema.renameTable('modifications', 'modifications_parked');
    let answer;
    try {
      answer = await edit(server.baseUrl, 'POST', [
        ['Password', campaign.password as string],
        ['Transactionid', String(transaction.id)],
        ['AP', '2.00'],
        ['A', 'no'],
      ]);
    } finally {
      await database.db.knex.schema.renameTable('modifications_parked', 'modifications');
    }
    expect(answer).toEqual(
      failure('system', 'System level error', { TransactionId: String(transaction.id), AP: '2.00', A: 'no' }),
    );
    await expectUntouched(server.services, transaction);
  });
});
