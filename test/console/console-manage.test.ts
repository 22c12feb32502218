import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign } from '../support/factories';
import { startTestServer, TestServer } from '../support/test-server';
import { consoleClient } from './console-client';

/** A postback receiver on loopback: what it was asked, and a fixed answer. */
async function startReceiver(): Promise<{ base: string; seen: string[]; close: () => Promise<void> }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    res.statusCode = 202;
    res.end('accepted <ok>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.each(testEngines())('managing affiliates and campaigns in the console on %s', (engine) => {
  let database: TestDatabase;
  let server: TestServer;
  let guarded: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    // Loopback allowed as the postback tests allow it; the second server keeps the guard on.
    server = await startTestServer(database.db, { POSTBACK_ALLOW_PRIVATE_NETWORKS: 'true' });
    guarded = await startTestServer(database.db);
  });
  afterAll(async () => {
    await server?.close();
    await guarded?.close();
    await database?.drop();
  });

  it('creates an affiliate and audits it in the same unit', async () => {
    const client = await consoleClient(server.baseUrl);
    const created = await client.post('/admin/affiliates', { name: 'Acme Deals', postbackUrl: '' });
    expect(created.status).toBe(303);
    const id = Number(/\/admin\/affiliates\/([0-9]+)\?done=affiliate-created$/.exec(created.location ?? '')?.[1]);
    expect(await server.services.admin.getAffiliate(id)).toMatchObject({ name: 'Acme Deals', postbackUrl: null });
    const [entry] = await server.services.consoleAudit.recent({ limit: 1 });
    expect(entry).toMatchObject({ action: 'affiliate.create', target: `affiliate ${id}` });
    const list = await client.get('/admin/affiliates?q=Acme%20Deals');
    expect(list.body).toContain(`<a href="/admin/affiliates/${id}">Acme Deals</a>`);
  });

  it('refuses a postback URL the template rules refuse, creating nothing and auditing nothing', async () => {
    const client = await consoleClient(server.baseUrl);
    const before = await server.services.consoleAudit.recent({ limit: 1 });
    const refused = await client.post('/admin/affiliates', { name: 'Bad URL', postbackUrl: 'ftp://example.test/x' });
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('class="problem"');
    expect(refused.body).toContain('value="ftp://example.test/x"');
    expect(await server.services.admin.listAffiliates('Bad URL', { limit: 5 })).toEqual([]);
    expect(await server.services.consoleAudit.recent({ limit: 1 })).toEqual(before);
  });

  it('edits the name and postback URL, audits the change, and lists the tokens the URL accepts', async () => {
    const client = await consoleClient(server.baseUrl);
    const affiliate = await buildAffiliate(server.services, { name: 'Old Name' });
    const page = await client.get(`/admin/affiliates/${affiliate.id}`);
    expect(page.body).toContain('<code>[=ClickID=]</code>');
    expect(page.body).toContain('<code>[=AffiliateCommission=]</code>');
    const saved = await client.post(`/admin/affiliates/${affiliate.id}`, {
      name: 'New Name',
      postbackUrl: 'https://pb.example.test/c?click=[=ClickID=]',
    });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe(`/admin/affiliates/${affiliate.id}?done=affiliate-saved`);
    expect(await server.services.admin.getAffiliate(affiliate.id)).toMatchObject({
      name: 'New Name',
      postbackUrl: 'https://pb.example.test/c?click=[=ClickID=]',
    });
    const [entry] = await server.services.consoleAudit.recent({ limit: 1 });
    expect(entry).toMatchObject({ action: 'affiliate.update', target: `affiliate ${affiliate.id}` });
    expect(entry.details).toEqual({
      name: { before: 'Old Name', after: 'New Name' },
      postbackUrl: { before: null, after: 'https://pb.example.test/c?click=[=ClickID=]' },
    });
    const audit = (await client.get('/admin/audit')).body;
    expect(audit).toContain(`<a href="/admin/affiliates/${affiliate.id}">affiliate ${affiliate.id}</a>`);
    expect(audit).toContain('Changed an affiliate<br><code class="small muted">affiliate.update</code>');
  });

  it('sends a test postback to the receiver and shows its answer, audited', async () => {
    const receiver = await startReceiver();
    try {
      const client = await consoleClient(server.baseUrl);
      const affiliate = await buildAffiliate(server.services, {
        postbackUrl: `${receiver.base}/pb?afid=[=AFID=]&click=[=ClickID=]`,
      });
      const page = await client.post(`/admin/affiliates/${affiliate.id}/test-postback`, {});
      expect(page.status).toBe(200);
      expect(receiver.seen).toEqual([`/pb?afid=${affiliate.id}&click=test-click`]);
      expect(page.body).toContain('The receiver answered with success.');
      expect(page.body).toContain('<span class="state state-delivered">202</span>');
      expect(page.body).toContain('accepted &lt;ok&gt;');
      const [entry] = await server.services.consoleAudit.recent({ limit: 1 });
      expect(entry).toMatchObject({ action: 'affiliate.test_postback', target: `affiliate ${affiliate.id}` });
      expect(entry.details).toMatchObject({ ok: true, status: 202, error: null });
    } finally {
      await receiver.close();
    }
  });

  it('shows the guard’s refusal of a private address, and no request reaches the receiver', async () => {
    const receiver = await startReceiver();
    try {
      const client = await consoleClient(guarded.baseUrl);
      const affiliate = await buildAffiliate(guarded.services, { postbackUrl: `${receiver.base}/pb` });
      const page = await client.post(`/admin/affiliates/${affiliate.id}/test-postback`, {});
      expect(page.body).toContain('The test postback failed.');
      expect(page.body).toContain('private network address refused: 127.0.0.1 (loopback)');
      expect(receiver.seen).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it('creates a campaign and renames it, each audited', async () => {
    const client = await consoleClient(server.baseUrl);
    const created = await client.post('/admin/campaigns', { name: 'Spring Sale', id: '' });
    expect(created.status).toBe(303);
    const id = Number(/\/admin\/campaigns\/([0-9]+)\?done=campaign-created$/.exec(created.location ?? '')?.[1]);
    expect(await server.services.admin.getCampaign(id)).toMatchObject({
      name: 'Spring Sale',
      allowExternalModification: false,
    });
    expect((await server.services.consoleAudit.recent({ limit: 1 }))[0]).toMatchObject({
      action: 'campaign.create',
      target: `campaign ${id}`,
    });
    const renamed = await client.post(`/admin/campaigns/${id}/name`, { name: 'Summer Sale' });
    expect(renamed.location).toBe(`/admin/campaigns/${id}?done=campaign-renamed`);
    expect((await server.services.admin.getCampaign(id)).name).toBe('Summer Sale');
    const [entry] = await server.services.consoleAudit.recent({ limit: 1 });
    expect(entry).toMatchObject({ action: 'campaign.rename', target: `campaign ${id}` });
    expect(entry.details).toEqual({ name: { before: 'Spring Sale', after: 'Summer Sale' } });
  });

  it('refuses a campaign id that is taken, showing the form again', async () => {
    const client = await consoleClient(server.baseUrl);
    const campaign = await buildCampaign(server.services);
    const refused = await client.post('/admin/campaigns', { name: 'Twin', id: String(campaign.id) });
    expect(refused.status).toBe(400);
    expect(refused.body).toContain(`campaign ${campaign.id} already exists`);
    expect(refused.body).toContain('value="Twin"');
  });
});
