import { testEngines } from '../support/databases';
import { adminRequest, useTestServer } from '../support/test-server';
import { consoleClient } from '../console/console-client';
import { twoMerchants } from './merchant-scene';

const SELF_SERVICE_OFF =
  'Your network manages this campaign’s password and white-list. Ask the network to change them.';

describe.each(testEngines())('a merchant’s own campaigns and self-service on %s', (engine) => {
  const context = useTestServer(engine, { TRUST_PROXY: 'loopback' });
  const services = () => context.server.services;
  const api = (method: string, path: string, body?: unknown) =>
    adminRequest(context.server.baseUrl, method, path, body);
  /** A /transaction.edit request from `clientIp`; answers the XML's Success text. */
  const edit = async (query: string, clientIp = '198.51.100.20') => {
    const response = await fetch(`${context.server.baseUrl}/transaction.edit?${query}`, {
      headers: { 'x-forwarded-for': clientIp },
    });
    return response.text();
  };

  it('lists and shows only its own campaigns, with their posting URLs; another’s answers as a missing one', async () => {
    const [acme, globex] = await twoMerchants(context.server.baseUrl, services());
    const list = await acme.client.get('/admin/campaigns');
    expect(list.status).toBe(200);
    expect(list.body).toContain(`href="/admin/campaigns/${acme.campaign.id}"`);
    expect(list.body).not.toContain(`/admin/campaigns/${globex.campaign.id}`);
    expect(list.body).not.toContain('New campaign');
    // A search cannot reach past the merchant's campaigns either.
    const searched = await acme.client.get(`/admin/campaigns?q=${globex.campaign.id}`);
    expect(searched.body).not.toContain(`/admin/campaigns/${globex.campaign.id}`);
    expect(searched.body).toContain('No campaigns');

    const own = await acme.client.get(`/admin/campaigns/${acme.campaign.id}`);
    expect(own.status).toBe(200);
    expect(own.body).toContain('Transaction ID URL');
    expect(own.body).toContain('Posting URLs');
    expect(own.body).toContain('Set by the network.');
    // The network's forms are not offered: no rename, no settings, no intake, no global white-list count.
    for (const absent of ['/name"', '/settings"', '/intake"', 'href="/admin/whitelist'])
      expect([absent, own.body.includes(absent)]).toEqual([absent, false]);
    expect(own.body).toContain(SELF_SERVICE_OFF);
    expect(own.body).not.toContain(`action="/admin/campaigns/${acme.campaign.id}/password"`);

    const foreign = await acme.client.get(`/admin/campaigns/${globex.campaign.id}`);
    const missing = await acme.client.get('/admin/campaigns/987654321');
    expect([foreign.status, missing.status]).toEqual([404, 404]);
    expect(foreign.body).toBe(missing.body);
    // The network's pages about campaigns stay closed to it.
    for (const [path, form] of [
      [`/admin/campaigns/${acme.campaign.id}/settings`, { allowExternalModification: 'on' }],
      [`/admin/campaigns/${acme.campaign.id}/name`, { name: 'Mine now' }],
      ['/admin/campaigns', { name: 'New one' }],
    ] as const)
      expect([path, (await acme.client.post(path, form)).status]).toEqual([path, 404]);
    expect((await services().stores.campaigns.get(acme.campaign.id))?.name).toBe(acme.campaign.name);
  });

  it('without self-service, refuses to change the password or the white-list, and changes nothing', async () => {
    const [acme] = await twoMerchants(context.server.baseUrl, services());
    const before = await services().stores.campaigns.get(acme.campaign.id);
    const password = await acme.client.post(`/admin/campaigns/${acme.campaign.id}/password`, {
      password: 'a brand new secret',
      confirm: 'a brand new secret',
    });
    expect(password.status).toBe(403);
    expect(password.body).toContain(SELF_SERVICE_OFF);
    const added = await acme.client.post(`/admin/campaigns/${acme.campaign.id}/whitelist`, {
      address: '203.0.113.9',
    });
    expect(added.status).toBe(403);
    expect((await services().stores.campaigns.get(acme.campaign.id))?.passwordHash).toBe(before?.passwordHash);
    expect(await services().admin.listWhitelist(acme.campaign.id)).toEqual([]);
  });

  it('with self-service, rotates its password and keeps its white-list; /transaction.edit follows at once', async () => {
    const [acme, globex] = await twoMerchants(context.server.baseUrl, services(), { selfService: true });
    const tx = acme.transaction.id;
    const mismatch = await acme.client.post(`/admin/campaigns/${acme.campaign.id}/password`, {
      password: 'rotated secret 1',
      confirm: 'rotated secret 2',
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body).toContain('The two passwords are not the same.');
    const rotated = await acme.client.post(`/admin/campaigns/${acme.campaign.id}/password`, {
      password: 'rotated secret 1',
      confirm: 'rotated secret 1',
    });
    expect([rotated.status, rotated.location]).toEqual([303, `/admin/campaigns/${acme.campaign.id}?done=password`]);
    expect(await edit(`Password=${acme.campaign.password}&TransactionID=${tx}&AP=1.00`)).toContain(
      'Invalid authentication credentials',
    );
    expect(await edit(`Password=rotated%20secret%201&TransactionID=${tx}&AP=1.00`)).toContain('True');

    // White-list: add (the address normalised), then only white-listed clients get in.
    await api('PATCH', `/campaigns/${acme.campaign.id}`, { whitelistOnly: true });
    const bad = await acme.client.post(`/admin/campaigns/${acme.campaign.id}/whitelist`, { address: 'not an ip' });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('value="not an ip"');
    const added = await acme.client.post(`/admin/campaigns/${acme.campaign.id}/whitelist`, {
      address: '198.51.100.0/24',
      note: 'Acme CRM',
    });
    expect([added.status, added.location]).toEqual([303, `/admin/campaigns/${acme.campaign.id}?done=whitelist-added`]);
    const [entry] = await services().admin.listWhitelist(acme.campaign.id);
    expect(entry).toMatchObject({ address: '198.51.100.0/24', campaignId: acme.campaign.id, note: 'Acme CRM' });
    expect(await edit(`Password=rotated%20secret%201&TransactionID=${tx}&AP=2.00`, '198.51.100.20')).toContain('True');
    expect(await edit(`Password=rotated%20secret%201&TransactionID=${tx}&AP=3.00`, '192.0.2.20')).toContain('False');

    // Entries it may not remove through its campaign: a global one, and another campaign's, answer as gone.
    const global = (await api('POST', '/whitelist', { address: '192.0.2.77' })).body;
    const others = (await api('POST', '/whitelist', { address: '192.0.2.78', campaignId: globex.campaign.id })).body;
    for (const id of [global.id, others.id, 987654321]) {
      const answer = await acme.client.post(`/admin/campaigns/${acme.campaign.id}/whitelist/${id}/remove`, {});
      expect([id, answer.status]).toEqual([id, 404]);
      expect(answer.body).toContain('That white-list entry no longer exists.');
    }
    expect((await services().admin.listWhitelist()).map((e) => e.id)).toEqual(
      expect.arrayContaining([global.id, others.id]),
    );
    // Nor anything of another merchant's campaign, which answers as a missing campaign.
    const foreign = await acme.client.post(`/admin/campaigns/${globex.campaign.id}/whitelist`, {
      address: '203.0.113.1',
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toBe((await acme.client.get('/admin/campaigns/987654321')).body);
    expect(
      (await acme.client.post(`/admin/campaigns/${globex.campaign.id}/password`, { password: 'x', confirm: 'x' }))
        .status,
    ).toBe(404);

    const removed = await acme.client.post(`/admin/campaigns/${acme.campaign.id}/whitelist/${entry.id}/remove`, {});
    expect([removed.status, removed.location]).toEqual([
      303,
      `/admin/campaigns/${acme.campaign.id}?done=whitelist-removed`,
    ]);
    expect(await services().admin.listWhitelist(acme.campaign.id)).toEqual([]);

    // Each change is audited with the merchant user's address.
    const audit = (await services().consoleAudit.recent({ limit: 20 })).filter((a) => a.actor === acme.email);
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['campaign.password_rotated', 'whitelist.add', 'whitelist.remove']),
    );
    expect(audit.find((a) => a.action === 'whitelist.add')?.target).toBe(`campaign ${acme.campaign.id}`);

    // Self-service turned off counts at once.
    await api('PATCH', `/merchants/${acme.merchant.id}`, { selfService: false });
    const late = await acme.client.post(`/admin/campaigns/${acme.campaign.id}/whitelist`, { address: '203.0.113.2' });
    expect(late.status).toBe(403);
  });

  it('shows the network the same white-list form on a campaign page', async () => {
    const [acme] = await twoMerchants(context.server.baseUrl, services());
    const admin = await consoleClient(context.server.baseUrl);
    const page = await admin.get(`/admin/campaigns/${acme.campaign.id}`);
    expect(page.body).toContain(`action="/admin/campaigns/${acme.campaign.id}/whitelist"`);
    expect(page.body).toMatch(/\d+ global entr/);
    const added = await admin.post(`/admin/campaigns/${acme.campaign.id}/whitelist`, { address: '2001:db8::/32' });
    expect(added.status).toBe(303);
    const [entry] = await services().admin.listWhitelist(acme.campaign.id);
    expect(entry.address).toBe('2001:db8::/32');
    const removed = await admin.post(`/admin/campaigns/${acme.campaign.id}/whitelist/${entry.id}/remove`, {});
    expect(removed.status).toBe(303);
    expect(await services().admin.listWhitelist(acme.campaign.id)).toEqual([]);
  });

  it('shows a merchant only its campaigns’ refusals; another’s CID finds nothing, like a missing one', async () => {
    const [acme, globex] = await twoMerchants(context.server.baseUrl, services());
    expect(await edit(`Password=stale&TransactionID=${acme.transaction.id}&AP=1.00`, '198.51.100.31')).toContain(
      'False',
    );
    expect(await edit(`Password=stale&TransactionID=${globex.transaction.id}&AP=1.00`, '198.51.100.32')).toContain(
      'False',
    );
    expect(await edit(`Password=stale&TransactionID=999999999&AP=1.00`, '198.51.100.33')).toContain('False');
    await services().refusals.flush();
    const page = await acme.client.get('/admin/refusals');
    expect(page.status).toBe(200);
    expect(page.body).toContain('198.51.100.31');
    expect(page.body).toContain('your campaigns’ requests');
    for (const other of ['198.51.100.32', '198.51.100.33']) expect(page.body).not.toContain(other);
    const foreign = await acme.client.get(`/admin/refusals?campaignId=${globex.campaign.id}`);
    const missing = await acme.client.get('/admin/refusals?campaignId=987654321');
    expect(foreign.status).toBe(200);
    expect(foreign.body.replace(String(globex.campaign.id), 'N')).toBe(missing.body.replace('987654321', 'N'));
    expect(foreign.body).toContain('No refusals match this filter.');
    // The network still sees every one of them.
    const all = await (await consoleClient(context.server.baseUrl)).get('/admin/refusals');
    for (const ip of ['198.51.100.31', '198.51.100.32', '198.51.100.33']) expect(all.body).toContain(ip);
  });
});
