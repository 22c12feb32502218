import { testEngines } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction, rollUpToNow } from '../support/factories';
import { adminRequest, useTestServer } from '../support/test-server';
import { consoleClient } from '../console/console-client';

type Refusal = { door: string; clientIp: string; campaignId: number | null; message: string; count: number };

describe.each(testEngines())('refusal counts for support on %s', (engine) => {
  const context = useTestServer(engine, { TRUST_PROXY: 'loopback' });
  const edit = (query: string, clientIp: string) =>
    fetch(`${context.server.baseUrl}/transaction.edit?${query}`, { headers: { 'x-forwarded-for': clientIp } }).then(
      (response) => response.text(),
    );
  const refusals = async (query = '') => {
    const answer = await adminRequest(context.server.baseUrl, 'GET', `/refusals${query}`);
    return { status: answer.status, body: answer.body as Refusal[] };
  };

  it('counts what each client was refused, with the campaign the checks found or the CID it gave', async () => {
    const { services } = context.server;
    const campaign = await buildCampaign(services);
    const transaction = await buildTransaction(services, campaign, await buildAffiliate(services));
    await rollUpToNow(services);
    const since = new Date(Date.now() - 1000).toISOString();
    // A CRM with a stale password, twice; another sending AP=-1 with its CID; a typo'd id; and a success.
    expect(await edit(`Password=stale&TransactionID=${transaction.id}&AP=1.00`, '198.51.100.7')).toContain('False');
    expect(await edit(`Password=stale&TransactionID=${transaction.id}&AP=2.00`, '198.51.100.7')).toContain('False');
    expect(await edit(`Password=x&CID=${campaign.id}&MerchantreferenceID=A-1&AP=-1`, '198.51.100.8')).toContain(
      'Invalid parameter value for AP',
    );
    expect(await edit(`Password=x&TransactionID=999999999&AP=1.00`, '198.51.100.8')).toContain('False');
    expect(
      await edit(`Password=${campaign.password}&TransactionID=${transaction.id}&AP=3.00`, '198.51.100.7'),
    ).toContain('True');

    const all = await refusals(`?since=${encodeURIComponent(since)}`);
    expect(all.status).toBe(200);
    const mine = all.body.filter((r) => r.clientIp.startsWith('198.51.100.'));
    expect(mine).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          door: 'linktrust',
          clientIp: '198.51.100.7',
          campaignId: campaign.id,
          message: 'Permanent failure: Invalid authentication credentials',
          count: 2,
        }),
        expect.objectContaining({
          clientIp: '198.51.100.8',
          campaignId: campaign.id,
          message: 'Permanent failure: Invalid parameter value for AP',
          count: 1,
        }),
        expect.objectContaining({
          clientIp: '198.51.100.8',
          campaignId: null,
          message: 'Permanent failure: Invalid transaction specified',
          count: 1,
        }),
      ]),
    );
    expect(mine).toHaveLength(3);

    // Counted again after a flush: the same row grows.
    expect(await edit(`Password=stale&TransactionID=${transaction.id}&AP=4.00`, '198.51.100.7')).toContain('False');
    const byCampaign = await refusals(`?campaignId=${campaign.id}&clientIp=198.51.100.7`);
    expect(byCampaign.body).toEqual([
      expect.objectContaining({ message: 'Permanent failure: Invalid authentication credentials', count: 3 }),
    ]);
    expect((await refusals('?limit=1')).body).toHaveLength(1);

    // The console's Refusals page, filtered by the client address.
    const console = await consoleClient(context.server.baseUrl);
    const page = await console.get('/admin/refusals?clientIp=198.51.100.7');
    expect(page.status).toBe(200);
    expect(page.body).toContain('Permanent failure: Invalid authentication credentials');
    expect(page.body).toContain(`<a href="/admin/campaigns/${campaign.id}">${campaign.id}</a>`);
    expect(page.body).not.toContain('198.51.100.8');
    expect((await console.get('/admin/refusals?clientIp=nope')).status).toBe(400);
  });

  it('refuses a malformed query with a 400 naming the parameter', async () => {
    for (const [query, words] of [
      ['?campaignId=abc', 'campaignId'],
      ['?clientIp=not-an-ip', 'clientIp'],
      ['?since=yesterday', 'since'],
      ['?limit=5000', 'limit'],
    ]) {
      const answer = await adminRequest(context.server.baseUrl, 'GET', `/refusals${query}`);
      expect(answer.status).toBe(400);
      expect(JSON.stringify(answer.body)).toContain(words);
    }
  });
});
