import { testEngines } from '../support/databases';
import { buildCampaign } from '../support/factories';
import { useTestServer } from '../support/test-server';
import { AdminError } from '../../src/http/admin-errors';

describe.each(testEngines())('merchants and the campaigns they own on %s', (engine) => {
  const context = useTestServer(engine);
  const services = () => context.server.services;
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => null,
      (error) =>
        error instanceof AdminError ? { status: error.status, code: error.code, message: error.message } : error,
    );

  it('creates a merchant with its campaigns, and a campaign then names its merchant', async () => {
    const [a, b] = [await buildCampaign(services()), await buildCampaign(services())];
    const merchant = await services().merchants.create({ name: 'Acme Outdoor', campaignIds: [b.id, a.id, a.id] });
    expect(merchant).toMatchObject({
      name: 'Acme Outdoor',
      selfService: false,
      campaignIds: [a.id, b.id].sort((x, y) => x - y),
    });
    expect((await services().stores.campaigns.get(a.id))?.merchantId).toBe(merchant.id);
    expect(await services().merchants.get(merchant.id)).toEqual(merchant);
    expect((await services().merchants.list()).find((m) => m.id === merchant.id)).toEqual(merchant);
  });

  it('refuses a campaign another merchant owns (409, naming it) and one that does not exist (400), changing nothing', async () => {
    const campaign = await buildCampaign(services());
    const owner = await services().merchants.create({ name: 'Owner', campaignIds: [campaign.id] });
    const other = await buildCampaign(services());
    expect(await refusal(services().merchants.create({ name: 'Thief', campaignIds: [other.id, campaign.id] }))).toEqual(
      {
        status: 409,
        code: 'conflict',
        message: `campaign ${campaign.id} belongs to merchant ${owner.id}`,
      },
    );
    expect(
      await refusal(services().merchants.update(owner.id, { campaignIds: [campaign.id, 987_654_321] })),
    ).toMatchObject({
      status: 400,
      message: 'campaignIds: campaign 987654321 does not exist',
    });
    // Nothing of either refused unit stayed: no "Thief", and the other campaign is still the network's.
    expect((await services().merchants.list()).map((m) => m.name)).not.toContain('Thief');
    expect((await services().stores.campaigns.get(other.id))?.merchantId).toBeNull();
    expect((await services().merchants.get(owner.id)).campaignIds).toEqual([campaign.id]);
  });

  it('replaces the list on update (campaigns left out go back to the network), renames, and turns self-service on', async () => {
    const [a, b, c] = [
      await buildCampaign(services()),
      await buildCampaign(services()),
      await buildCampaign(services()),
    ];
    const merchant = await services().merchants.create({ name: 'Old name', campaignIds: [a.id, b.id] });
    const updated = await services().merchants.update(merchant.id, {
      name: 'New name',
      selfService: true,
      campaignIds: [b.id, c.id],
    });
    expect(updated).toMatchObject({
      name: 'New name',
      selfService: true,
      campaignIds: [b.id, c.id].sort((x, y) => x - y),
    });
    expect((await services().stores.campaigns.get(a.id))?.merchantId).toBeNull();
    // Without campaignIds the list stays as it is.
    expect((await services().merchants.update(merchant.id, { name: 'Newer' })).campaignIds).toEqual(
      updated.campaignIds,
    );
    expect((await services().merchants.update(merchant.id, { campaignIds: [] })).campaignIds).toEqual([]);
  });

  it('answers 404 for a merchant that does not exist', async () => {
    expect(await refusal(services().merchants.get(987_654_321))).toMatchObject({ status: 404 });
    expect(await refusal(services().merchants.update(987_654_321, { name: 'x' }))).toMatchObject({ status: 404 });
  });
});
