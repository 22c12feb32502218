import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/test-server';

/** An engine the tests run on. */
type TestEngine = 'sqlite' | 'mysql';

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
  // A tall page on a busy machine (the whole suite running) can take longer than Playwright's 30 s default.
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true, timeout: 90_000 });
}

/** Saves a screenshot of one part of a page (phone pages are too tall to read whole). */
export async function screenshotOf(locator: Locator, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await locator.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

/** Does a page scroll sideways? (Phones must never have to.) */
export function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate<boolean>('document.documentElement.scrollWidth > document.documentElement.clientWidth');
}

/**
 * A test database on `engine`, a real server over it and headless chromium, for the whole `describe`:
 * started before its tests, closed after them. Read `server` and `browser` inside the tests.
 */
export function useBrowserServer(engine: TestEngine): { readonly server: TestServer; readonly browser: Browser } {
  let database: TestDatabase | undefined;
  let server: TestServer | undefined;
  let browser: Browser | undefined;
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
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not started yet (read it inside a test)`);
    return value;
  };
  return {
    get server() {
      return started(server, 'the server');
    },
    get browser() {
      return started(browser, 'the browser');
    },
  };
}
