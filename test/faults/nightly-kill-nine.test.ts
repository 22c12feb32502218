import type { Knex } from 'knex';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction } from '../support/factories';
import { parseLinkTrustXml } from '../support/linktrust-xml';
import { ensureBuilt, spawnServer, SpawnedServer } from '../support/spawn-server';
import { startTcpProxy, TcpProxy, throughProxy } from '../support/tcp-proxy';
import { editCommand } from '../processing/processing-helpers';
import { eventually, rollUpIncluding, servicesOver } from './fault-helpers';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ADMIN_TOKEN = 'kill-nine-admin-token-0123456789abcdef';
// Long enough that the probe below runs within it even on a loaded machine.
const LEASE_SECONDS = 8;

// SQLite has no proxy to stop the runner at a statement: a trigger on the run's INSERT of daily rows
// burns seconds of CPU inside its transaction instead (a self-join of TICKS² rows: ≈ 8 s here, longer on
// a loaded machine), so the kill sent once the run's lease claim has committed lands in the middle of its
// work however busy the machine is (checked below: the run must be found unfinished). Triggers cannot
// hold a WITH.
const SQLITE_SLOW_TICKS = 15_000;

/** Totals per campaign and affiliate, as strings: the day's daily rows, or a recomputation from its transactions. */
async function totals(
  knex: Knex,
  source: 'daily' | 'transactions',
  day: { date: string; start: number },
): Promise<string[]> {
  const query =
    source === 'daily'
      ? knex.raw(
          `select campaign_id, affiliate_id, transactions, approved_transactions, affiliate_payout, merchant_revenue,
             approved_affiliate_payout, approved_merchant_revenue from daily_statistics where report_date = ? order by campaign_id, affiliate_id`,
          [day.date],
        )
      : knex.raw(
          `select campaign_id, affiliate_id, count(*), sum(case when approved then 1 else 0 end), sum(affiliate_payout), sum(merchant_revenue),
             sum(case when approved then affiliate_payout else 0 end), sum(case when approved then merchant_revenue else 0 end)
           from transactions where occurred_at >= ? and occurred_at < ? group by campaign_id, affiliate_id order by campaign_id, affiliate_id`,
          [day.start, day.start + DAY],
        );
  const result = await query.options({ safeIntegers: true });
  const rows: Array<Record<string, unknown>> = Array.isArray(result[0]) ? result[0] : result;
  return rows.map((row) => Object.values(row).map(String).join(' '));
}

/** An edit of `transactionId` through a server's /transaction.edit: the LinkTrust answer's error message, or 'applied'. */
async function edit(baseUrl: string, password: string, transactionId: number, ap: string): Promise<string> {
  const query = new URLSearchParams({ Password: password, TransactionID: String(transactionId), AP: ap });
  const answer = parseLinkTrustXml(await (await fetch(`${baseUrl}/transaction.edit?${query}`)).text());
  return answer.succeeded === 'True' ? 'applied' : (answer.error?.message ?? 'refused');
}

