import { openDatabase, Database } from '../../src/store/database';
import { createTestDatabase, TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { startTcpProxy, TcpProxy, throughProxy } from '../support/tcp-proxy';
import { startTestServer, TestServer } from '../support/test-server';
import { editParameters, eventually, readWrittenState, rollUpIncluding, temporaryFailure } from './fault-helpers';

// The database goes away in the middle of a modification: the server talks to MariaDB through a proxy
// that cuts its connection exactly when a given statement is sent, or an operator KILLs it. The answer
// must be LinkTrust's temporary failure, and the database — read directly, not through the proxy — must
// be exactly as it was: the transaction, its history, the hourly statistics and the postback outbox.
// The one exception is a COMMIT that reached the database with only its acknowledgement lost: the change
// is in, so the answer must say so.
const describeOnMariaDb = process.env.TEST_MYSQL_URL ? describe : describe.skip;

describeOnMariaDb('database lost in the middle of /transaction.edit (MariaDB through a cutting proxy)', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let proxied: Database;
  let server: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase('mysql');
    proxy = await startTcpProxy();
    if (database.config.client !== 'mysql') throw new Error('expected a MariaDB test database');
    proxied = openDatabase({ client: 'mysql', url: throughProxy(database.config.url, proxy) });
    server = await startTestServer(proxied);
  });
  afterAll(async () => {
    await server?.close();
    await proxied?.knex.destroy();
    await proxy?.close();
    await database?.drop();
  });
  afterEach(() => {
    proxy.disarm();
    proxy.forward();
  });

  /** A rolled-up transaction whose affiliate has a postback URL, so a success also writes the outbox. */
  async function scene() {
    const affiliate = await buildAffiliate(server.services, { postbackUrl: 'http://127.0.0.1:9/pb?t=[=_TransID=]' });
    const campaign = await buildCampaign(server.services);
    const transaction = await buildTransaction(server.services, campaign, affiliate, {
      affiliatePayout: '10.00',
      merchantRevenue: '100.00',
    });
    await rollUpIncluding(server.services, transaction.occurredAt);
    return { campaign, transaction, password: campaign.password as string };
  }

  it.each([
    ['the history row is inserted', 'insert into modifications'],
    ['the outbox row is inserted', 'insert into postback_deliveries'],
    ['COMMIT is sent', 'commit'],
  ])(
    'answers a temporary failure and leaves everything as before when the connection dies as %s',
    async (_when, statement) => {
      const { transaction, password } = await scene();
      const before = await readWrittenState(database.db.knex, transaction.id);

      const cut = proxy.cutWhenClientSends(statement);
      const response = await editByGet(
        server.baseUrl,
        editParameters(password, transaction.id, 'cut mid-request', { AP: '7.5', MP: '75', A: 'no' }),
      );
      await cut;

      expect(response.status).toBe(200);
      expect(response.contentType).toBe('text/xml; charset=utf-8');
      expect(response.answer.succeeded).toBe('False');
      expect(response.answer.error).toEqual(temporaryFailure('database unavailable'));
      expect(response.answer.supplied).toMatchObject({
        TransactionId: String(transaction.id),
        AP: '7.5',
        MP: '75',
        A: 'no',
        REASON: 'cut mid-request',
      });
      expect(await readWrittenState(database.db.knex, transaction.id)).toEqual(before);

      // The pool drops the dead connection; the very next request goes through.
      const next = await editByGet(
        server.baseUrl,
        editParameters(password, transaction.id, 'after the cut', { AP: '7.5', MP: '75', A: 'no' }),
      );
      expect(next.answer.succeeded).toBe('True');
      const after = await readWrittenState(database.db.knex, transaction.id);
      expect(after.history.map((row) => [row.reason, row.after_affiliate_payout, row.after_merchant_revenue])).toEqual([
        ['after the cut', '75000', '750000'],
      ]);
      expect(after.postbackDeliveries).toHaveLength(before.postbackDeliveries.length + 1);
      expect(after.postbackDeliveries.at(-1)).toMatchObject({
        transaction_id: String(transaction.id),
        modification_id: String(after.history[0].id),
      });
    },
  );

  it('answers success when the COMMIT landed but its acknowledgement was lost: a failure would promise that nothing changed', async () => {
    const { transaction, password } = await scene();
    const before = await readWrittenState(database.db.knex, transaction.id);

    const severed = proxy.severAfterClientSends('commit');
    const response = await editByGet(
      server.baseUrl,
      editParameters(password, transaction.id, 'acknowledgement lost', { AP: '8', MP: '80', A: 'yes' }),
    );
    await severed;

    const after = await eventually('the commit', async () => {
      const state = await readWrittenState(database.db.knex, transaction.id);
      return state.history.length > 0 ? state : undefined;
    });
    expect(after.history.map((row) => [row.reason, row.request_id])).toEqual([
      ['acknowledgement lost', expect.any(String)],
    ]);
    expect(after.postbackDeliveries).toHaveLength(before.postbackDeliveries.length + 1);
    expect(after.transaction).toMatchObject({ affiliate_payout: '80000', merchant_revenue: '800000' });
    expect(response.status).toBe(200);
    expect(response.answer).toMatchObject({ succeeded: 'True', error: null });
  });

  describe('an edit whose password is already verified (one unit of work, COMMIT sent with the writes)', () => {
    /**
     * A rolled-up transaction whose affiliate has no postback URL (so no outbox row is queued and the
     * COMMIT travels with the writes), after one successful edit through the server has verified the
     * campaign's password.
     */
    async function verifiedScene() {
      const affiliate = await buildAffiliate(server.services);
      const campaign = await buildCampaign(server.services);
      const transaction = await buildTransaction(server.services, campaign, affiliate, {
        affiliatePayout: '10.00',
        merchantRevenue: '100.00',
      });
      await rollUpIncluding(server.services, transaction.occurredAt);
      const password = campaign.password as string;
      const first = await editByGet(
        server.baseUrl,
        editParameters(password, transaction.id, 'verifies the password', { AP: '9', MP: '90', A: 'yes' }),
      );
      expect(first.answer).toMatchObject({ succeeded: 'True', error: null });
      expect(server.services.passwords.mayBeKnown(password)).toBe(true);
      return { transaction, password };
    }

    /** The statements the server announces while `work` runs. */
    async function statementsDuring<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
      const statements: string[] = [];
      const listener = (query: { sql: string }) => statements.push(query.sql);
      proxied.knex.on('query', listener);
      try {
        return { result: await work(), statements };
      } finally {
        proxied.knex.off('query', listener);
      }
    }
    const oneUnitLocks = [
      // The processing state (the nightly flag: a hold, or a run's live lease) under its shared lock.
      expect.stringMatching(/^select p\.\*, .* from processing_state p where p\.id = 1 lock in share mode$/),
      // The row lock, with the campaign's settings read by subqueries (test/modification/apply-at-once.test.ts spells it out).
      expect.stringMatching(
        /^select t\.\*, \(select allow_external_modification from campaigns c where c\.id = t\.campaign_id\) as c_allow, .* from transactions t where t\.id = \? for update$/,
      ),
    ];

    it('answers success, with the history row written once, when the COMMIT sent with the writes landed but its acknowledgement was lost', async () => {
      const { transaction, password } = await verifiedScene();
      const before = await readWrittenState(database.db.knex, transaction.id);

      const severed = proxy.severAfterClientSends('commit');
      const { result: response, statements } = await statementsDuring(() =>
        editByGet(
          server.baseUrl,
          editParameters(password, transaction.id, 'writes landed, acknowledgement lost', {
            AP: '8',
            MP: '80',
            A: 'no',
          }),
        ),
      );
      await severed;

      expect(statements.slice(0, 2)).toEqual(oneUnitLocks);
      expect(response.status).toBe(200);
      expect(response.answer).toMatchObject({ succeeded: 'True', error: null });
      const after = await eventually('the commit', async () => {
        const state = await readWrittenState(database.db.knex, transaction.id);
        return state.history.length > before.history.length ? state : undefined;
      });
      expect(after.history.slice(0, before.history.length)).toEqual(before.history);
      expect(
        after.history
          .slice(before.history.length)
          .map((row) => [row.reason, row.after_affiliate_payout, row.after_merchant_revenue, row.after_approved]),
      ).toEqual([['writes landed, acknowledgement lost', '80000', '800000', '0']]);
      expect(after.transaction).toMatchObject({ affiliate_payout: '80000', merchant_revenue: '800000', approved: '0' });
      expect(after.postbackDeliveries).toEqual(before.postbackDeliveries);
    });

    it('answers a temporary failure and changes nothing when the connection dies as its writes are sent', async () => {
      const { transaction, password } = await verifiedScene();
      const before = await readWrittenState(database.db.knex, transaction.id);

      const cut = proxy.cutWhenClientSends('insert into modifications');
      const { result: response, statements } = await statementsDuring(() =>
        editByGet(
          server.baseUrl,
          editParameters(password, transaction.id, 'cut as the writes are sent', { AP: '7', MP: '70', A: 'no' }),
        ),
      );
      await cut;

      expect(statements.slice(0, 2)).toEqual(oneUnitLocks);
      expect(response.status).toBe(200);
      expect(response.answer.succeeded).toBe('False');
      expect(response.answer.error).toEqual(temporaryFailure('database unavailable'));
      expect(await readWrittenState(database.db.knex, transaction.id)).toEqual(before);

      const next = await editByGet(
        server.baseUrl,
        editParameters(password, transaction.id, 'after the cut', { AP: '7', MP: '70', A: 'no' }),
      );
      expect(next.answer).toMatchObject({ succeeded: 'True', error: null });
      expect((await readWrittenState(database.db.knex, transaction.id)).history.map((row) => row.reason)).toEqual([
        'verifies the password',
        'after the cut',
      ]);
    });
  });

  it.each([
    ['KILL QUERY', 'database busy'],
    ['KILL', 'database unavailable'],
  ] as const)(
    'answers a temporary failure and changes nothing when an operator runs %s on the edit waiting for its row lock',
    async (kill, failureType) => {
      const { transaction, password } = await scene();
      const before = await readWrittenState(database.db.knex, transaction.id);
      const schema = new URL((database.config as { url: string }).url).pathname.slice(1);
      const lockWaits = async () => {
        const [rows] = await database.db.knex.raw(
          "select id from information_schema.processlist where db = ? and id <> connection_id() and info like '%select * from transactions where id = % for update%'",
          [schema],
        );
        return rows.map((row: { id: number }) => Number(row.id));
      };
      const holder = await database.db.knex.transaction();
      let pending;
      try {
        await holder.raw('select id from transactions where id = ? for update', [transaction.id]);
        pending = editByGet(
          server.baseUrl,
          editParameters(password, transaction.id, `${kill} victim`, { AP: '9', MP: '90', A: 'no' }),
        );
        const [waiting] = await eventually('the edit waiting for the row lock', async () =>
          (await lockWaits()).length === 1 ? lockWaits() : undefined,
        );
        await database.db.knex.raw(`${kill} ${waiting}`);
        // (After KILL the server looks, on a new connection, whether the change landed: that waits for our lock too.)
        await eventually('the kill taking effect', async () =>
          !(await lockWaits()).includes(waiting) ? true : undefined,
        );
      } finally {
        await holder.rollback();
      }
      const response = await pending;
      expect([response.status, response.answer.error]).toEqual([200, temporaryFailure(failureType)]);
      expect(await readWrittenState(database.db.knex, transaction.id)).toEqual(before);
      const next = await editByGet(
        server.baseUrl,
        editParameters(password, transaction.id, `after ${kill}`, { AP: '9', MP: '90', A: 'no' }),
      );
      expect(next.answer.succeeded).toBe('True');
    },
  );

  it('answers temporary failures while the database is down, /healthz says 503, and recovers without a restart', async () => {
    const { transaction, password } = await scene();
    const before = await readWrittenState(database.db.knex, transaction.id);

    // The database "stops" while the change is being written: the open connection dies and no new one is let in.
    const cut = proxy.cutWhenClientSends('insert into modifications');
    const pending = editByGet(
      server.baseUrl,
      editParameters(password, transaction.id, 'server stopped', { AP: '1', MP: '2', A: 'yes' }),
    );
    await cut;
    proxy.refuse();
    proxy.cutAll();
    expect((await pending).answer.error).toEqual(temporaryFailure('database unavailable'));

    const whileDown = await editByGet(
      server.baseUrl,
      editParameters(password, transaction.id, 'while down', { AP: '1', MP: '2', A: 'yes' }),
    );
    expect(whileDown.status).toBe(200);
    expect(whileDown.answer.error).toEqual(temporaryFailure('database unavailable'));
    const health = await fetch(`${server.baseUrl}/healthz`);
    expect([health.status, await health.json()]).toEqual([
      503,
      { status: 'unavailable', reason: 'database unreachable' },
    ]);
    expect(await readWrittenState(database.db.knex, transaction.id)).toEqual(before);

    proxy.forward();
    await eventually('/healthz 200 after the database is back', async () =>
      (await fetch(`${server.baseUrl}/healthz`)).status === 200 ? true : undefined,
    );
    const back = await editByGet(
      server.baseUrl,
      editParameters(password, transaction.id, 'back up', { AP: '1', MP: '2', A: 'yes' }),
    );
    expect(back.answer.succeeded).toBe('True');
    const after = await readWrittenState(database.db.knex, transaction.id);
    expect(after.history.map((row) => row.reason)).toEqual(['back up']);
  });
});
