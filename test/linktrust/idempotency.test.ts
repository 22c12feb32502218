import { testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign, buildScene, buildTransaction, rollUpToNow } from '../support/factories';
import { editByGet, editByPost } from '../support/linktrust-xml';
import { useTestServer } from '../support/test-server';

describe.each(testEngines())('Idempotency-Key on /transaction.edit on %s', (engine) => {
  const context = useTestServer(engine);

  const history = (id: number) => context.server.services.stores.modifications.listForTransaction(id);
  const uniqueKey = () => `key-${Math.random().toString(36).slice(2)}`;

  it('replays the first answer verbatim for the same key and parameters: one history row, one postback', async () => {
    const affiliate = await buildAffiliate(context.server.services, {
      postbackUrl: 'https://example.com/pb?t=[=_TransID=]',
    });
    const campaign = await buildCampaign(context.server.services);
    const transaction = await buildTransaction(context.server.services, campaign, affiliate);
    await rollUpToNow(context.server.services);
    const key = uniqueKey();
    const params = {
      Password: campaign.password as string,
      TransactionID: String(transaction.id),
      AP: '1.00',
      executeaffiliatepixel: 'yes',
      IdempotencyKey: key,
    };
    const first = await editByGet(context.server.baseUrl, params);
    expect(first.answer.succeeded).toBe('True');
    // The retry spells names differently and sends the parameters in the body: still the same request.
    const retry = await editByPost(context.server.baseUrl, {
      password: campaign.password as string,
      transactionid: String(transaction.id),
      ap: '1.00',
      EXECUTEAFFILIATEPIXEL: 'yes',
      idempotencykey: key,
    });
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
    expect(other.answer.error).toEqual({
      type: 'permanent',
      message: 'Permanent failure: Invalid parameter value for IdempotencyKey',
    });
    const contradicted = await editByGet(
      context.server.baseUrl,
      { ...base, IdempotencyKey: uniqueKey(), AP: '3.00' },
      { 'idempotency-key': uniqueKey() },
    );
    expect(contradicted.answer.error?.message).toBe('Permanent failure: Invalid parameter value for IdempotencyKey');
    const bad = await editByGet(context.server.baseUrl, { ...base, IdempotencyKey: 'has space', AP: '3.00' });
    expect(bad.answer.error?.message).toBe('Permanent failure: Invalid parameter value for IdempotencyKey');
    expect(await history(transaction.id)).toHaveLength(1);
  });

  it('answers a replay with a wrong or no password as a fresh request with it: no replayed success', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const key = uniqueKey();
    const params = { TransactionID: String(transaction.id), AP: '4.20', IdempotencyKey: key };
    const first = await editByGet(context.server.baseUrl, { ...params, Password: campaign.password as string });
    expect(first.answer.succeeded).toBe('True');
    const unauthorized = { type: 'permanent', message: 'Permanent failure: Invalid authentication credentials' };
    const wrong = await editByGet(context.server.baseUrl, { ...params, Password: 'wrong' });
    expect(wrong.answer.succeeded).toBe('False');
    expect(wrong.answer.error).toEqual(unauthorized);
    const none = await editByGet(context.server.baseUrl, params);
    expect(none.answer.error).toEqual(unauthorized);
    // Byte for byte what a fresh request with that password gets (the same key unused elsewhere).
    const fresh = await editByGet(context.server.baseUrl, {
      ...params,
      Password: 'wrong',
      IdempotencyKey: uniqueKey(),
    });
    expect(wrong.body).toBe(fresh.body);
    // Another campaign's password is no key to this campaign's answers either.
    const other = await buildCampaign(context.server.services);
    expect(
      (await editByGet(context.server.baseUrl, { ...params, Password: other.password as string })).answer.error,
    ).toEqual(unauthorized);
    // The right password still gets the stored answer.
    expect((await editByGet(context.server.baseUrl, { ...params, Password: campaign.password as string })).body).toBe(
      first.body,
    );
    expect(await history(transaction.id)).toHaveLength(1);
  });

  it("keeps each campaign's keys apart: another campaign may use the same key on its own transaction", async () => {
    const one = await buildScene(context.server.services);
    const two = await buildScene(context.server.services);
    const key = 'order-42';
    const edit = (scene: typeof one, ap: string) =>
      editByGet(context.server.baseUrl, {
        Password: scene.campaign.password as string,
        TransactionID: String(scene.transaction.id),
        AP: ap,
        IdempotencyKey: key,
      });
    expect((await edit(one, '1.00')).answer.succeeded).toBe('True');
    const second = await edit(two, '2.00');
    expect(second.answer.error).toBeNull();
    expect(second.answer.succeeded).toBe('True');
    expect(await history(two.transaction.id)).toHaveLength(1);
    // And each replays its own answer.
    expect((await edit(two, '2.00')).body).toBe(second.body);
    expect((await edit(one, '1.00')).answer.succeeded).toBe('True');
    expect(await history(one.transaction.id)).toHaveLength(1);
    expect(await history(two.transaction.id)).toHaveLength(1);
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
    const params = {
      Password: campaign.password as string,
      TransactionID: String(transaction.id),
      AP: '9.99',
      IdempotencyKey: key,
    };
    const answers = await Promise.all(Array.from({ length: 10 }, () => editByGet(context.server.baseUrl, params)));
    expect(answers.map((a) => a.answer.succeeded)).toEqual(Array(10).fill('True'));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(await history(transaction.id)).toHaveLength(1);
  });

  it('runs again once the remembered answer has expired', async () => {
    const { campaign, transaction } = await buildScene(context.server.services);
    const key = uniqueKey();
    const params = {
      Password: campaign.password as string,
      TransactionID: String(transaction.id),
      AP: '1.50',
      IdempotencyKey: key,
    };
    await editByGet(context.server.baseUrl, params);
    await context.database.db
      .knex('idempotency_keys')
      .where({ transaction_id: transaction.id })
      .update({ expires_at: Date.now() - 1 });
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
