import { testEngines } from '../support/databases';
import { buildCampaign } from '../support/factories';
import { adminRequest, TEST_ADMIN_TOKEN, useTestServer } from '../support/test-server';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe.each(testEngines())('admin API: whitelist on %s', (engine) => {
  const context = useTestServer(engine);

  const admin = (method: string, path: string, body?: unknown) =>
    adminRequest(context.server.baseUrl, method, path, body);

  it('adds a global entry and a campaign entry, lists them by scope, and deletes them', async () => {
    const campaign = await buildCampaign(context.server.services);
    const global = await admin('POST', '/whitelist', { address: '203.0.113.7' });
    expect([global.status, global.body]).toEqual([
      201,
      {
        id: expect.any(Number),
        address: '203.0.113.7',
        campaignId: null,
        note: null,
        createdAt: expect.stringMatching(ISO),
      },
    ]);
    const own = await admin('POST', '/whitelist', {
      address: '10.0.0.0/8',
      campaignId: campaign.id,
      note: 'merchant office',
    });
    expect([own.status, own.body]).toEqual([
      201,
      {
        id: expect.any(Number),
        address: '10.0.0.0/8',
        campaignId: campaign.id,
        note: 'merchant office',
        createdAt: expect.stringMatching(ISO),
      },
    ]);

    expect(await admin('GET', '/whitelist')).toMatchObject({ status: 200, body: [global.body, own.body] });
    expect((await admin('GET', `/whitelist?campaignId=${campaign.id}`)).body).toEqual([own.body]);
    expect((await admin('GET', '/whitelist?campaignId=global')).body).toEqual([global.body]);

    const deleted = await fetch(`${context.server.baseUrl}/api/v1/whitelist/${global.body.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect([deleted.status, await deleted.text()]).toEqual([204, '']);
    expect(await admin('DELETE', `/whitelist/${global.body.id}`)).toMatchObject({
      status: 404,
      body: { error: { code: 'not_found', message: `whitelist entry ${global.body.id} not found` } },
    });
    expect((await admin('DELETE', `/whitelist/${own.body.id}`)).status).toBe(204);
    expect((await admin('GET', '/whitelist')).body).toEqual([]);
  });

  it.each([
    [' 192.0.2.1 ', '192.0.2.1'],
    ['2001:DB8:0:0::1', '2001:db8::1'],
    ['0:0:0:0:0:0:0:1/128', '::1/128'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
    ['192.0.2.0/24', '192.0.2.0/24'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['::/0', '::/0'],
  ])('stores %j as %j', async (address, stored) => {
    const created = await admin('POST', '/whitelist', { address, note: 'normalised' });
    expect([created.status, created.body.address]).toEqual([201, stored]);
    expect((await admin('DELETE', `/whitelist/${created.body.id}`)).status).toBe(204);
  });

  it.each([
    '',
    'not-an-ip',
    '192.0.2',
    '192.0.2.256',
    '192.0.2.0/33',
    '192.0.2.0/',
    '192.0.2.0/8/8',
    '::1/129',
    '2001:db8::g',
    '::ffff:192.0.2.0/80',
    'example.com',
  ])('refuses the address %j with 400', async (address) => {
    expect(await admin('POST', '/whitelist', { address })).toMatchObject({
      status: 400,
      body: {
        error: { code: 'validation_failed', message: `address "${address}" is not an IPv4/IPv6 address or CIDR range` },
      },
    });
  });

  it.each([
    [{}, 'address'],
    [{ address: 7 }, 'address'],
    [{ address: '192.0.2.1', campaignId: 'all' }, 'campaignId'],
    [{ address: '192.0.2.1', scope: 'global' }, 'scope'],
  ])('refuses the body %j with 400 naming %s', async (body, field) => {
    expect(await admin('POST', '/whitelist', body)).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed', message: expect.stringContaining(field) } },
    });
  });

  it('refuses an entry for a campaign that does not exist', async () => {
    expect(await admin('POST', '/whitelist', { address: '192.0.2.1', campaignId: 4_294_967_295 })).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed', message: 'campaign 4294967295 does not exist' } },
    });
    expect((await admin('GET', '/whitelist')).body).toEqual([]);
  });
});
