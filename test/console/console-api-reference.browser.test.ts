import type { Browser } from 'playwright-core';
import { testEngines } from '../support/databases';
import { adminRequest, useTestServer } from '../support/test-server';
import path from 'node:path';
import { launchBrowser, newContext, SCREENSHOTS, screenshotOf, signIn } from './browser';

jest.setTimeout(120_000);

// The reference page in a real browser. Its content is the document, not the database, but the sign-in
// session is stored in it: both engines.
describe.each(testEngines())('the API reference page in chromium (%s)', (engine) => {
  const server = useTestServer(engine);
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('renders every operation of the document from the menu, with schemas and an example, under the strict CSP', async () => {
    const context = await newContext(browser, server.server.baseUrl);
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') violations.push(message.text());
    });
    await signIn(page);
    await page.getByRole('link', { name: 'API reference' }).click();
    await page.waitForURL('**/admin/api');
    expect(await page.locator('h1').innerText()).toBe('API reference');
    expect(await page.getByRole('link', { name: 'API reference' }).getAttribute('aria-current')).toBe('page');

    const { body: document } = await adminRequest(server.server.baseUrl, 'GET', '/openapi.json');
    const operations = Object.values(document.paths as Record<string, Record<string, unknown>>).flatMap((item) =>
      Object.values(item),
    ) as Array<{ operationId: string }>;
    expect(await page.locator('article.api-op').count()).toBe(operations.length);
    for (const { operationId } of operations) await expect(page.locator(`#${operationId}`).count()).resolves.toBe(1);

    const create = page.locator('#postAffiliates');
    expect((await create.locator('h3').textContent())?.replace(/\s+/g, ' ')).toBe('POST /affiliates');
    expect(await create.locator('.api-summary').innerText()).toBe('Create an affiliate');
    await expect(create.locator('dl.api-responses dt').allInnerTexts()).resolves.toEqual(
      expect.arrayContaining([expect.stringMatching(/^201 the new affiliate/), expect.stringMatching(/^409 /)]),
    );
    await create.getByText('Example').click();
    const curl = await create.locator('pre').innerText();
    expect(curl).toContain(`curl -X POST '${server.server.baseUrl}/api/v1/affiliates'`);
    expect(curl).toContain(`-d '{"name":"text"}'`);

    const show = page.locator('#getTransactionsId');
    expect(await show.locator('table').innerText()).toContain('id');
    await show.getByRole('link', { name: 'TransactionWithHistory' }).first().click();
    await page.waitForURL('**/admin/api#schema-transactionwithhistory');
    expect(await page.locator('#schema-transactionwithhistory').innerText()).toContain('modifications');

    // The page is long: the screen as the admin first sees it, and one operation whole.
    await page.goto('/admin/api');
    await page.screenshot({ path: path.join(SCREENSHOTS, `api-reference-${engine}.png`) });
    await screenshotOf(page.locator('#getTransactionsId'), `api-reference-operation-${engine}`);

    const download = await page.request.get('/admin/api/openapi.json');
    expect(download.status()).toBe(200);
    expect((await download.json()).paths).toEqual(document.paths);
    expect(violations).toEqual([]);
    await context.close();
  });

  it('reads on a phone', async () => {
    const context = await newContext(browser, server.server.baseUrl, 'phone');
    const page = await context.newPage();
    await signIn(page, undefined, '/admin/api');
    expect(await page.locator('h1').innerText()).toBe('API reference');
    // Nothing wider than the screen: long paths and types wrap, examples scroll in their own box.
    // A string, so the test's TypeScript (no DOM types) does not type the browser's globals.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshotOf(page.locator('#postTransactions'), `api-reference-phone-operation-${engine}`);
    await screenshotOf(page.locator('main > section').first(), `api-reference-phone-top-${engine}`);
    const responses = page.locator('#postTransactions dl.api-responses');
    await screenshotOf(responses, `api-reference-phone-responses-${engine}`);
    // Each refusal's status code shows at the start of its line.
    await expect(responses.locator('dt.api-refusal .status').first().isVisible()).resolves.toBe(true);
    await context.close();
  });
});
