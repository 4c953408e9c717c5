/**
 * Screenshots of the login, consent and account pages for the README, taken by Chromium from a
 * throw-away server on the embedded store with the demo data and one upstream identity provider:
 *
 *     node --import tsx scripts/screenshots.ts
 *
 * writes docs/screenshots/{login,consent,account}.png, and from the demo SMART app (the demo FHIR
 * server beside a second throw-away server) smart-picker.png (dr.smith's patient picker),
 * smart-consent.png (alice's SMART consent) and smart-app.png (the app showing her record).
 * Needs /usr/bin/chromium (`npm run tools:install`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../test/support/chromium.js';
import { startDemoWithAssent } from '../test/support/demo.js';
import { DEMO_PASSWORD, startTestServer } from '../test/support/server.js';
import { storeBackends } from '../test/support/stores.js';
import { UpstreamProvider } from '../test/support/upstream-provider.js';

const REDIRECT_URI = 'http://localhost:4200/callback';
const OUT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'screenshots');

const embedded = storeBackends.find((backend) => backend.name === 'embedded');
if (!embedded) throw new Error('no embedded store backend');

await mkdir(OUT, { recursive: true });
// An upstream OpenID provider on loopback, so the sign-in page shows its "Log in with …" choice.
const upstream = await UpstreamProvider.listen();
const server = await startTestServer(embedded, upstream.env());
upstream.serve(server.services.config.issuer);
const browser = await launchChromium();
try {
  const context = await browser.newContext({ viewport: { width: 900, height: 700 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const shoot = async (name: string) => {
    const file = path.join(OUT, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  };

  const authorize = new URL('/authorize', server.url);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: 'demo-app',
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email offline_access',
    state: randomBytes(16).toString('base64url'),
    nonce: randomBytes(16).toString('base64url'),
    code_challenge: createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();

  await page.goto(authorize.href);
  await page.locator('#email').fill('alice@example.org');
  await page.locator('#email').blur();
  await shoot('login');

  await page.locator('#password').fill(DEMO_PASSWORD);
  await Promise.all([page.waitForURL((url) => url.pathname.startsWith('/interaction/')), page.getByRole('button', { name: 'Sign in' }).click()]);
  await page.locator('label.scope').first().waitFor();
  await page.locator('input[type=checkbox][value="offline_access"]').uncheck();
  await shoot('consent');

  // Nothing listens on the demo app's redirect URI: the browser's navigation there is refused.
  await Promise.all([
    page.waitForEvent('requestfailed', (request) => request.url().startsWith(REDIRECT_URI)),
    page.getByRole('button', { name: 'Allow', exact: true }).click(),
  ]);
  while (!page.url().startsWith('chrome-error://') && !page.url().startsWith(REDIRECT_URI)) await page.waitForTimeout(50);
  await page.goto(new URL('/account', server.url).href);
  await shoot('account');
  await context.close();
  await smartShots(browser);
} finally {
  await browser.close();
  await server.stop();
  await upstream.close();
}

/** The demo SMART app's standalone launch: a practitioner's picker, then alice's consent and her record in the app. */
async function smartShots(browser: Browser) {
  const setup = await startDemoWithAssent(embedded!);
  try {
    const signIn = async (page: Page, email: string) => {
      await page.goto(setup.demo.address.appUrl);
      await page.getByRole('button', { name: 'Connect to my health record' }).click();
      await page.waitForURL((url) => url.origin === setup.assent.url);
      await page.locator('#email').fill(email);
      await page.locator('#password').fill(DEMO_PASSWORD);
      await Promise.all([page.waitForURL((url) => url.pathname.startsWith('/interaction/')), page.getByRole('button', { name: 'Sign in' }).click()]);
    };
    const shootPage = async (page: Page, name: string) => {
      const file = path.join(OUT, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.log(`wrote ${path.relative(process.cwd(), file)}`);
    };
    const doctor = await browser.newContext({ viewport: { width: 900, height: 700 }, deviceScaleFactor: 1 });
    const picker = await doctor.newPage();
    await signIn(picker, 'dr.smith@example.org');
    await picker.locator('input[type=radio]').first().waitFor();
    await shootPage(picker, 'smart-picker');
    await doctor.close();

    const patient = await browser.newContext({ viewport: { width: 900, height: 900 }, deviceScaleFactor: 1 });
    const page = await patient.newPage();
    await signIn(page, 'alice@example.org');
    await page.locator('label.scope').first().waitFor();
    await shootPage(page, 'smart-consent');
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    await page.locator('#record').waitFor({ state: 'visible', timeout: 15_000 });
    await shootPage(page, 'smart-app');
    await patient.close();
  } finally {
    await setup.stop();
  }
}
