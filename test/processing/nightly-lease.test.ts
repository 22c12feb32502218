import { ProcessingService } from '../../src/processing/processing-service';
import { ReportingCalendar } from '../../src/processing/reporting-calendar';
import { DailyStatisticsStore } from '../../src/store/daily-statistics-store';
import { ReportQueries } from '../../src/store/report-queries';
import { testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { adminRequest, useTestServer } from '../support/test-server';
import { consoleClient } from '../console/console-client';
import { eventually } from '../faults/fault-helpers';
import { addTransaction, recomputeFromTransactions } from './processing-helpers';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NIGHTLY = 'Temporary failure: Nightly processing in progress';

/** The UTC date `days` days before today and where it begins. */
const utcDay = (days: number) => {
  const date = new Date(Date.now() - days * DAY).toISOString().slice(0, 10);
  return { date, start: Date.parse(`${date}T00:00:00Z`) };
};

describe.each(testEngines())('nightly processing as a lease on %s', (engine) => {
  const context = useTestServer(engine, { REPORTING_TIMEZONE: 'UTC' });
  beforeAll(async () => {
    await context.server.services.processing.runHourly();
  });

  /** A processing service over the test database with its own lease length and window observer. */
  function processingWith(options: { leaseMs: number; onNightlyWindowOpened?: () => Promise<void> }) {
    const { db } = context.server.services;
    return new ProcessingService({
      units: context.server.services.stores.units,
      processingState: context.server.services.stores.processingState,
      dailyStatistics: new DailyStatisticsStore(db.knex),
      reports: new ReportQueries(db.knex, db.engine),
      calendar: new ReportingCalendar('UTC'),
      nightlyLeaseMs: options.leaseMs,
      onNightlyWindowOpened: options.onNightlyWindowOpened,
    });
  }

  /** A campaign with a few transactions on `start`'s day (and one the day after), and an edit of one of them. */
  async function scene(start: number) {
    const affiliate = await buildAffiliate(context.server.services);
    const campaign = await buildCampaign(context.server.services);
    const transactions: Array<{ id: number }> = [];
    for (const [offset, payout] of [
      [HOUR, '1.10'],
      [5 * HOUR, '2.20'],
      [23 * HOUR, '3.30'],
      [DAY + HOUR, '9.00'],
    ] as const) {
      transactions.push(
        await addTransaction(context.server.services, campaign, affiliate, {
          occurredAt: start + offset,
          affiliatePayout: payout,
          approved: offset !== 5 * HOUR,
        }),
      );
    }
    const edit = (ap: string) =>
      editByGet(context.server.baseUrl, {
        Password: campaign.password as string,
        TransactionID: String(transactions[0].id),
        AP: ap,
      });
    return { affiliate, campaign, edit };
  }

  /** The day's daily rows of a campaign next to a recomputation from its transactions. */
  async function dailyAgainstTransactions(date: string, start: number, campaignId: number) {
    const rows = await context.server.services.processing.dailyReport({ campaignId, from: date, to: date, limit: 10 });
    const recomputed = await recomputeFromTransactions(
      context.server.services,
      { from: start, to: start + DAY },
      { byHour: false, campaignId },
    );
    const scaled = (v: bigint) => `${v / 10_000n}.${(v % 10_000n).toString().padStart(4, '0')}`;
    return {
      daily: rows.map((r) => ({
        key: `${r.campaignId}|${r.affiliateId}`,
        transactions: r.transactions,
        approvedTransactions: r.approvedTransactions,
        affiliatePayout: scaled(r.affiliatePayout),
        merchantRevenue: scaled(r.merchantRevenue),
        approvedAffiliatePayout: scaled(r.approvedAffiliatePayout),
        approvedMerchantRevenue: scaled(r.approvedMerchantRevenue),
      })),
      recomputed: [...recomputed].map(([key, totals]) => ({ key, ...totals })),
    };
  }

  it('stops refusing modifications once a dead run’s lease expires, and the next scheduled pass runs its day again from the start', async () => {
    const { date, start } = utcDay(3);
    const { campaign, edit } = await scene(start);
    // What a runner killed mid-run leaves: its lease (2 s) and its day's run record, started, not completed.
    const { knex } = context.server.services.db;
    const startedAt = Date.now();
    await context.server.services.stores.units.run(async (sql) => {
      await context.server.services.stores.processingState.claimRun(sql, {
        date,
        holder: 'dead-host:1:abc',
        startedAt,
        leaseMs: 2000,
      });
      await new DailyStatisticsStore(knex).recordRunStarted(sql, date, 'UTC', startedAt);
    });
    expect((await edit('4.00')).answer.error?.message).toBe(NIGHTLY);

    // Within the lease: the refusals end by themselves, nobody releases anything.
    await eventually(
      'an edit accepted once the lease has expired',
      async () => ((await edit('4.00')).answer.succeeded === 'True' ? true : undefined),
      10_000,
    );
    const expired = await adminRequest(context.server.baseUrl, 'GET', '/processing');
    expect(expired.body.nightly).toMatchObject({ inProgress: false, held: false, run: { date, live: false } });

    const pages = await consoleClient(context.server.baseUrl);
    expect((await pages.get('/admin/processing')).body).toContain(`<dt>Run</dt><dd>${date}, started`);
    expect((await pages.get('/admin/processing')).body).toMatch(
      /<strong>lease expired<\/strong> at <time[^>]*>[^<]*<\/time>: interrupted/,
    );

    const redone = await context.server.services.processing.redoInterruptedNightly();
    expect(redone.map((r) => [r.date, r.outcome.kind])).toEqual([[date, 'completed']]);
    const after = await adminRequest(context.server.baseUrl, 'GET', '/processing');
    expect(after.body.nightly).toMatchObject({ inProgress: false, run: null, interruptions: 1 });
    expect(after.body.nightly.interruptedDays).toEqual([
      { date, interruptedAt: expect.any(String), completedAt: expect.any(String) },
    ]);
    const page = (await pages.get('/admin/processing')).body;
    expect(page).toContain('<caption>Interrupted nightly runs (1 in all; the latest)</caption>');
    expect(page).toMatch(
      new RegExp(
        `<td data-label="Day">${date}</td><td data-label="Found interrupted"><time[^>]*>[^<]*</time></td><td data-label="Done again"><time`,
      ),
    );
    const { daily, recomputed } = await dailyAgainstTransactions(date, start, campaign.id);
    expect(daily).toEqual(recomputed);
    // Nothing left to run again.
    expect(await context.server.services.processing.redoInterruptedNightly()).toEqual([]);
  });

  it('gives the same daily statistics when a day is processed again', async () => {
    const { date, start } = utcDay(4);
    const { campaign } = await scene(start);
    const first = await context.server.services.processing.runNightly({ date });
    const once = await context.server.services.processing.dailyReport({
      campaignId: campaign.id,
      from: date,
      to: date,
      limit: 10,
    });
    const second = await context.server.services.processing.runNightly({ date });
    const twice = await context.server.services.processing.dailyReport({
      campaignId: campaign.id,
      from: date,
      to: date,
      limit: 10,
    });
    expect([first.kind, second.kind]).toEqual(['completed', 'completed']);
    const withoutTime = (rows: typeof once) => rows.map(({ computedAt: _ignored, ...row }) => row);
    expect(withoutTime(twice)).toEqual(withoutTime(once));
    const { daily, recomputed } = await dailyAgainstTransactions(date, start, campaign.id);
    expect(daily).toEqual(recomputed);
  });

  it('renews its lease while it works, so a run longer than its lease keeps modifications out to the end', async () => {
    const { date, start } = utcDay(5);
    const { edit } = await scene(start);
    const answers: string[] = [];
    const processing = processingWith({
      leaseMs: 2000,
      onNightlyWindowOpened: async () => {
        // Three lease lengths inside the window, an edit every half second.
        for (let i = 0; i < 12; i++) {
          answers.push((await edit('5.00')).answer.error?.message ?? 'applied');
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      },
    });
    const run = await processing.runNightly({ date });
    expect(run.kind).toBe('completed');
    expect(answers).toEqual(Array(12).fill(NIGHTLY));
    expect((await processing.status()).nightly).toMatchObject({ inProgress: false, run: null });
    expect((await edit('5.00')).answer.succeeded).toBe('True');
  });
});
