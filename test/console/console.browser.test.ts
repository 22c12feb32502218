import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createTestDatabase, TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, buildScene, buildTransaction, rollUpToNow } from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { startTestServer, TestServer } from '../support/test-server';
import { launchBrowser, newContext, screenshot, screenshotOf, signIn } from './browser';

// The console in a real browser against a real server. SQLite only: the console calls the same services
// the admin API does, and those run on both engines in their own tests (and in the CLI tests here).
jest.setTimeout(120_000);

describe('web console in chromium (sqlite)', () => {
  let database: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
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
    expect(await page.locator('#posting-url-2').inputValue()).toBe(
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
