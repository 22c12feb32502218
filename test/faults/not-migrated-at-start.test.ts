import { migrateToLatest, pendingMigrations } from '../../src/store/database';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildScene } from '../support/factories';
import { editByGet, editByPost } from '../support/linktrust-xml';
import { ensureBuilt, spawnServer, SpawnedServer } from '../support/spawn-server';
import { editParameters, eventually, readWrittenState, servicesOver, temporaryFailure } from './fault-helpers';

const TOKEN = 'not-migrated-token-0123456789abcdef01';

// The production server on a database nobody has migrated yet (MIGRATE_ON_START=false, as for an operator
// who runs `txedit migrate` separately). Until the schema is current every front door says "not yet"
// — /healthz 503 with the reason, LinkTrust's temporary failure, the admin API's 503 not_ready — and
// never a system error; once someone migrates, the same process serves without a restart.
describe.each(testEngines())('a server started on an unmigrated %s database with MIGRATE_ON_START=false', (engine) => {
  let database: TestDatabase;
  let server: SpawnedServer | undefined;
  beforeAll(async () => {
    await ensureBuilt();
    database = await createTestDatabase(engine, { migrate: false });
  }, 300_000);
  afterAll(async () => {
    server?.kill('SIGKILL');
    await server?.exited;
    await database?.drop();
  });

  it('answers not ready everywhere until the schema is current, then serves without a restart', async () => {
    const url = database.config.client === 'sqlite' ? `sqlite:${database.config.filename}` : database.config.url;
    // Read before the server starts: this process's first connection switches a new SQLite file to WAL, which
    // takes the file's exclusive lock — racing the server's own first connection doing the same, one of the
    // two can be refused at once ("database is locked": SQLite answers a lock deadlock without waiting).
    const reason = `database schema is not current: ${(await pendingMigrations(database.db)).length} migrations pending`;
    server = await spawnServer({
      DATABASE_URL: url,
      MIGRATE_ON_START: 'false',
      ADMIN_TOKEN: TOKEN,
      NIGHTLY_SCHEDULE: 'off',
      POSTBACK_WORKER: 'false',
    });
    const running = server;
    const admin = (path: string, init: RequestInit = {}) =>
      fetch(`${running.baseUrl}/api/v1${path}`, {
        ...init,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...init.headers },
      });

    const health = await fetch(`${running.baseUrl}/healthz`);
    expect([health.status, await health.json()]).toEqual([503, { status: 'unavailable', reason }]);
    const byGet = await editByGet(
      running.baseUrl,
      editParameters('whatever', 1, 'not migrated', { AP: '1', MP: '1', A: 'yes' }),
    );
    expect([byGet.status, byGet.contentType, byGet.answer.succeeded, byGet.answer.error]).toEqual([
      200,
      'text/xml; charset=utf-8',
      'False',
      temporaryFailure('database unavailable'),
    ]);
    const byPost = await editByPost(
      running.baseUrl,
      editParameters('whatever', 1, 'not migrated', { AP: '1', MP: '1', A: 'yes' }),
    );
    expect([byPost.status, byPost.answer.error]).toEqual([200, temporaryFailure('database unavailable')]);
    const campaigns = await admin('/campaigns');
    expect([campaigns.status, campaigns.headers.get('retry-after'), await campaigns.json()]).toEqual([
      503,
      '5',
      { error: { code: 'not_ready', message: reason } },
    ]);
    const created = await admin('/affiliates', { method: 'POST', body: JSON.stringify({ name: 'Too early' }) });
    expect([created.status, ((await created.json()) as { error: { code: string } }).error.code]).toEqual([
      503,
      'not_ready',
    ]);
    // Who has no token still learns only that.
    expect((await fetch(`${running.baseUrl}/api/v1/campaigns`)).status).toBe(401);
    const console = await fetch(`${running.baseUrl}/admin/sign-in`);
    expect([console.status, await console.text()]).toEqual([503, `Service Unavailable: ${reason}\n`]);
    // The server waits for the schema, saying why, and writes nothing meanwhile.
    const waiting = await running.waitForLog((line) => line.msg === 'database preparation failed; retrying in 5 s');
    expect(waiting.reason).toBe(`${reason}; run txedit migrate`);
    expect(await database.db.knex.schema.hasTable('knex_migrations')).toBe(false);
    expect(running.output()).not.toMatch(/System level error|internal_error|no such table|doesn't exist/);

    // The operator migrates (what `txedit migrate` does).
    await migrateToLatest(database.db);
    await eventually(
      '/healthz 200',
      async () => ((await fetch(`${running.baseUrl}/healthz`)).status === 200 ? true : undefined),
      30_000,
    );
    expect(await (await fetch(`${running.baseUrl}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await admin('/campaigns')).status).toBe(200);
    expect((await fetch(`${running.baseUrl}/admin/sign-in`)).status).toBe(200);
    // Preparation went on, too: the scheduler it starts runs its catch-up roll-up.
    await eventually(
      'the start-up roll-up',
      async () =>
        (await database.db.knex('processing_state').where({ id: 1 }).first())?.hourly_last_run_at ? true : undefined,
      30_000,
    );
    const services = servicesOver(database.db);
    try {
      const { campaign, transaction } = await buildScene(services);
      const edit = await editByGet(
        running.baseUrl,
        editParameters(campaign.password as string, transaction.id, 'after migrate', { AP: '2', MP: '20', A: 'no' }),
      );
      expect(edit.answer).toMatchObject({ succeeded: 'True', error: null });
      expect((await readWrittenState(database.db.knex, transaction.id)).history.map((row) => row.reason)).toEqual([
        'after migrate',
      ]);
    } finally {
      await services.close();
    }
    running.kill('SIGTERM');
    expect(await running.exited).toEqual({ code: 0, signal: null });
  }, 120_000);
});
