import type { AddressInfo } from 'node:net';
import knex, { Knex } from 'knex';
import { AdminService } from '../../src/admin/admin-service';
import { createApp } from '../../src/app';
import { BatchService } from '../../src/batch/batch-service';
import { createServices, type Services, type Stores } from '../../src/composition';
import { loadConfig } from '../../src/config';
import { createListener } from '../../src/http/listener';
import { createLogger } from '../../src/logger';
import { createProcessingService } from '../../src/processing/processing-service';
import { PostbackService } from '../../src/postbacks/postback-service';
import { validatePostbackUrlTemplate } from '../../src/postbacks/url-template';
import type { Database } from '../../src/store/database';
import { LOCK_RETRY_ATTEMPTS } from '../../src/store/lock-retries';
import { createTestDatabase, testEngines, type TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction, freshId, rollUpToNow } from '../support/factories';
import { TEST_ADMIN_TOKEN } from '../support/test-server';
import { consoleClient } from '../console/console-client';

/** Errors shaped like mysql2's for InnoDB's deadlock victim and lock wait timeout. */
const deadlock = () =>
  Object.assign(new Error('Deadlock found when trying to get lock; try restarting transaction'), {
    code: 'ER_LOCK_DEADLOCK',
    errno: 1213,
    sqlState: '40001',
  });
const lockWaitTimeout = () =>
  Object.assign(new Error('Lock wait timeout exceeded; try restarting transaction'), {
    code: 'ER_LOCK_WAIT_TIMEOUT',
    errno: 1205,
    sqlState: 'HY000',
  });

/**
 * A hand-written fake over a real store: `method` fails the first `failures` calls as a contended
 * database would. `when: 'before'` — the statement is refused (a write on its own, which the database
 * did not apply); `'after'` — the statement ran inside the caller's transaction and then the unit of work
 * is told of a deadlock, so it must be rolled back before the retry.
 */
function failing<T extends object>(
  store: T,
  method: keyof T & string,
  failures: number,
  error: () => Error,
  when: 'before' | 'after',
) {
  const counter = { calls: 0 };
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property !== method) return value.bind(target);
      return async (...args: unknown[]) => {
        counter.calls++;
        const fails = counter.calls <= failures;
        if (fails && when === 'before') throw error();
        const result = await value.apply(target, args);
        if (fails) throw error();
        return result;
      };
    },
  });
  return { store: proxy, counter };
}

