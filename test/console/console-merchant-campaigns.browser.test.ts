import { testEngines } from '../support/databases';
import { buildCampaign } from '../support/factories';
import { adminRequest } from '../support/test-server';
import { choosePassword, MERCHANT_PASSWORD } from '../merchants/merchant-scene';
import { newContext, screenshot, scrollsSideways, useBrowserServer } from './browser';

jest.setTimeout(120_000);

describe.each(testEngines())('a merchant’s campaigns in chromium (%s)', (engine) => {
  const running = useBrowserServer(engine);

  it.each(['laptop', 'phone'] as const)(
    'with self-service: copies its posting URLs, rotates the password, keeps the white-list (%s)',
    async (device) => {
      const { server, browser } = running;
      const campaign = await buildCampaign(server.services, { allowExternalModification: true });
      const merchant = await adminRequest(server.baseUrl, 'POST', '/merchants', {
        name: 'Acme',
        campaignIds: [campaign.id],
        selfService: true,
      });
      const email = `ops-${device}-${campaign.id}@acme.example`;
      const user = await adminRequest(server.baseUrl, 'POST', `/merchants/${merchant.body.id}/users`, {
        email,
        name: 'Acme Ops',
      });
      await choosePassword(user.body.setPasswordUrl, MERCHANT_PASSWORD);
      const before = (await server.services.stores.campaigns.get(campaign.id))?.passwordHash;
      const context = await newContext(browser, server.baseUrl, device);
      try {
        const page = await context.newPage();
        await page.goto('/admin/sign-in');
        await page.getByLabel('User name').fill(email);
        await page.getByLabel('Password or admin token').fill(MERCHANT_PASSWORD);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL(/\/admin\/transactions$/);
        await page.getByRole('navigation').getByRole('link', { name: 'Campaigns' }).click();
        await page.getByRole('link', { name: campaign.name }).click();
        await page.getByRole('heading', { name: 'Posting URLs' }).waitFor();
        expect(await page.getByRole('button', { name: 'Copy' }).count()).toBeGreaterThan(0);
        expect(await scrollsSideways(page)).toBe(false);
        await screenshot(page, `merchant-campaign-${engine}-${device}`);

        await page.getByLabel('New password').fill('rotated by the brand');
        await page.getByLabel('Type it again').fill('rotated by the brand');
        await page.getByRole('button', { name: 'Rotate password' }).click();
        await page.getByText('Password set. It is not shown again').waitFor();
        expect((await server.services.stores.campaigns.get(campaign.id))?.passwordHash).not.toBe(before);

        await page.getByLabel('IP address or CIDR range').fill('203.0.113.0/24');
        await page.getByLabel('Note').fill('Acme CRM servers');
        await page.getByRole('button', { name: 'Add to this campaign’s white-list' }).click();
        await page.getByText('White-list entry added.').waitFor();
        await page.locator('ul.entries code', { hasText: '203.0.113.0/24' }).waitFor();
        expect(await scrollsSideways(page)).toBe(false);
        await screenshot(page, `merchant-campaign-whitelist-${engine}-${device}`);
        page.once('dialog', (dialog) => void dialog.accept());
        await page.getByRole('button', { name: 'Remove 203.0.113.0/24' }).click();
        await page.getByText('White-list entry removed.').waitFor();
        expect(await server.services.admin.listWhitelist(campaign.id)).toEqual([]);

        await page.getByRole('navigation').getByRole('link', { name: 'Refusals' }).click();
        await page.getByText('your campaigns’ requests').waitFor();
        expect(await scrollsSideways(page)).toBe(false);
        await screenshot(page, `merchant-refusals-${engine}-${device}`);
      } finally {
        await context.close();
      }
    },
  );
});
