import type { Page } from 'playwright-core';
import { chromiumForSuite } from '../support/chromium.js';
import { startDemoWithAssent, type DemoWithAssent } from '../support/demo.js';
import { DEMO_PASSWORD } from '../support/server.js';
import { storeBackends } from '../support/stores.js';

/**
 * The demo SMART app's real standalone launch in Chromium: fhirclient (served from node_modules)
 * discovers Assent through the demo FHIR server's /.well-known/smart-configuration, sends alice
 * to Assent's sign-in and consent, redeems the code at /token from the browser (CORS), and reads
 * her record from the demo FHIR server, which introspects the token at Assent.
 */
const TIMEOUT = 90_000;
const browser = chromiumForSuite();

describe.each(storeBackends)('demo SMART app, standalone launch in Chromium ($name store)', (backend) => {
  let setup: DemoWithAssent;
  beforeAll(async () => {
    setup = await startDemoWithAssent(backend);
  }, TIMEOUT);
  afterAll(() => setup?.stop());

  async function signInAndConsent(page: Page) {
    await page.waitForURL((url) => url.origin === setup.assent.url, { timeout: 15_000 });
    await page.locator('#email').fill('alice@example.org');
    await page.locator('#password').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.origin === setup.assent.url && url.pathname.startsWith('/interaction/'), { timeout: 15_000 });
    expect(await page.locator('h1').textContent()).toBe('Allow access?');
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
  }

  it(
    "signs alice in, takes her consent and shows her record (name, observations, conditions, medications)",
    async () => {
      const context = await browser().newContext();
      try {
        const page = await context.newPage();
        await page.goto(setup.demo.address.appUrl);
        await page.getByRole('button', { name: 'Connect to my health record' }).click();
        await signInAndConsent(page);
        await page.waitForURL((url) => url.href.startsWith(setup.demo.address.appUrl), { timeout: 15_000 });
        await page.locator('#record').waitFor({ state: 'visible', timeout: 15_000 });
        expect(await page.locator('#patient-name').textContent()).toBe('Alice Demo');
        expect(await page.locator('tr.observation').allTextContents()).toEqual(
          expect.arrayContaining([expect.stringContaining('Hemoglobin A1c'), expect.stringContaining('Heart rate')]),
        );
        expect(await page.locator('#conditions li').allTextContents()).toEqual(['Asthma']);
        expect(await page.locator('#medications li').allTextContents()).toEqual(['Salbutamol inhaler 100 micrograms, as needed']);
        expect(await page.locator('#status').textContent()).toContain('patient/');
      } finally {
        await context.close();
      }
    },
    TIMEOUT,
  );
});
