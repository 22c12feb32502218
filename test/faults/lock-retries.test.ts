import knex, { Knex } from 'knex';
import { PasswordVerifier } from '../../src/auth/password-verifier';
import type { ModificationCommand } from '../../src/modification/command';
import { ModificationService } from '../../src/modification/modification-service';
import { LinkTrustRules } from '../../src/linktrust/linktrust-rules';
import { parseMoney } from '../../src/core/money';
import { TransactionalPostbackOutbox } from '../../src/postbacks/postback-outbox';
import type { Database } from '../../src/store/database';
import { ModificationStore, NewModification } from '../../src/store/modification-store';
import { SqlRunner, type Statement } from '../../src/store/sql';
import { TransactionStore } from '../../src/store/transaction-store';
import { Transaction } from '../../src/core/transaction';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction, rollUpToNow } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { startTestServer } from '../support/test-server';
import {
  editParameters,
  readWrittenState,
  rollUpIncluding,
  servicesOver,
  statisticsMismatches,
  temporaryFailure,
} from './fault-helpers';

/** Attempts of one unit of work: ModificationService's default, which the composition root keeps. */
const BOUND = 4;

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
const connectionLost = () =>
  Object.assign(new Error('Connection lost: The server closed the connection.'), {
    code: 'PROTOCOL_CONNECTION_LOST',
    fatal: true,
  });

/**
 * A transaction store whose row lock fails the first `failures` times, as InnoDB's would under
 * contention: the lock's statement reports the error once it has been sent.
 */
class FailingLockStore extends TransactionStore {
  calls = 0;
  constructor(
    db: Database,
    private readonly failures: number,
    private readonly error: () => Error,
  ) {
    super(db.knex, db.engine, new SqlRunner(db.knex, db.engine));
  }
  override lockStatement(ids: number[]): Statement<Transaction[]> {
    const statement = super.lockStatement(ids);
    return {
      ...statement,
      read: (result) => {
        this.calls++;
        if (this.calls <= this.failures) throw this.error();
        return statement.read(result);
      },
    };
  }
}

/** A history store that writes its row and then reports a deadlock: the change is half-written when it fails. */
class DeadlockAfterWriteStore extends ModificationStore {
  calls = 0;
  constructor(
    db: Database,
    private readonly failures: number,
  ) {
    super(db.knex);
  }
  override appendStatement(modification: NewModification): Statement<number> {
    const statement = super.appendStatement(modification);
    return {
      ...statement,
      read: (result) => {
        const id = statement.read(result);
        this.calls++;
        if (this.calls <= this.failures) throw deadlock();
        return id;
      },
    };
  }
}

describe.each(testEngines())('deadlocks and lock timeouts are retried a bounded number of times on %s', (engine) => {
  let database: TestDatabase;
  let services: ReturnType<typeof servicesOver>;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    services = servicesOver(database.db);
  });
  afterAll(async () => {
    await services?.close();
    await database?.drop();
  });

  /** The core built by hand from the real stores over the real database, with one store swapped for a fake. */
  function coreWith(fakes: { transactions?: TransactionStore; modifications?: ModificationStore }) {
    const { stores } = services;
    const passwords = new PasswordVerifier({ bcryptCost: 4, cacheSize: 0, cacheTtlMs: 0 });
    return new ModificationService({
      ...stores,
      ...fakes,
      rules: new LinkTrustRules({ ...stores, ...fakes, passwords }),
      postbacks: new TransactionalPostbackOutbox(stores.postbacks),
    });
  }

  async function scene() {
    const affiliate = await buildAffiliate(services, { postbackUrl: 'http://127.0.0.1:9/pb?t=[=_TransID=]' });
    const campaign = await buildCampaign(services);
    const transaction = await buildTransaction(services, campaign, affiliate, {
      affiliatePayout: '10.00',
      merchantRevenue: '100.00',
    });
    await rollUpIncluding(services, transaction.occurredAt);
    const command: ModificationCommand = {
      identifier: { kind: 'transaction_id', transactionId: transaction.id, campaignId: null },
      changes: {
        affiliatePayout: parseMoney('4.25') as bigint,
        merchantRevenue: parseMoney('42.5') as bigint,
        approved: false,
      },
      password: campaign.password,
      reason: `retried edit of ${transaction.id}`,
      executeAffiliatePixel: true,
      clientIp: '127.0.0.1',
      requestId: `request-${transaction.id}`,
      source: 'api',
    };
    return { transaction, command };
  }

  /** The change applied exactly once: one history row, one outbox row, the statistics moved once. */
  async function expectAppliedOnce(transactionId: number, before: Awaited<ReturnType<typeof readWrittenState>>) {
    const after = await readWrittenState(database.db.knex, transactionId);
    expect(after.transaction).toMatchObject({ affiliate_payout: '42500', merchant_revenue: '425000', approved: '0' });
    expect(after.history).toHaveLength(1);
    expect(after.history[0]).toMatchObject({
      before_affiliate_payout: '100000',
      after_affiliate_payout: '42500',
      reason: `retried edit of ${transactionId}`,
    });
    expect(after.postbackDeliveries).toHaveLength(before.postbackDeliveries.length + 1);
    expect(after.postbackDeliveries.at(-1)).toMatchObject({
      modification_id: String(after.history[0].id),
      status: 'pending',
    });
    expect(await statisticsMismatches(database.db.knex)).toEqual([]);
  }

  it.each([
    ['a deadlock', deadlock],
    ['a lock wait timeout', lockWaitTimeout],
  ])('applies the change once after %s on every attempt but the last', async (_what, error) => {
    const { transaction, command } = await scene();
    const before = await readWrittenState(database.db.knex, transaction.id);
    const locks = new FailingLockStore(database.db, BOUND - 1, error);
    const outcome = await coreWith({ transactions: locks }).modify(command);
    expect(outcome).toMatchObject({ kind: 'applied', modificationId: expect.any(Number) });
    expect(locks.calls).toBe(BOUND);
    await expectAppliedOnce(transaction.id, before);
  });

  it.each([
    ['a deadlock', deadlock, 'database deadlock'],
    ['a lock wait timeout', lockWaitTimeout, 'database busy'],
  ] as const)(
    `stops after ${BOUND} attempts when %s never clears: temporary failure, nothing written`,
    async (_what, error, failureType) => {
      const { transaction, command } = await scene();
      const before = await readWrittenState(database.db.knex, transaction.id);
      const locks = new FailingLockStore(database.db, Number.POSITIVE_INFINITY, error);
      expect(await coreWith({ transactions: locks }).modify(command)).toEqual({
        kind: 'temporary_failure',
        failureType,
      });
      expect(locks.calls).toBe(BOUND);
      expect(await readWrittenState(database.db.knex, transaction.id)).toEqual(before);
    },
  );

  it('rolls a half-written attempt back before retrying, so the retried change is not applied twice', async () => {
    const { transaction, command } = await scene();
    const before = await readWrittenState(database.db.knex, transaction.id);
    const history = new DeadlockAfterWriteStore(database.db, BOUND - 1);
    expect(await coreWith({ modifications: history }).modify(command)).toMatchObject({ kind: 'applied' });
    expect(history.calls).toBe(BOUND);
    await expectAppliedOnce(transaction.id, before);
  });

  it(`leaves nothing of ${BOUND} half-written attempts when the deadlock never clears`, async () => {
    const { transaction, command } = await scene();
    const before = await readWrittenState(database.db.knex, transaction.id);
    const history = new DeadlockAfterWriteStore(database.db, Number.POSITIVE_INFINITY);
    expect(await coreWith({ modifications: history }).modify(command)).toEqual({
      kind: 'temporary_failure',
      failureType: 'database deadlock',
    });
    expect(history.calls).toBe(BOUND);
    expect(await readWrittenState(database.db.knex, transaction.id)).toEqual(before);
  });

  it('does not retry after a lost connection (the commit may have landed): it looks, finds nothing, answers temporary failure', async () => {
    const { transaction, command } = await scene();
    const before = await readWrittenState(database.db.knex, transaction.id);
    // Only the first lock fails: a retry would succeed and apply the change.
    const locks = new FailingLockStore(database.db, 1, connectionLost);
    expect(await coreWith({ transactions: locks }).modify(command)).toEqual({
      kind: 'temporary_failure',
      failureType: 'database unavailable',
    });
    // The failed attempt, then the lock taken to see whether it landed.
    expect(locks.calls).toBe(2);
    expect(await readWrittenState(database.db.knex, transaction.id)).toEqual(before);
  });
});

