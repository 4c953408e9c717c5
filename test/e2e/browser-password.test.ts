import type { Page } from 'playwright-core';
import { chromiumForSuite } from '../support/chromium.js';
import { DEMO_PASSWORD, startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';
import { createAccount } from '../uma/sharing-support.js';

/** A real browser (Debian's Chromium) changes the password on the account page. */
const EMAIL = 'erin@example.org';
const NEW_PASSWORD = 'erins new passphrase';
const TIMEOUT = 60_000;

const browser = chromiumForSuite();

describe.each(storeBackends)('a real browser changing the password on the $name store', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
    await createAccount(server.services, EMAIL);
  });
  afterAll(() => server.stop());

  const signedIn = async (password: string): Promise<Page> => {
    const page = await (await browser().newContext()).newPage();
    await page.goto(`${server.url}/login`);
    await page.locator('#email').fill(EMAIL);
    await page.locator('#password').fill(password);
    await Promise.all([page.waitForURL(`${server.url}/account`), page.getByRole('button', { name: 'Sign in' }).click()]);
    return page;
  };
  const submitChange = async (page: Page, current: string, next: string, confirm = next) => {
    await page.locator('#current_password').fill(current);
    await page.locator('#new_password').fill(next);
    await page.locator('#confirm_password').fill(confirm);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Change password' }).click()]);
  };

  test('a mismatch is shown on the page; a change signs the other browser out and keeps this one', async () => {
    const here = await signedIn(DEMO_PASSWORD);
    const elsewhere = await signedIn(DEMO_PASSWORD);

    await submitChange(here, DEMO_PASSWORD, NEW_PASSWORD, 'erins other passphrase');
    await expect(here.getByRole('alert').textContent()).resolves.toBe('The new password and its confirmation differ.');

    await Promise.all([here.waitForURL(`${server.url}/account?done=password-changed`), submitChange(here, DEMO_PASSWORD, NEW_PASSWORD)]);
    await expect(here.getByRole('status').textContent()).resolves.toBe('Your password was changed. Every other session of this account was signed out.');
    await here.reload();
    expect(new URL(here.url()).pathname).toBe('/account');

    await elsewhere.reload();
    expect(new URL(elsewhere.url()).pathname).toBe('/login');
    await (await signedIn(NEW_PASSWORD)).context().close();
    await here.context().close();
    await elsewhere.context().close();
  }, TIMEOUT);
});
