import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction } from '../support/factories';
import { parseLinkTrustXml } from '../support/linktrust-xml';
import { ensureBuilt, spawnServer, SpawnedServer } from '../support/spawn-server';
import { startTcpProxy, throughProxy } from '../support/tcp-proxy';
import { eventually, rollUpIncluding, servicesOver, statisticsMismatches, useSpawnedServers } from './fault-helpers';

/** A loopback port with nothing listening: every postback attempt fails at once and stays pending. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** What one edit of the burst asked for and what, if anything, came back. */
interface SentEdit {
  reason: string;
  transactionId: number;
  ap: string;
  outcome: 'succeeded' | 'failed' | 'no answer';
}

/**
 * `loops` clients each send edits back to back (every one with executeaffiliatepixel=yes and a unique
 * REASON) until their request gets no answer; `onSuccess` runs after each success answered.
 */
async function burst(
  baseUrl: string,
  password: string,
  transactionIds: number[],
  loops: number,
  onSuccess: (count: number) => void,
): Promise<SentEdit[]> {
  const sent: SentEdit[] = [];
  let succeeded = 0;
  const client = async () => {
    for (;;) {
      const n = sent.length;
      const edit: SentEdit = {
        reason: `kill9-${n}`,
        transactionId: transactionIds[n % transactionIds.length],
        ap: `${n}.${n % 10}`,
        outcome: 'no answer',
      };
      sent.push(edit);
      const query = new URLSearchParams({
        Password: password,
        Transactionid: String(edit.transactionId),
        AP: edit.ap,
        A: n % 3 === 0 ? 'no' : 'yes',
        REASON: edit.reason,
        executeaffiliatepixel: 'yes',
      });
      try {
        const response = await fetch(`${baseUrl}/transaction.edit?${query}`);
        const answer = parseLinkTrustXml(await response.text());
        edit.outcome = answer.succeeded === 'True' ? 'succeeded' : 'failed';
      } catch {
        return;
      }
      if (edit.outcome === 'succeeded') onSuccess(++succeeded);
    }
  };
  await Promise.all(Array.from({ length: loops }, client));
  return sent;
}

/** History rows by reason, and postback deliveries by modification id. */
async function writtenRows(knex: Knex) {
  const history = await knex('modifications').orderBy('id');
  const deliveries = await knex('postback_deliveries').orderBy('id');
  const byReason = new Map<string, Array<Record<string, unknown>>>();
  for (const row of history) byReason.set(row.reason, [...(byReason.get(row.reason) ?? []), row]);
  const deliveriesOf = (modificationId: unknown) =>
    deliveries.filter((d) => String(d.modification_id) === String(modificationId));
  return { history, deliveries, byReason, deliveriesOf };
}

describe.each(testEngines())('kill -9 of the production server in the middle of a burst (%s)', (engine) => {
  let database: TestDatabase;
  const servers: SpawnedServer[] = [];
  beforeAll(async () => {
    await ensureBuilt();
    database = await createTestDatabase(engine);
  }, 300_000);
  afterAll(async () => {
    for (const server of servers) server.kill('SIGKILL');
    await Promise.all(servers.map((server) => server.exited));
    await database?.drop();
  });

  it('loses no committed change and no queued postback, and restarts cleanly on the same database', async () => {
    const services = servicesOver(database.db);
    const affiliate = await buildAffiliate(services, {
      postbackUrl: `http://127.0.0.1:${await closedPort()}/pb?t=[=_TransID=]&r=[=REASON=]`,
    });
    const campaign = await buildCampaign(services);
    const transactions = [];
    for (let i = 0; i < 8; i++) transactions.push(await buildTransaction(services, campaign, affiliate));
    await rollUpIncluding(services, transactions[0].occurredAt);
    await services.close();
    const env = {
      DATABASE_URL: database.config.client === 'sqlite' ? `sqlite:${database.config.filename}` : database.config.url,
      BCRYPT_COST: '4',
      NIGHTLY_SCHEDULE: 'off',
      RATE_LIMIT_IP_FAILURES: '0',
      RATE_LIMIT_CAMPAIGN_FAILURES: '0',
      BCRYPT_PER_CLIENT: '64',
      POSTBACK_ALLOW_PRIVATE_NETWORKS: 'true',
      // Retries every second for a minute: deliveries stay pending for the whole test.
      POSTBACK_RETRY_SCHEDULE: Array(60).fill('1').join(','),
      POSTBACK_LEASE_SECONDS: '15',
    };

    const first = await spawnServer(env);
    servers.push(first);
    await eventually('/healthz 200', async () =>
      (await fetch(`${first.baseUrl}/healthz`)).status === 200 ? true : undefined,
    );
    const loops = 16;
    const sent = await burst(
      first.baseUrl,
      campaign.password as string,
      transactions.map((t) => t.id),
      loops,
      (count) => {
        if (count === 60) first.kill('SIGKILL');
      },
    );
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

    const answered = sent.filter((edit) => edit.outcome === 'succeeded');
    expect(answered.length).toBeGreaterThanOrEqual(60);
    // Every client had a request outstanding (or just refused) when the process died.
    expect(sent.filter((edit) => edit.outcome === 'no answer')).toHaveLength(loops);

    const rows = await writtenRows(database.db.knex);
    // A failure answered (a deadlock past the retries, say) left no trace.
    for (const edit of sent.filter((e) => e.outcome === 'failed'))
      expect([edit.reason, rows.byReason.get(edit.reason)]).toEqual([edit.reason, undefined]);
    for (const edit of answered) {
      const history = rows.byReason.get(edit.reason) ?? [];
      expect([edit.reason, history.length]).toEqual([edit.reason, 1]);
      expect(String(history[0].transaction_id)).toBe(String(edit.transactionId));
      expect(rows.deliveriesOf(history[0].id)).toHaveLength(1);
    }
    // Requests cut off by the kill either committed whole or left nothing; nothing else was written.
    for (const row of rows.history) {
      expect(sent.some((edit) => edit.reason === row.reason && edit.outcome !== 'failed')).toBe(true);
      expect([row.reason, rows.deliveriesOf(row.id).length]).toEqual([row.reason, 1]);
    }
    expect(rows.deliveries).toHaveLength(rows.history.length);
    // Each transaction holds the values of its last history row, and the rows chain one to the next.
    for (const transaction of transactions) {
      const chain = rows.history.filter((row) => String(row.transaction_id) === String(transaction.id));
      const stored = await database.db.knex('transactions').where({ id: transaction.id }).first();
      for (let i = 1; i < chain.length; i++)
        expect(String(chain[i].before_affiliate_payout)).toBe(String(chain[i - 1].after_affiliate_payout));
      if (chain.length > 0) expect(String(stored.affiliate_payout)).toBe(String(chain.at(-1)?.after_affiliate_payout));
    }
    expect(await statisticsMismatches(database.db.knex)).toEqual([]);

    // A restart on the same database: clean start, every queued delivery still there and taken up again
    // (leases the killed worker held expire and are taken over).
    const second = await spawnServer(env);
    servers.push(second);
    await eventually('/healthz 200 after restart', async () =>
      (await fetch(`${second.baseUrl}/healthz`)).status === 200 ? true : undefined,
    );
    await eventually(
      'every delivery attempted by the restarted server',
      async () => {
        const attemptedAgain = await database.db
          .knex('postback_attempts')
          .where('worker', 'like', `%:${second.pid}:%`)
          .distinct('delivery_id');
        return attemptedAgain.length === rows.deliveries.length ? true : undefined;
      },
      45_000,
    );
    const after = await database.db.knex('postback_deliveries').orderBy('id');
    expect(after.map((d) => [String(d.id), d.status])).toEqual(rows.deliveries.map((d) => [String(d.id), 'pending']));
    expect(second.output()).not.toMatch(/database preparation failed|failed to start/);
    second.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  }, 150_000);
});

