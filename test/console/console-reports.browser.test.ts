import type { Browser, Page } from 'playwright-core';
import { testEngines } from '../support/databases';
import {
  buildAffiliate,
  buildCampaign,
  buildTransaction,
  freshId,
  rollUpToNow,
  twoDaysAgo,
} from '../support/factories';
import { editByGet } from '../support/linktrust-xml';
import { adminRequest, useTestServer } from '../support/test-server';
import { launchBrowser, newContext, screenshot, screenshotOf, signIn } from './browser';

jest.setTimeout(120_000);

/** Console errors (a CSP violation is logged as one) of a page, gathered as it runs. */
function errorsOf(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

const overflow = (page: Page) => page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
const drawn = (page: Page, id: string) =>
  page.evaluate<boolean>(
    `(() => { const c = document.getElementById('${id}'); if (!c || c.getAttribute('data-drawn') !== 'true') return false;
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true; return false; })()`,
  );

// The dashboard and reports in a real browser, with real changes, refusals and a failed postback.
describe.each(testEngines())('the dashboard and reports in chromium (%s)', (engine) => {
  // No postback worker: the failed delivery below stays as the test left it.
  const server = useTestServer(engine, { POSTBACK_WORKER: 'false' });
  let browser: Browser;
  let day: string;
  let campaignId: number;

  beforeAll(async () => {
    browser = await launchBrowser();
    const services = server.server.services;
    const affiliate = await buildAffiliate(services, {
      postbackUrl: 'http://127.0.0.1:9/postback?t=[=TransactionID=]',
    });
    const campaign = await buildCampaign(services);
    campaignId = campaign.id;
    const at = twoDaysAgo();
    day = new Date(at).toISOString().slice(0, 10);
    const transactions = [];
    for (const payout of ['0.10', '0.20', '3.00'])
      transactions.push(
        await buildTransaction(services, campaign, affiliate, { affiliatePayout: payout, occurredAt: at }),
      );
    await rollUpToNow(services);
    for (const [index, transaction] of transactions.entries()) {
      const edit = await editByGet(server.server.baseUrl, {
        Password: campaign.password as string,
        TransactionID: String(transaction.id),
        AP: `${index + 1}.00`,
        executeaffiliatepixel: index === 0 ? 'Yes' : 'No',
      });
      expect(edit.answer.succeeded).toBe('True');
    }
    for (const code of ['1', '2']) {
      const refused = await editByGet(server.server.baseUrl, {
        Password: 'wrong',
        TransactionID: String(transactions[0].id),
        AP: code,
      });
      expect(refused.answer.succeeded).toBe('False');
    }
    // The one delivery, as the worker leaves it after its last attempt.
    await server.database.db
      .knex('postback_deliveries')
      .update({ status: 'failed', attempts: 5, last_error: 'HTTP 500', finished_at: Date.now() });
    await rollUpToNow(services);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('lands on the dashboard with the figures and a drawn chart, and follows its links', async () => {
    const context = await newContext(browser, server.server.baseUrl);
    const page = await context.newPage();
    const errors = errorsOf(page);
    await signIn(page, undefined, '/admin/');
    expect(new URL(page.url()).pathname).toBe('/admin/');
    expect(await page.locator('h1').innerText()).toBe('Dashboard');
    const figure = (label: string) => page.locator('.figures > div', { hasText: label }).locator('dd');
    expect(await figure('Changes applied').innerText()).toBe('3');
    expect(await figure('Changes refused').innerText()).toBe('2');
    expect(await figure('Net payout change').innerText()).toBe('2.70');
    expect(await figure('Postbacks failed').innerText()).toBe('1');
    await page.waitForFunction(`document.getElementById('chart-changes')?.getAttribute('data-drawn') === 'true'`);
    expect(await drawn(page, 'chart-changes')).toBe(true);
    expect(await page.locator('#dashboard-hours').innerText()).toContain('2 × ');
    await screenshot(page, `dashboard-laptop-${engine}`);

    await figure('Postbacks failed').getByRole('link').click();
    await page.waitForURL('**/admin/postbacks?status=failed');
    expect(await page.locator('table').innerText()).toContain('HTTP 500');
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.waitForURL('**/admin/');
    await page.getByRole('link', { name: 'Last 7 days' }).click();
    await page.waitForURL('**/admin/?window=7d');
    expect(await figure('Changes applied').innerText()).toBe('3');
    await page.locator('.brand').click();
    await page.waitForURL('**/admin/');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('filters reports, draws their charts under the strict CSP, and downloads the CSV shown', async () => {
    const context = await newContext(browser, server.server.baseUrl);
    const page = await context.newPage();
    const errors = errorsOf(page);
    await signIn(page, undefined, '/admin/');
    await page.getByRole('link', { name: 'Reports' }).click();
    await page.waitForURL('**/admin/reports');
    await page.getByLabel('Rows per').selectOption('hour');
    await page.getByLabel('Campaign ID').fill(String(campaignId));
    await page.getByLabel('From').fill(day);
    await page.getByLabel('To').fill(day);
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(`**/admin/reports?granularity=hour&campaignId=${campaignId}**`);
    const table = await page.locator('#report-table tbody').innerText();
    expect(table).toContain('6.00');
    await page.waitForFunction(`document.getElementById('chart-money')?.getAttribute('data-drawn') === 'true'`);
    expect(await drawn(page, 'chart-counts')).toBe(true);
    expect(await drawn(page, 'chart-money')).toBe(true);
    await screenshot(page, `reports-laptop-${engine}`);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download CSV' }).click(),
    ]);
    const csv = await (await download.createReadStream()).toArray();
    const lines = Buffer.concat(csv).toString('utf8').trim().split('\r\n');
    expect(lines[0]).toBe('Period,Campaign,Affiliate,Transactions,Approved,Payout,Revenue,Reversals');
    expect(lines).toHaveLength(1 + (await page.locator('#report-table tbody tr').count()));
    expect(lines[1]).toContain(',3,3,6.00,');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('reads on a phone without sideways scrolling', async () => {
    const context = await newContext(browser, server.server.baseUrl, 'phone');
    const page = await context.newPage();
    const errors = errorsOf(page);
    await signIn(page, undefined, '/admin/');
    await page.waitForFunction(`document.getElementById('chart-changes')?.getAttribute('data-drawn') === 'true'`);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await screenshot(page, `dashboard-phone-${engine}`);
    await page.goto(`/admin/reports?granularity=hour&campaignId=${campaignId}&from=${day}&to=${day}`);
    await page.waitForFunction(`document.getElementById('chart-money')?.getAttribute('data-drawn') === 'true'`);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await screenshot(page, `reports-phone-${engine}`);
    expect(errors).toEqual([]);
    await context.close();
  });

  // Last: its changes would move the dashboard's figures above.
  it('draws impact.com reversals stacked by disposition code, at both widths', async () => {
    const services = server.server.services;
    const api = (method: string, path: string, body?: unknown) =>
      adminRequest(server.server.baseUrl, method, path, body);
    const campaign = await buildCampaign(services, { uniqueMerchantReference: false });
    const affiliate = await buildAffiliate(services);
    const eventType = await api('POST', '/event-types', {
      id: 1_980_000_000 + (process.pid % 1000) * 1000,
      campaignId: campaign.id,
      name: 'Online sale',
      payout: { type: 'percent', value: '10' },
      dispositionCodes: [{ code: 'CHARGEBACK', effect: 'reverse' }],
    });
    expect(eventType.status).toBe(201);
    const hours = [3, 2, 1].map((back) => twoDaysAgo() - back * 3_600_000);
    const codes = ['CHARGEBACK', 'REJECTED', 'CHARGEBACK', 'REJECTED', 'CHARGEBACK'];
    const actions = [];
    for (const [index, code] of codes.entries()) {
      const created = await api('POST', '/transactions', {
        campaignId: campaign.id,
        affiliateId: affiliate.id,
        actionId: `1000.${freshId()}`,
        eventTypeId: eventType.body.id,
        merchantRevenue: '50.00',
        affiliatePayout: '5.00',
        approved: false,
        occurredAt: new Date(hours[index % hours.length]).toISOString(),
      });
      expect(created.status).toBe(201);
      actions.push({ id: created.body.id as number, code });
    }
    await rollUpToNow(services);
    for (const { id, code } of actions)
      expect(
        (await api('POST', `/transactions/${id}/modifications`, { dispositionCode: code, reason: 'returned' })).status,
      ).toBe(201);
    const from = new Date(hours[0]).toISOString().slice(0, 10);
    const to = new Date(hours[2]).toISOString().slice(0, 10);
    const address = `/admin/reports?granularity=hour&campaignId=${campaign.id}&from=${from}&to=${to}`;
    for (const device of ['laptop', 'phone'] as const) {
      const context = await newContext(browser, server.server.baseUrl, device);
      const page = await context.newPage();
      const errors = errorsOf(page);
      await signIn(page, undefined, '/admin/');
      await page.goto(address);
      await page.waitForFunction(`document.getElementById('chart-reversals')?.getAttribute('data-drawn') === 'true'`);
      expect(await drawn(page, 'chart-reversals')).toBe(true);
      expect(await page.locator('#report-table thead').innerText()).toContain('Reversed REJECTED');
      expect(await overflow(page)).toBeLessThanOrEqual(0);
      await screenshot(page, `reports-reversals-${device}-${engine}`);
      await screenshotOf(page.locator('.charts'), `reports-reversals-charts-${device}-${engine}`);
      expect(errors).toEqual([]);
      await context.close();
    }
  });
});
