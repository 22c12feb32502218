import { testEngines } from '../support/databases';
import { buildCampaign } from '../support/factories';
import { adminRequest, useTestServer } from '../support/test-server';
import { consoleClient, postSignIn, type ConsoleClient } from '../console/console-client';
import { duringNightly } from '../linktrust/edit-request';
import { choosePassword, twoMerchants as twoMerchantsScene } from './merchant-scene';

const PASSWORD = 'correct horse battery';

describe.each(testEngines())('merchants and their users on %s', (engine) => {
  const context = useTestServer(engine);
  const services = () => context.server.services;
  const api = (method: string, path: string, body?: unknown) =>
    adminRequest(context.server.baseUrl, method, path, body);

  /** Two merchants with a signed-in user each; Acme's address is longer than 64 characters (the actor columns' width), typed in upper case at sign-in. */
  const twoMerchants = () =>
    twoMerchantsScene(context.server.baseUrl, services(), {
      emailOf: (label, campaignId) =>
        `ops-${campaignId}@${label === 'Acme' ? `${'a'.repeat(60)}.${'b'.repeat(20)}.acme.example` : 'globex.example'}`,
      signInName: (email) => email.toUpperCase(),
    });

  it('creates, lists, shows and changes merchants; a campaign belongs to at most one', async () => {
    const [first, second] = [await buildCampaign(services()), await buildCampaign(services())];
    const created = await api('POST', '/merchants', { name: 'Brand', campaignIds: [first.id] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Brand', selfService: false, campaignIds: [first.id] });
    const other = await api('POST', '/merchants', { name: 'Rival', campaignIds: [first.id] });
    expect(other.status).toBe(409);
    expect(other.body.error.message).toBe(`campaign ${first.id} belongs to merchant ${created.body.id}`);
    const patched = await api('PATCH', `/merchants/${created.body.id}`, { name: 'Brand Co', campaignIds: [second.id] });
    expect(patched.body).toMatchObject({ id: created.body.id, name: 'Brand Co', campaignIds: [second.id] });
    expect((await api('GET', `/merchants/${created.body.id}`)).body.campaignIds).toEqual([second.id]);
    expect((await services().stores.campaigns.get(first.id))?.merchantId).toBeNull();
    const list = await api('GET', '/merchants');
    expect(list.body.map((m: { id: number }) => m.id)).toContain(created.body.id);
    expect((await api('GET', '/merchants/999999')).status).toBe(404);
    expect((await api('POST', '/merchants', { name: '' })).status).toBe(400);
    expect((await api('PATCH', `/merchants/${created.body.id}`, { campaignIds: [2_000_000_000] })).status).toBe(400);
  });

  it('creates a user with a one-time link, never a password; the link works once', async () => {
    const merchant = (await api('POST', '/merchants', { name: 'Linker' })).body;
    const created = await api('POST', `/merchants/${merchant.id}/users`, {
      email: ' New.User@Brand.Example ',
      name: 'New User',
    });
    expect(created.status).toBe(201);
    expect(created.body.user).toMatchObject({ email: 'new.user@brand.example', hasPassword: false, disabled: false });
    expect(JSON.stringify(created.body)).not.toMatch(/password_hash|\$2[aby]\$/);
    const link: string = created.body.setPasswordUrl;
    expect(link).toMatch(new RegExp(`^${context.server.baseUrl}/admin/set-password/[A-Za-z0-9_-]{43}$`));
    const mismatch = await choosePassword(link, PASSWORD, `${PASSWORD}!`);
    expect([mismatch.formStatus, mismatch.status]).toEqual([200, 400]);
    expect(mismatch.formBody).toContain('new.user@brand.example');
    expect(mismatch.body).toContain('The two passwords are not the same.');
    const short = await choosePassword(link, 'short');
    expect(short.body).toContain('at least 12 characters');
    const set = await choosePassword(link, PASSWORD);
    expect([set.status, set.location]).toEqual([303, '/admin/sign-in?done=password-set']);
    const again = await choosePassword(link, 'another long password');
    expect([again.formStatus, again.status]).toEqual([404, 404]);
    const users = await api('GET', `/merchants/${merchant.id}/users`);
    expect(users.body).toEqual([expect.objectContaining({ email: 'new.user@brand.example', hasPassword: true })]);
    expect(
      (await api('POST', `/merchants/${merchant.id}/users`, { email: 'NEW.USER@brand.example', name: 'Twin' })).status,
    ).toBe(409);
    expect((await api('POST', `/merchants/${merchant.id}/users`, { email: 'not-an-address', name: 'X' })).status).toBe(
      400,
    );
    expect((await api('POST', '/merchants/999999/users', { email: 'a@b.example', name: 'X' })).status).toBe(404);
    // A new link replaces the old one, which stops working before it is used.
    const first = await api('POST', `/merchants/${merchant.id}/users/${created.body.user.id}/link`);
    const second = await api('POST', `/merchants/${merchant.id}/users/${created.body.user.id}/link`);
    expect((await fetch(first.body.setPasswordUrl)).status).toBe(404);
    expect((await fetch(second.body.setPasswordUrl)).status).toBe(200);
    const audit = await services().consoleAudit.recent({ limit: 10 });
    expect(audit.map((entry) => entry.action)).toContain('merchant_user.password_set');
  });

  it('shows a merchant user only its own transactions; every other id answers as a missing one', async () => {
    const [acme, globex] = await twoMerchants();
    const own = await acme.client.get(`/admin/transactions/${acme.transaction.id}`);
    expect(own.status).toBe(200);
    expect(own.body).toContain('Amend by hand');
    expect(own.body).toContain(`Signed in as <strong>${acme.email}</strong>`);
    // The menu offers only what a merchant may open.
    expect(own.body).not.toContain('href="/admin/affiliates"');
    expect(own.body).toContain('href="/admin/campaigns"');
    const foreign = await acme.client.get(`/admin/transactions/${globex.transaction.id}`);
    const missing = await acme.client.get('/admin/transactions/987654321');
    expect([foreign.status, missing.status]).toEqual([404, 404]);
    expect(foreign.body.replace(String(globex.transaction.id), 'N')).toBe(missing.body.replace('987654321', 'N'));
    const byClick = await acme.client.get(
      `/admin/transactions?clickId=${encodeURIComponent(globex.transaction.clickId)}`,
    );
    expect(byClick.status).toBe(200);
    expect(byClick.body).not.toContain(`/admin/transactions/${globex.transaction.id}`);
    for (const path of [
      `/admin/campaigns/${globex.campaign.id}`,
      '/admin/audit',
      '/admin/processing',
      '/admin/api-accounts',
      '/admin/whitelist',
      '/admin/affiliates',
      '/admin/api',
    ])
      expect([path, (await acme.client.get(path)).status]).toEqual([path, 404]);
    expect((await acme.client.get('/admin/')).location).toBe('/admin/transactions');
  });

  it("amends its own transactions through the core as source `merchant`, never another merchant's", async () => {
    const [acme, globex] = await twoMerchants();
    const posted = await acme.client.post(`/admin/transactions/${acme.transaction.id}/amend`, {
      affiliatePayout: '0.3000',
      approved: 'no',
      reason: 'order returned',
    });
    expect([posted.status, posted.location]).toEqual([303, `/admin/transactions/${acme.transaction.id}?done=amended`]);
    const [row] = await services().stores.modifications.listForTransaction(acme.transaction.id);
    expect(row).toMatchObject({ source: 'merchant', actor: acme.email, reason: 'order returned' });
    expect(row.after).toMatchObject({ affiliatePayout: 3000n, approved: false });
    expect((await acme.client.get(`/admin/transactions/${acme.transaction.id}`)).body).toContain(
      `By hand (merchant): <strong>${acme.email}</strong>`,
    );
    const foreign = await acme.client.post(`/admin/transactions/${globex.transaction.id}/amend`, {
      affiliatePayout: '0.01',
      reason: 'not mine',
    });
    expect(foreign.status).toBe(404);
    expect(await services().stores.modifications.listForTransaction(globex.transaction.id)).toEqual([]);
    // Closed to external modification: refused in LinkTrust's words, nothing written.
    await api('PATCH', `/campaigns/${acme.campaign.id}`, { allowExternalModification: false });
    const closed = await acme.client.post(`/admin/transactions/${acme.transaction.id}/amend`, {
      affiliatePayout: '0.01',
      reason: 'closed',
    });
    expect(closed.status).toBe(409);
    expect(closed.body).toContain('Permanent failure: Campaign does not allow external transaction modification');
    await api('PATCH', `/campaigns/${acme.campaign.id}`, { allowExternalModification: true });
    const nightly = await duringNightly(services(), () =>
      acme.client.post(`/admin/transactions/${acme.transaction.id}/amend`, {
        affiliatePayout: '0.02',
        reason: 'nightly',
      }),
    );
    expect(nightly.status).toBe(409);
    expect(nightly.body).toContain('Temporary failure: Nightly processing in progress');
    expect(await services().stores.modifications.listForTransaction(acme.transaction.id)).toHaveLength(1);
    // A campaign taken away from the merchant leaves its view at once.
    await api('PATCH', `/merchants/${acme.merchant.id}`, { campaignIds: [] });
    expect((await acme.client.get(`/admin/transactions/${acme.transaction.id}`)).status).toBe(404);
  });

  it('signs a disabled user out at once and refuses its sign-in; enabled again, it signs in', async () => {
    const [acme] = await twoMerchants();
    const disabled = await api('PATCH', `/merchants/${acme.merchant.id}/users/${acme.user.id}`, { disabled: true });
    expect(disabled.body).toMatchObject({ disabled: true });
    const after = await acme.client.get(`/admin/transactions/${acme.transaction.id}`);
    expect(after.status).toBe(303);
    expect(after.location).toMatch(/^\/admin\/sign-in\?next=/);
    expect((await postSignIn(context.server.baseUrl, { name: acme.email, secret: PASSWORD })).status).toBe(401);
    expect(
      (await api('PATCH', `/merchants/${acme.merchant.id}/users/${acme.user.id}`, { disabled: false })).status,
    ).toBe(200);
    const back: ConsoleClient = await consoleClient(context.server.baseUrl, { name: acme.email, secret: PASSWORD });
    expect((await back.get(`/admin/transactions/${acme.transaction.id}`)).status).toBe(200);
    // Users are scoped to their merchant in the API too.
    expect((await api('PATCH', `/merchants/999999/users/${acme.user.id}`, { disabled: true })).status).toBe(404);
  });

  it('refuses a wrong password like an unknown address', async () => {
    const [acme] = await twoMerchants();
    const wrong = await postSignIn(context.server.baseUrl, { name: acme.email, secret: 'wrong password here' });
    const unknown = await postSignIn(context.server.baseUrl, { name: 'nobody@nowhere.example', secret: PASSWORD });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(await wrong.text()).toContain('That name and password (or admin token) are not right.');
  });
});

describe.each(testEngines())('merchant sign-in brute force on %s', (engine) => {
  const context = useTestServer(engine, { RATE_LIMIT_ADMIN_FAILURES: '3' });

  it('brakes guessing at a merchant user’s password after the failure limit', async () => {
    const merchant = await adminRequest(context.server.baseUrl, 'POST', '/merchants', { name: 'Braked' });
    const user = await adminRequest(context.server.baseUrl, 'POST', `/merchants/${merchant.body.id}/users`, {
      email: 'target@braked.example',
      name: 'Target',
    });
    await choosePassword(user.body.setPasswordUrl, PASSWORD);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push(
        (await postSignIn(context.server.baseUrl, { name: 'target@braked.example', secret: `guess ${i} xxxxxxxx` }))
          .status,
      );
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses.slice(3)).toContain(429);
  });
});