/** A real HTTP server on loopback over the app, its services built from `stores` (some of them fakes). */
async function serveWith(services: Services, stores: Stores) {
  const { config } = services;
  const admin = new AdminService({ ...stores, bcryptCost: 4, validatePostbackUrl: validatePostbackUrlTemplate });
  const processing = createProcessingService(config.processing, stores);
  const batches = new BatchService({ store: stores.batches });
  const postbacks = new PostbackService({ postbacks: stores.postbacks });
  const { server } = createListener(
    createApp({ ...services, stores, admin, processing, batches, postbacks }),
    { certFile: null, keyFile: null },
    config.http,
    { trustProxy: config.trustProxy },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    call: (method: string, path: string, body?: unknown, contentType = 'application/json') =>
      fetch(`${baseUrl}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
          ...(body !== undefined ? { 'content-type': contentType } : {}),
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      }).then(async (response) => ({
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        body: JSON.parse((await response.text()) || 'null'),
      })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const BUSY = {
  error: {
    code: 'database_busy',
    message: 'the database is busy (a lock conflict outlasted the retries); try again shortly',
  },
};

describe.each(testEngines())('admin writes retry deadlocks and lock timeouts as the core does, on %s', (engine) => {
  let database: TestDatabase;
  let services: Services;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    const config = loadConfig({
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      BCRYPT_COST: '4',
      LOG_LEVEL: 'silent',
      POSTBACK_WORKER: 'false',
      BATCH_WORKER: 'false',
    });
    services = createServices(config, database.db, createLogger('silent'));
  });
  afterAll(async () => {
    await services?.postbackDispatcher.close();
    await services?.limiter.close();
    await services?.passwords.close();
    await database?.drop();
  });

  const transactionBody = async () => {
    const affiliate = await buildAffiliate(services);
    const campaign = await buildCampaign(services);
    return {
      id: freshId(),
      campaignId: campaign.id,
      affiliateId: affiliate.id,
      affiliatePayout: '1.00',
      merchantRevenue: '2.00',
      occurredAt: '2026-01-01T10:00:00Z',
    };
  };

  it(`creates a transaction once after ${LOCK_RETRY_ATTEMPTS - 1} deadlocks that each rolled a written row back`, async () => {
    const fake = failing(services.stores.transactions, 'create', LOCK_RETRY_ATTEMPTS - 1, deadlock, 'after');
    const server = await serveWith(services, { ...services.stores, transactions: fake.store });
    try {
      const body = await transactionBody();
      const answer = await server.call('POST', '/transactions', body);
      expect(answer.status).toBe(201);
      expect(answer.body).toMatchObject({ id: body.id, campaignId: body.campaignId });
      expect(fake.counter.calls).toBe(LOCK_RETRY_ATTEMPTS);
      expect(await database.db.knex('transactions').where({ id: body.id }).count({ n: '*' })).toEqual([{ n: 1 }]);
    } finally {
      await server.close();
    }
  });

  it(`answers 503 database_busy, nothing written, when the deadlock outlasts ${LOCK_RETRY_ATTEMPTS} attempts`, async () => {
    const fake = failing(services.stores.transactions, 'create', Number.POSITIVE_INFINITY, deadlock, 'after');
    const server = await serveWith(services, { ...services.stores, transactions: fake.store });
    try {
      const body = await transactionBody();
      const answer = await server.call('POST', '/transactions', body);
      expect(answer).toEqual({ status: 503, retryAfter: '1', body: BUSY });
      expect(fake.counter.calls).toBe(LOCK_RETRY_ATTEMPTS);
      expect(await database.db.knex('transactions').where({ id: body.id }).count({ n: '*' })).toEqual([{ n: 0 }]);
    } finally {
      await server.close();
    }
  });

  it('retries a console change (through the same service) and shows a 503 page, not a 500, when the lock conflict persists', async () => {
    const campaign = await buildCampaign(services);
    const retried = failing(services.stores.campaigns, 'update', LOCK_RETRY_ATTEMPTS - 1, deadlock, 'after');
    let server = await serveWith(services, { ...services.stores, campaigns: retried.store });
    try {
      const session = await consoleClient(server.baseUrl);
      const changed = await session.post(`/admin/campaigns/${campaign.id}/settings`, {
        allowExternalModification: 'on',
        whitelistOnly: 'on',
      });
      expect(changed).toMatchObject({ status: 303, location: `/admin/campaigns/${campaign.id}?done=settings` });
      expect(retried.counter.calls).toBe(LOCK_RETRY_ATTEMPTS);
      expect((await services.stores.campaigns.get(campaign.id))?.whitelistOnly).toBe(true);
    } finally {
      await server.close();
    }
    const stuck = failing(services.stores.campaigns, 'update', Number.POSITIVE_INFINITY, deadlock, 'after');
    server = await serveWith(services, { ...services.stores, campaigns: stuck.store });
    try {
      const session = await consoleClient(server.baseUrl);
      const refused = await session.post(`/admin/campaigns/${campaign.id}/settings`, {
        allowExternalModification: 'on',
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.body).toContain('Database busy');
      expect((await services.stores.campaigns.get(campaign.id))?.whitelistOnly).toBe(true);
    } finally {
      await server.close();
    }
  });

  /** A postback delivery that has failed, ready for POST /postbacks/:id/retry. */
  async function failedDelivery(): Promise<number> {
    const affiliate = await buildAffiliate(services, { postbackUrl: 'http://127.0.0.1:9/pb' });
    const campaign = await buildCampaign(services);
    const transaction = await buildTransaction(services, campaign, affiliate);
    await rollUpToNow(services);
    const outcome = await services.modifications.modify({
      identifier: { kind: 'transaction_id', transactionId: transaction.id, campaignId: null },
      changes: {},
      password: campaign.password,
      reason: null,
      executeAffiliatePixel: true,
      clientIp: '127.0.0.1',
      requestId: `retry-${transaction.id}`,
      source: 'api',
    });
    expect(outcome.kind).toBe('applied');
    const [delivery] = await services.stores.postbacks.list({ transactionId: transaction.id });
    await database.db.knex('postback_deliveries').where({ id: delivery.id }).update({ status: 'failed' });
    return delivery.id;
  }

  /** Every other admin write: the store method it reaches, how it fails, the call and its success status. */
  const writes: Array<{
    what: string;
    store: keyof Stores;
    method: string;
    when: 'before' | 'after';
    call: () => Promise<[method: string, path: string, body?: unknown, contentType?: string]>;
    status: number;
  }> = [
    {
      what: 'POST /affiliates',
      store: 'affiliates',
      method: 'createIn',
      when: 'after',
      status: 201,
      call: async () => ['POST', '/affiliates', { name: 'Retried' }],
    },
    {
      what: 'PATCH /affiliates/:id',
      store: 'affiliates',
      method: 'updateIn',
      when: 'after',
      status: 200,
      call: async () => ['PATCH', `/affiliates/${(await buildAffiliate(services)).id}`, { name: 'Renamed' }],
    },
    {
      what: 'POST /campaigns',
      store: 'campaigns',
      method: 'create',
      when: 'before',
      status: 201,
      call: async () => ['POST', '/campaigns', { name: 'Retried' }],
    },
    {
      what: 'PATCH /campaigns/:id',
      store: 'campaigns',
      method: 'update',
      when: 'after',
      status: 200,
      call: async () => ['PATCH', `/campaigns/${(await buildCampaign(services)).id}`, { whitelistOnly: true }],
    },
    {
      what: 'POST /whitelist',
      store: 'whitelist',
      method: 'create',
      when: 'before',
      status: 201,
      call: async () => ['POST', '/whitelist', { address: '203.0.113.7' }],
    },
    {
      what: 'DELETE /whitelist/:id',
      store: 'whitelist',
      method: 'delete',
      when: 'before',
      status: 204,
      call: async () => [
        'DELETE',
        `/whitelist/${(await services.admin.addWhitelistEntry({ address: '203.0.113.8' })).id}`,
      ],
    },
    {
      what: 'PUT /processing/nightly',
      store: 'processingState',
      method: 'update',
      when: 'after',
      status: 200,
      call: async () => {
        await services.processing.holdNightly(false);
        return ['PUT', '/processing/nightly', { inProgress: true }];
      },
    },
    {
      what: 'POST /processing/hourly/run',
      store: 'processingState',
      method: 'update',
      when: 'after',
      status: 200,
      call: async () => ['POST', '/processing/hourly/run', {}],
    },
    {
      what: 'POST /postbacks/:id/retry',
      store: 'postbacks',
      method: 'requeueFailed',
      when: 'before',
      status: 200,
      call: async () => ['POST', `/postbacks/${await failedDelivery()}/retry`],
    },
    {
      what: 'POST /batches (upload)',
      store: 'batches',
      method: 'create',
      when: 'before',
      status: 202,
      call: async () => [
        'POST',
        `/batches?filename=retried-${freshId()}.txt`,
        `Password\tTransactionID\tAP\nx\t${freshId()}\t1.00\n`,
        'text/plain',
      ],
    },
  ];

  describe.each(writes)('$what', ({ store, method, when, call, status }) => {
    afterEach(async () => {
      await services.processing.holdNightly(false);
    });

    it(`succeeds after ${LOCK_RETRY_ATTEMPTS - 1} lock wait timeouts`, async () => {
      const fake = failing(
        services.stores[store] as object,
        method as never,
        LOCK_RETRY_ATTEMPTS - 1,
        lockWaitTimeout,
        when,
      );
      const server = await serveWith(services, { ...services.stores, [store]: fake.store });
      try {
        const answer = await server.call(...(await call()));
        expect(answer.status).toBe(status);
        expect(fake.counter.calls).toBe(LOCK_RETRY_ATTEMPTS);
      } finally {
        await server.close();
      }
    });

    it('answers 503 database_busy when the lock timeouts outlast the retries', async () => {
      const fake = failing(
        services.stores[store] as object,
        method as never,
        Number.POSITIVE_INFINITY,
        lockWaitTimeout,
        when,
      );
      const server = await serveWith(services, { ...services.stores, [store]: fake.store });
      try {
        expect(await server.call(...(await call()))).toEqual({ status: 503, retryAfter: '1', body: BUSY });
        expect(fake.counter.calls).toBe(LOCK_RETRY_ATTEMPTS);
      } finally {
        await server.close();
      }
    });
  });
});

/** Counts the attempts of POST /transactions for a campaign: each reads (on MariaDB, locks) the campaign row once. */
function countCampaignReads(db: Database, campaignId: number, onAttempt: (attempt: number) => void = () => undefined) {
  const counter = { attempts: 0 };
  db.knex.on('query', (query: { sql: string; bindings?: unknown[] }) => {
    if (/from [`"]campaigns[`"]/i.test(query.sql) && Number(query.bindings?.[0]) === campaignId)
      onAttempt(++counter.attempts);
  });
  return counter;
}

