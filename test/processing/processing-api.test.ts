import { hourStart } from '../../src/core/hours';
import { testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign } from '../support/factories';
import { adminRequest, useTestServer } from '../support/test-server';
import { addTransaction } from './processing-helpers';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// Every row has three entries: jest reads a test function with more parameters than values as `done`-style.
const ROUTES: Array<[string, string, unknown]> = [
  ['GET', '/processing', undefined],
  ['POST', '/processing/hourly/run', {}],
  ['POST', '/processing/nightly/run', {}],
  ['PUT', '/processing/nightly', { inProgress: true }],
  ['GET', '/reports/hourly', undefined],
  ['GET', '/reports/daily', undefined],
];

describe.each(testEngines())('processing admin API on %s', (engine) => {
  const context = useTestServer(engine);

  it.each(ROUTES)('refuses %s %s without the bearer token, and changes nothing', async (method, path, body) => {
    const before = await context.server.services.processing.status();
    for (const token of ['', 'wrong-token']) {
      const response = await adminRequest(context.server.baseUrl, method, path, body, token);
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('unauthorized');
    }
    expect(await context.server.services.processing.status()).toEqual(before);
  });

  it('shows the processing state with ISO times or null', async () => {
    const fresh = await adminRequest(context.server.baseUrl, 'GET', '/processing');
    expect(fresh.status).toBe(200);
    expect(Object.keys(fresh.body).sort()).toEqual(['hourly', 'nightly']);
    expect(Object.keys(fresh.body.nightly).sort()).toEqual([
      'held',
      'inProgress',
      'interruptedDays',
      'interruptions',
      'lastCompletedAt',
      'run',
      'startedAt',
    ]);
    expect(fresh.body.nightly).toMatchObject({
      inProgress: false,
      held: false,
      run: null,
      interruptions: 0,
      interruptedDays: [],
    });
    expect(Object.keys(fresh.body.hourly).sort()).toEqual(['lastRunAt', 'rolledUpThrough']);

    const run = await adminRequest(context.server.baseUrl, 'POST', '/processing/hourly/run', {
      through: '2020-01-01T10:59:59.999+01:00',
    });
    expect(run.status).toBe(200);
    const state = await adminRequest(context.server.baseUrl, 'GET', '/processing');
    expect(state.body.hourly.rolledUpThrough).toBe(run.body.through);
    expect(new Date(state.body.hourly.lastRunAt).toISOString()).toBe(state.body.hourly.lastRunAt);
    expect(state.body.nightly.inProgress).toBe(false);
  });

  it.each([
    [{ through: 'yesterday' }, 'through'],
    [{ through: '2026-02-30T00:00:00Z' }, 'through'],
    [{ through: '2026-11-25T10:00:00' }, 'through'],
    [{ through: 1764064800000 }, 'through'],
    [{ thru: '2026-11-25T10:00:00Z' }, 'thru'],
  ])('refuses an hourly run with %j', async (body, field) => {
    const response = await adminRequest(context.server.baseUrl, 'POST', '/processing/hourly/run', body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('validation_failed');
    expect(response.body.error.message).toContain(field);
  });

  it.each([
    [{ date: '2026-13-01' }],
    [{ date: '2026-02-29' }],
    [{ date: '25.11.2026' }],
    [{ date: 20261125 }],
    [{ day: '2026-11-24' }],
  ])('refuses a nightly run with %j', async (body) => {
    const response = await adminRequest(context.server.baseUrl, 'POST', '/processing/nightly/run', body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('validation_failed');
  });

  it('refuses nightly processing of a day that is not over', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const response = await adminRequest(context.server.baseUrl, 'POST', '/processing/nightly/run', { date: today });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('day_not_over');
    expect((await context.server.services.processing.status()).nightly.inProgress).toBe(false);
  });

  it.each([[{}], [{ inProgress: 'yes' }], [{ inProgress: 1 }], [{ inProgress: true, extra: 1 }]])(
    'refuses to set the nightly state with %j',
    async (body) => {
      const response = await adminRequest(context.server.baseUrl, 'PUT', '/processing/nightly', body);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
      expect((await context.server.services.processing.status()).nightly.inProgress).toBe(false);
    },
  );

  it.each([
    ['/reports/hourly?campaignId=abc', 'campaignId'],
    ['/reports/hourly?affiliateId=0', 'affiliateId'],
    ['/reports/hourly?campaignId=1&campaignId=2', 'campaignId'],
    ['/reports/hourly?from=2026-11-25', 'from'],
    ['/reports/hourly?to=2026-11-25T25:00:00Z', 'to'],
    ['/reports/hourly?limit=0', 'limit'],
    ['/reports/hourly?limit=10001', 'limit'],
    ['/reports/daily?from=2026-11-25T00:00:00Z', 'from'],
    ['/reports/daily?to=2026-02-30', 'to'],
  ])('refuses the report %s', async (path, field) => {
    const response = await adminRequest(context.server.baseUrl, 'GET', path);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('validation_failed');
    expect(response.body.error.message).toContain(field);
  });

  it('reports rolled-up hours of a campaign, filtered, with exact totals', async () => {
    const base = hourStart(Date.now()) - 3 * DAY;
    const [first, second] = [
      await buildAffiliate(context.server.services),
      await buildAffiliate(context.server.services),
    ];
    const campaign = await buildCampaign(context.server.services);
    await addTransaction(context.server.services, campaign, first, {
      occurredAt: base + 1,
      affiliatePayout: '0.1',
      merchantRevenue: '1.2345',
    });
    await addTransaction(context.server.services, campaign, first, {
      occurredAt: base + HOUR - 1,
      affiliatePayout: '0.2',
      merchantRevenue: '2',
      approved: false,
    });
    await addTransaction(context.server.services, campaign, second, {
      occurredAt: base + 2 * HOUR,
      affiliatePayout: '3',
      merchantRevenue: '4',
    });
    await context.server.services.processing.runHourly();

    const all = await adminRequest(context.server.baseUrl, 'GET', `/reports/hourly?campaignId=${campaign.id}`);
    expect(all.status).toBe(200);
    expect(all.body).toEqual([
      {
        hour: new Date(base).toISOString(),
        campaignId: campaign.id,
        affiliateId: first.id,
        transactions: 2,
        approvedTransactions: 1,
        affiliatePayout: '0.30',
        merchantRevenue: '3.2345',
        approvedAffiliatePayout: '0.10',
        approvedMerchantRevenue: '1.2345',
      },
      {
        hour: new Date(base + 2 * HOUR).toISOString(),
        campaignId: campaign.id,
        affiliateId: second.id,
        transactions: 1,
        approvedTransactions: 1,
        affiliatePayout: '3.00',
        merchantRevenue: '4.00',
        approvedAffiliatePayout: '3.00',
        approvedMerchantRevenue: '4.00',
      },
    ]);
    const bySecond = await adminRequest(
      context.server.baseUrl,
      'GET',
      `/reports/hourly?campaignId=${campaign.id}&affiliateId=${second.id}`,
    );
    expect(bySecond.body.map((row: { affiliateId: number }) => row.affiliateId)).toEqual([second.id]);
    const from = encodeURIComponent(new Date(base + HOUR).toISOString());
    const to = encodeURIComponent(new Date(base + 2 * HOUR).toISOString());
    expect(
      (await adminRequest(context.server.baseUrl, 'GET', `/reports/hourly?campaignId=${campaign.id}&from=${from}`))
        .body,
    ).toHaveLength(1);
    expect(
      (await adminRequest(context.server.baseUrl, 'GET', `/reports/hourly?campaignId=${campaign.id}&to=${to}`)).body,
    ).toHaveLength(1);
    expect(
      (await adminRequest(context.server.baseUrl, 'GET', `/reports/hourly?campaignId=${campaign.id}&limit=1`)).body,
    ).toHaveLength(1);
    expect(
      (await adminRequest(context.server.baseUrl, 'GET', `/reports/daily?campaignId=${campaign.id}`)).body,
    ).toEqual([]);
  });
});
