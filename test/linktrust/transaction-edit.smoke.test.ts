import { testEngines } from '../support/databases';
import { buildScene } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { useTestServer } from '../support/test-server';

describe.each(testEngines())('/transaction.edit smoke on %s', (engine) => {
  const context = useTestServer(engine);

  it('applies a change by transaction id and records one history row', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const { status, contentType, answer } = await editByGet(context.server.baseUrl, {
      Password: campaign.password as string,
      TransactionID: String(transaction.id),
      AP: '0.10',
      A: 'no',
    });
    expect(status).toBe(200);
    expect(contentType).toBe('text/xml; charset=utf-8');
    expect(answer.succeeded).toBe('True');
    const after = await context.server.services.stores.transactions.getById(transaction.id);
    expect(after?.affiliatePayout).toBe(1000n);
    expect(after?.approved).toBe(false);
    const history = await context.server.services.stores.modifications.listForTransaction(transaction.id);
    expect(history).toHaveLength(1);
    expect(history[0].before.affiliatePayout).toBe(100000n);
  });
});