describe.each(testEngines())('kill -9 of the server in the middle of nightly processing (%s)', (engine) => {
  let database: TestDatabase;
  const servers: SpawnedServer[] = [];
  let proxy: TcpProxy | null = null;
  beforeAll(async () => {
    await ensureBuilt();
    database = await createTestDatabase(engine);
  }, 300_000);
  afterAll(async () => {
    for (const server of servers) server.kill('SIGKILL');
    await Promise.all(servers.map((server) => server.exited));
    await proxy?.close();
    await database?.drop();
  });

  it('lets modifications through again within the lease, logs and shows the interrupted day, and runs it again on the next scheduled pass', async () => {
    const { knex } = database.db;
    const date = new Date(Date.now() - 3 * DAY).toISOString().slice(0, 10);
    const day = { date, start: Date.parse(`${date}T00:00:00Z`) };
    const services = servicesOver(database.db);
    const affiliate = await buildAffiliate(services);
    const campaign = await buildCampaign(services);
    const transactions: Array<{ id: number }> = [];
    for (let i = 0; i < 6; i++) {
      transactions.push(
        await buildTransaction(services, campaign, affiliate, {
          occurredAt: day.start + i * 3 * HOUR + 60_000,
          affiliatePayout: `${i}.25`,
          approved: i % 2 === 0,
        }),
      );
    }
    await rollUpIncluding(services, day.start);
    await services.close();
    if (engine === 'sqlite') {
      await knex.raw('create table slow_test_ticks (tick integer)');
      await knex.raw(
        'with recursive n(i) as (select 1 union all select i + 1 from n where i < ?) insert into slow_test_ticks select i from n',
        [SQLITE_SLOW_TICKS],
      );
      await knex.raw(
        'create trigger slow_test_daily after insert on daily_statistics begin select count(*) from slow_test_ticks a, slow_test_ticks b where a.tick + b.tick > 0; end',
      );
    }

    const url = database.config.client === 'sqlite' ? `sqlite:${database.config.filename}` : database.config.url;
    const env = {
      DATABASE_URL: url,
      ADMIN_TOKEN,
      BCRYPT_COST: '4',
      NIGHTLY_SCHEDULE: 'off',
      ROLLUP_SCHEDULE: 'off',
      NIGHTLY_LEASE_SECONDS: String(LEASE_SECONDS),
    };
    // MariaDB: through a proxy that kills the runner as its work's INSERT of daily rows goes out. SQLite: when it logs its start.
    if (engine === 'mysql') proxy = await startTcpProxy();
    const runner = await spawnServer({ ...env, ...(proxy ? { DATABASE_URL: throughProxy(url, proxy) } : {}) });
    servers.push(runner);
    await eventually('/healthz 200', async () =>
      (await fetch(`${runner.baseUrl}/healthz`)).status === 200 ? true : undefined,
    );
    if (proxy) proxy.afterClientSends('insert into daily_statistics', () => runner.kill('SIGKILL'));
    // SQLite: once the run's claim of the lease has committed (read from here: better-sqlite3 blocks the
    // runner's event loop while the slow trigger burns, so nothing it logs can be relied on to arrive).
    else
      void eventually(
        'the run claimed its lease',
        async () =>
          (await knex('processing_state').where({ id: 1 }).first()).nightly_run_date === date ? true : undefined,
        60_000,
      ).then(() => runner.kill('SIGKILL'));
    const request = fetch(`${runner.baseUrl}/api/v1/processing/nightly/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ date }),
    }).then(
      () => 'answered',
      () => 'no answer',
    );
    expect(await runner.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await request).toBe('no answer');
    const killedAt = Date.now();

    // Killed mid-run: its lease is still there and its day not completed.
    const left = await knex('processing_state').where({ id: 1 }).first();
    expect(left.nightly_run_date).toBe(date);
    expect((await knex('nightly_runs').where({ report_date: date }).first()).completed_at).toBeNull();

    // Refused while the dead run's lease lasts (a core of its own, at once)…
    const password = campaign.password as string;
    const probe = servicesOver(database.db);
    try {
      expect(
        (await probe.modifications.modify(editCommand(transactions[0].id, password, { affiliatePayout: 70_000n })))
          .kind,
      ).toBe('nightly_in_progress');
      expect(Date.now() - killedAt).toBeLessThan((LEASE_SECONDS - 1) * 1000);
    } finally {
      await probe.close();
    }
    // The day's redo below runs at full speed.
    if (engine === 'sqlite') await knex.raw('drop trigger slow_test_daily');
    // …then another instance lets modifications through again, by themselves, once the lease has run out.
    const other = await spawnServer(env);
    servers.push(other);
    await eventually('/healthz 200 on the other server', async () =>
      (await fetch(`${other.baseUrl}/healthz`)).status === 200 ? true : undefined,
    );
    await eventually(
      'an edit applied once the lease has expired',
      async () => ((await edit(other.baseUrl, password, transactions[1].id, '8.00')) === 'applied' ? true : undefined),
      (LEASE_SECONDS + 6) * 1000,
    );
    expect(Date.now() - killedAt).toBeLessThan((LEASE_SECONDS + 6) * 1000);

    // The next scheduled pass of any instance (here a third one, with nightly processing scheduled) runs the day again.
    const scheduled = await spawnServer({ ...env, NIGHTLY_SCHEDULE: '00:00' });
    servers.push(scheduled);
    await scheduled.waitForLog(
      (line) => typeof line.msg === 'string' && line.msg.startsWith(`nightly processing of ${date} was interrupted`),
      60_000,
    );
    await scheduled.waitForLog(
      (line) => line.msg === 'interrupted nightly processing day processed again' && line.date === date,
      120_000,
    );
    const status = (await (
      await fetch(`${scheduled.baseUrl}/api/v1/processing`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).json()) as { nightly: Record<string, unknown> };
    expect(status.nightly).toMatchObject({ inProgress: false, run: null, interruptions: 1 });
    expect(status.nightly.interruptedDays).toEqual([
      { date, interruptedAt: expect.any(String), completedAt: expect.any(String) },
    ]);
    expect((await knex('nightly_runs').where({ report_date: date }).first()).completed_at).not.toBeNull();
    expect(await totals(knex, 'daily', day)).toEqual(await totals(knex, 'transactions', day));
    expect(await edit(other.baseUrl, password, transactions[2].id, '9.00')).toBe('applied');
  }, 240_000);
});
