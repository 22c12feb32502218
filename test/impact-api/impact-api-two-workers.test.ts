import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, testEngines, type TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, freshId, rollUpToNow, twoDaysAgo } from '../support/factories';
import { adminRequest, startTestServer, type TestServer } from '../support/test-server';

let nextEventTypeId = 1_700_000_000 + (process.pid % 1000) * 1000;

async function until(ready: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await ready())) await sleep(25);
}

describe.each(testEngines())('impact.com API workers on two instances over one database on %s', (engine) => {
  let database: TestDatabase;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    for (let i = 0; i < 2; i++) servers.push(await startTestServer(database.db, { IMPACT_API_WORKER: 'true' }));
  });
  afterAll(async () => {
    for (const server of servers.splice(0)) await server.close();
    await database?.drop();
  });

  it('apply each action’s submissions in submission order whichever instance took them, and go on when one stops', async () => {
    const [a, b] = servers;
    const campaign = await buildCampaign(a.services, { uniqueMerchantReference: false });
    const affiliate = await buildAffiliate(a.services);
    const eventType = await adminRequest(a.baseUrl, 'POST', '/event-types', {
      id: nextEventTypeId++,
      campaignId: campaign.id,
      name: 'Online sale',
      payout: { type: 'percent', value: '10' },
    });
    expect(eventType.status).toBe(201);
    const actions: Array<{ id: number; actionId: string }> = [];
    for (let i = 0; i < 2; i++) {
      const created = await adminRequest(a.baseUrl, 'POST', '/transactions', {
        campaignId: campaign.id,
        affiliateId: affiliate.id,
        actionId: `1000.${freshId()}`,
        eventTypeId: eventType.body.id,
        merchantRevenue: '1000.00',
        affiliatePayout: '100.00',
        occurredAt: new Date(twoDaysAgo()).toISOString(),
      });
      expect(created.status).toBe(201);
      actions.push(created.body);
    }
    await rollUpToNow(a.services);
    const account = await adminRequest(a.baseUrl, 'POST', '/api-accounts', { name: 'two', campaignIds: [campaign.id] });
    const { accountSid, authToken } = account.body as { accountSid: string; authToken: string };
    const authorization = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
    const put = async (server: TestServer, actionId: string, amount: string) => {
      const response = await fetch(`${server.baseUrl}/Advertisers/${accountSid}/Actions`, {
        method: 'PUT',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
        body: `ActionId=${encodeURIComponent(actionId)}&Amount=${amount}`,
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { QueuedUri: string }).QueuedUri;
    };
    const status = async (server: TestServer, uri: string) =>
      ((await (await fetch(`${server.baseUrl}${uri}`, { headers: { authorization } })).json()) as { Status: string })
        .Status;
    const amountsOf = async (id: number) =>
      (await adminRequest(b.baseUrl, 'GET', `/transactions/${id}`)).body.modifications.map(
        (m: { after: { merchantRevenue: string } }) => m.after.merchantRevenue,
      );

    // 40 modifications per action, taken in turn by either instance while both workers run.
    const expected: string[][] = [[], []];
    let last = '';
    for (let i = 1; i <= 40; i++) {
      for (const [n, action] of actions.entries()) {
        const amount = `${i + n * 100}.00`;
        last = await put(i % 2 === 0 ? a : b, action.actionId, amount);
        expected[n].push(amount);
      }
    }
    await until(async () => (await status(b, last)) === 'COMPLETE');
    await until(async () => (await amountsOf(actions[0].id)).length === 40);
    expect(await amountsOf(actions[0].id)).toEqual(expected[0]);
    expect(await amountsOf(actions[1].id)).toEqual(expected[1]);

    // One instance stops (its worker gives up the lease); the other applies what comes next.
    servers.splice(servers.indexOf(a), 1);
    await a.close();
    for (let i = 41; i <= 45; i++) {
      last = await put(b, actions[0].actionId, `${i}.00`);
      expected[0].push(`${i}.00`);
    }
    await until(async () => (await status(b, last)) === 'COMPLETE');
    expect(await amountsOf(actions[0].id)).toEqual(expected[0]);
  });
});
