import type { Sql } from '../../src/store/sql';
import type { Knex } from 'knex';
import knex from 'knex';
import { runHourlyRollup } from '../../src/processing/hourly-rollup';
import { ProcessingState, ProcessingStateStore } from '../../src/store/processing-state-store';
import { hourStart } from '../../src/core/hours';
import { createTestDatabase, testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction } from '../support/factories';
import { adminRequest, startTestServer, useTestServer } from '../support/test-server';
import { editByGet } from '../support/linktrust-xml';
import {
  hourlyStatisticsSnapshot,
  recomputeFromTransactions,
  rewindRollup,
  storedHourlyStatistics,
  watermark,
} from './processing-helpers';

const HOUR = 3_600_000;

/** A processing-state store whose watermark write fails: the roll-up dies after its INSERT. */
class FailingWatermarkStore extends ProcessingStateStore {
  constructor(
    knexHandle: Knex,
    engine: 'sqlite' | 'mysql',
    private readonly fault: (sql: Sql) => Promise<void>,
  ) {
    super(knexHandle, engine);
  }

  override async update(sql: Sql, changes: Partial<ProcessingState>): Promise<void> {
    if (changes.rolledUpThrough !== undefined) await this.fault(sql);
    return super.update(sql, changes);
  }
}

describe.each(testEngines())('hourly roll-up on %s', (engine) => {
  const context = useTestServer(engine);

  const deps = () => ({
    units: context.server.services.stores.units,
    reports: context.server.services.stores.reports,
    processingState: context.server.services.stores.processingState,
  });

  /** A campaign with transactions in each of the `hours` (hour starts), not rolled up yet. */
  async function transactionsIn(hours: number[]) {
    const affiliate = await buildAffiliate(context.server.services);
    const campaign = await buildCampaign(context.server.services);
    for (const [index, hour] of hours.entries()) {
      await buildTransaction(context.server.services, campaign, affiliate, {
        occurredAt: hour + 60_000 * (index + 1),
        affiliatePayout: `${index}.0001`,
        approved: index % 2 === 0,
      });
    }
    return { affiliate, campaign };
  }

  it('answers the exact temporary failure for an hour not rolled up, and applies the change once it is', async () => {
    // A database of its own: the watermark is still at its start.
    const own = await createTestDatabase(engine);
    const ownServer = await startTestServer(own.db);
    try {
      const affiliate = await buildAffiliate(ownServer.services);
      const campaign = await buildCampaign(ownServer.services);
      const transaction = await buildTransaction(ownServer.services, campaign, affiliate, {
        affiliatePayout: '10.00',
        approved: true,
      });
      const edit = () =>
        editByGet(ownServer.baseUrl, {
          Password: campaign.password as string,
          TransactionID: String(transaction.id),
          AP: '2.5',
          A: 'no',
        });

      const refused = await edit();
      expect(refused.status).toBe(200);
      expect(refused.answer.succeeded).toBe('False');
      expect(refused.answer.error).toEqual({
        type: 'temporary',
        message: 'Temporary failure: Hourly processing not completed',
      });
      expect(await ownServer.services.stores.modifications.listForTransaction(transaction.id)).toEqual([]);

      const run = await adminRequest(ownServer.baseUrl, 'POST', '/processing/hourly/run', {});
      expect(run.status).toBe(200);
      expect(run.body.from).toBeNull();

      const applied = await edit();
      expect(applied.answer.succeeded).toBe('True');
      const hour = hourStart(transaction.occurredAt);
      const stats = await storedHourlyStatistics(ownServer.services, { from: hour, to: hour + HOUR });
      expect(stats.get(`${hour}|${campaign.id}|${affiliate.id}`)).toEqual({
        transactions: 1,
        approvedTransactions: 0,
        affiliatePayout: '2.5000',
        merchantRevenue: '100.0000',
        approvedAffiliatePayout: '0.0000',
        approvedMerchantRevenue: '0.0000',
      });
    } finally {
      await ownServer.close();
      await own.drop();
    }
  });

  it('keeps the current hour pending however far `through` reaches', async () => {
    const affiliate = await buildAffiliate(context.server.services);
    const campaign = await buildCampaign(context.server.services);
    const transaction = await buildTransaction(context.server.services, campaign, affiliate, {
      occurredAt: Date.now(),
    });
    const before = hourStart(Date.now());
    const run = await adminRequest(context.server.baseUrl, 'POST', '/processing/hourly/run', {
      through: new Date(Date.now() + 5 * HOUR).toISOString(),
    });
    const after = hourStart(Date.now());
    expect(run.status).toBe(200);
    expect([before, after].map((h) => new Date(h).toISOString())).toContain(run.body.through);
    const { answer } = await editByGet(context.server.baseUrl, {
      Password: campaign.password as string,
      TransactionID: String(transaction.id),
      MP: '1',
    });
    expect(answer.error).toEqual({ type: 'temporary', message: 'Temporary failure: Hourly processing not completed' });
  });

  it('rolls up exactly the hours asked for, and a second run changes nothing', async () => {
    const base = hourStart(Date.now()) - 30 * HOUR;
    await rewindRollup(context.server.services, base);
    const { campaign } = await transactionsIn([base, base + HOUR, base + HOUR, base + 2 * HOUR, base + 5 * HOUR]);

    const first = await runHourlyRollup(deps(), { through: base + 2 * HOUR + 1234, now: Date.now() });
    expect(first).toEqual({ from: base, through: base + 2 * HOUR });
    const stored = await storedHourlyStatistics(context.server.services, { from: base, to: base + 10 * HOUR });
    // Hours 0 and 1 of the campaign, and nothing from hour 2 on.
    expect(
      [...stored.keys()].filter((key) => key.includes(`|${campaign.id}|`)).map((key) => Number(key.split('|')[0])),
    ).toEqual([base, base + HOUR]);
    expect(stored).toEqual(
      await recomputeFromTransactions(context.server.services, { from: base, to: base + 2 * HOUR }),
    );

    const snapshot = await hourlyStatisticsSnapshot(context.server.services);
    const again = await runHourlyRollup(deps(), { through: base + 2 * HOUR, now: Date.now() });
    expect(again).toEqual({ from: base + 2 * HOUR, through: base + 2 * HOUR });
    const earlier = await runHourlyRollup(deps(), { through: base, now: Date.now() });
    expect(earlier).toEqual({ from: base + 2 * HOUR, through: base + 2 * HOUR });
    expect(await hourlyStatisticsSnapshot(context.server.services)).toEqual(snapshot);
    expect(await watermark(context.server.services)).toBe(base + 2 * HOUR);
  });

  it('serialises two runs at once: each hour counted once', async () => {
    const base = hourStart(Date.now()) - 20 * HOUR;
    await rewindRollup(context.server.services, base);
    await transactionsIn([base, base + HOUR, base + 3 * HOUR, base + 7 * HOUR]);
    const through = base + 8 * HOUR;
    const results = await Promise.all([
      runHourlyRollup(deps(), { through, now: Date.now() }),
      runHourlyRollup(deps(), { through, now: Date.now() }),
    ]);
    expect(results.map((r) => r.from).sort((a, b) => a - b)).toEqual([base, through]);
    expect(await storedHourlyStatistics(context.server.services, { from: base, to: through })).toEqual(
      await recomputeFromTransactions(context.server.services, { from: base, to: through }),
    );
  });

  it('killed after writing statistics, leaves the watermark and statistics as they were', async () => {
    const base = hourStart(Date.now()) - 12 * HOUR;
    await rewindRollup(context.server.services, base);
    await transactionsIn([base + HOUR, base + 2 * HOUR, base + 4 * HOUR]);
    await runHourlyRollup(deps(), { through: base + 2 * HOUR, now: Date.now() });
    const snapshot = await hourlyStatisticsSnapshot(context.server.services);

    let insertedBeforeFault = 0;
    const failing = new FailingWatermarkStore(context.database.db.knex, engine, async (sql) => {
      // The INSERT … SELECT has run inside the transaction: its rows are there, uncommitted.
      const [{ n }] = await sql.rows<{ n: number }>(
        'select count(*) as n from hourly_statistics where hour_start >= ?',
        [base + 2 * HOUR],
      );
      insertedBeforeFault = Number(n);
      throw new Error('killed');
    });
    await expect(
      runHourlyRollup({ ...deps(), processingState: failing }, { through: base + 6 * HOUR, now: Date.now() }),
    ).rejects.toThrow('killed');
    expect(insertedBeforeFault).toBeGreaterThan(0);
    expect(await watermark(context.server.services)).toBe(base + 2 * HOUR);
    expect(await hourlyStatisticsSnapshot(context.server.services)).toEqual(snapshot);

    const resumed = await runHourlyRollup(deps(), { through: base + 6 * HOUR, now: Date.now() });
    expect(resumed).toEqual({ from: base + 2 * HOUR, through: base + 6 * HOUR });
    expect(await storedHourlyStatistics(context.server.services, { from: base, to: base + 6 * HOUR })).toEqual(
      await recomputeFromTransactions(context.server.services, { from: base, to: base + 6 * HOUR }),
    );
  });

  if (engine === 'mysql') {
    it('killed by losing its connection mid-transaction, leaves the watermark and statistics as they were', async () => {
      const base = hourStart(Date.now()) - 12 * HOUR;
      await rewindRollup(context.server.services, base);
      await transactionsIn([base + HOUR, base + 3 * HOUR]);
      const snapshot = await hourlyStatisticsSnapshot(context.server.services);
      const killer = knex({ client: 'mysql2', connection: { uri: process.env.TEST_MYSQL_URL } as never });
      try {
        const dying = new FailingWatermarkStore(context.database.db.knex, engine, async (sql) => {
          const [{ id }] = await sql.rows<{ id: number }>('select connection_id() as id', []);
          await killer.raw(`kill connection ${Number(id)}`);
        });
        await expect(
          runHourlyRollup({ ...deps(), processingState: dying }, { through: base + 6 * HOUR, now: Date.now() }),
        ).rejects.toThrow();
      } finally {
        await killer.destroy();
      }
      expect(await watermark(context.server.services)).toBe(base);
      expect(await hourlyStatisticsSnapshot(context.server.services)).toEqual(snapshot);
    });
  }
});
