import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction, rollUpToNow } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { startReceiver, Receiver } from '../support/receiver';
import { startTestServer, TestServer } from '../support/test-server';

/** Polls until `check` holds (bounded); a wait for background work, not a speed assertion. */
async function eventually<T>(check: () => Promise<T | undefined>, limitMs = 10_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.each(testEngines())('postbacks delivered by the server worker on %s', (engine) => {
  let database: TestDatabase;
  let server: TestServer;
  let receiver: Receiver;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    server = await startTestServer(database.db, { POSTBACK_WORKER: 'true', POSTBACK_ALLOW_PRIVATE_NETWORKS: 'true' });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
    await database?.drop();
  });

  it('delivers after the XML answer, without anyone driving the worker', async () => {
    const affiliate = await buildAffiliate(server.services, {
      postbackUrl: `${receiver.url}/pb?tid=[=_TransID=]&a=[=Approved=]`,
    });
    const campaign = await buildCampaign(server.services);
    const transaction = await buildTransaction(server.services, campaign, affiliate);
    await rollUpToNow(server.services);
    const { answer } = await editByGet(server.baseUrl, {
      Password: campaign.password as string,
      ClickID: transaction.clickId,
      A: 'no',
      executeaffiliatepixel: 'yes',
    });
    expect(answer.succeeded).toBe('True');
    const seen = await eventually(async () => receiver.received.find((r) => r.url.includes(`tid=${transaction.id}`)));
    expect(seen.url).toBe(`/pb?tid=${transaction.id}&a=no`);
    const delivery = await eventually(async () => {
      const [row] = await server.services.stores.postbacks.list({ transactionId: transaction.id });
      return row?.status === 'delivered' ? row : undefined;
    });
    expect(delivery.attempts).toBe(1);
  });
});
