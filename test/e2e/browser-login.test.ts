import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import type { BrowserContext, BrowserContextOptions, Page, Request } from 'playwright-core';
import { chromiumForSuite } from '../support/chromium.js';
import { DEMO_PASSWORD, startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';

/**
 * A real browser (Debian's Chromium, driven by playwright-core) walks the pages of the
 * authorization code flow: sign in, consent, the redirect back to the app, the account page.
 * Chromium comes from `npm run tools:install`; without it these tests fail, they never skip.
 */
const CLIENT_ID = 'demo-app';
const REDIRECT_URI = 'http://localhost:4200/callback';
const EMAIL = 'alice@example.org';
const TIMEOUT = 60_000;

const browser = chromiumForSuite();

const base64url = (bytes: Buffer) => bytes.toString('base64url');

/** One authorization request of demo-app: PKCE S256, state and nonce, all fresh. */
function authorizationRequest(server: TestServer, scopes: string[]) {
  const verifier = base64url(randomBytes(32));
  const state = base64url(randomBytes(16));
  const nonce = base64url(randomBytes(16));
  const url = new URL('/authorize', server.url);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: scopes.join(' '),
    state,
    nonce,
    code_challenge: base64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  }).toString();
  return { url: url.href, verifier, state, nonce };
}

/**
 * Nothing listens on the app's redirect URI, so the browser's navigation there is refused; the
 * test reads the URL from the request the browser makes. (`context.route` cannot answer it
 * instead: Playwright does not route the hop of a redirect reliably.)
 */
function catchCallbacks(context: BrowserContext) {
  const arrivals: Array<Promise<URL>> = [];
  const waiting: Array<(arrival: Promise<URL>) => void> = [];
  context.on('request', (request) => {
    if (!request.url().startsWith(REDIRECT_URI)) return;
    // Resolves once the browser is done with the request: refused, or answered if anything listened.
    const arrival = new Promise<URL>((resolve) => {
      const done = (finished: Request) => {
        if (finished !== request) return;
        context.off('requestfailed', done);
        context.off('requestfinished', done);
        resolve(new URL(request.url()));
      };
      context.on('requestfailed', done);
      context.on('requestfinished', done);
    });
    const waiter = waiting.shift();
    if (waiter) waiter(arrival);
    else arrivals.push(arrival);
  });
  return {
    /** The next request to the app's callback, in order. */
    next(): Promise<URL> {
      const already = arrivals.shift();
      if (already) return already;
      const arrival = new Promise<URL>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the browser never reached the callback')), 15_000);
        timer.unref();
        waiting.push((next) => {
          clearTimeout(timer);
          resolve(next);
        });
      });
      arrival.catch(() => undefined); // a failed step before the await must not become an unhandled rejection
      return arrival;
    },
  };
}

type Callbacks = ReturnType<typeof catchCallbacks>;

/** Clicks a button whose form the server answers with a redirect to the app; returns that redirect. */
async function clickToApp(page: Page, callbacks: Callbacks, name: string) {
  const reached = callbacks.next();
  await page.getByRole('button', { name, exact: true }).click();
  const url = await reached;
  await settledOnCallback(page);
  return url;
}

