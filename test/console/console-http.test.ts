import bcrypt from 'bcrypt';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, buildScene, buildTransaction, rollUpToNow } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { startTestServer, TestServer, TEST_ADMIN_TOKEN } from '../support/test-server';
import { consoleClient, postSignIn, signInForm } from './console-client';

describe.each(testEngines())('web console over HTTP on %s', (engine) => {
  let database: TestDatabase;
  let server: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    const alice = await bcrypt.hash('alice-password', 4);
    server = await startTestServer(database.db, { ADMIN_USERS: `alice:${alice}` });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it('sends a page request without a session to sign in, and refuses a post without one', async () => {
    const page = await fetch(`${server.baseUrl}/admin/transactions?clickId=x`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/admin/sign-in?next=%2Fadmin%2Ftransactions%3FclickId%3Dx');
    const post = await fetch(`${server.baseUrl}/admin/whitelist`, {
      method: 'POST',
      body: new URLSearchParams({ address: '10.0.0.1' }),
      redirect: 'manual',
    });
    expect(post.status).toBe(403);
    expect(await server.services.stores.whitelist.list()).toEqual([]);
  });

  it('signs in a named user from ADMIN_USERS, refuses a wrong password, and records the actor', async () => {
    expect((await postSignIn(server.baseUrl, { name: 'alice', secret: 'wrong' })).status).toBe(401);
    expect((await postSignIn(server.baseUrl, { name: 'mallory', secret: 'alice-password' })).status).toBe(401);
    const client = await consoleClient(server.baseUrl, { name: 'alice', secret: 'alice-password' });
    expect((await client.get('/admin/campaigns')).body).toContain('Signed in as <strong>alice</strong>');
    const campaign = await buildCampaign(server.services);
    const added = await client.post('/admin/whitelist', {
      address: '198.51.100.0/24',
      campaignId: String(campaign.id),
      note: 'Acme CRM',
    });
    expect(added.status).toBe(303);
    const [entry] = await server.services.consoleAudit.recent({ limit: 1 });
    expect(entry).toMatchObject({
      actor: 'alice',
      action: 'whitelist.add',
      target: `campaign ${campaign.id}`,
      clientIp: '127.0.0.1',
    });
    expect(entry.details).toMatchObject({ address: '198.51.100.0/24', note: 'Acme CRM' });
  });

  it('refuses a sign-in post without the sign-in form’s token (login CSRF)', async () => {
    const form = await signInForm(server.baseUrl);
    const response = await fetch(`${server.baseUrl}/admin/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: form.token, secret: TEST_ADMIN_TOKEN }).toString(),
      redirect: 'manual',
    });
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie().some((c) => c.startsWith('txedit_console='))).toBe(false);
  });

  it('goes back to a console page after sign-in, never to another site', async () => {
    expect(
      (await postSignIn(server.baseUrl, { secret: TEST_ADMIN_TOKEN, next: '/admin/audit' })).headers.get('location'),
    ).toBe('/admin/audit');
    for (const next of ['//evil.example/admin/', 'https://evil.example/', '/admin/\\evil.example', '/admin/../x']) {
      // The dashboard, the console's landing page.
      expect((await postSignIn(server.baseUrl, { secret: TEST_ADMIN_TOKEN, next })).headers.get('location')).toBe(
        '/admin/',
      );
    }
  });

  it('refuses state-changing posts with a missing or wrong CSRF token, with no change made', async () => {
    const client = await consoleClient(server.baseUrl);
    const { campaign, transaction } = await buildScene(server.services);
    for (const csrf of [null, '', 'A'.repeat(43), client.csrf.slice(0, -1)]) {
      const answer = await client.post(
        `/admin/campaigns/${campaign.id}/password`,
        { password: 'stolen-pass', confirm: 'stolen-pass' },
        { csrf },
      );
      expect(answer.status).toBe(403);
    }
    const unchanged = await editByGet(server.baseUrl, {
      Password: campaign.password as string,
      CID: String(campaign.id),
      Merchantreferenceid: transaction.merchantReferenceId as string,
      AP: '1',
    });
    expect(unchanged.answer.succeeded).toBe('True');
  });

  it('escapes what it shows: a hostile campaign name and search text stay text', async () => {
    const client = await consoleClient(server.baseUrl);
    const campaign = await server.services.admin.createCampaign({ name: '<script>alert("x")</script> & "Co"' });
    const page = await client.get(`/admin/campaigns?q=${encodeURIComponent('<img src=x onerror=alert(1)>')}`);
    expect(page.body).not.toContain('<img src=x');
    expect(page.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    const detail = await client.get(`/admin/campaigns/${campaign.id}`);
    expect(detail.body).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;Co&quot;');
    expect(detail.body).not.toContain('<script>alert');
  });

  it('serves pages with their own CSP, no-store caching and frame denial', async () => {
    const client = await consoleClient(server.baseUrl);
    const page = await client.get('/admin/audit');
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'none';style-src 'self';script-src 'self';img-src 'self' data:;connect-src 'self';form-action 'self';frame-ancestors 'none';base-uri 'none'",
    );
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const css = /href="(\/admin\/static\/console-[0-9a-f]{12}\.css)"/.exec(page.body)?.[1] as string;
    const asset = await fetch(`${server.baseUrl}${css}`);
    expect(asset.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('marks the session cookie Secure when the request came over HTTPS through a trusted proxy', async () => {
    const behindProxy = await startTestServer(database.db, { TRUST_PROXY: 'loopback' });
    try {
      const https = await postSignIn(
        behindProxy.baseUrl,
        { secret: TEST_ADMIN_TOKEN },
        { 'x-forwarded-proto': 'https' },
      );
      const cookie = https.headers.getSetCookie().find((c) => c.startsWith('txedit_console='));
      expect(cookie).toMatch(/; Path=\/admin; Max-Age=28800; HttpOnly; SameSite=Strict; Secure$/);
      const plain = await postSignIn(behindProxy.baseUrl, { secret: TEST_ADMIN_TOKEN });
      expect(plain.headers.getSetCookie().find((c) => c.startsWith('txedit_console='))).not.toContain('Secure');
    } finally {
      await behindProxy.close();
    }
  });

  it('uploads a batch through a multipart form only with the CSRF field', async () => {
    const client = await consoleClient(server.baseUrl);
    const { campaign, transaction } = await buildScene(server.services);
    const file = `Password,TransactionID,AP,MP,A\r\n${campaign.password},${transaction.id},3.00,30.00,yes\r\n`;
    const upload = (csrf: string | null) => {
      const form = new FormData();
      if (csrf !== null) form.append('_csrf', csrf);
      form.append('file', new Blob([file], { type: 'text/csv' }), 'C:\\Users\\me\\refund "list".csv');
      return fetch(`${server.baseUrl}/admin/batches`, {
        method: 'POST',
        headers: { cookie: client.cookie },
        body: form,
        redirect: 'manual',
      });
    };
    expect((await upload(null)).status).toBe(403);
    expect((await upload('wrong')).status).toBe(403);
    expect(await server.services.batches.list({ limit: 10 })).toEqual([]);
    const accepted = await upload(client.csrf);
    expect(accepted.status).toBe(303);
    const [batch] = await server.services.batches.list({ limit: 1 });
    expect(batch).toMatchObject({ filename: 'refund "list".csv', records: 1, state: 'queued', clientIp: '127.0.0.1' });
    expect(accepted.headers.get('location')).toBe(`/admin/batches?done=uploaded#batch-${batch.id}`);
    expect(batch.channel).toBe('console');

    // The same file again: a duplicate, not applied — not a green "completed".
    expect((await upload(client.csrf)).status).toBe(303);
    const [again] = await server.services.batches.list({ limit: 1 });
    expect(again).toMatchObject({ duplicateOf: batch.id, forced: false, state: 'completed' });
    const table = (await client.get('/admin/batches/table')).body;
    const row = new RegExp(`<tr id="batch-${again.id}">[\\s\\S]*?</tr>`).exec(table)?.[0] ?? '';
    expect(row).toContain('<span class="state state-duplicate">duplicate, not applied</span>');
    expect(row).not.toContain('state-completed');
  });

  it("names a transaction's affiliate, linked to its page, and says whether it has a postback URL", async () => {
    const client = await consoleClient(server.baseUrl);
    const affiliate = await buildAffiliate(server.services, { name: 'Acme <Deals>' });
    const campaign = await buildCampaign(server.services);
    const transaction = await buildTransaction(server.services, campaign, affiliate);
    const page = await client.get(`/admin/transactions/${transaction.id}`);
    expect(page.body).toContain(
      `<dt>Affiliate</dt><dd><a href="/admin/affiliates/${affiliate.id}">Acme &lt;Deals&gt;</a> <span class="muted">(id ${affiliate.id}) · no postback URL</span></dd>`,
    );
  });

  it('shows where a history row’s postback stands now, not only that it was queued', async () => {
    const client = await consoleClient(server.baseUrl);
    const affiliate = await buildAffiliate(server.services, {
      postbackUrl: 'http://127.0.0.1:9/pb?t={transaction_id}',
    });
    const campaign = await buildCampaign(server.services);
    const transaction = await buildTransaction(server.services, campaign, affiliate);
    await rollUpToNow(server.services);
    const edit = await editByGet(server.baseUrl, {
      Password: campaign.password ?? '',
      TransactionID: String(transaction.id),
      AP: '1.00',
      executeaffiliatepixel: 'Yes',
    });
    expect(edit.body).toContain('True');
    const [delivery] = await server.services.postbacks.list({ transactionId: transaction.id });
    const page = (await client.get(`/admin/transactions/${transaction.id}`)).body;
    expect(page).toContain(
      `<td data-label="Postback"><a href="#delivery-${delivery.id}">Postback ${delivery.id}</a>: <span class="state state-pending">pending</span></td>`,
    );
  });

  it('audits a refused sign-in with the name tried and the address, never the secret', async () => {
    expect((await postSignIn(server.baseUrl, { name: 'eve', secret: 'guess-123' })).status).toBe(401);
    const [entry] = await server.services.consoleAudit.recent({ limit: 1 });
    expect(entry).toMatchObject({
      actor: 'eve',
      action: 'session.sign_in_failed',
      target: null,
      clientIp: '127.0.0.1',
    });
    expect(JSON.stringify(entry)).not.toContain('guess-123');
    const client = await consoleClient(server.baseUrl);
    const audit = (await client.get('/admin/audit')).body;
    expect(audit).toContain('Sign-in refused<br><code class="small muted">session.sign_in_failed</code>');
  });

  it('takes the roll-up time as the page shows times (UTC, a space or a T), and refuses anything else', async () => {
    const client = await consoleClient(server.baseUrl);
    const page = (await client.get('/admin/processing')).body;
    expect(page).toContain('<input type="text" id="through" name="through" placeholder="YYYY-MM-DD HH:MM"');
    expect(page).not.toContain('type="date"');
    const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000).toISOString();
    const spaced = `${hour.slice(0, 10)} ${hour.slice(11, 16)}`;
    expect((await client.post('/admin/processing/hourly', { through: spaced })).status).toBe(200);
    expect((await server.services.processing.status()).hourly.rolledUpThrough).toBeGreaterThanOrEqual(Date.parse(hour));
    const refused = await client.post('/admin/processing/hourly', { through: '12/05/2026 14:00' });
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('must be a date and time');
  });

  it('pages a batch’s refused rows, 100 at a time, from its own page', async () => {
    const client = await consoleClient(server.baseUrl);
    const { campaign, transaction } = await buildScene(server.services);
    const rows = Array.from({ length: 150 }, (_, i) => `wrong-${i}\t${transaction.id}\t1.00\t2.00\tyes`);
    const uploaded = await server.services.batches.upload({
      filename: 'wrong.txt',
      bytes: Buffer.from(
        [
          'Password\tTransactionID\tAP\tMP\tA',
          ...rows,
          `${campaign.password}\t${transaction.id}\t3.00\t4.00\tyes`,
        ].join('\r\n'),
      ),
      clientIp: '127.0.0.1',
      force: false,
    });
    if (!uploaded.ok) throw new Error(uploaded.reason);
    while ((await server.services.batchWorker.runOnce()) !== null) {
      // to the end
    }
    const first = (await client.get(`/admin/batches/${uploaded.batch.id}`)).body;
    const rowNumbers = (page: string) =>
      [...page.matchAll(/<td data-label="Row" class="num">(\d+)<\/td>/g)].map((m) => Number(m[1]));
    expect(rowNumbers(first)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(first).toContain('151 of 151 processed: 1 succeeded, 150 refused');
    expect(first).toContain('Permanent failure: Invalid authentication credentials');
    const next = /href="([^"]+)">More refused rows/.exec(first)?.[1] ?? '';
    expect(next).toBe(`/admin/batches/${uploaded.batch.id}?after=100#failed-h`);
    const second = (await client.get(next.replace('#failed-h', ''))).body;
    expect(rowNumbers(second)).toEqual(Array.from({ length: 50 }, (_, i) => i + 101));
    expect(second).not.toContain('More refused rows');
  });

  it('gives pages an inline icon and answers /favicon.ico with no content instead of a 404', async () => {
    const client = await consoleClient(server.baseUrl);
    expect((await client.get('/admin/campaigns')).body).toContain('<link rel="icon" href="data:image/svg+xml,');
    const icon = await fetch(`${server.baseUrl}/favicon.ico`);
    expect(icon.status).toBe(204);
  });

  it('answers an unknown console page with 404 and a page that is not reachable signed out', async () => {
    const client = await consoleClient(server.baseUrl);
    const missing = await client.get('/admin/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('There is no console page at this address.');
    expect((await client.get('/admin/transactions/999999999')).status).toBe(404);
  });
});
