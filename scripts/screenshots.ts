/**
 * Screenshots of the login, consent and account pages for the README, taken by Chromium from a
 * throw-away server on the embedded store with the demo data and one upstream identity provider:
 *
 *     node --import tsx scripts/screenshots.ts
 *
 * writes docs/screenshots/{login,consent,account}.png. Needs /usr/bin/chromium
 * (`npm run tools:install`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../test/support/chromium.js';
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
} finally {
  await browser.close();
  await server.stop();
  await upstream.close();
}
