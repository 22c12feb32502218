import { ImpactApiWorker } from '../../src/impact-api/impact-api-worker';
import { testEngines } from '../support/databases';
import { rollUpToNow } from '../support/factories';
import { useTestServer } from '../support/test-server';
import { admin, impactCall, impactScene } from '../impact-api/impact-api-helpers';

describe.each(testEngines())('impact.com API accounts tied to a merchant on %s', (engine) => {
  const context = useTestServer(engine);
  const base = () => context.server.baseUrl;
  const services = () => context.server.services;
  const apply = async () => {
    await rollUpToNow(services());
    await services().impactApiWorker.drain();
  };
  const modify = async (account: { accountSid: string; authToken: string }, actionId: string, amount: string) => {
    const queued = await impactCall(base(), 'PUT', `/Advertisers/${account.accountSid}/Actions`, {
      account,
      form: { ActionId: actionId, Amount: amount, Reason: 'ITEM_RETURNED' },
    });
    expect(queued.status).toBe(200);
    await apply();
    return (await impactCall(base(), 'GET', queued.body.QueuedUri, { account })).body.Code as string;
  };

  it("covers exactly the merchant's campaigns, also those it is given later, and none it loses", async () => {
    const [first, later, foreign] = [
      await impactScene(services(), base()),
      await impactScene(services(), base()),
      await impactScene(services(), base()),
    ];
    const merchant = await admin(base(), 'POST', '/merchants', {
      name: 'Tied brand',
      campaignIds: [first.campaign.id],
    });
    const created = await admin(base(), 'POST', '/api-accounts', { name: 'Brand bot', merchantId: merchant.body.id });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ merchantId: merchant.body.id, campaignIds: [first.campaign.id] });
    const account = created.body as { accountSid: string; authToken: string };

    expect(await modify(account, (await first.action()).actionId, '80.00')).toBe('MODIFIED');
    const laterAction = await later.action();
    expect(await modify(account, laterAction.actionId, '70.00')).toBe('ACTION_NOT_FOUND');
    expect(await modify(account, (await foreign.action()).actionId, '60.00')).toBe('ACTION_NOT_FOUND');

    // Given the later campaign, the account covers it at once; taken away, the first is no longer covered.
    await admin(base(), 'PATCH', `/merchants/${merchant.body.id}`, { campaignIds: [later.campaign.id] });
    expect(await modify(account, laterAction.actionId, '70.00')).toBe('MODIFIED');
    expect(await modify(account, (await first.action()).actionId, '50.00')).toBe('ACTION_NOT_FOUND');
    const listed = (await admin(base(), 'GET', '/api-accounts')).body.find(
      (a: { accountSid: string }) => a.accountSid === account.accountSid,
    );
    expect(listed).toMatchObject({ merchantId: merchant.body.id, campaignIds: [later.campaign.id] });
  });

  it('checks the merchant again under the row lock: a campaign handed over after the round read its scope is not found', async () => {
    const [own, other] = [await impactScene(services(), base()), await impactScene(services(), base())];
    const merchant = await admin(base(), 'POST', '/merchants', {
      name: 'Racing brand',
      campaignIds: [own.campaign.id],
    });
    const rival = await admin(base(), 'POST', '/merchants', { name: 'Rival brand', campaignIds: [other.campaign.id] });
    const created = await admin(base(), 'POST', '/api-accounts', { name: 'Brand bot', merchantId: merchant.body.id });
    const account = created.body as { accountSid: string; authToken: string };
    const action = await own.action();
    const queued = await impactCall(base(), 'PUT', `/Advertisers/${account.accountSid}/Actions`, {
      account,
      form: { ActionId: action.actionId, Amount: '80.00', Reason: 'ITEM_RETURNED' },
    });
    expect(queued.status).toBe(200);
    await rollUpToNow(services());
    // A worker whose round reads the account's scope, and then the network hands the campaign to the rival.
    const deps = (services().impactApiWorker as unknown as { deps: ConstructorParameters<typeof ImpactApiWorker>[0] })
      .deps;
    const racing = new ImpactApiWorker({
      ...deps,
      accounts: {
        campaignIdsOf: (id) => deps.accounts.campaignIdsOf(id),
        merchantOf: async (id) => {
          const merchantId = await deps.accounts.merchantOf(id);
          await services().merchants.update(merchant.body.id, { campaignIds: [] });
          await services().merchants.update(rival.body.id, { campaignIds: [other.campaign.id, own.campaign.id] });
          return merchantId;
        },
      },
    });
    await racing.drain();
    const answer = await impactCall(base(), 'GET', queued.body.QueuedUri, { account });
    expect(answer.body.Code).toBe('ACTION_NOT_FOUND');
    expect(await services().stores.modifications.listForTransaction(action.id)).toEqual([]);
  });

  it('takes campaignIds or merchantId, not both, and refuses a missing merchant', async () => {
    const { campaign } = await impactScene(services(), base());
    const merchant = await admin(base(), 'POST', '/merchants', { name: 'Either brand' });
    expect(
      (
        await admin(base(), 'POST', '/api-accounts', {
          name: 'x',
          campaignIds: [campaign.id],
          merchantId: merchant.body.id,
        })
      ).status,
    ).toBe(400);
    expect((await admin(base(), 'POST', '/api-accounts', { name: 'x' })).status).toBe(400);
    const missing = await admin(base(), 'POST', '/api-accounts', { name: 'x', merchantId: 987654 });
    expect([missing.status, missing.body.error.message]).toEqual([400, 'merchantId: merchant 987654 not found']);
  });
});