const describeOnMariaDb = process.env.TEST_MYSQL_URL ? describe : describe.skip;

describeOnMariaDb('admin writes against real locks on MariaDB', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('mysql');
  });
  afterAll(async () => {
    await database?.drop();
  });

  /** A handle like openDatabase's whose connections give up on a row lock after one second. */
  function openWithShortLockWait(): Database {
    if (database.config.client !== 'mysql') throw new Error('expected a MariaDB test database');
    const handle = knex({
      client: 'mysql2',
      connection: {
        uri: database.config.url,
        supportBigNumbers: true,
        bigNumberStrings: false,
        charset: 'utf8mb4',
        multipleStatements: true,
      } as Knex.MySql2ConnectionConfig,
      pool: {
        min: 0,
        max: 5,
        afterCreate(
          conn: { query(sql: string, done: (error: Error | null) => void): void },
          done: (error: Error | null, conn: unknown) => void,
        ) {
          conn.query('set session innodb_lock_wait_timeout = 1', (error) => done(error, conn));
        },
      },
    });
    return { knex: handle, engine: 'mysql' };
  }

  /** Transactions of this database's connections waiting for a lock (read at most every 0.1 s: see `until`). */
  async function lockWaits(): Promise<number> {
    const [rows] = await database.db.knex.raw(
      `select count(*) as n from information_schema.innodb_trx t join information_schema.processlist p on p.id = t.trx_mysql_thread_id
       where t.trx_state = 'LOCK WAIT' and p.db = database()`,
    );
    return Number(rows[0].n);
  }

  async function until(what: string, check: () => Promise<boolean>) {
    const deadline = Date.now() + 20_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within 20 s`);
      // InnoDB refreshes what INNODB_TRX shows only when it was last read over 0.1 s ago.
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it("retries a real deadlock against the processing-state lock (the start-up roll-up's) and creates the transaction once", async () => {
    const { startTestServer } = await import('../support/test-server');
    const server = await startTestServer(database.db);
    const holder = await database.db.knex.transaction();
    try {
      const affiliate = await buildAffiliate(server.services);
      const campaign = await buildCampaign(server.services);
      const counter = countCampaignReads(database.db, campaign.id);
      // The other party works like a roll-up: it holds the processing state, and it has written more, so
      // InnoDB picks the admin's lighter transaction as the deadlock victim.
      for (let i = 0; i < 30; i++)
        await holder('affiliates').insert({ id: freshId(), name: 'weight', created_at: 1, updated_at: 1 });
      await holder.raw('select id from processing_state where id = 1 for update');
      const id = freshId();
      const answer = fetch(`${server.baseUrl}/api/v1/transactions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          id,
          campaignId: campaign.id,
          affiliateId: affiliate.id,
          affiliatePayout: '1.00',
          merchantRevenue: '2.00',
        }),
      });
      // The admin holds the campaign row and waits for the processing state: now close the cycle.
      await until('the admin call waits for the processing state', async () => (await lockWaits()) === 1);
      await holder.raw('select id from campaigns where id = ? for update', [campaign.id]);
      // The victim rolled back; its retry now waits for the campaign row the holder took.
      await until('the retry waits', async () => counter.attempts === 2 && (await lockWaits()) === 1);
      await holder.rollback();
      const response = await answer;
      expect(response.status).toBe(201);
      expect(await response.json()).toMatchObject({ id, campaignId: campaign.id });
      expect(counter.attempts).toBe(2);
      expect(await database.db.knex('transactions').where({ id }).count({ n: '*' })).toEqual([{ n: 1 }]);
    } finally {
      if (!holder.isCompleted()) await holder.rollback();
      await server.close();
    }
  }, 60_000);

  it(`waits out each lock timeout: 503 database_busy after ${LOCK_RETRY_ATTEMPTS} attempts, then 201 once the lock is released during the retries`, async () => {
    const { startTestServer } = await import('../support/test-server');
    const shortWait = openWithShortLockWait();
    const server = await startTestServer(shortWait);
    const holder = await database.db.knex.transaction();
    try {
      const affiliate = await buildAffiliate(server.services);
      const campaign = await buildCampaign(server.services);
      const body = (id: number) =>
        JSON.stringify({
          id,
          campaignId: campaign.id,
          affiliateId: affiliate.id,
          affiliatePayout: '1.00',
          merchantRevenue: '2.00',
        });
      const post = (id: number) =>
        fetch(`${server.baseUrl}/api/v1/transactions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: body(id),
        });
      let release = false;
      const counter = countCampaignReads(shortWait, campaign.id, (attempt) => {
        // The second attempt has begun, so the first met a lock timeout: let the lock go.
        if (release && attempt === 2) void holder.commit();
      });
      await holder.raw('select id from campaigns where id = ? for update', [campaign.id]);

      const refusedId = freshId();
      const refused = await post(refusedId);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(await refused.json()).toEqual(BUSY);
      expect(counter.attempts).toBe(LOCK_RETRY_ATTEMPTS);
      expect(await database.db.knex('transactions').where({ id: refusedId }).count({ n: '*' })).toEqual([{ n: 0 }]);

      counter.attempts = 0;
      release = true;
      const id = freshId();
      const applied = await post(id);
      expect(applied.status).toBe(201);
      expect(counter.attempts).toBe(2);
      expect(await database.db.knex('transactions').where({ id }).count({ n: '*' })).toEqual([{ n: 1 }]);
    } finally {
      if (!holder.isCompleted()) await holder.rollback();
      await server.close();
      await shortWait.knex.destroy();
    }
  }, 60_000);
});

describe('admin writes against a real write lock on SQLite (another process holding it: SQLITE_BUSY)', () => {
  it(`503 database_busy after ${LOCK_RETRY_ATTEMPTS} attempts, then 201 once the lock is released during the retries`, async () => {
    const { startTestServer } = await import('../support/test-server');
    const { openDatabase } = await import('../../src/store/database');
    const database = await createTestDatabase('sqlite');
    const server = await startTestServer(database.db);
    // A second connection to the same file, as another process would have (its own knex handle).
    const other = openDatabase(database.config);
    const holder = (await other.knex.client.acquireConnection()) as { exec(sql: string): void };
    try {
      const affiliate = await buildAffiliate(server.services);
      const campaign = await buildCampaign(server.services);
      let release = false;
      const counter = countCampaignReads(database.db, campaign.id, (attempt) => {
        // better-sqlite3 is synchronous: the lock goes before the second attempt's statements run.
        if (release && attempt === 2) holder.exec('rollback');
      });
      const post = (id: number) =>
        fetch(`${server.baseUrl}/api/v1/transactions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            id,
            campaignId: campaign.id,
            affiliateId: affiliate.id,
            affiliatePayout: '1.00',
            merchantRevenue: '2.00',
          }),
        }).then(async (response) => ({ status: response.status, body: await response.json() }));
      holder.exec('begin immediate');

      const refusedId = freshId();
      expect(await post(refusedId)).toEqual({ status: 503, body: BUSY });
      expect(counter.attempts).toBe(LOCK_RETRY_ATTEMPTS);

      counter.attempts = 0;
      release = true;
      const id = freshId();
      expect((await post(id)).status).toBe(201);
      expect(counter.attempts).toBe(2);
      expect(await database.db.knex('transactions').whereIn('id', [id, refusedId]).pluck('id')).toEqual([id]);
    } finally {
      await server.close();
      await other.knex.client.releaseConnection(holder);
      await other.knex.destroy();
      await database.drop();
    }
  }, 60_000);
});
