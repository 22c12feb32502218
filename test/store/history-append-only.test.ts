import { testEngines } from '../support/databases';
import { buildScene } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { useTestServer } from '../support/test-server';

describe.each(testEngines())('modification history is append-only in the database on %s', (engine) => {
  const context = useTestServer(engine);

  // toMatchObject, not toThrow: better-sqlite3's errors fail jest's Error check outside the first file loading it.
  it('refuses UPDATE and DELETE of history rows, and keeps accepting new ones', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const params = { Password: campaign.password as string, TransactionID: String(transaction.id) };
    expect((await editByGet(context.server.baseUrl, { ...params, AP: '1.00' })).answer.succeeded).toBe('True');
    const knex = context.database.db.knex;
    await expect(
      knex('modifications').where({ transaction_id: transaction.id }).update({ reason: 'rewritten' }),
    ).rejects.toMatchObject({ message: expect.stringMatching(/append-only/) });
    await expect(knex('modifications').where({ transaction_id: transaction.id }).delete()).rejects.toMatchObject({
      message: expect.stringMatching(/append-only/),
    });
    expect(
      (await editByGet(context.server.baseUrl, { ...params, AP: '2.00', REASON: 'correction' })).answer.succeeded,
    ).toBe('True');
    const history = await context.server.services.stores.modifications.listForTransaction(transaction.id);
    expect(history.map((m) => [m.reason, m.after.affiliatePayout])).toEqual([
      [null, 10000n],
      ['correction', 20000n],
    ]);
  });
});
