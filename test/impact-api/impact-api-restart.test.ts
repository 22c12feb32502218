import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, testEngines, type TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, freshId, rollUpToNow, twoDaysAgo } from '../support/factories';
import { adminRequest, startTestServer, type TestServer } from '../support/test-server';

// Event type ids of their own: test files share databases' id ranges with the event-type tests.
let nextEventTypeId = 1_800_000_000 + (process.pid % 1000) * 1000;

async function until(ready: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await ready())) await sleep(25);
}

describe.each(testEngines())('impact.com API submissions survive a restart on %s', (engine) => {
  let database: TestDatabase;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    database = await createTestDatabase(engine);
  });
  afterAll(async () => {
    for (const server of servers.splice(0)) await server.close();
    await database?.drop();
  });
  const start = async (env: Record<string, string>) => {
    const server = await startTestServer(database.db, env);
    servers.push(server);
    return server;
  };

  it('applies every submission queued before the restart, in order, none lost', async () => {
    // The first server takes submissions in but applies none (its worker is off, as a web-only node's).
    const first = await start({ IMPACT_API_WORKER: 'false' });
    const campaign = await buildCampaign(first.services, { uniqueMerchantReference: false });
    const affiliate = await buildAffiliate(first.services);
    const eventType = await adminRequest(first.baseUrl, 'POST', '/event-types', {
      id: nextEventTypeId++,
      campaignId: campaign.id,
      name: 'Online sale',
      payout: { type: 'percent', value: '10' },
    });
    expect(eventType.status).toBe(201);
    const actions: Array<{ id: number; actionId: string }> = [];
    for (let i = 0; i < 3; i++) {
      const created = await adminRequest(first.baseUrl, 'POST', '/transactions', {
        campaignId: campaign.id,
        affiliateId: affiliate.id,
        actionId: `1000.${freshId()}`,
        eventTypeId: eventType.body.id,
        merchantRevenue: '100.00',
        affiliatePayout: '10.00',
        occurredAt: new Date(twoDaysAgo()).toISOString(),
      });
      expect(created.status).toBe(201);
      actions.push(created.body);
    }
    await rollUpToNow(first.services);
    const account = await adminRequest(first.baseUrl, 'POST', '/api-accounts', {
      name: 'restart',
      campaignIds: [campaign.id],
    });
    expect(account.status).toBeLessThan(300);
    const { accountSid, authToken } = account.body as { accountSid: string; authToken: string };
    const authorization = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;

    // Ten modifications per action, interleaved, and a final reversal of the last action.
    const queued: Array<{ uri: string; actionId: string }> = [];
    for (let round = 1; round <= 10; round++) {
      for (const action of actions) {
        const response = await fetch(`${first.baseUrl}/Advertisers/${accountSid}/Actions`, {
          method: 'PUT',
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
          body: `ActionId=${encodeURIComponent(action.actionId)}&Amount=${round}0.00`,
        });
        expect(response.status).toBe(200);
        const body = (await response.json()) as { Status: string; QueuedUri: string };
        expect(body.Status).toBe('QUEUED');
        queued.push({ uri: body.QueuedUri, actionId: action.actionId });
      }
    }
    const reversal = await fetch(
      `${first.baseUrl}/Advertisers/${accountSid}/Actions?ActionId=${encodeURIComponent(actions[2].actionId)}`,
      { method: 'DELETE', headers: { authorization } },
    );
    expect(reversal.status).toBe(200);
    const reversalUri = ((await reversal.json()) as { QueuedUri: string }).QueuedUri;

    const submission = async (server: TestServer, uri: string) => {
      const response = await fetch(`${server.baseUrl}${uri}`, { headers: { authorization } });
      expect(response.status).toBe(200);
      return (await response.json()) as Record<string, unknown>;
    };
    expect(await submission(first, queued[0].uri)).toMatchObject({ Status: 'QUEUED', Type: 'Modification' });

    // The server stops with every submission still queued; a new one over the same database applies them.
    servers.splice(servers.indexOf(first), 1);
    await first.close();
    const second = await start({ IMPACT_API_WORKER: 'true' });
    await until(async () => (await submission(second, reversalUri)).Status === 'COMPLETE');
    for (const { uri, actionId } of queued)
      expect(await submission(second, uri)).toMatchObject({
        Status: 'COMPLETE',
        Type: 'Modification',
        ActionId: actionId,
        Code: 'MODIFIED',
      });
    expect(await submission(second, reversalUri)).toMatchObject({
      Status: 'COMPLETE',
      Type: 'Reversal',
      Code: 'REVERSED',
    });

    // Applied in submission order: each action ends with its last modification (the third one reversed).
    const transaction = async (id: number) => (await adminRequest(second.baseUrl, 'GET', `/transactions/${id}`)).body;
    for (const action of actions.slice(0, 2))
      expect(await transaction(action.id)).toMatchObject({ merchantRevenue: '100.00', modificationCount: 10 });
    const reversed = await transaction(actions[2].id);
    expect(reversed).toMatchObject({ modificationCount: 11 });
    expect(reversed.modifications.map((m: { after: { merchantRevenue: string } }) => m.after.merchantRevenue)).toEqual([
      '10.00',
      '20.00',
      '30.00',
      '40.00',
      '50.00',
      '60.00',
      '70.00',
      '80.00',
      '90.00',
      '100.00',
      '0.00',
    ]);
  });
});
