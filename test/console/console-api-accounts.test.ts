import { testEngines } from '../support/databases';
import { buildCampaign } from '../support/factories';
import { useTestServer } from '../support/test-server';
import { consoleClient, ConsoleClient } from './console-client';

describe.each(testEngines())('console: impact.com API accounts over HTTP on %s', (engine) => {
  const context = useTestServer(engine);
  let client: ConsoleClient;
  beforeAll(async () => {
    client = await consoleClient(context.server.baseUrl);
  });
  const services = () => context.server.services;
  const lastAudit = async () => (await services().consoleAudit.recent({ limit: 1 }))[0];

  it('links the API accounts page from the menu, with the create form', async () => {
    const page = await client.get('/admin/campaigns');
    expect(page.body).toContain('<a href="/admin/api-accounts">API accounts</a>');
    const list = await client.get('/admin/api-accounts');
    expect(list.status).toBe(200);
    expect(list.body).toContain('<a href="/admin/api-accounts" aria-current="page">API accounts</a>');
    expect(list.body).toContain('<form class="stack" method="post" action="/admin/api-accounts">');
  });

  it('creates an account, shows its token on that page only, lists it and revokes it, audited', async () => {
    const first = await buildCampaign(services());
    const second = await buildCampaign(services());
    const created = await client.post('/admin/api-accounts', {
      name: 'Acme <returns>',
      campaignIds: `${second.id}, ${first.id}`,
    });
    expect(created.status).toBe(201);
    const sid = /<code id="new-account-sid">([A-Za-z0-9]+)<\/code>/.exec(created.body)?.[1] ?? '';
    const token = /<code id="new-auth-token">([^<]+)<\/code>/.exec(created.body)?.[1] ?? '';
    expect(sid).not.toBe('');
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(created.body).toContain('The auth token is shown only now.');
    expect(created.body).toContain('Acme &lt;returns&gt;');
    // The token signs in at the API: it is the account's real one.
    expect(await services().apiAccounts.authenticate(sid, token)).toMatchObject({ accountSid: sid });
    expect((await services().apiAccounts.list()).find((account) => account.accountSid === sid)).toMatchObject({
      campaignIds: [first.id, second.id].sort((a, b) => a - b),
    });
    const audit = await lastAudit();
    expect(audit).toMatchObject({ actor: 'admin-token', action: 'api_account.create', target: `API account ${sid}` });
    expect(JSON.stringify(audit)).not.toContain(token);

    const listed = await client.get('/admin/api-accounts');
    expect(listed.body).toContain(`<code>${sid}</code>`);
    expect(listed.body).not.toContain(token);
    expect(listed.body).toContain(`action="/admin/api-accounts/${sid}/revoke"`);

    const revoked = await client.post(`/admin/api-accounts/${sid}/revoke`, {});
    expect([revoked.status, revoked.location]).toEqual([303, '/admin/api-accounts?done=api-account-revoked']);
    expect(await services().apiAccounts.authenticate(sid, token)).toBeNull();
    expect(await lastAudit()).toMatchObject({ action: 'api_account.revoke', target: `API account ${sid}` });
    const after = await client.get('/admin/api-accounts?done=api-account-revoked');
    expect(after.body).toContain('API account revoked: its token no longer signs in.');
    expect(after.body).not.toContain(`action="/admin/api-accounts/${sid}/revoke"`);
  });

  it('refuses a form without a name or with bad campaign ids, keeping what was typed, and stores nothing', async () => {
    const before = (await services().apiAccounts.list()).length;
    const refused = await client.post('/admin/api-accounts', { name: '', campaignIds: '12, abc' });
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('Give the account a name.');
    expect(refused.body).toContain('Campaign IDs must be positive whole numbers (not “abc”).');
    expect(refused.body).toContain('value="12, abc"');
    const unknown = await client.post('/admin/api-accounts', { name: 'x', campaignIds: '4294967000' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toContain('4294967000');
    expect((await services().apiAccounts.list()).length).toBe(before);
  });

  it('answers 404 for revoking an account that does not exist', async () => {
    const missing = await client.post('/admin/api-accounts/IRNOSUCHACCOUNT/revoke', {});
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('That API account does not exist.');
  });
});
