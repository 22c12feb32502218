import { testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign, buildScene, buildTransaction, rollUpToNow } from '../support/factories';
import { editByGet, editByPost } from '../support/linktrust-xml';
import { useTestServer } from '../support/test-server';

describe.each(testEngines())('Idempotency-Key on /transaction.edit on %s', (engine) => {
  const context = useTestServer(engine);

  const history = (id: number) => context.server.services.stores.modifications.listForTransaction(id);
  const uniqueKey = () => `key-${Math.random().toString(36).slice(2)}`;

  it('replays the first answer verbatim for the same key and parameters: one history row, one postback', async () => {
    const affiliate = await buildAffiliate(context.server.services, { postbackUrl: 'https://example.com/pb?t=[=_TransID=]' });
    const campaign = await buildCampaign(context.server.services);
    const transaction = await buildTransaction(context.server.services, campaign, affiliate);
    await rollUpToNow(context.server.services);
    const key = uniqueKey();
    const params = { Password: campaign.password as string, TransactionID: String(transaction.id), AP: '1.00', executeaffiliatepixel: 'yes', IdempotencyKey: key };
    const first = await editByGet(context.server.baseUrl, params);
    expect(first.answer.succeeded).toBe('True');
    // The retry spells names differently and sends the parameters in the body: still the same request.
    const retry = await editByPost(context.server.baseUrl, { password: campaign.password as string, transactionid: String(transaction.id), ap: '1.00', EXECUTEAFFILIATEPIXEL: 'yes', idempotencykey: key });
    expect(retry.body).toBe(first.body);
    expect(await history(transaction.id)).toHaveLength(1);
    expect(await context.server.services.stores.postbacks.list({ transactionId: transaction.id })).toHaveLength(1);
  });

  it('accepts the key as an Idempotency-Key header', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const key = uniqueKey();
    const params = { Password: campaign.password as string, TransactionID: String(transaction.id), MP: '5.00' };
    const first = await editByGet(context.server.baseUrl, params, { 'idempotency-key': key });
    const second = await editByGet(context.server.baseUrl, params, { 'idempotency-key': key });
    expect(second.body).toBe(first.body);
    expect(await history(transaction.id)).toHaveLength(1);
  });

  it('refuses the same key with other parameters, and a header that contradicts the parameter', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const key = uniqueKey();
    const base = { Password: campaign.password as string, TransactionID: String(transaction.id), IdempotencyKey: key };
    expect((await editByGet(context.server.baseUrl, { ...base, AP: '1.00' })).answer.succeeded).toBe('True');
    const other = await editByGet(context.server.baseUrl, { ...base, AP: '2.00' });
    expect(other.answer.error).toEqual({ type: 'permanent', message: 'Permanent failure: Invalid parameter value for IdempotencyKey' });
    const contradicted = await editByGet(context.server.baseUrl, { ...base, IdempotencyKey: uniqueKey(), AP: '3.00' }, { 'idempotency-key': uniqueKey() });
    expect(contradicted.answer.error?.message).toBe('Permanent failure: Invalid parameter value for IdempotencyKey');
    const bad = await editByGet(context.server.baseUrl, { ...base, IdempotencyKey: 'has space', AP: '3.00' });
    expect(bad.answer.error?.message).toBe('Permanent failure: Invalid parameter value for IdempotencyKey');
    expect(await history(transaction.id)).toHaveLength(1);
  });

  it('does not remember failures: a retry after a wrong password runs again', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const key = uniqueKey();
    const params = { TransactionID: String(transaction.id), AP: '7.00', IdempotencyKey: key };
    const failed = await editByGet(context.server.baseUrl, { ...params, Password: 'wrong' });
    expect(failed.answer.error?.message).toBe('Permanent failure: Invalid authentication credentials');
    const fixed = await editByGet(context.server.baseUrl, { ...params, Password: campaign.password as string });
    expect(fixed.answer.succeeded).toBe('True');
  });

  it('applies once when retries race each other', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const key = uniqueKey();
    const params = { Password: campaign.password as string, TransactionID: String(transaction.id), AP: '9.99', IdempotencyKey: key };
    const answers = await Promise.all(Array.from({ length: 10 }, () => editByGet(context.server.baseUrl, params)));
    expect(answers.map((a) => a.answer.succeeded)).toEqual(Array(10).fill('True'));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(await history(transaction.id)).toHaveLength(1);
  });

  it('runs again once the remembered answer has expired', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const key = uniqueKey();
    const params = { Password: campaign.password as string, TransactionID: String(transaction.id), AP: '1.50', IdempotencyKey: key };
    await editByGet(context.server.baseUrl, params);
    await context.database.db.knex('idempotency_keys').where({ transaction_id: transaction.id }).update({ expires_at: Date.now() - 1 });
    expect((await editByGet(context.server.baseUrl, params)).answer.succeeded).toBe('True');
    expect(await history(transaction.id)).toHaveLength(2);
  });

  it('behaves exactly like LinkTrust without a key: every request applies', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const params = { Password: campaign.password as string, TransactionID: String(transaction.id), AP: '1.00' };
    await editByGet(context.server.baseUrl, params);
    await editByGet(context.server.baseUrl, params);
    expect(await history(transaction.id)).toHaveLength(2);
  });
});
