import { HOUR_MS } from '../../src/core/hours';
import { formatMoney } from '../../src/core/money';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction, rollUpToNow } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { startTestServer, TestServer } from '../support/test-server';

jest.setTimeout(60_000);

describe.each(testEngines())('the dashboard figures on %s', (engine) => {
  let database: TestDatabase;
  let server: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    server = await startTestServer(database.db);
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it('counts applied changes per hour and door, refusals per hour and message, and sums money exactly', async () => {
    const affiliate = await buildAffiliate(server.services);
    const campaign = await buildCampaign(server.services);
    // Payout +0.1 and +0.2 (a float sum gives 0.30000000000000004); revenue near the largest amounts.
    const first = await buildTransaction(server.services, campaign, affiliate, {
      affiliatePayout: '0.10',
      merchantRevenue: '90000000000.01',
    });
    const second = await buildTransaction(server.services, campaign, affiliate, {
      affiliatePayout: '0.20',
      merchantRevenue: '100.00',
    });
    await rollUpToNow(server.services);
    const edit = (transaction: { id: number }, fields: Record<string, string>) =>
      editByGet(server.baseUrl, {
        Password: campaign.password as string,
        TransactionID: String(transaction.id),
        ...fields,
      });
    expect((await edit(first, { AP: '0.20', MP: '90000000000.02' })).answer.succeeded).toBe('True');
    expect((await edit(second, { AP: '0.40', MP: '0.01' })).answer.succeeded).toBe('True');
    const refused = await editByGet(server.baseUrl, { Password: 'wrong', TransactionID: String(first.id), AP: '1' });
    expect(refused.answer.succeeded).toBe('False');
    const refusedAgain = await editByGet(server.baseUrl, {
      Password: 'wrong',
      TransactionID: String(first.id),
      AP: '2',
    });
    const message = refused.answer.error?.message as string;
    expect(refusedAgain.answer.error?.message).toBe(message);

    const dashboard = await server.services.dashboard.dashboard('24h');
    const hour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    expect(dashboard.hours).toHaveLength(24);
    expect(dashboard.hours[23]).toBe(hour);
    expect(dashboard.applied).toEqual([{ hour, source: 'api', count: 2 }]);
    expect(dashboard.refused).toEqual([{ hour, message, count: 2 }]);
    expect(dashboard.net.changes).toBe(2);
    expect(formatMoney(dashboard.net.affiliatePayout)).toBe('0.30');
    expect(formatMoney(dashboard.net.merchantRevenue)).toBe('-99.98');

    // A week shows the same changes; nothing older than the window is counted.
    const week = await server.services.dashboard.dashboard('7d');
    expect(week.hours).toHaveLength(24 * 7);
    expect(formatMoney(week.net.affiliatePayout)).toBe('0.30');
  });
});
