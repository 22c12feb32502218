import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction, rollUpToNow, twoDaysAgo } from '../support/factories';
import { startTestServer, TestServer } from '../support/test-server';
import { consoleClient, ConsoleClient } from './console-client';

jest.setTimeout(60_000);

describe.each(testEngines())('the console Reports page and its CSV on %s', (engine) => {
  let database: TestDatabase;
  let server: TestServer;
  let client: ConsoleClient;
  let day: string;
  let campaignId: number;
  let affiliateId: number;
  let otherId: number;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    server = await startTestServer(database.db);
    client = await consoleClient(server.baseUrl);
    const affiliate = await buildAffiliate(server.services);
    const other = await buildAffiliate(server.services);
    const campaign = await buildCampaign(server.services);
    campaignId = campaign.id;
    affiliateId = affiliate.id;
    otherId = other.id;
    const at = twoDaysAgo();
    day = new Date(at).toISOString().slice(0, 10);
    await buildTransaction(server.services, campaign, affiliate, {
      affiliatePayout: '0.10',
      merchantRevenue: '5.00',
      occurredAt: at,
    });
    await buildTransaction(server.services, campaign, affiliate, {
      affiliatePayout: '0.20',
      merchantRevenue: '1.00',
      occurredAt: at,
      approved: false,
    });
    await buildTransaction(server.services, campaign, other, {
      affiliatePayout: '7.00',
      merchantRevenue: '9.00',
      occurredAt: at,
    });
    await rollUpToNow(server.services);
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it('shows hourly rows of a campaign and affiliate, and the CSV holds exactly those rows', async () => {
    const query = `granularity=hour&campaignId=${campaignId}&affiliateId=${affiliateId}&from=${day}&to=${day}`;
    const page = await client.get(`/admin/reports?${query}`);
    expect(page.status).toBe(200);
    const rows = [...page.body.matchAll(/<tr><td data-label="Period"><span class="nowrap">([^<]+)<\/span><\/td>/g)].map(
      (m) => m[1],
    );
    expect(rows).toHaveLength(1);
    expect(page.body).toContain('<td data-label="Payout" class="num">0.30</td>');
    expect(page.body).toContain('<td data-label="Revenue" class="num">6.00</td>');
    expect(page.body).toContain('<td data-label="Approved" class="num">1</td>');
    expect(page.body).toContain('<script type="application/json" id="report-chart-data">');
    expect(page.body).toMatch(/<script src="\/admin\/static\/chart-[0-9a-f]{12}\.js" defer><\/script>/);
    expect(page.body).toContain(`href="/admin/reports.csv?${query.replace(/&/g, '&amp;')}"`);

    const csv = await client.get(`/admin/reports.csv?${query}`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.body).toBe(
      'Period,Campaign,Affiliate,Transactions,Approved,Payout,Revenue,Reversals\r\n' +
        `${rows[0]},${campaignId},${affiliateId},2,1,0.30,6.00,0\r\n`,
    );
  });

  it('filters by campaign only, and shows both affiliates', async () => {
    const page = await client.get(`/admin/reports?granularity=hour&campaignId=${campaignId}&from=${day}&to=${day}`);
    expect([...page.body.matchAll(/<tr><td data-label="Period">/g)]).toHaveLength(2);
    const csv = await client.get(`/admin/reports.csv?granularity=hour&campaignId=${campaignId}&from=${day}&to=${day}`);
    expect(csv.body.trim().split('\r\n')).toHaveLength(3);
  });

  it('shows the days nightly processing computed, in rows per day, and the CSV matches', async () => {
    const before = await client.get(`/admin/reports?campaignId=${campaignId}&from=${day}&to=${day}`);
    expect(before.body).toContain('(days appear after nightly processing)');
    expect((await server.services.processing.runNightly({ date: day })).kind).toBe('completed');
    const page = await client.get(`/admin/reports?campaignId=${campaignId}&from=${day}&to=${day}`);
    const periods = [
      ...page.body.matchAll(/<tr><td data-label="Period"><span class="nowrap">([^<]+)<\/span><\/td>/g),
    ].map((m) => m[1]);
    expect(periods).toEqual([day, day]);
    const csv = await client.get(`/admin/reports.csv?campaignId=${campaignId}&from=${day}&to=${day}`);
    expect(csv.body.trim().split('\r\n').slice(1)).toEqual([
      `${day},${campaignId},${Math.min(affiliateId, otherId)},1,1,7.00,9.00,0`,
      `${day},${campaignId},${Math.max(affiliateId, otherId)},2,1,0.30,6.00,0`,
    ]);
  });

  it('refuses dates not written YYYY-MM-DD, on the page and for the CSV', async () => {
    const page = await client.get('/admin/reports?from=12%2F01%2F2026');
    expect(page.status).toBe(400);
    expect(page.body).toContain('From must be a date written YYYY-MM-DD');
    const csv = await client.get('/admin/reports.csv?to=yesterday');
    expect(csv.status).toBe(400);
  });

  it('serves Chart.js from its hashed path with a long cache', async () => {
    const page = await client.get('/admin/reports');
    const src = /<script src="(\/admin\/static\/chart-[0-9a-f]{12}\.js)"/.exec(page.body)?.[1] as string;
    const script = await fetch(`${server.baseUrl}${src}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await script.text()).toContain('Chart');
  });
});
