import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { TEST_ADMIN_TOKEN } from '../support/test-server';

/** Debian's chromium (apt), driven by playwright-core: no browser download. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where page screenshots go (git-ignored), to be looked at by people. */
export const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots');

/** Launches headless chromium with the flags a sandboxless CI container needs. */
export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A fresh browser profile on a laptop-sized (or phone-sized) screen. */
export async function newContext(
  browser: Browser,
  baseURL: string,
  device: 'laptop' | 'phone' = 'laptop',
): Promise<BrowserContext> {
  const viewport = device === 'phone' ? { width: 390, height: 844 } : { width: 1280, height: 900 };
  return browser.newContext({
    baseURL,
    viewport,
    acceptDownloads: true,
    ...(device === 'phone' ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
}

/** Signs in with the admin token through the sign-in form, as a person would. */
export async function signIn(page: Page, token = TEST_ADMIN_TOKEN, next = '/admin/campaigns'): Promise<void> {
  await page.goto(next);
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('domcontentloaded');
}

/** Saves a full-page screenshot under test/screenshots/NAME.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Saves a screenshot of one part of a page (phone pages are too tall to read whole). */
export async function screenshotOf(locator: Locator, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await locator.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}
