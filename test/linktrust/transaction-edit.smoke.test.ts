import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildScene } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { startTestServer, TestServer } from '../support/test-server';

describe.each(testEngines())('/transaction.edit smoke on %s', (engine) => {
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

  it('applies a change by transaction id and records one history row', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    const { status, contentType, answer } = await editByGet(server.baseUrl, {
      Password: campaign.password as string,
      TransactionID: String(transaction.id),
      AP: '0.10',
      A: 'no',
    });
    expect(status).toBe(200);
    expect(contentType).toBe('text/xml; charset=utf-8');
    expect(answer.succeeded).toBe('True');
    const after = await server.services.stores.transactions.getById(transaction.id);
    expect(after?.affiliatePayout).toBe(1000n);
    expect(after?.approved).toBe(false);
    const history = await server.services.stores.modifications.listForTransaction(transaction.id);
    expect(history).toHaveLength(1);
    expect(history[0].before.affiliatePayout).toBe(100000n);
  });
});