const describeOnMariaDb = process.env.TEST_MYSQL_URL ? describe : describe.skip;

describeOnMariaDb('kill -9 just after the COMMIT went out (MariaDB through a proxy)', () => {
  const context = useSpawnedServers('mysql');

  it('keeps the change the database committed though no answer was sent, and the restarted worker takes up its postback', async () => {
    const { database, servers } = context;
    if (database.config.client !== 'mysql') throw new Error('expected a MariaDB test database');
    const services = servicesOver(database.db);
    const affiliate = await buildAffiliate(services, {
      postbackUrl: `http://127.0.0.1:${await closedPort()}/pb?t=[=_TransID=]`,
    });
    const campaign = await buildCampaign(services);
    const transaction = await buildTransaction(services, campaign, affiliate, { affiliatePayout: '10.00' });
    await rollUpIncluding(services, transaction.occurredAt);
    await services.close();
    const proxy = await startTcpProxy();
    const env = {
      DATABASE_URL: throughProxy(database.config.url, proxy),
      BCRYPT_COST: '4',
      NIGHTLY_SCHEDULE: 'off',
      POSTBACK_ALLOW_PRIVATE_NETWORKS: 'true',
      // Its lease claims commit every second: the armed kill must meet the edit's COMMIT, not one of those.
      IMPACT_API_WORKER: 'false',
    };
    try {
      const startedAt = Date.now();
      const first = await spawnServer({ ...env, POSTBACK_WORKER: 'false' });
      servers.push(first);
      // Preparation is over (nothing else will commit) once the scheduler it starts has run its roll-up.
      await eventually('the start-up roll-up', async () => {
        const state = await database.db.knex('processing_state').where({ id: 1 }).first();
        return Number(state.hourly_last_run_at) >= startedAt ? true : undefined;
      });
      // The edit's outbox insert, then its COMMIT: forwarded to MariaDB, and the server killed before the OK can come back.
      proxy.afterClientSends('insert into postback_deliveries', () =>
        proxy.afterClientSends('commit', () => first.kill('SIGKILL')),
      );
      const query = new URLSearchParams({
        Password: campaign.password as string,
        Transactionid: String(transaction.id),
        AP: '3.5',
        REASON: 'committed, never answered',
        executeaffiliatepixel: 'yes',
      });
      const outcome = await fetch(`${first.baseUrl}/transaction.edit?${query}`).then(
        (response) => response.text().then(() => 'answered'),
        () => 'no answer',
      );
      expect(outcome).toBe('no answer');
      expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

      const rows = await writtenRows(database.db.knex);
      expect(rows.history.map((row) => [row.reason, String(row.after_affiliate_payout)])).toEqual([
        ['committed, never answered', '35000'],
      ]);
      expect(rows.deliveries.map((d) => [String(d.modification_id), d.status, Number(d.attempts)])).toEqual([
        [String(rows.history[0].id), 'pending', 0],
      ]);
      expect(
        String((await database.db.knex('transactions').where({ id: transaction.id }).first()).affiliate_payout),
      ).toBe('35000');
      expect(await statisticsMismatches(database.db.knex)).toEqual([]);

      const second = await spawnServer({ ...env, DATABASE_URL: database.config.url });
      servers.push(second);
      await eventually('the queued postback attempted after the restart', async () => {
        const attempts = await database.db.knex('postback_attempts').where('worker', 'like', `%:${second.pid}:%`);
        return attempts.length > 0 ? attempts : undefined;
      });
      second.kill('SIGTERM');
      expect(await second.exited).toEqual({ code: 0, signal: null });
    } finally {
      await proxy.close();
    }
  }, 120_000);
});
