import { buildScene, buildTransaction, rollUpToNow, twoDaysAgo } from '../support/factories';
import { newContext, screenshot, screenshotOf, signIn, useBrowserServer } from './browser';

jest.setTimeout(120_000);

describe('amending a transaction by hand in chromium (sqlite)', () => {
  const running = useBrowserServer('sqlite');

  it.each(['laptop', 'phone'] as const)('fills the form, sees the change named in the history (%s)', async (device) => {
    const { server, browser } = running;
    const { campaign, affiliate } = await buildScene(server.services);
    const transaction = await buildTransaction(server.services, campaign, affiliate, { occurredAt: twoDaysAgo() });
    await rollUpToNow(server.services);
    const context = await newContext(browser, server.baseUrl, device);
    try {
      const page = await context.newPage();
      await signIn(page, undefined, `/admin/transactions/${transaction.id}`);
      const form = page.locator('section[aria-labelledby="amend-h"]');
      await screenshotOf(form, `amend-form-${device}`);
      await page.getByLabel('Affiliate payout (AP)').fill('8.25');
      await page.getByLabel('Approved (A)').selectOption('no');
      await page.getByLabel('Reason').fill('<b>returned</b> by the customer');
      await page.getByRole('button', { name: `Amend transaction ${transaction.id}` }).click();
      // The script takes ?done= off the address once the notice shows: wait for the notice itself.
      await page.getByText('The transaction is amended').waitFor();
      const history = page.locator('section[aria-labelledby="history-h"]');
      // The reason is shown as typed, never as markup.
      await history.getByText('<b>returned</b> by the customer').waitFor();
      await history.getByText('By hand: admin-token').waitFor();
      await screenshot(page, `amend-done-${device}`);
      const stored = await server.services.stores.transactions.getById(transaction.id);
      expect([stored?.affiliatePayout, stored?.approved]).toEqual([82500n, false]);
    } finally {
      await context.close();
    }
  });
});
