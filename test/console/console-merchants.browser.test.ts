import type { Browser, Page } from 'playwright-core';
import { testEngines, createTestDatabase, type TestDatabase } from '../support/databases';
import { buildAffiliate, buildCampaign, buildTransaction, rollUpToNow, twoDaysAgo } from '../support/factories';
import { adminRequest, startTestServer, type TestServer } from '../support/test-server';
import { launchBrowser, newContext, screenshot } from './browser';

jest.setTimeout(120_000);

const PASSWORD = 'a long merchant password';

/** Does a page scroll sideways? (Phones must never have to.) */
const scrollsSideways = (page: Page) =>
  page.evaluate<boolean>('document.documentElement.scrollWidth > document.documentElement.clientWidth');

describe.each(testEngines())('merchant users in chromium (%s)', (engine) => {
  let database: TestDatabase;
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    server = await startTestServer(database.db);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await database?.drop();
  });

  it.each(['laptop', 'phone'] as const)(
    'two merchants: each chooses a password on its link, signs in, sees and amends only its own (%s)',
    async (device) => {
      const affiliate = await buildAffiliate(server.services);
      const merchants = [];
      for (const label of ['Acme', 'Globex']) {
        const campaign = await buildCampaign(server.services, { allowExternalModification: true });
        const transaction = await buildTransaction(server.services, campaign, affiliate, { occurredAt: twoDaysAgo() });
        const merchant = await adminRequest(server.baseUrl, 'POST', '/merchants', {
          name: label,
          campaignIds: [campaign.id],
        });
        const email = `${label.toLowerCase()}-${device}-${campaign.id}@brand.example`;
        const user = await adminRequest(server.baseUrl, 'POST', `/merchants/${merchant.body.id}/users`, {
          email,
          name: `${label} Ops`,
        });
        merchants.push({
          campaign,
          transaction,
          email,
          merchantId: merchant.body.id as number,
          link: user.body.setPasswordUrl as string,
        });
      }
      await rollUpToNow(server.services);
      const [acme, globex] = merchants;
      const context = await newContext(browser, server.baseUrl, device);
      try {
        const page = await context.newPage();
        await page.goto(acme.link);
        await screenshot(page, `merchant-set-password-${engine}-${device}`);
        await page.getByLabel('New password', { exact: true }).fill(PASSWORD);
        await page.getByLabel('The same password again').fill(PASSWORD);
        await page.getByRole('button', { name: 'Set password' }).click();
        await page.getByText('Your password is set.').waitFor();
        await page.getByLabel('User name').fill(acme.email);
        await page.getByLabel('Password or admin token').fill(PASSWORD);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL(/\/admin\/transactions$/);
        expect(await page.getByRole('navigation').getByRole('link').allTextContents()).toEqual([
          'Campaigns',
          'Transactions',
          'Batches',
          'Reports',
          'Refusals',
        ]);
        await page.goto(`/admin/transactions/${acme.transaction.id}`);
        await page.getByLabel('Affiliate payout (AP)').fill('0.75');
        await page.getByLabel('Reason').fill('returned in store');
        await page.getByRole('button', { name: `Amend transaction ${acme.transaction.id}` }).click();
        await page.getByText('The transaction is amended').waitFor();
        await page
          .locator('section[aria-labelledby="history-h"]')
          .getByText(`By hand (merchant): ${acme.email}`)
          .waitFor();
        expect(await scrollsSideways(page)).toBe(false);
        await screenshot(page, `merchant-transaction-${engine}-${device}`);
        const foreign = await page.goto(`/admin/transactions/${globex.transaction.id}`);
        expect(foreign?.status()).toBe(404);
        const affiliates = await page.goto('/admin/affiliates');
        expect(affiliates?.status()).toBe(404);
        // Its reports: its campaign's rows only, charts drawn, links to its own campaign page.
        await page.goto(`/admin/transactions/${acme.transaction.id}`);
        await page.getByRole('navigation').getByRole('link', { name: 'Reports' }).click();
        await page.waitForURL('**/admin/reports');
        await page.getByLabel('Rows per').selectOption('hour');
        await page.getByRole('button', { name: 'Show' }).click();
        await page.waitForURL('**/admin/reports?granularity=hour**');
        const campaigns = await page.locator('#report-table td[data-label="Campaign"]').allInnerTexts();
        expect(new Set(campaigns)).toEqual(new Set([String(acme.transaction.campaignId)]));
        await page.waitForFunction(`document.getElementById('chart-counts')?.getAttribute('data-drawn') === 'true'`);
        expect(await scrollsSideways(page)).toBe(false);
        await screenshot(page, `merchant-reports-${engine}-${device}`);
        const [row] = await server.services.stores.modifications.listForTransaction(acme.transaction.id);
        expect(row).toMatchObject({ source: 'merchant', actor: acme.email });
        expect(await server.services.stores.modifications.listForTransaction(globex.transaction.id)).toEqual([]);

        // A file of its own rows and another merchant's: only its own applies, the other is "not found".
        // Acme has an e-mail intake address of its own, shown on the page (a full-length one, for the phone).
        await server.services.stores.intake.replaceAddress(
          { merchantId: acme.merchantId },
          `${String(acme.merchantId).padStart(20, 'f')}@intake.network.example`,
          Date.now(),
        );
        await page.goto('/admin/batches');
        const file = [
          'Password\tTransactionID\tAP\tMP\tA',
          `${acme.campaign.password}\t${acme.transaction.id}\t0.50\t5.00\tyes`,
          `${globex.campaign.password}\t${globex.transaction.id}\t0.50\t5.00\tyes`,
        ].join('\r\n');
        await page
          .getByLabel('File', { exact: true })
          .setInputFiles({ name: `acme-${device}.txt`, mimeType: 'text/plain', buffer: Buffer.from(file) });
        await page.getByRole('button', { name: 'Upload and apply' }).click();
        await page.getByText('File uploaded.').waitFor();
        while ((await server.services.batchWorker.runOnce()) !== null) {
          // to the end
        }
        await page.reload();
        const submission = page.locator('tbody tr', { hasText: `acme-${device}.txt` }).first();
        await submission.locator('.state-completed').waitFor();
        expect(await submission.locator('td[data-label="Succeeded"]').innerText()).toBe('1');
        expect(await submission.locator('td[data-label="Failed"]').innerText()).toBe('1');
        expect(await scrollsSideways(page)).toBe(false);
        await screenshot(page, `merchant-batches-${engine}-${device}`);
        await submission.getByRole('link').first().click();
        await page.getByText('Permanent failure: Invalid transaction specified').waitFor();
        expect(await scrollsSideways(page)).toBe(false);
        await screenshot(page, `merchant-batch-${engine}-${device}`);
      } finally {
        await context.close();
      }
    },
  );
});
