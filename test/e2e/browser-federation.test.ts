import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { BrowserlessUser, DEMO_EMAIL } from '../support/browserless-user.js';
import { chromiumForSuite } from '../support/chromium.js';
import { basicAuth, pkce, postForm, randomValue } from '../support/oauth-flow.js';
import { DEMO_PASSWORD, startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';
import { UPSTREAM_NAME, UpstreamProvider } from '../support/upstream-provider.js';
import { httpProtection, UmaResourceServer } from '../support/uma-resource-server.js';
import { UMA_TICKET_GRANT as UMA_GRANT } from '../../server/uma/grant.js';

/**
 * Federated login in a real browser (Debian's Chromium): a physician with no account here proves
 * who they are at an upstream OpenID provider (a real oidc-provider on loopback) during UMA claims
 * gathering, the patient's rule matches the verified email, the clinic app gets its RPT and reads
 * the medication list; and a patient links an upstream identity on the account page, then signs
 * in to an app with it.
 */
const TIMEOUT = 60_000;
const MEDICATIONS = { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'MedicationStatement', status: 'active', medicationCodeableConcept: { text: 'Atorvastatin 20 mg' } } }] };

/** A client app's own web server: it records where the browser was sent back to and says "done". */
class AppServer {
  readonly arrivals: URL[] = [];
  private waiting: ((url: URL) => void) | undefined;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<AppServer> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const app = new AppServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req, res) => {
      const arrival = new URL(req.url ?? '/', app.url);
      app.arrivals.push(arrival);
      app.waiting?.(arrival);
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!doctype html><title>App</title><h1>Back at the app</h1>');
    });
    return app;
  }

  async close() {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Page errors, console errors and HTTP errors met on Assent's and the app's pages (CSP violations
 * are console errors). The upstream provider's own pages are not ours to judge: oidc-provider's
 * development pages load web fonts, which cannot resolve here.
 */
function watchProblems(page: Page, origins: string[]) {
  const problems: string[] = [];
  const ours = (url: string) => URL.canParse(url) && origins.includes(new URL(url).origin);
  page.on('console', (msg) => {
    if (msg.type() === 'error' && ours(page.url())) problems.push(`console error at ${page.url()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400 && ours(response.url())) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  return problems;
}

/** At the upstream provider's own pages (oidc-provider's sign-in and consent): sign in as `login`, continue. */
async function signInUpstream(page: Page, upstream: UpstreamProvider, login: string) {
  await page.waitForURL((url) => url.origin === upstream.issuer);
  expect(await page.locator('h1').textContent()).toBe('Sign-in');
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

const browser = chromiumForSuite();

describe.each(storeBackends)('federated login in a real browser on the $name store', (backend) => {
  let upstream: UpstreamProvider;
  let server: TestServer;
  let app: AppServer;
  let fhir: UmaResourceServer;
  let clinic: { id: string; secret: string };

  beforeAll(async () => {
    upstream = await UpstreamProvider.listen({
      'dr-jones': { email: 'dr.jones@clinic.example', email_verified: true, name: 'Dr Jones' },
      'alice-at-upstream': { email: 'alice@upstream.example', email_verified: true, name: 'Alice' },
    });
    server = await startTestServer(backend, upstream.env());
    upstream.serve(server.services.config.issuer);
    app = await AppServer.start();

    // Alice's FHIR server holds her medication list and registers it here.
    const secret = server.seeded!.clientSecrets.find((s) => s.clientId === 'demo-resource-server')!.secret;
    fhir = await UmaResourceServer.start({
      asUrl: server.url,
      clientId: 'demo-resource-server',
      secret,
      redirectUri: 'http://localhost:4100/callback',
      resources: [{ path: '/fhir/MedicationStatement', type: 'MedicationStatement', name: 'Medications', body: MEDICATIONS }],
      protection: httpProtection(server.url),
    });
    await fhir.connect(new BrowserlessUser(server.url));

    // Alice's rule: Dr Jones, with a verified email, may read her medications.
    const owner = (await server.services.accounts.byEmail(DEMO_EMAIL))!;
    await server.services.sharingRules.add(owner._id, {
      id: 'dr-jones-medications',
      effect: 'allow',
      grantee: { email: 'dr.jones@clinic.example' },
      resources: { types: ['MedicationStatement'] },
      scopes: ['read'],
      conditions: { email_verified: true },
    });

    const response = await fetch(`${server.url}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Clinic EHR',
        grant_types: ['authorization_code', UMA_GRANT],
        redirect_uris: [`${app.url}/callback`],
        claims_redirect_uris: [`${app.url}/claims`],
        scope: 'openid email uma_authorization',
      }),
    });
    expect(response.status).toBe(201);
    const registered = (await response.json()) as { client_id: string; client_secret: string };
    clinic = { id: registered.client_id, secret: registered.client_secret };
  });

  afterAll(async () => {
    await fhir?.close();
    await app?.close();
    await server?.stop();
    await upstream?.close().catch(() => undefined);
  });

  const grant = (form: Record<string, string>) => postForm(server.url, '/token', { grant_type: UMA_GRANT, ...form }, { Authorization: basicAuth(clinic.id, clinic.secret) });

  test('a physician with no account logs in with the upstream provider; the rule matches; the app reads the medication list', async () => {
    // The app asks the FHIR server, which answers with a permission ticket; the first grant asks for claims.
    const refused = await fhir.read('/fhir/MedicationStatement');
    expect(refused.status).toBe(401);
    const needInfo = await grant({ ticket: refused.ticket! });
    expect(needInfo.status).toBe(403);
    expect(needInfo.body.error).toBe('need_info');

    const state = randomValue();
    const claimsUrl = new URL(needInfo.body.redirect_user as string);
    claimsUrl.search = new URLSearchParams({ client_id: clinic.id, ticket: needInfo.body.ticket as string, claims_redirect_uri: `${app.url}/claims`, state }).toString();

    const context = await browser().newContext({ viewport: { width: 900, height: 700 } });
    context.setDefaultTimeout(15_000);
    try {
      const page = await context.newPage();
      const problems = watchProblems(page, [server.url, app.url]);
      await page.goto(claimsUrl.href);
      expect(await page.locator('h1').textContent()).toBe('Sign in');
      await page.getByRole('link', { name: `Log in with ${UPSTREAM_NAME}` }).click();
      await signInUpstream(page, upstream, 'dr-jones');
      await page.waitForURL((url) => url.href.startsWith(`${app.url}/claims`));
      expect(await page.locator('h1').textContent()).toBe('Back at the app');
      expect(problems).toEqual([]);

      const back = new URL(page.url());
      expect(back.searchParams.get('state')).toBe(state);
      expect(back.searchParams.get('authorization_state')).toBe('claims_submitted');
      expect(await context.cookies(server.url)).not.toContainEqual(expect.objectContaining({ name: 'assent_session' }));

      const granted = await grant({ ticket: back.searchParams.get('ticket')! });
      expect(granted.status).toBe(200);
      const read = await fhir.read('/fhir/MedicationStatement', granted.body.access_token as string);
      expect(read).toMatchObject({ status: 200, body: MEDICATIONS });
      // Nobody got an account for it.
      expect(await server.services.accounts.byEmail('dr.jones@clinic.example')).toBeNull();
    } finally {
      await context.close();
    }
  }, TIMEOUT);

  test('a patient links an upstream identity on the account page, then signs in to an app with it', async () => {
    const linking = await browser().newContext({ viewport: { width: 900, height: 700 } });
    linking.setDefaultTimeout(15_000);
    try {
      const page = await linking.newPage();
      await page.goto(`${server.url}/login`);
      await page.locator('#email').fill(DEMO_EMAIL);
      await page.locator('#password').fill(DEMO_PASSWORD);
      await Promise.all([page.waitForURL(`${server.url}/account`), page.getByRole('button', { name: 'Sign in' }).click()]);
      await page.getByRole('button', { name: `Link ${UPSTREAM_NAME}` }).click();
      await signInUpstream(page, upstream, 'alice-at-upstream');
      await page.waitForURL(`${server.url}/account`);
      const linked = page.locator('section', { hasText: 'Linked identities' });
      expect(await linked.textContent()).toContain(`${UPSTREAM_NAME} alice@upstream.example`);
    } finally {
      await linking.close();
    }

    // A fresh browser: no session here, none at the provider.
    const context = await browser().newContext({ viewport: { width: 900, height: 700 } });
    context.setDefaultTimeout(15_000);
    try {
      const page = await context.newPage();
      const problems = watchProblems(page, [server.url, app.url]);
      const { verifier, challenge } = pkce();
      const state = randomValue();
      const authorize = new URL('/authorize', server.url);
      authorize.search = new URLSearchParams({ response_type: 'code', client_id: clinic.id, redirect_uri: `${app.url}/callback`, scope: 'openid email', state, nonce: randomValue(), code_challenge: challenge, code_challenge_method: 'S256' }).toString();
      await page.goto(authorize.href);
      expect(await page.locator('h1').textContent()).toBe('Sign in');
      await page.getByRole('link', { name: `Log in with ${UPSTREAM_NAME}` }).click();
      await signInUpstream(page, upstream, 'alice-at-upstream');
      await page.waitForURL((url) => url.origin === server.url && url.pathname.startsWith('/interaction/'));
      expect(await page.locator('h1').textContent()).toBe('Allow access?');
      await page.getByRole('button', { name: 'Allow', exact: true }).click();
      await page.waitForURL((url) => url.href.startsWith(`${app.url}/callback`));
      expect(problems).toEqual([]);

      const back = new URL(page.url());
      expect(back.searchParams.get('state')).toBe(state);
      const tokens = await postForm(server.url, '/token', { grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: `${app.url}/callback`, code_verifier: verifier }, { Authorization: basicAuth(clinic.id, clinic.secret) });
      expect(tokens.status).toBe(200);
      const userinfo = await fetch(`${server.url}/userinfo`, { headers: { Authorization: `Bearer ${tokens.body.access_token as string}` } });
      expect(await userinfo.json()).toMatchObject({ email: DEMO_EMAIL });
    } finally {
      await context.close();
    }
  }, TIMEOUT);
});
