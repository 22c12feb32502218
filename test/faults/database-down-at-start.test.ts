import { createTestDatabase, TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { ensureBuilt, spawnServer, SpawnedServer } from '../support/spawn-server';
import { startTcpProxy, TcpProxy, throughProxy } from '../support/tcp-proxy';
import {
  editParameters,
  eventually,
  readWrittenState,
  rollUpIncluding,
  servicesOver,
  temporaryFailure,
} from './fault-helpers';

// The production server started while its database is unreachable: it must come up anyway, say so on
// /healthz, answer edits with LinkTrust's temporary failure, and — once the database answers — migrate
// and serve without being restarted.
const describeOnMariaDb = process.env.TEST_MYSQL_URL ? describe : describe.skip;

describeOnMariaDb('database down when the server starts (MariaDB behind a refusing proxy)', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let server: SpawnedServer | undefined;
  beforeAll(async () => {
    await ensureBuilt();
    database = await createTestDatabase('mysql', { migrate: false });
    proxy = await startTcpProxy();
  }, 300_000);
  afterAll(async () => {
    server?.kill('SIGKILL');
    await server?.exited;
    await proxy?.close();
    await database?.drop();
  });

  it('starts, reports 503 and temporary failures, then migrates and serves once the database is back, without a restart', async () => {
    if (database.config.client !== 'mysql') throw new Error('expected a MariaDB test database');
    proxy.refuse();
    server = await spawnServer({
      DATABASE_URL: throughProxy(database.config.url, proxy),
      NIGHTLY_SCHEDULE: 'off',
      POSTBACK_WORKER: 'false',
    });
    const running = server;

    const health = await fetch(`${running.baseUrl}/healthz`);
    expect([health.status, await health.json()]).toEqual([
      503,
      { status: 'unavailable', reason: 'database unreachable' },
    ]);
    const down = await editByGet(
      running.baseUrl,
      editParameters('whatever', 1, 'while down', { AP: '1', MP: '1', A: 'yes' }),
    );
    expect([down.status, down.contentType, down.answer.succeeded]).toEqual([200, 'text/xml; charset=utf-8', 'False']);
    expect(down.answer.error).toEqual(temporaryFailure('database unavailable'));
    // It keeps trying rather than giving up, and nothing reached the database.
    await running.waitForLog((line) => line.msg === 'database preparation failed; retrying in 5 s');
    expect(await database.db.knex.schema.hasTable('knex_migrations')).toBe(false);

    proxy.forward();
    await eventually(
      '/healthz 200',
      async () => ((await fetch(`${running.baseUrl}/healthz`)).status === 200 ? true : undefined),
      30_000,
    );
    // Preparation is complete when the scheduler it starts has run its catch-up roll-up.
    await eventually(
      'migrations and the start-up roll-up',
      async () => {
        const state = await database.db.knex('processing_state').where({ id: 1 }).first();
        return state?.hourly_last_run_at ? true : undefined;
      },
      30_000,
    );

    const services = servicesOver(database.db);
    try {
      const affiliate = await buildAffiliate(services);
      const campaign = await buildCampaign(services);
      const transaction = await buildTransaction(services, campaign, affiliate);
      await rollUpIncluding(services, transaction.occurredAt);
      const edit = await editByGet(
        running.baseUrl,
        editParameters(campaign.password as string, transaction.id, 'after recovery', { AP: '2', MP: '20', A: 'no' }),
      );
      expect(edit.answer).toMatchObject({ succeeded: 'True', error: null });
      expect((await readWrittenState(database.db.knex, transaction.id)).history.map((row) => row.reason)).toEqual([
        'after recovery',
      ]);
    } finally {
      await services.close();
    }

    // The same process did all of this: one start, never an exit.
    expect(
      running.logs().filter((line) => typeof line.msg === 'string' && line.msg.startsWith('txedit listening on ')),
    ).toHaveLength(1);
    running.kill('SIGTERM');
    expect(await running.exited).toEqual({ code: 0, signal: null });
  }, 90_000);
});
