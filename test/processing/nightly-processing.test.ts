import type { Sql } from '../../src/store/sql';
import { ProcessingService } from '../../src/processing/processing-service';
import { ReportingCalendar } from '../../src/processing/reporting-calendar';
import { DailyStatisticsStore } from '../../src/store/daily-statistics-store';
import { ReportQueries } from '../../src/store/report-queries';
import { ProcessingStateStore } from '../../src/store/processing-state-store';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { adminRequest, startTestServer, TestServer } from '../support/test-server';
import { addTransaction, editCommand } from './processing-helpers';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TOKYO = 9 * HOUR;

/** The UTC date `days` days before today, YYYY-MM-DD. */
const daysAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString().slice(0, 10);
/** Where a Tokyo day begins, computed by hand (Japan keeps UTC+9 all year). */
const tokyoDayStart = (date: string) => Date.parse(`${date}T00:00:00Z`) - TOKYO;

describe.each(testEngines())('nightly processing on %s', (engine) => {
  let database: TestDatabase;
  let server: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    server = await startTestServer(database.db, { REPORTING_TIMEZONE: 'Asia/Tokyo' });
    // Every complete hour rolled up: transactions the tests add for past hours are late data.
    await server.services.processing.runHourly();
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  /** A processing service over the test database with some parts replaced. */
  function processingWith(parts: {
    processingState?: ProcessingStateStore;
    dailyStatistics?: DailyStatisticsStore;
    onNightlyWindowOpened?: () => Promise<void>;
  }) {
    const { db } = server.services;
    return new ProcessingService({
      units: server.services.stores.units,
      processingState: parts.processingState ?? server.services.stores.processingState,
      dailyStatistics: parts.dailyStatistics ?? new DailyStatisticsStore(db.knex),
      reports: new ReportQueries(db.knex, db.engine),
      calendar: new ReportingCalendar('Asia/Tokyo'),
      onNightlyWindowOpened: parts.onNightlyWindowOpened,
    });
  }

  it('computes daily statistics of a Tokyo day from hours of two UTC dates', async () => {
    const date = daysAgo(5);
    const start = tokyoDayStart(date);
    const [first, second] = [await buildAffiliate(server.services), await buildAffiliate(server.services)];
    const campaign = await buildCampaign(server.services);
    await addTransaction(server.services, campaign, first, { occurredAt: start - 60_000, affiliatePayout: '500' }); // the day before
    await addTransaction(server.services, campaign, first, {
      occurredAt: start + 5 * 60_000,
      affiliatePayout: '1.1',
      merchantRevenue: '10',
    });
    await addTransaction(server.services, campaign, first, {
      occurredAt: start + 10 * HOUR + 60_000,
      affiliatePayout: '2.25',
      merchantRevenue: '20',
      approved: false,
    });
    await addTransaction(server.services, campaign, first, {
      occurredAt: start + DAY - 60_000,
      affiliatePayout: '0.0001',
      merchantRevenue: '0.5',
    });
    await addTransaction(server.services, campaign, first, { occurredAt: start + DAY, affiliatePayout: '700' }); // the day after
    await addTransaction(server.services, campaign, second, {
      occurredAt: start + 3 * HOUR,
      affiliatePayout: '99999999.9999',
      merchantRevenue: '0.1',
      approved: false,
    });

    const run = await adminRequest(server.baseUrl, 'POST', '/processing/nightly/run', { date });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({
      date,
      timeZone: 'Asia/Tokyo',
      hours: { from: new Date(start).toISOString(), to: new Date(start + DAY).toISOString() },
      consistency: { ok: true, differences: [] },
    });
    // The Tokyo day begins on the UTC date before.
    expect(run.body.hours.from.slice(0, 10)).not.toBe(run.body.hours.to.slice(0, 10));

    const report = await adminRequest(
      server.baseUrl,
      'GET',
      `/reports/daily?campaignId=${campaign.id}&from=${date}&to=${date}`,
    );
    expect(report.status).toBe(200);
    // Rows come ordered by affiliate id; factory ids count down, so sort the expectation the same way.
    const expected = [
      {
        date,
        campaignId: campaign.id,
        affiliateId: first.id,
        transactions: 3,
        approvedTransactions: 2,
        affiliatePayout: '3.3501',
        merchantRevenue: '30.50',
        approvedAffiliatePayout: '1.1001',
        approvedMerchantRevenue: '10.50',
      },
      {
        date,
        campaignId: campaign.id,
        affiliateId: second.id,
        transactions: 1,
        approvedTransactions: 0,
        affiliatePayout: '99999999.9999',
        merchantRevenue: '0.10',
        approvedAffiliatePayout: '0.00',
        approvedMerchantRevenue: '0.00',
      },
    ].sort((a, b) => a.affiliateId - b.affiliateId);
    expect(report.body.map(({ computedAt: _ignored, ...row }: { computedAt: string }) => row)).toEqual(expected);
    const neighbours = await adminRequest(
      server.baseUrl,
      'GET',
      `/reports/daily?campaignId=${campaign.id}&to=${date}&from=2000-01-01`,
    );
    expect(neighbours.body).toHaveLength(2);
  });

  it('reports statistics that differ from the transactions', async () => {
    const date = daysAgo(6);
    const start = tokyoDayStart(date);
    const affiliate = await buildAffiliate(server.services);
    const campaign = await buildCampaign(server.services);
    await addTransaction(server.services, campaign, affiliate, {
      occurredAt: start + HOUR,
      affiliatePayout: '4.00',
      merchantRevenue: '40.00',
    });
    // Written behind the statistics' back (straight into the table, after its hour was rolled up).
    await buildTransaction(server.services, campaign, affiliate, {
      occurredAt: start + 2 * HOUR,
      affiliatePayout: '1.50',
      merchantRevenue: '15.00',
      approved: false,
    });

    const run = await adminRequest(server.baseUrl, 'POST', '/processing/nightly/run', { date });
    expect(run.status).toBe(200);
    expect(run.body.consistency).toEqual({
      ok: false,
      differences: [
        {
          campaignId: campaign.id,
          affiliateId: affiliate.id,
          fields: ['transactions', 'affiliatePayout', 'merchantRevenue'],
          statistics: {
            transactions: 1,
            approvedTransactions: 1,
            affiliatePayout: '4.00',
            merchantRevenue: '40.00',
            approvedAffiliatePayout: '4.00',
            approvedMerchantRevenue: '40.00',
          },
          transactions: {
            transactions: 2,
            approvedTransactions: 1,
            affiliatePayout: '5.50',
            merchantRevenue: '55.00',
            approvedAffiliatePayout: '4.00',
            approvedMerchantRevenue: '40.00',
          },
        },
      ],
    });
  });

  it('brings days already processed up to date with the changes made since', async () => {
    const [earlier, later] = [daysAgo(8), daysAgo(7)];
    const affiliate = await buildAffiliate(server.services);
    const campaign = await buildCampaign(server.services);
    const transaction = await addTransaction(server.services, campaign, affiliate, {
      occurredAt: tokyoDayStart(earlier) + 4 * HOUR,
      affiliatePayout: '8.00',
      merchantRevenue: '80.00',
    });
    expect((await server.services.processing.runNightly({ date: earlier })).kind).toBe('completed');

    const outcome = await server.services.modifications.modify(
      editCommand(transaction.id, campaign.password as string, { affiliatePayout: 30_000n, approved: false }),
    );
    expect(outcome.kind).toBe('applied');
    const stale = await server.services.processing.dailyReport({
      campaignId: campaign.id,
      from: earlier,
      to: earlier,
      limit: 10,
    });
    expect(stale.map((row) => [row.affiliatePayout, row.approvedTransactions])).toEqual([[80_000n, 1]]);

    const run = await server.services.processing.runNightly({ date: later });
    expect(run.kind === 'completed' && run.report.refreshedDates).toContain(earlier);
    const fresh = await adminRequest(
      server.baseUrl,
      'GET',
      `/reports/daily?campaignId=${campaign.id}&from=${earlier}&to=${earlier}`,
    );
    expect(fresh.body).toMatchObject([
      {
        date: earlier,
        transactions: 1,
        approvedTransactions: 0,
        affiliatePayout: '3.00',
        approvedAffiliatePayout: '0.00',
      },
    ]);
  });

  it('clears the flag when the work fails, leaving statistics and the completion time as they were', async () => {
    const date = daysAgo(9);
    class FailingDailyStatistics extends DailyStatisticsStore {
      override async replaceDay(
        sql: Sql,
        day: string,
        hours: { from: number; to: number },
        now: number,
      ): Promise<number> {
        await super.replaceDay(sql, day, hours, now);
        throw new Error('disk full');
      }
    }
    const affiliate = await buildAffiliate(server.services);
    const campaign = await buildCampaign(server.services);
    await addTransaction(server.services, campaign, affiliate, { occurredAt: tokyoDayStart(date) + HOUR });
    const before = await server.services.processing.status();

    await expect(
      processingWith({ dailyStatistics: new FailingDailyStatistics(server.services.db.knex) }).runNightly({ date }),
    ).rejects.toThrow('disk full');
    const after = await server.services.processing.status();
    expect(after.nightly.inProgress).toBe(false);
    expect(after.nightly.lastCompletedAt).toBe(before.nightly.lastCompletedAt);
    expect(await server.services.processing.dailyReport({ from: date, to: date, limit: 10 })).toEqual([]);
    expect(
      await new DailyStatisticsStore(server.services.db.knex).isCompleted(server.services.stores.units.alone, date),
    ).toBe(false);
  });

  it('refuses a second run while one is in progress, so two never interleave', async () => {
    let second: unknown;
    const processing = processingWith({
      onNightlyWindowOpened: async () => {
        second = await server.services.processing.runNightly({ date: daysAgo(10) });
      },
    });
    const first = await processing.runNightly({ date: daysAgo(10) });
    expect(first.kind).toBe('completed');
    expect(second).toEqual({
      kind: 'already_in_progress',
      startedAt: first.kind === 'completed' ? first.report.startedAt : -1,
    });
    expect((await server.services.processing.status()).nightly.inProgress).toBe(false);
  });

  it('answers the exact temporary failure while the nightly state is held by hand', async () => {
    const affiliate = await buildAffiliate(server.services);
    const campaign = await buildCampaign(server.services);
    const transaction = await addTransaction(server.services, campaign, affiliate, {
      occurredAt: Date.now() - 3 * DAY,
    });
    const edit = (id: number) =>
      editByGet(server.baseUrl, { Password: campaign.password as string, TransactionID: String(id), AP: '1.00' });

    const held = await adminRequest(server.baseUrl, 'PUT', '/processing/nightly', { inProgress: true });
    try {
      expect(held.status).toBe(200);
      expect(held.body.nightly.inProgress).toBe(true);
      expect(Date.parse(held.body.nightly.startedAt)).not.toBeNaN();
      const refused = await edit(transaction.id);
      expect(refused.answer.succeeded).toBe('False');
      expect(refused.answer.error).toEqual({
        type: 'temporary',
        message: 'Temporary failure: Nightly processing in progress',
      });
      // Checked before the lookup, as LinkTrust orders its checks.
      expect((await edit(transaction.id + 1_000_000)).answer.error?.message).toBe(
        'Temporary failure: Nightly processing in progress',
      );
      const run = await adminRequest(server.baseUrl, 'POST', '/processing/nightly/run', {});
      expect(run.status).toBe(409);
      expect(run.body.error.code).toBe('nightly_in_progress');
      expect(await server.services.stores.modifications.listForTransaction(transaction.id)).toEqual([]);
    } finally {
      const released = await adminRequest(server.baseUrl, 'PUT', '/processing/nightly', { inProgress: false });
      expect(released.body.nightly.inProgress).toBe(false);
      expect(Date.parse(released.body.nightly.lastCompletedAt)).toBeGreaterThanOrEqual(
        Date.parse(held.body.nightly.startedAt),
      );
    }
    expect((await edit(transaction.id)).answer.succeeded).toBe('True');
  });

  it('keeps a hold an admin sets while a run is in progress after the run finishes', async () => {
    const affiliate = await buildAffiliate(server.services);
    const campaign = await buildCampaign(server.services);
    const transaction = await addTransaction(server.services, campaign, affiliate, {
      occurredAt: Date.now() - 3 * DAY,
    });
    const edit = () =>
      editByGet(server.baseUrl, {
        Password: campaign.password as string,
        TransactionID: String(transaction.id),
        AP: '2.00',
      });
    let duringRun: { status: number; body: { nightly: Record<string, unknown> } } | undefined;
    const processing = processingWith({
      onNightlyWindowOpened: async () => {
        duringRun = await adminRequest(server.baseUrl, 'PUT', '/processing/nightly', { inProgress: true });
      },
    });
    try {
      const run = await processing.runNightly({ date: daysAgo(11) });
      expect(run.kind).toBe('completed');
      expect(duringRun?.status).toBe(200);
      expect(duringRun?.body.nightly).toMatchObject({
        inProgress: true,
        held: true,
        run: { date: daysAgo(11), live: true },
      });

      const after = await adminRequest(server.baseUrl, 'GET', '/processing');
      expect(after.body.nightly).toMatchObject({ inProgress: true, held: true, run: null });
      expect((await edit()).answer.error?.message).toBe('Temporary failure: Nightly processing in progress');
      // A run is refused while the hold is on, and clears nothing.
      expect((await processing.runNightly({ date: daysAgo(12) })).kind).toBe('already_in_progress');
      expect((await server.services.processing.status()).nightly.held).toBe(true);
    } finally {
      const released = await adminRequest(server.baseUrl, 'PUT', '/processing/nightly', { inProgress: false });
      expect(released.body.nightly).toMatchObject({ inProgress: false, held: false });
    }
    expect((await edit()).answer.succeeded).toBe('True');
  });

  it('lets no modification commit inside the window: each lands before it or is refused', async () => {
    /** Counts committed history rows at the moment the run's lease is taken and given back, under the state row's lock. */
    class WindowRecorder extends ProcessingStateStore {
      readonly counts: Array<{ inProgress: boolean; history: number }> = [];
      private async record(sql: Sql, inProgress: boolean) {
        const [{ n: rows }] = await sql.rows<{ n: number }>('select count(*) as n from modifications', []);
        this.counts.push({ inProgress, history: Number(rows) });
      }
      override async claimRun(sql: Sql, run: Parameters<ProcessingStateStore['claimRun']>[1]): Promise<void> {
        await this.record(sql, true);
        return super.claimRun(sql, run);
      }
      override async releaseRun(sql: Sql, holder?: string): Promise<boolean> {
        await this.record(sql, false);
        return super.releaseRun(sql, holder);
      }
    }
    const affiliate = await buildAffiliate(server.services);
    const campaign = await buildCampaign(server.services);
    const transactions = [];
    for (let i = 0; i < 6; i++)
      transactions.push(
        await addTransaction(server.services, campaign, affiliate, { occurredAt: Date.now() - 2 * DAY - i * HOUR }),
      );

    const outcomes: string[] = [];
    let windowOpen = false;
    let refusedInWindow = 0;
    let releaseWindow!: () => void;
    const enoughRefusals = new Promise<void>((resolve) => (releaseWindow = resolve));
    const recorder = new WindowRecorder(server.services.db.knex, engine);
    const processing = processingWith({
      processingState: recorder,
      onNightlyWindowOpened: async () => {
        windowOpen = true;
        await enoughRefusals; // keep the window open until modifications have met it
      },
    });
    let done = false;
    const worker = async (transactionId: number, index: number) => {
      for (let n = 1; !done; n++) {
        const outcome = await server.services.modifications.modify(
          editCommand(transactionId, campaign.password as string, { affiliatePayout: BigInt(index * 10_000 + n) }),
        );
        outcomes.push(outcome.kind);
        if (outcome.kind === 'nightly_in_progress' && windowOpen && ++refusedInWindow >= 6) releaseWindow();
        // On SQLite a cached-credential modification never leaves the microtask queue: let others run.
        await new Promise((resolve) => setImmediate(resolve));
      }
      // After the window: applied again.
      const last = await server.services.modifications.modify(
        editCommand(transactionId, campaign.password as string, { merchantRevenue: 1n }),
      );
      expect(last.kind).toBe('applied');
    };
    const workers = transactions.map((t, i) => worker(t.id, i));
    // Some modifications land before the window, and some are in flight as it opens.
    while (outcomes.length < transactions.length) await new Promise((resolve) => setImmediate(resolve));
    const run = await processing.runNightly();
    done = true;
    await Promise.all(workers);

    expect(run.kind).toBe('completed');
    expect(new Set(outcomes)).toEqual(new Set(['applied', 'nightly_in_progress']));
    expect(recorder.counts).toHaveLength(2);
    const [opened, closed] = recorder.counts;
    expect([opened.inProgress, closed.inProgress]).toEqual([true, false]);
    expect(closed.history).toBe(opened.history);
    let history = 0;
    for (const t of transactions)
      history += (await server.services.stores.modifications.listForTransaction(t.id)).length;
    expect(history).toBe(outcomes.filter((kind) => kind === 'applied').length + transactions.length);
  });
});