/** Waits for the refused navigation to the app to end on Chromium's error page, so the next step starts from rest. */
async function settledOnCallback(page: Page) {
  const settled = () => page.url().startsWith(REDIRECT_URI) || page.url().startsWith('chrome-error://');
  for (let waited = 0; !settled(); waited += 50) {
    if (waited > 10_000) throw new Error(`the page stayed on ${page.url()} instead of the app's callback`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await page.waitForLoadState();
}

/** Opens a URL the server answers with a redirect straight to the app; returns that redirect. */
async function gotoApp(page: Page, callbacks: Callbacks, target: string) {
  const reached = callbacks.next();
  const refused = await page.goto(target).then(
    () => false,
    (err: Error) => err.message.includes('net::ERR_CONNECTION_REFUSED'),
  );
  expect(refused).toBe(true);
  const url = await reached;
  await settledOnCallback(page);
  return url;
}

/** Console errors, uncaught page errors and failed requests of a page (CSP violations are console errors). */
function watchProblems(page: Page) {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()} at ${msg.location().url || page.url()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (request) => {
    if (!request.url().startsWith(REDIRECT_URI)) problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  return problems;
}

async function newContext(options: BrowserContextOptions = {}) {
  const context = await browser().newContext({ viewport: { width: 900, height: 700 }, ...options });
  context.setDefaultTimeout(15_000);
  return { context, callbacks: catchCallbacks(context) };
}

async function signIn(page: Page, server: TestServer) {
  expect(new URL(page.url()).pathname).toMatch(/^\/interaction\//);
  expect(await page.locator('h1').textContent()).toBe('Sign in');
  await page.locator('#email').fill(EMAIL);
  await page.locator('#password').fill(DEMO_PASSWORD);
  await Promise.all([page.waitForURL((url) => url.origin === server.url && url.pathname.startsWith('/interaction/')), page.getByRole('button', { name: 'Sign in' }).click()]);
}

/** The consent page's checkbox for a scope (a locked one carries its value in a hidden input beside it). */
function scopeCheckbox(page: Page, scope: string) {
  return page.locator(`label.scope:has(input[value="${scope}"]) input[type=checkbox]`);
}

async function exchange(server: TestServer, code: string, verifier: string) {
  const response = await fetch(new URL('/token', server.url), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: CLIENT_ID, code_verifier: verifier }),
  });
  const body = (await response.json()) as Record<string, unknown>;
  expect({ status: response.status, error: body.error }).toEqual({ status: 200, error: undefined });
  return body as { access_token: string; id_token?: string; refresh_token?: string; scope: string; token_type: string };
}

/** Checks the callback carries a code for this request, then redeems it at the token endpoint. */
async function redeem(server: TestServer, callback: URL, request: ReturnType<typeof authorizationRequest>) {
  expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
  expect(callback.searchParams.get('error')).toBeNull();
  expect(callback.searchParams.get('state')).toBe(request.state);
  expect(callback.searchParams.get('iss')).toBe(server.services.config.issuer);
  const code = callback.searchParams.get('code');
  expect(code).toEqual(expect.any(String));
  return exchange(server, code as string, request.verifier);
}

/** Sign in and allow everything asked: the full interactive flow in a fresh context. */
async function authorizeInteractively(server: TestServer, page: Page, callbacks: Callbacks, scopes: string[]) {
  const request = authorizationRequest(server, scopes);
  await page.goto(request.url);
  await signIn(page, server);
  expect(await page.locator('h1').textContent()).toBe('Allow access?');
  return redeem(server, await clickToApp(page, callbacks, 'Allow'), request);
}

describe.each(storeBackends)('a real browser on the $name store', (backend) => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer(backend);
  });
  afterEach(async () => {
    await server?.stop();
  });

  test('signs in, consents with openid locked and one scope unticked, and the code grants only what was allowed', async () => {
    const { context, callbacks } = await newContext();
    try {
      const page = await context.newPage();
      const problems = watchProblems(page);
      const request = authorizationRequest(server, ['openid', 'profile', 'email']);

      await page.goto(request.url);
      await signIn(page, server);

      expect(await page.locator('h1').textContent()).toBe('Allow access?');
      expect(await page.locator('.lead').textContent()).toContain('Demo patient app');
      const openid = scopeCheckbox(page, 'openid');
      expect(await openid.isChecked()).toBe(true);
      expect(await openid.isDisabled()).toBe(true);
      for (const scope of ['profile', 'email']) {
        expect(await scopeCheckbox(page, scope).isChecked()).toBe(true);
        expect(await scopeCheckbox(page, scope).isEnabled()).toBe(true);
      }
      await scopeCheckbox(page, 'email').uncheck();

      const tokens = await redeem(server, await clickToApp(page, callbacks, 'Allow'), request);

      expect(tokens.scope.split(' ').sort()).toEqual(['openid', 'profile']);
      expect(tokens.token_type).toMatch(/^bearer$/i);
      expect(decodeJwt(tokens.id_token as string)).toMatchObject({ iss: server.services.config.issuer, aud: CLIENT_ID, nonce: request.nonce });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, TIMEOUT);

  test('a second authorization for the same scopes in the same browser skips sign-in and consent', async () => {
    const { context, callbacks } = await newContext();
    try {
      const page = await context.newPage();
      const scopes = ['openid', 'profile'];
      const first = await authorizeInteractively(server, page, callbacks, scopes);
      expect(first.scope.split(' ').sort()).toEqual(scopes);

      const pagesSeen: string[] = [];
      page.on('request', (req) => {
        if (req.isNavigationRequest()) pagesSeen.push(new URL(req.url()).pathname);
      });
      const request = authorizationRequest(server, scopes);
      const second = await redeem(server, await gotoApp(page, callbacks, request.url), request);

      expect(second.scope.split(' ').sort()).toEqual(scopes);
      expect(pagesSeen).toEqual(['/authorize', '/callback']);
    } finally {
      await context.close();
    }
  }, TIMEOUT);

  test('the account page lists the app; Revoke removes it and "Revoke everything" signs the user out', async () => {
    const { context, callbacks } = await newContext();
    try {
      const page = await context.newPage();
      const granted = await authorizeInteractively(server, page, callbacks, ['openid', 'profile', 'offline_access']);
      expect(granted.refresh_token).toEqual(expect.any(String));

      await page.goto(new URL('/account', server.url).href);
      expect(await page.locator('h1').textContent()).toBe('Your account');
      expect(await page.locator('.lead').textContent()).toContain(EMAIL);
      const app = page.locator('ul.apps li', { hasText: 'Demo patient app' });
      expect(await app.count()).toBe(1);

      await Promise.all([page.waitForURL(new URL('/account', server.url).href), app.getByRole('button', { name: 'Revoke' }).click()]);
      expect(await page.locator('ul.apps li').count()).toBe(0);
      expect(await page.getByText('No app has access to your account.').count()).toBe(1);

      // The app's refresh token died with its grant.
      const refreshed = await fetch(new URL('/token', server.url), {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: granted.refresh_token as string, client_id: CLIENT_ID }),
      });
      expect(refreshed.status).toBe(400);
      expect(((await refreshed.json()) as { error: string }).error).toBe('invalid_grant');

      // Still signed in, but the consent has to be given again.
      const again = authorizationRequest(server, ['openid', 'profile']);
      await page.goto(again.url);
      expect(await page.locator('h1').textContent()).toBe('Allow access?');
      await redeem(server, await clickToApp(page, callbacks, 'Allow'), again);

      await page.goto(new URL('/account', server.url).href);
      expect(await page.locator('ul.apps li', { hasText: 'Demo patient app' }).count()).toBe(1);
      await Promise.all([page.waitForURL(new URL('/login', server.url).href), page.getByRole('button', { name: 'Revoke everything' }).click()]);
      expect(await page.locator('h1').textContent()).toBe('Sign in');

      // Signed out: the account page and a new authorization both ask to sign in again.
      await page.goto(new URL('/account', server.url).href);
      expect(new URL(page.url()).pathname).toBe('/login');
      await page.goto(authorizationRequest(server, ['openid', 'profile']).url);
      expect(new URL(page.url()).pathname).toMatch(/^\/interaction\//);
      expect(await page.locator('h1').textContent()).toBe('Sign in');
    } finally {
      await context.close();
    }
  }, TIMEOUT);

  test('sign-in and consent work with JavaScript disabled, with no console errors or CSP violations', async () => {
    const { context, callbacks } = await newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      const problems = watchProblems(page);
      const styles: number[] = [];
      page.on('response', (response) => {
        if (new URL(response.url()).pathname === '/static/assent.css') styles.push(response.status());
      });
      const request = authorizationRequest(server, ['openid', 'profile', 'email']);

      const login = await page.goto(request.url);
      expect(login?.headers()['content-security-policy']).toContain("default-src 'none'");
      await signIn(page, server);
      expect(await page.locator('h1').textContent()).toBe('Allow access?');
      expect(await scopeCheckbox(page, 'openid').isDisabled()).toBe(true);
      await scopeCheckbox(page, 'profile').uncheck();

      const tokens = await redeem(server, await clickToApp(page, callbacks, 'Allow'), request);

      expect(tokens.scope.split(' ').sort()).toEqual(['email', 'openid']);
      expect(styles.length).toBeGreaterThan(0); // the browser may cache it between the pages
      expect(styles.every((status) => status === 200)).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, TIMEOUT);
});
