import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { createTestDatabase, testEngines, TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, buildScene, buildTransaction, rollUpToNow } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { startTestServer, TestServer } from '../support/test-server';
import {
  launchBrowser,
  newContext,
  screenshot as saveScreenshot,
  screenshotOf as saveScreenshotOf,
  signIn,
} from './browser';

// The console in a real browser against a real server, on each engine (MariaDB when TEST_MYSQL_URL is set).
jest.setTimeout(120_000);

describe.each(testEngines())('web console in chromium (%s)', (engine) => {
  let database: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    server = await startTestServer(database.db);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.services.batchWorker.stop();
    await server?.close();
    await database?.drop();
  });
  beforeEach(async () => {
    context = await newContext(browser, server.baseUrl);
    page = await context.newPage();
  });
  afterEach(async () => {
    await context?.close();
  });

  // SQLite's screenshots keep their names; the other engine's are prefixed, so neither overwrites the other.
  const shotName = (name: string) => (engine === 'sqlite' ? name : `${engine}-${name}`);
  const screenshot = (target: Page, name: string) => saveScreenshot(target, shotName(name));
  const screenshotOf = (target: Locator, name: string) => saveScreenshotOf(target, shotName(name));

  const heading = () => page.locator('h1').innerText();
  const problem = () => page.locator('#problems').innerText();
  const notice = () => page.locator('.notice').innerText();

  it('refuses a wrong admin token, then signs in with an HttpOnly SameSite=Strict session cookie', async () => {
    await page.goto('/admin/campaigns');
    expect(new URL(page.url()).pathname).toBe('/admin/sign-in');
    await screenshot(page, '01-sign-in');

    await signIn(page, 'not-the-token');
    expect(await problem()).toContain('That admin token is not right.');
    expect((await context.cookies()).find((c) => c.name === 'txedit_console')).toBeUndefined();

    await signIn(page);
    expect(new URL(page.url()).pathname).toBe('/admin/campaigns');
    expect(await heading()).toBe('Campaigns');
    const cookie = (await context.cookies()).find((c) => c.name === 'txedit_console');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/admin', secure: false });
    const csp = (await page.request.get('/admin/campaigns')).headers()['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
  });

  it('refuses a form post without a CSRF token or with a wrong one (403), and accepts the right one', async () => {
    const campaign = await buildCampaign(server.services, { allowExternalModification: true });
    await signIn(page, undefined, `/admin/campaigns/${campaign.id}`);
    const url = `/admin/campaigns/${campaign.id}/settings`;

    const without = await page.request.post(url, { form: { uniqueMerchantReference: 'on' }, maxRedirects: 0 });
    expect(without.status()).toBe(403);
    expect(await without.text()).toContain('This form did not come from your console session');
    const wrong = await page.request.post(url, {
      form: { _csrf: 'x'.repeat(43), uniqueMerchantReference: 'on' },
      maxRedirects: 0,
    });
    expect(wrong.status()).toBe(403);
    expect((await server.services.stores.campaigns.get(campaign.id))?.allowExternalModification).toBe(true);

    const token = await page.locator(`form[action="${url}"] input[name="_csrf"]`).inputValue();
    const right = await page.request.post(url, {
      form: { _csrf: token, uniqueMerchantReference: 'on' },
      maxRedirects: 0,
    });
    expect(right.status()).toBe(303);
    expect((await server.services.stores.campaigns.get(campaign.id))?.allowExternalModification).toBe(false);
  });

  it('turns a campaign’s opt-in off and on, and /transaction.edit obeys each', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    const edit = () =>
      editByGet(server.baseUrl, {
        Password: campaign.password as string,
        TransactionID: String(transaction.id),
        A: 'no',
        REASON: 'console test',
      });
    await signIn(page, undefined, `/admin/campaigns/${campaign.id}`);
    expect(await heading()).toBe(`Campaign ${campaign.id}: ${campaign.name}`);
    expect(await page.locator('#posting-url-2').textContent()).toBe(
      `${server.baseUrl}/transaction.edit?Password=value&Merchantreferenceid=value&CID=${campaign.id}&A=no&AP=0.00&MP=0.00&executeaffiliatepixel=Yes`,
    );
    await screenshot(page, '03-campaign');

    await page.getByLabel('Allow External Transaction Modifications').uncheck();
    await page.getByRole('button', { name: 'Save settings' }).click();
    expect(await notice()).toBe('Campaign settings saved.');
    expect(await page.getByLabel('Allow External Transaction Modifications').isChecked()).toBe(false);
    expect((await edit()).answer.error?.message).toBe(
      'Permanent failure: Campaign does not allow external transaction modification',
    );

    await page.getByLabel('Allow External Transaction Modifications').check();
    await page.getByRole('button', { name: 'Save settings' }).click();
    expect((await edit()).answer.succeeded).toBe('True');

    await page.getByRole('link', { name: 'Audit log' }).click();
    const latest = page.locator('tbody tr').first();
    // The action in words with its code beside it; the target a link to its page.
    expect(await latest.locator('td[data-label="Action"]').innerText()).toBe(
      'Changed campaign settings\ncampaign.settings',
    );
    expect(await latest.locator('td[data-label="Target"]').innerText()).toBe(`campaign ${campaign.id}`);
    expect(await latest.locator('td[data-label="Target"] a').getAttribute('href')).toBe(
      `/admin/campaigns/${campaign.id}`,
    );
    expect(await latest.locator('td[data-label="Who"]').innerText()).toBe('admin-token');
    expect(await latest.locator('td[data-label="Details"]').innerText()).toContain(
      'allowExternalModification: false → true',
    );
    await screenshot(page, '08-audit');
  });

  it('sets a campaign password typed twice, refusing two that differ, and never shows it', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    await signIn(page, undefined, `/admin/campaigns/${campaign.id}`);
    await page.getByLabel('New password').fill('first-Secret-1');
    await page.getByLabel('Type it again').fill('first-Secret-2');
    // The page's script marks the mismatch; submit the form anyway to see the server refuse it.
    await page
      .locator(`form[action="/admin/campaigns/${campaign.id}/password"]`)
      .evaluate((form) => (form as unknown as { submit(): void }).submit());
    await page.waitForLoadState('domcontentloaded');
    expect(await problem()).toContain('The two passwords are not the same.');

    await page.getByLabel('New password').fill('rotated Secret!');
    await page.getByLabel('Type it again').fill('rotated Secret!');
    await page.getByRole('button', { name: 'Rotate password' }).click();
    expect(await notice()).toContain('Password set. It is not shown again');
    expect(await page.content()).not.toContain('rotated Secret!');
    const accepted = await editByGet(server.baseUrl, {
      Password: 'rotated Secret!',
      TransactionID: String(transaction.id),
      AP: '1.00',
    });
    expect(accepted.answer.succeeded).toBe('True');
    const refused = await editByGet(server.baseUrl, {
      Password: campaign.password as string,
      TransactionID: String(transaction.id),
      AP: '1.00',
    });
    expect(refused.answer.error?.message).toBe('Permanent failure: Invalid authentication credentials');
  });

  it('adds a white-list range that admits a whitelist-only campaign’s caller, and removes it', async () => {
    const { campaign, transaction } = await buildScene(server.services, { whitelistOnly: true });
    const edit = () =>
      editByGet(server.baseUrl, { Password: campaign.password as string, ClickID: transaction.clickId, MP: '5.00' });
    expect((await edit()).answer.error?.message).toBe('Permanent failure: Invalid authentication credentials');

    await signIn(page, undefined, `/admin/whitelist?campaignId=${campaign.id}`);
    await page.getByLabel('IP address or CIDR range').fill('127.0.0.0/33');
    await page.getByRole('button', { name: 'Add to white-list' }).click();
    expect(await problem()).toContain('is not an IPv4/IPv6 address or CIDR range');

    await page.getByLabel('IP address or CIDR range').fill('127.0.0.0/8');
    await page.getByLabel('Note').fill('Loopback <test> & friends');
    await page.getByRole('button', { name: 'Add to white-list' }).click();
    expect(await notice()).toBe('White-list entry added.');
    const row = page.locator('tbody tr', { hasText: '127.0.0.0/8' });
    expect(await row.locator('td[data-label="Applies to"]').innerText()).toBe(`Campaign ${campaign.id}`);
    expect(await row.locator('td[data-label="Note"]').innerText()).toBe('Loopback <test> & friends');
    await screenshot(page, '04-whitelist');
    expect((await edit()).answer.succeeded).toBe('True');

    page.once('dialog', (dialog) => void dialog.accept());
    await row.getByRole('button', { name: /Remove/ }).click();
    await page.waitForLoadState('domcontentloaded');
    expect(await notice()).toBe('White-list entry removed.');
    expect(await server.services.stores.whitelist.list({ campaignId: campaign.id })).toEqual([]);
    expect((await edit()).answer.error?.message).toBe('Permanent failure: Invalid authentication credentials');
  });

  it('finds a transaction by click id and by merchant reference, shows its history and postbacks, and retries a failed one', async () => {
    // A postback to loopback is refused by the private-network guard: a failed delivery with one attempt.
    const affiliate = await buildAffiliate(server.services, { postbackUrl: 'http://127.0.0.1:9/pb?t=[=_TransID=]' });
    const campaign = await buildCampaign(server.services);
    const transaction = await buildTransaction(server.services, campaign, affiliate, {
      affiliatePayout: '10.00',
      merchantRevenue: '100.00',
    });
    await rollUpToNow(server.services);
    const first = await editByGet(server.baseUrl, {
      Password: campaign.password as string,
      TransactionID: String(transaction.id),
      AP: '7.50',
      REASON: 'partial refund',
    });
    const second = await editByGet(server.baseUrl, {
      Password: campaign.password as string,
      ClickID: transaction.clickId,
      A: 'no',
      executeaffiliatepixel: 'yes',
      REASON: 'order <cancelled>',
    });
    expect([first.answer.succeeded, second.answer.succeeded]).toEqual(['True', 'True']);
    await server.services.postbackWorker.runOnce();
    const [delivery] = await server.services.stores.postbacks.list({ transactionId: transaction.id });
    expect(delivery.status).toBe('failed');

    await signIn(page, undefined, '/admin/transactions');
    await page.getByRole('textbox', { name: 'Click ID' }).fill(transaction.clickId);
    await page.getByRole('button', { name: 'Find by click ID' }).click();
    expect(await heading()).toBe(`Transaction ${transaction.id}`);
    const history = page.locator('section[aria-labelledby="history-h"] tbody tr');
    expect(await history.count()).toBe(2);
    expect(await history.nth(0).locator('td[data-label="Affiliate payout"]').innerText()).toBe('10.00 → 7.50');
    expect(await history.nth(0).locator('td[data-label="Reason"]').innerText()).toBe('partial refund');
    expect(await history.nth(0).locator('td[data-label="Client IP"]').innerText()).toBe('127.0.0.1');
    expect(await history.nth(1).locator('td[data-label="Approved"]').innerText()).toBe('yes → no');
    expect(await history.nth(1).locator('td[data-label="Reason"]').innerText()).toBe('order <cancelled>');
    expect(await history.nth(1).locator('td[data-label="Who / source"]').innerText()).toContain('by Click ID');
    expect(await page.locator(`#delivery-${delivery.id}`).innerText()).toContain('failed');
    expect(
      await page
        .locator('article', { hasText: `Postback ${delivery.id}` })
        .locator('td[data-label="Result"]')
        .innerText(),
    ).toContain('refused');
    await screenshot(page, '05-transaction');

    await page.getByRole('button', { name: `Retry postback ${delivery.id}` }).click();
    expect(await notice()).toContain('queued for a new attempt');
    expect((await server.services.stores.postbacks.get(delivery.id))?.status).toBe('pending');

    await page.goto('/admin/transactions');
    await page.getByRole('textbox', { name: 'Merchant reference ID' }).fill(transaction.merchantReferenceId as string);
    await page.getByLabel('Campaign ID (CID)').fill(String(campaign.id));
    await page.getByRole('button', { name: 'Find by merchant reference' }).click();
    expect(await heading()).toBe(`Transaction ${transaction.id}`);

    const phone = await newContext(browser, server.baseUrl, 'phone');
    const phonePage = await phone.newPage();
    await signIn(phonePage, undefined, `/admin/transactions/${transaction.id}`);
    await screenshot(phonePage, '05-transaction-phone');
    await screenshotOf(phonePage.locator('section[aria-labelledby="history-h"]'), '05-transaction-phone-history');
    await phone.close();
  });

  it('uploads a modification file, follows the submissions table until done, and downloads the results', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    server.services.batchWorker.start();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'txedit-console-')), 'refunds.txt');
    fs.writeFileSync(
      file,
      `Password\tTransactionID\tAP\tMP\tA\r\n${campaign.password}\t${transaction.id}\t0.00\t0.00\tno\r\nwrong-password\t${transaction.id}\t1.00\t1.00\tyes\r\n`,
    );

    await signIn(page, undefined, '/admin/batches');
    await page.getByLabel('File', { exact: true }).setInputFiles(file);
    await page.getByRole('button', { name: 'Upload and apply' }).click();
    expect(await notice()).toContain('File uploaded.');
    const row = page.locator('tbody tr', { hasText: 'refunds.txt' }).first();
    // The table refreshes itself (the page's script) until the batch is done: no reload here.
    await row.locator('.state-completed').waitFor({ timeout: 20_000 });
    expect(await row.locator('td[data-label="Succeeded"]').innerText()).toBe('1');
    expect(await row.locator('td[data-label="Failed"]').innerText()).toBe('1');
    await screenshot(page, '06-batches');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByRole('link', { name: /Download results/ }).click(),
    ]);
    const csv = fs.readFileSync((await download.path()) as string, 'utf8');
    expect(csv.split('\r\n').slice(0, 3)).toEqual([
      'Row,Succeeded,Message,TransactionId,ClickId,MerchantReferenceId,CID',
      `1,True,Succeeded,${transaction.id},,,`,
      `2,False,Permanent failure: Invalid authentication credentials,${transaction.id},,,`,
    ]);
    expect((await server.services.stores.transactions.getById(transaction.id))?.approved).toBe(false);
  });

  it('runs the hourly roll-up and holds and releases the nightly state from the Processing page', async () => {
    await signIn(page, undefined, '/admin/processing');
    await page.getByRole('button', { name: 'Run hourly roll-up' }).click();
    expect(await notice()).toMatch(/^Hourly roll-up done/);
    const status = await server.services.processing.status();
    expect(await page.locator('dl.facts dd').first().innerText()).toBe(
      `${new Date(status.hourly.rolledUpThrough as number).toISOString().slice(0, 19).replace('T', ' ')}\u00a0UTC`,
    );
    await screenshot(page, '07-processing');

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Hold nightly state' }).click();
    await page.waitForLoadState('domcontentloaded');
    expect((await server.services.processing.status()).nightly.inProgress).toBe(true);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Release nightly state' }).click();
    await page.waitForLoadState('domcontentloaded');
    expect((await server.services.processing.status()).nightly.inProgress).toBe(false);
  });

  it('lists and searches campaigns, on a laptop and on a phone', async () => {
    const campaign = await buildCampaign(server.services, { whitelistOnly: true });
    await signIn(page, undefined, '/admin/campaigns');
    await page.getByLabel('Search by name or CID').fill(String(campaign.id));
    await page.getByRole('button', { name: 'Search' }).click();
    const rows = page.locator('tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().locator('td[data-label="White-listed IPs only"]').innerText()).toBe('Yes');
    await page.goto('/admin/campaigns');
    await screenshot(page, '02-campaigns');

    const phone = await newContext(browser, server.baseUrl, 'phone');
    const phonePage = await phone.newPage();
    await signIn(phonePage, undefined, `/admin/campaigns/${campaign.id}`);
    await screenshot(phonePage, '03-campaign-phone');
    await screenshotOf(phonePage.locator('header.top'), '03-campaign-phone-header');
    await screenshotOf(phonePage.locator('section[aria-labelledby="urls-h"]'), '03-campaign-phone-urls');
    await phone.close();
  });

  it('creates an affiliate, edits its postback URL, and sends a test postback that shows the receiver’s answer', async () => {
    // Loopback is allowed on a second server over the same database, as the postback tests allow it.
    const open = await startTestServer(database.db, { POSTBACK_ALLOW_PRIVATE_NETWORKS: 'true' });
    const seen: string[] = [];
    const receiver = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      res.end('OK received');
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const receiverBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const openContext = await newContext(browser, open.baseUrl);
    try {
      const tab = await openContext.newPage();
      await signIn(tab, undefined, '/admin/affiliates');
      await tab.getByLabel('Name', { exact: true }).fill('Browser Affiliate');
      await tab.getByRole('button', { name: 'Create affiliate' }).click();
      expect(await tab.locator('.notice').innerText()).toBe('Affiliate created.');
      const id = Number(/\/admin\/affiliates\/([0-9]+)/.exec(tab.url())?.[1]);
      expect(await tab.getByRole('button', { name: 'Send a test postback' }).isDisabled()).toBe(true);

      await tab.getByLabel('Postback URL').fill(`${receiverBase}/pb?click=[=ClickID=]&afid=[=AFID=]`);
      await tab.getByText('Tokens the postback URL accepts').click();
      expect(await tab.locator('dl.token-list').innerText()).toContain('[=TotalSales=]');
      await tab.getByRole('button', { name: 'Save affiliate' }).click();
      expect(await tab.locator('.notice').innerText()).toBe('Affiliate saved.');
      await tab.getByRole('button', { name: 'Send a test postback' }).click();
      const result = tab.locator('#test-result');
      expect(await result.innerText()).toContain('The receiver answered with success.');
      expect(await result.innerText()).toContain('OK received');
      expect(seen).toEqual([`/pb?click=test-click&afid=${id}`]);
      await screenshot(tab, '09-affiliate');
      expect((await open.services.admin.getAffiliate(id)).postbackUrl).toBe(
        `${receiverBase}/pb?click=[=ClickID=]&afid=[=AFID=]`,
      );
      const actions = (await open.services.consoleAudit.recent({ limit: 3 })).map((entry) => entry.action);
      expect(actions).toEqual(['affiliate.test_postback', 'affiliate.update', 'affiliate.create']);
    } finally {
      await openContext.close();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
      await open.close();
    }
  });

  it('shows the private-network guard’s refusal of a test postback to a loopback address', async () => {
    const affiliate = await buildAffiliate(server.services, { postbackUrl: 'http://127.0.0.1:9/pb' });
    await signIn(page, undefined, `/admin/affiliates/${affiliate.id}`);
    await page.getByRole('button', { name: 'Send a test postback' }).click();
    const result = await page.locator('#test-result').innerText();
    expect(result).toContain('The test postback failed.');
    expect(result).toContain('private network address refused: 127.0.0.1 (loopback)');
  });

  it('creates a campaign and renames it', async () => {
    await signIn(page, undefined, '/admin/campaigns');
    await page.getByLabel('Name', { exact: true }).fill('Browser Campaign');
    await page.getByRole('button', { name: 'Create campaign' }).click();
    expect(await notice()).toContain('Campaign created.');
    const id = Number(/\/admin\/campaigns\/([0-9]+)/.exec(page.url())?.[1]);
    await page.getByLabel('New name').fill('Browser Campaign, renamed');
    await page.getByRole('button', { name: 'Rename' }).click();
    expect(await notice()).toBe('Campaign renamed.');
    // The confirmation is shown once: it leaves the address, so a reload does not show it again.
    expect(new URL(page.url()).search).toBe('');
    await page.reload();
    expect(await page.locator('.notice').count()).toBe(0);
    expect(await heading()).toBe(`Campaign ${id}: Browser Campaign, renamed`);
    expect((await server.services.admin.getCampaign(id)).name).toBe('Browser Campaign, renamed');
  });

  it('opens every console page at laptop and phone width without sideways scrolling', async () => {
    const { campaign, transaction } = await buildScene(server.services);
    const affiliate = await buildAffiliate(server.services, {
      name: 'A long affiliate name for wrapping',
      postbackUrl:
        'https://postbacks.example.test/a/very/long/path/segment?click=[=ClickID=]&payout=[=AffiliateCommission=]&ref=[=MerchantReferenceID=]',
    });
    const batches = await server.services.stores.batches.list({ limit: 1 });
    const pages: Array<[string, string]> = [
      ['campaigns', '/admin/campaigns'],
      ['campaign', `/admin/campaigns/${campaign.id}`],
      ['campaign-intake', `/admin/campaigns/${campaign.id}/intake`],
      ['affiliates', '/admin/affiliates'],
      ['affiliate', `/admin/affiliates/${affiliate.id}`],
      ['event-types', '/admin/event-types'],
      ['whitelist', '/admin/whitelist'],
      ['api-accounts', '/admin/api-accounts'],
      ['transactions', `/admin/transactions?transactionId=${transaction.id}`],
      ['transaction', `/admin/transactions/${transaction.id}`],
      ['batches', '/admin/batches'],
      ...(batches.length ? ([['batch', `/admin/batches/${batches[0].id}`]] as Array<[string, string]>) : []),
      ['refusals', '/admin/refusals'],
      ['processing', '/admin/processing'],
      ['audit', '/admin/audit'],
      ['api', '/admin/api'],
    ];
    for (const device of ['laptop', 'phone'] as const) {
      const deviceContext = await newContext(browser, server.baseUrl, device);
      try {
        const tab = await deviceContext.newPage();
        await tab.goto('/admin/sign-in');
        await screenshot(tab, `page-sign-in-${device}`);
        await signIn(tab);
        const wide: string[] = [];
        for (const [name, url] of pages) {
          const response = await tab.goto(url);
          expect([url, response?.status()]).toEqual([url, 200]);
          const [scrollWidth, clientWidth] = await tab.evaluate<[number, number]>(
            '[document.documentElement.scrollWidth, document.documentElement.clientWidth]',
          );
          if (scrollWidth > clientWidth) wide.push(`${url} (${scrollWidth} > ${clientWidth})`);
          await screenshot(tab, `page-${name}-${device}`);
        }
        expect(wide).toEqual([]);
      } finally {
        await deviceContext.close();
      }
    }
    // Some forty full-page screenshots: under a loaded machine (the whole suite at once) it needs minutes.
  }, 300_000);

  it('signs out: the session ends on the server and its cookie no longer opens pages', async () => {
    await signIn(page);
    const cookie = (await context.cookies()).find((c) => c.name === 'txedit_console');
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(new URL(page.url()).pathname).toBe('/admin/sign-in');
    expect(await notice()).toBe('You are signed out.');
    const replay = await fetch(`${server.baseUrl}/admin/campaigns`, {
      headers: { cookie: `txedit_console=${cookie?.value}` },
      redirect: 'manual',
    });
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toBe('/admin/sign-in?next=%2Fadmin%2Fcampaigns');
  });
});
