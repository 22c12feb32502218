import { hourStart } from '../../src/core/hours';
import { testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { adminRequest, useTestServer } from '../support/test-server';
import { addTransaction, recomputeFromTransactions, Totals } from './processing-helpers';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The largest amount a merchant may send. */
const LARGEST = '99999999999.9999';

/** The UTC date `days` days before today and where it begins. */
const utcDay = (days: number) => {
  const date = new Date(Date.now() - days * DAY).toISOString().slice(0, 10);
  return { date, start: Date.parse(`${date}T00:00:00Z`) };
};

describe.each(testEngines())('statistics sums past 2^53 on %s', (engine) => {
  const context = useTestServer(engine, { REPORTING_TIMEZONE: 'UTC' });
  beforeAll(async () => {
    // Every complete hour rolled up: the transactions added below are late data, added to their hours.
    await context.server.services.processing.runHourly();
  });

  it('reports exact hourly and daily totals after ten edits to the largest amount in one hour', async () => {
    const { date, start } = utcDay(3);
    const hour = start + 5 * HOUR;
    const affiliate = await buildAffiliate(context.server.services);
    const campaign = await buildCampaign(context.server.services);
    const transactions = [];
    for (let i = 0; i < 10; i++)
      transactions.push(
        await addTransaction(context.server.services, campaign, affiliate, {
          occurredAt: hour + i * 60_000,
          approved: i % 3 !== 0,
        }),
      );
    for (const transaction of transactions) {
      const edit = await editByGet(context.server.baseUrl, {
        Password: campaign.password as string,
        TransactionID: String(transaction.id),
        MP: LARGEST,
        AP: LARGEST,
      });
      expect(edit.answer.succeeded).toBe('True');
    }
    const expected = await recomputeFromTransactions(
      context.server.services,
      { from: hour, to: hour + HOUR },
      { campaignId: campaign.id },
    );
    const totals = expected.get(`${hour}|${campaign.id}|${affiliate.id}`);
    // Past 2^53 ten-thousandths: the sums a double cannot hold exactly.
    expect(BigInt(totals?.merchantRevenue.replace('.', '') ?? 0)).toBeGreaterThan(2n ** 53n);

    const hourly = await adminRequest(context.server.baseUrl, 'GET', `/reports/hourly?campaignId=${campaign.id}`);
    expect(hourly.status).toBe(200);
    expect(hourly.body).toEqual([
      {
        hour: new Date(hourStart(hour)).toISOString(),
        campaignId: campaign.id,
        affiliateId: affiliate.id,
        ...normalised(totals),
      },
    ]);

    const run = await adminRequest(context.server.baseUrl, 'POST', '/processing/nightly/run', { date });
    expect(run.status).toBe(200);
    expect(run.body.consistency).toEqual({ ok: true, differences: [] });
    const daily = await adminRequest(
      context.server.baseUrl,
      'GET',
      `/reports/daily?campaignId=${campaign.id}&from=${date}&to=${date}`,
    );
    expect(daily.body.map(({ computedAt: _ignored, ...row }: { computedAt: string }) => row)).toEqual([
      { date, campaignId: campaign.id, affiliateId: affiliate.id, ...normalised(totals) },
    ]);
  });

  it('processes every other campaign of a day when one campaign’s statistics cannot be summed, and names it', async () => {
    const { date, start } = utcDay(4);
    const affiliate = await buildAffiliate(context.server.services);
    const [good, bad, alsoGood] = [
      await buildCampaign(context.server.services),
      await buildCampaign(context.server.services),
      await buildCampaign(context.server.services),
    ];
    for (const campaign of [good, bad, alsoGood]) {
      await addTransaction(context.server.services, campaign, affiliate, {
        occurredAt: start + 2 * HOUR,
        affiliatePayout: '1.25',
      });
      await addTransaction(context.server.services, campaign, affiliate, {
        occurredAt: start + 7 * HOUR,
        affiliatePayout: '2.50',
        approved: false,
      });
    }
    // A corrupt statistics row: one hour of `bad` so close to the BIGINT limit that the day's sum overflows.
    await context.server.services.db.knex.raw(
      'update hourly_statistics set affiliate_payout = 9223372036854775000 where campaign_id = ? and hour_start = ?',
      [bad.id, start + 2 * HOUR],
    );

    const run = await adminRequest(context.server.baseUrl, 'POST', '/processing/nightly/run', { date });
    expect(run.status).toBe(200);
    expect(run.body.failedGroups).toEqual([{ date, campaignId: bad.id, reason: expect.any(String) }]);
    expect(run.body.consistency).toEqual({ ok: true, differences: [] });
    const expected = await recomputeFromTransactions(
      context.server.services,
      { from: start, to: start + DAY },
      { byHour: false },
    );
    for (const campaign of [good, alsoGood]) {
      const daily = await adminRequest(
        context.server.baseUrl,
        'GET',
        `/reports/daily?campaignId=${campaign.id}&from=${date}&to=${date}`,
      );
      expect(daily.body.map(({ computedAt: _ignored, ...row }: { computedAt: string }) => row)).toEqual([
        {
          date,
          campaignId: campaign.id,
          affiliateId: affiliate.id,
          ...normalised(expected.get(`${campaign.id}|${affiliate.id}`)),
        },
      ]);
    }
    expect(
      (await adminRequest(context.server.baseUrl, 'GET', `/reports/daily?campaignId=${bad.id}&from=${date}&to=${date}`))
        .body,
    ).toEqual([]);
    expect((await adminRequest(context.server.baseUrl, 'GET', '/processing')).body.nightly.inProgress).toBe(false);
  });
});

/** The helper's four-digit amounts as the API formats them (two to four fraction digits). */
function normalised(totals: Totals | undefined) {
  if (!totals) throw new Error('no totals recomputed');
  return Object.fromEntries(
    Object.entries(totals).map(([key, value]) => [
      key,
      typeof value === 'string' ? value.replace(/0{1,2}$/, '') : value,
    ]),
  );
}