/** A handle like openDatabase's whose connections give up on a row lock after one second. */
function openWithShortLockWait(url: string): Database {
  const handle = knex({
    client: 'mysql2',
    connection: {
      uri: url,
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

const describeOnMariaDb = process.env.TEST_MYSQL_URL ? describe : describe.skip;

describeOnMariaDb('a real row lock held elsewhere (MariaDB, innodb_lock_wait_timeout = 1 on the server pool)', () => {
  it('waits out each lock timeout, gives up after the bounded attempts with a temporary failure, and succeeds once the lock is released', async () => {
    const database = await createTestDatabase('mysql');
    if (database.config.client !== 'mysql') throw new Error('expected a MariaDB test database');
    const shortWait = openWithShortLockWait(database.config.url);
    const server = await startTestServer(shortWait);
    try {
      const affiliate = await buildAffiliate(server.services, { postbackUrl: 'http://127.0.0.1:9/pb' });
      const campaign = await buildCampaign(server.services);
      const transaction = await buildTransaction(server.services, campaign, affiliate);
      await rollUpToNow(server.services);
      const lockAttempts: string[] = [];
      shortWait.knex.on('query', (query: { sql: string; bindings?: unknown[] }) => {
        if (
          /for update/i.test(query.sql) &&
          /from transactions/i.test(query.sql) &&
          Number(query.bindings?.[0]) === transaction.id
        )
          lockAttempts.push(query.sql);
      });
      const before = await readWrittenState(database.db.knex, transaction.id);

      const holder = await database.db.knex.transaction();
      await holder.raw('select id from transactions where id = ? for update', [transaction.id]);
      const refused = await editByGet(
        server.baseUrl,
        editParameters(campaign.password as string, transaction.id, 'while locked', { AP: '3', MP: '30', A: 'no' }),
      );
      expect(refused.status).toBe(200);
      expect(refused.answer.error).toEqual(temporaryFailure('database busy'));
      expect(lockAttempts).toHaveLength(BOUND);
      expect(await readWrittenState(database.db.knex, transaction.id)).toEqual(before);

      await holder.commit();
      const applied = await editByGet(
        server.baseUrl,
        editParameters(campaign.password as string, transaction.id, 'after release', { AP: '3', MP: '30', A: 'no' }),
      );
      expect(applied.answer.succeeded).toBe('True');
      const after = await readWrittenState(database.db.knex, transaction.id);
      expect(after.history.map((row) => row.reason)).toEqual(['after release']);
      expect(after.postbackDeliveries).toHaveLength(before.postbackDeliveries.length + 1);
    } finally {
      await server.close();
      await shortWait.knex.destroy();
      await database.drop();
    }
  }, 60_000);
});
