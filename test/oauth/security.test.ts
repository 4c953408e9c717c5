import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { hashPassword } from '../../server/crypto/password.js';
import { hashSecret } from '../../server/crypto/secrets.js';
import { Grants } from '../../server/store/repositories/grants.js';
import type { AuthorizationCodeDocument } from '../../server/store/repositories/tokens.js';
import { BrowserlessUser, consentChoices, csrfOf, formOf, formsOf, hiddenFields, textOf, type Page } from '../support/browserless-user.js';
import { CLIENT_AUTH_THROTTLE } from '../../server/oauth/clients/authenticate.js';
import { basicAuth, RawClient, type JsonResponse, type TokenSet } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';

/**
 * The attacks and mistakes the OAuth 2.0 Security BCP (RFC 9700) and OpenID Connect Core warn
 * about, each played against the real server: every one must fail closed, with the protocol's
 * error and status, and must leave nothing issued behind.
 */
/** Two loopback addresses (all of 127.0.0.0/8 is local on Linux) standing for two machines. */
const REAL_CLIENT = '127.0.0.1';
const ATTACKER = '127.0.0.2';

describe.each(storeBackends)('authorization security on the $name store', (backend) => {
  let server: TestServer;
  let app: RawClient;
  let resourceServer: RawClient;
  const appRedirect = 'http://localhost:4200/callback';

  beforeAll(async () => {
    server = await startTestServer(backend);
    app = new RawClient(server.url);
    const secret = server.seeded!.clientSecrets.find((s) => s.clientId === 'demo-resource-server')!.secret;
    resourceServer = new RawClient(server.url, 'demo-resource-server', 'http://localhost:4100/callback', secret);
  });
  afterAll(() => server.stop());

  /** A fresh patient with its own browser, so tests do not share grants, sessions or throttling. */
  async function patient() {
    const email = `patient-${randomBytes(6).toString('hex')}@example.org`;
    const password = randomBytes(12).toString('base64url');
    const account = await server.services.accounts.create({ email, name: 'Test Patient', emailVerified: true, passwordHash: await hashPassword(password) });
    return { id: account._id, email, password, login: { email, password }, user: new BrowserlessUser(server.url) };
  }

  const COLLECTIONS = ['authorization_codes', 'access_tokens', 'refresh_tokens', 'grants', 'sessions', 'interactions'] as const;
  async function counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const name of COLLECTIONS) out[name] = await (await server.services.store.collection(name)).count({});
    return out;
  }

  function expectError(response: JsonResponse, status: number, error: string) {
    expect({ status: response.status, error: response.body.error }).toEqual({ status, error });
    expect(response.headers.get('cache-control')).toBe('no-store');
  }

  /** An error shown to the person: an HTML page with the status, and no redirect anywhere. */
  function expectErrorPage(page: Page, status: number, code?: string) {
    expect(page.status).toBe(status);
    expect(page.location).toBeUndefined();
    expect(page.headers.get('content-type')).toContain('text/html');
    if (code) expect(textOf(page.html)).toContain(`Error code: ${code}`);
  }

  /** An error sent back to the client at its redirect URI, with state and iss (RFC 6749 §4.1.2.1, RFC 9207). */
  function expectErrorRedirect(page: Page | { callback?: URL }, error: string, state: string | undefined, redirectUri = appRedirect) {
    const location = 'callback' in page ? page.callback : (page as Page).location;
    if ('status' in page) expect(page.status).toBe(303);
    expect(location).toBeDefined();
    expect(`${location!.origin}${location!.pathname}`).toBe(redirectUri);
    expect(location!.searchParams.get('error')).toBe(error);
    expect(location!.searchParams.get('code')).toBeNull();
    expect(location!.searchParams.get('iss')).toBe(server.url);
    expect(location!.searchParams.get('state')).toBe(state ?? null);
  }

  describe('authorization codes', () => {
    test('a replayed code is invalid_grant and revokes the access and refresh tokens of its first use', async () => {
      const { user, login } = await patient();
      const { code, verifier } = await app.code(user, {}, login);
      const first = await app.exchange(code, verifier);
      expect(first.status).toBe(200);
      const tokens = first.body as unknown as TokenSet;
      expect(await app.isActive(tokens.access_token)).toBe(true);
      expect(await app.isActive(tokens.refresh_token!)).toBe(true);

      expectError(await app.exchange(code, verifier), 400, 'invalid_grant');
      expect(await app.isActive(tokens.access_token)).toBe(false);
      expect(await app.isActive(tokens.refresh_token!)).toBe(false);
      expectError(await app.refresh(tokens.refresh_token!), 400, 'invalid_grant');
      const userinfo = await fetch(`${server.url}/userinfo`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
      expect(userinfo.status).toBe(401);
    });

    test('a replayed code also revokes the tokens refreshed from its first use', async () => {
      const { user, login } = await patient();
      const { code, verifier } = await app.code(user, {}, login);
      const tokens = (await app.exchange(code, verifier)).body as unknown as TokenSet;
      const refreshed = (await app.refresh(tokens.refresh_token!)).body as unknown as TokenSet;
      expect(await app.isActive(refreshed.access_token)).toBe(true);
      expectError(await app.exchange(code, verifier), 400, 'invalid_grant');
      expect(await app.isActive(refreshed.access_token)).toBe(false);
      expect(await app.isActive(refreshed.refresh_token!)).toBe(false);
    });

    test('a code is bound to its client and its redirect URI', async () => {
      const { user, login } = await patient();
      const stolen = await app.code(user, {}, login);
      expectError(await resourceServer.exchange(stolen.code, stolen.verifier, { redirect_uri: appRedirect }), 400, 'invalid_grant');
      const other = await app.code(user, {}, login);
      expectError(await app.exchange(other.code, other.verifier, { redirect_uri: 'http://localhost:4200/callback/' }), 400, 'invalid_grant');
      expectError(await app.exchange(other.code, other.verifier, { redirect_uri: undefined }), 400, 'invalid_grant');
    });

    test('an unknown code is invalid_grant', async () => {
      expectError(await app.exchange(randomBytes(32).toString('base64url'), 'a'.repeat(43)), 400, 'invalid_grant');
    });
  });

  describe('PKCE', () => {
    test.each([
      ['missing', { code_challenge: undefined }],
      ['method missing', { code_challenge_method: undefined }],
      ['plain', { code_challenge_method: 'plain' }],
      ['plain with a verifier-shaped challenge', { code_challenge_method: 'plain', code_challenge: 'a'.repeat(43) }],
      ['an unknown method', { code_challenge_method: 'S512' }],
      ['a challenge that is not a SHA-256 digest', { code_challenge: 'too-short' }],
      ['a challenge with characters outside base64url', { code_challenge: `${'a'.repeat(42)}=` }],
    ])('at /authorize, %s: invalid_request back to the client, nothing started', async (_name, params) => {
      const { user, login } = await patient();
      const before = await counts();
      const { url, state } = app.prepare(params);
      const result = await user.authorize(url, login);
      expect(result.seen).toEqual([]);
      expectErrorRedirect(result, 'invalid_request', state);
      expect(await counts()).toEqual(before);
    });

    test('at /token: missing or malformed verifier is invalid_request and leaves the code alone; a wrong one is invalid_grant and burns it', async () => {
      const { user, login } = await patient();
      const { code, verifier } = await app.code(user, {}, login);
      expectError(await app.exchange(code, ''), 400, 'invalid_request');
      expectError(await app.exchange(code, 'short'), 400, 'invalid_request');
      expectError(await app.exchange(code, 'a'.repeat(129)), 400, 'invalid_request');
      expectError(await app.exchange(code, `${'a'.repeat(42)}+/`), 400, 'invalid_request');
      expectError(await app.exchange(code, `${'a'.repeat(42)} é`), 400, 'invalid_request');
      expect(await (await server.services.store.collection<AuthorizationCodeDocument>('authorization_codes')).findOne({ _id: hashSecret(code), consumedAt: { $exists: false } })).not.toBeNull();

      // Well-formed but wrong (e.g. the challenge itself, as a confused client might send).
      const before = await counts();
      expectError(await app.exchange(code, 'b'.repeat(43)), 400, 'invalid_grant');
      expect(await counts()).toMatchObject({ access_tokens: before.access_tokens, refresh_tokens: before.refresh_tokens });
      // Fail closed: the code is spent, even for the right verifier now.
      expectError(await app.exchange(code, verifier), 400, 'invalid_grant');
    });
  });

  describe('redirect URIs are compared exactly; a mismatch is an error page, never a redirect', () => {
    test.each([
      ['a prefix', 'http://localhost:4200/callbac'],
      ['a suffix', 'http://localhost:4200/callbackx'],
      ['a longer path', 'http://localhost:4200/callback/evil'],
      ['a parent path', 'http://localhost:4200/'],
      ['a trailing slash', 'http://localhost:4200/callback/'],
      ['dot segments', 'http://localhost:4200/x/../callback'],
      ['an added query', 'http://localhost:4200/callback?next=https://evil.example'],
      ['a fragment', 'http://localhost:4200/callback#x'],
      ['another port', 'http://localhost:4201/callback'],
      ['another scheme', 'https://localhost:4200/callback'],
      ['an upper-case host', 'http://LOCALHOST:4200/callback'],
      ['an upper-case path', 'http://localhost:4200/Callback'],
      ['a percent-encoded path', 'http://localhost:4200/%63allback'],
      ['a percent-encoded slash', 'http://localhost:4200%2Fcallback'],
      ['userinfo in front of the real host', 'http://localhost:4200@evil.example/callback'],
      ['userinfo before the registered host', 'http://evil.example@localhost:4200/callback'],
      ['another host', 'http://evil.example/callback'],
      ['a host with the registered one as prefix', 'http://localhost.evil.example:4200/callback'],
      ['backslash tricks', 'http://localhost:4200\\@evil.example/callback'],
      ['a space', 'http://localhost:4200/callback '],
      ['an encoded newline', 'http://localhost:4200/callback%0d%0a'],
      ['an empty value', ''],
    ])('%s', async (_name, redirectUri) => {
      const { user, login } = await patient();
      const before = await counts();
      const { url } = app.prepare({ redirect_uri: redirectUri });
      if (redirectUri === '') url.searchParams.set('redirect_uri', '');
      const page = await user.get(url);
      // An empty redirect_uri counts as absent, and demo-app registered exactly one: that one is used.
      if (redirectUri === '') {
        expect(page.status).toBe(303);
        expect(page.location!.pathname).toMatch(/^\/interaction\//);
        return;
      }
      expectErrorPage(page, 400, 'invalid_request');
      expect(textOf(page.html)).toContain('redirect_uri does not exactly match');
      // Even with every other parameter wrong too, nothing is sent to the unregistered URI.
      const worse = await user.get(app.prepare({ redirect_uri: redirectUri, response_type: 'token', code_challenge: undefined, scope: undefined }).url);
      expectErrorPage(worse, 400);
      const result = await user.authorize(url, login);
      expect(result.callback).toBeUndefined();
      expect(await counts()).toEqual(before);
    });

    test('a client with several redirect URIs must name one', async () => {
      const registration = await fetch(`${server.url}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9001/a', 'http://127.0.0.1:9001/b'], token_endpoint_auth_method: 'none', scope: 'openid' }),
      });
      const { client_id: clientId } = await registration.json();
      const client = new RawClient(server.url, clientId, 'http://127.0.0.1:9001/a');
      const { user } = await patient();
      expectErrorPage(await user.get(client.prepare({ redirect_uri: undefined }).url), 400, 'invalid_request');
      expectErrorPage(await user.get(client.prepare({ redirect_uri: 'http://127.0.0.1:9001/c' }).url), 400, 'invalid_request');
      expect((await user.get(client.prepare({ redirect_uri: 'http://127.0.0.1:9001/b' }).url)).status).toBe(303);
    });

    test('an unknown client is an error page', async () => {
      const { user } = await patient();
      expectErrorPage(await user.get(app.prepare({ client_id: 'no-such-client' }).url), 400, 'invalid_client');
      expectErrorPage(await user.get(app.prepare({ client_id: undefined }).url), 400, 'invalid_client');
    });
  });

  describe('refresh tokens', () => {
    test('reuse of a rotated refresh token is invalid_grant and kills the whole family', async () => {
      const { user, login } = await patient();
      const first = await app.tokens(user, {}, login);
      const second = (await app.refresh(first.refresh_token!)).body as unknown as TokenSet;
      expect(second.refresh_token).toEqual(expect.any(String));
      expect(await app.isActive(second.access_token)).toBe(true);

      expectError(await app.refresh(first.refresh_token!), 400, 'invalid_grant');
      for (const token of [first.access_token, second.access_token, second.refresh_token!, first.refresh_token!]) {
        expect(await app.isActive(token)).toBe(false);
      }
      expectError(await app.refresh(second.refresh_token!), 400, 'invalid_grant');
    });

    test('another client cannot use a refresh token, and trying does not spend it', async () => {
      const { user, login } = await patient();
      const tokens = await app.tokens(user, {}, login);
      expectError(await resourceServer.refresh(tokens.refresh_token!), 400, 'invalid_grant');
      expect((await app.refresh(tokens.refresh_token!)).status).toBe(200);
    });

    test('up-scoping is invalid_scope and spends nothing; down-scoping narrows the access token only', async () => {
      const { user, login } = await patient();
      const tokens = await app.tokens(user, { scope: 'openid email offline_access' }, login);
      const before = await counts();
      expectError(await app.refresh(tokens.refresh_token!, 'openid email profile offline_access'), 400, 'invalid_scope');
      expectError(await app.refresh(tokens.refresh_token!, 'openid uma_protection'), 400, 'invalid_scope');
      expect(await counts()).toEqual(before);
      expect(await app.isActive(tokens.refresh_token!)).toBe(true);

      const narrowed = await app.refresh(tokens.refresh_token!, 'openid');
      expect(narrowed.status).toBe(200);
      const body = narrowed.body as unknown as TokenSet;
      expect(body.scope).toBe('openid');
      expect(await app.introspect(body.access_token)).toMatchObject({ active: true, scope: 'openid' });
      // The new refresh token keeps what was granted, so the client can widen back up to it.
      expect(await app.introspect(body.refresh_token!)).toMatchObject({ active: true, scope: 'email offline_access openid' });
      const widenedBack = (await app.refresh(body.refresh_token!, 'openid email')).body as unknown as TokenSet;
      expect(widenedBack.scope).toBe('openid email');
    });
  });

  describe('login and consent forms', () => {
    async function atLogin() {
      const patientData = await patient();
      const { url, state } = app.prepare();
      const page = await patientData.user.follow(await patientData.user.get(url));
      expect(page.status).toBe(200);
      return { ...patientData, page, form: formOf(page, /\/login$/), state };
    }

    async function atConsent(scope = 'openid email offline_access') {
      const patientData = await patient();
      const { url, state } = app.prepare({ scope });
      const loginPage = await patientData.user.follow(await patientData.user.get(url));
      const loginForm = formOf(loginPage, /\/login$/);
      const page = await patientData.user.follow(await patientData.user.post(loginForm.action, [...hiddenFields(loginForm), ['email', patientData.email], ['password', patientData.password]]));
      expect(page.status).toBe(200);
      return { ...patientData, page, form: formOf(page, /\/consent$/), state };
    }

    test.each([
      ['missing', undefined],
      ['empty', ''],
      ['wrong', 'x'.repeat(43)],
      ['from another interaction', 'other'],
    ])('login with a %s CSRF token is 403 and signs nobody in', async (_name, csrf) => {
      const { user, form, email, password } = await atLogin();
      const token = csrf === 'other' ? csrfOf((await atLogin()).form) : csrf;
      const before = await counts();
      const fields: [string, string][] = [['email', email], ['password', password]];
      if (token !== undefined) fields.push(['csrf', token]);
      const page = await user.post(form.action, fields);
      expectErrorPage(page, 403, 'invalid_request');
      expect(user.cookie('assent_session')).toBeUndefined();
      expect(await counts()).toEqual(before);
      // The interaction still waits for a real login.
      expect(formOf(await user.get(form.action.pathname.replace(/\/login$/, '')), /\/login$/)).toBeDefined();
    });

    test.each([
      ['missing', undefined],
      ['wrong', 'x'.repeat(43)],
      ['the session one instead of the interaction one', 'session'],
    ])('consent with a %s CSRF token is 403 and issues nothing', async (_name, csrf) => {
      const { user, form, id } = await atConsent();
      const before = await counts();
      const sessionCsrf = (await server.services.store.collection<{ _id: string; csrf: string }>('sessions')).findOne({ _id: hashSecret(user.cookie('assent_session')!) });
      const token = csrf === 'session' ? (await sessionCsrf)!.csrf : csrf;
      const fields: [string, string][] = [['scope', 'openid'], ['decision', 'allow']];
      if (token !== undefined) fields.push(['csrf', token]);
      const page = await user.post(form.action, fields);
      expectErrorPage(page, 403, 'invalid_request');
      expect(await counts()).toEqual(before);
      expect(await server.services.grants.forAccount(id)).toEqual([]);
      // The real form still works afterwards.
      const done = await user.post(form.action, [...hiddenFields(form), ['decision', 'allow']]);
      expect(done.status).toBe(303);
      expect(done.location!.searchParams.get('code')).toEqual(expect.any(String));
    });

    test('an interaction cannot be used from another browser (no binding cookie)', async () => {
      const { user, form, email, password } = await atLogin();
      const interactionPath = form.action.pathname.replace(/\/login$/, '');
      const attacker = new BrowserlessUser(server.url);
      const before = await counts();
      expectErrorPage(await attacker.get(interactionPath), 400, 'invalid_request');
      // Even knowing the CSRF token and the password, the other browser gets nowhere.
      const post = await attacker.post(form.action, [...hiddenFields(form), ['email', email], ['password', password]]);
      expectErrorPage(post, 400, 'invalid_request');
      expect(attacker.cookie('assent_session')).toBeUndefined();
      expect(await counts()).toEqual(before);
      // A binding cookie of another interaction does not fit either.
      const other = await atLogin();
      const stolenCookie = other.user.cookieNames().find((n) => n.startsWith('assent_interaction_'))!;
      const forged = await attacker.send(interactionPath, { headers: { cookie: `${stolenCookie.replace(/_[^_]+$/, `_${interactionPath.split('/')[2]!.slice(0, 16)}`)}=${other.user.cookie(stolenCookie)}` } });
      expectErrorPage(forged, 400);
      // The browser that started it is unaffected.
      const consent = await user.follow(await user.post(form.action, [...hiddenFields(form), ['email', email], ['password', password]]));
      expect(formOf(consent, /\/consent$/)).toBeDefined();
    });

    test('a finished interaction cannot be submitted again', async () => {
      const { user, form } = await atConsent();
      const fields = [...hiddenFields(form), ['decision', 'allow']] as [string, string][];
      expect((await user.post(form.action, fields)).status).toBe(303);
      const before = await counts();
      expectErrorPage(await user.post(form.action, fields), 400, 'invalid_request');
      expect(await counts()).toEqual(before);
    });

    test('login and consent pages cannot be framed', async () => {
      const { page: login } = await atLogin();
      const { page: consent } = await atConsent();
      for (const page of [login, consent]) {
        expect(page.headers.get('x-frame-options')).toBe('DENY');
        expect(page.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
        expect(page.headers.get('cache-control')).toBe('no-store');
      }
    });
  });

  describe('login throttling', () => {
    test("after 5 failures an account is throttled with 429 and a retry message, even for the right password; others are not", async () => {
      const target = await patient();
      const { url } = app.prepare();
      const first = await target.user.follow(await target.user.get(url));
      let form = formOf(first, /\/login$/);
      for (let attempt = 1; attempt <= 5; attempt++) {
        const page = await target.user.post(form.action, [...hiddenFields(form), ['email', target.email], ['password', `wrong-${attempt}`]]);
        expect(page.status).toBe(401);
        expect(textOf(page.html)).toContain('Wrong email or password.');
        form = formOf(page, /\/login$/);
      }
      const before = await counts();
      const throttled = await target.user.post(form.action, [...hiddenFields(form), ['email', target.email.toUpperCase()], ['password', target.password]]);
      expect(throttled.status).toBe(429);
      expect(textOf(throttled.html)).toMatch(/Too many failed attempts\. Try again in \d+ seconds?\./);
      expect(target.user.cookie('assent_session')).toBeUndefined();
      expect(await counts()).toEqual(before);

      // Another account signs in from the same address.
      const other = await patient();
      const result = await other.user.authorize(app.prepare().url, other.login);
      expect(result.callback?.searchParams.get('code')).toEqual(expect.any(String));
    });
  });

  describe('client authentication throttling', () => {
    /** A token request over a connection from the given local (loopback) address, as another machine would make it. */
    function tokenRequestFrom(localAddress: string, authorization: string): Promise<{ status: number; retryAfter?: string; body: Record<string, unknown> }> {
      const url = new URL('/token', `http://127.0.0.1:${new URL(server.url).port}`);
      return new Promise((resolve, reject) => {
        const request = http.request(url, { method: 'POST', localAddress, agent: false, headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: authorization } }, (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode!, retryAfter: response.headers['retry-after'], body: JSON.parse(text) as Record<string, unknown> }));
        });
        request.on('error', reject);
        request.end('grant_type=client_credentials');
      });
    }

    test("an attacker who knows a client_id throttles only its own address: the real client still gets a token at once", async () => {
      const registered = await fetch(`${server.url}/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ grant_types: ['client_credentials'], scope: 'uma_authorization' }) });
      const { client_id: clientId, client_secret: secret } = (await registered.json()) as { client_id: string; client_secret: string };
      for (let attempt = 1; attempt <= CLIENT_AUTH_THROTTLE.freeAttempts; attempt++) {
        expect((await tokenRequestFrom(ATTACKER, basicAuth(clientId, `guess-${attempt}`))).body.error).toBe('invalid_client');
      }
      const throttled = await tokenRequestFrom(ATTACKER, basicAuth(clientId, secret));
      expect({ status: throttled.status, error: throttled.body.error }).toEqual({ status: 429, error: 'invalid_client' });
      expect(Number(throttled.retryAfter)).toBeGreaterThanOrEqual(1);

      const real = await tokenRequestFrom(REAL_CLIENT, basicAuth(clientId, secret));
      expect(real.status).toBe(200);
      expect(real.body).toMatchObject({ token_type: 'Bearer', scope: 'uma_authorization', access_token: expect.any(String) });
    });
  });

  describe('prompt and max_age', () => {
    test('prompt=none without a session is login_required at the client, with state and iss', async () => {
      const { user } = await patient();
      const before = await counts();
      const { url, state } = app.prepare({ prompt: 'none' });
      const page = await user.get(url);
      expectErrorRedirect(page, 'login_required', state);
      expect(await counts()).toEqual(before);
    });

    test('prompt=none with a session: silent for granted scopes, consent_required for a new one', async () => {
      const { user, login } = await patient();
      await app.code(user, { scope: 'openid' }, login);
      const silent = await user.authorize(app.prepare({ scope: 'openid', prompt: 'none' }).url);
      expect(silent.seen).toEqual([]);
      expect(silent.callback?.searchParams.get('code')).toEqual(expect.any(String));
      const before = await counts();
      const { url, state } = app.prepare({ scope: 'openid email', prompt: 'none' });
      expectErrorRedirect(await user.get(url), 'consent_required', state);
      expect(await counts()).toEqual(before);
    });

    test('max_age older than the login forces a new login; auth_time reports it', async () => {
      const { user, login } = await patient();
      await app.code(user, { scope: 'openid' }, login);
      const hourAgo = Math.floor(Date.now() / 1000) - 3600;
      const sessions = await server.services.store.collection<{ _id: string; authTime: number }>('sessions');
      expect(await sessions.update({ _id: hashSecret(user.cookie('assent_session')!) }, { authTime: hourAgo })).toBe(1);

      const recent = await app.code(user, { scope: 'openid', max_age: '7200' }, login);
      const oldTokens = (await app.exchange(recent.code, recent.verifier)).body as unknown as TokenSet;
      expect(decodePayload(oldTokens.id_token!).auth_time).toBe(hourAgo);

      const result = await user.authorize(app.prepare({ scope: 'openid', max_age: '600' }).url, login);
      expect(result.seen).toEqual(['login']);
      const prepared = app.prepare({ scope: 'openid', max_age: '600' });
      const again = await user.authorize(prepared.url, login);
      expect(again.seen).toEqual([]);
      const tokens = (await app.exchange(again.callback!.searchParams.get('code'), prepared.verifier)).body as unknown as TokenSet;
      expect(decodePayload(tokens.id_token!).auth_time).toBeGreaterThan(hourAgo + 3000);

      // prompt=none cannot satisfy max_age without a login.
      await sessions.update({ _id: hashSecret(user.cookie('assent_session')!) }, { authTime: hourAgo });
      const { url, state } = app.prepare({ scope: 'openid', max_age: '600', prompt: 'none' });
      expectErrorRedirect(await user.get(url), 'login_required', state);
    });

    test('prompt=login forces a new login even with a fresh session', async () => {
      const { user, login } = await patient();
      await app.code(user, { scope: 'openid' }, login);
      expect((await user.authorize(app.prepare({ scope: 'openid', prompt: 'login' }).url, login)).seen).toEqual(['login']);
    });
  });

  describe('consent', () => {
    test('deny is access_denied at the client with state and iss, and grants nothing', async () => {
      const { user, login, id } = await patient();
      const before = await counts();
      const { url, state } = app.prepare({ scope: 'openid email' });
      const result = await user.authorize(url, { ...login, decision: 'deny' });
      expect(result.seen).toEqual(['login', 'consent']);
      expectErrorRedirect(result, 'access_denied', state);
      const after = await counts();
      expect(after).toMatchObject({ authorization_codes: before.authorization_codes, access_tokens: before.access_tokens, grants: before.grants });
      expect(await server.services.grants.forAccount(id)).toEqual([]);
    });

    test('unticked optional scopes are not granted; openid is mandatory', async () => {
      const { user, login, id } = await patient();
      const { url } = app.prepare({ scope: 'openid profile email' });
      const page = await user.follow(await user.get(url));
      const loginForm = formOf(page, /\/login$/);
      const consentPage = await user.follow(await user.post(loginForm.action, [...hiddenFields(loginForm), ['email', login.email], ['password', login.password]]));
      expect(consentChoices(formOf(consentPage, /\/consent$/))).toEqual({ optional: ['email', 'profile'], mandatory: ['openid'] });
      const tokens = await app.tokens(user, { scope: 'openid profile email' }, { ...login, scopes: [] });
      expect(tokens.scope).toBe('openid');
      expect((await server.services.grants.forAccount(id))[0]!.scopes).toEqual(['openid']);
    });
  });

  describe("the patient's account page", () => {
    async function accountForms(user: BrowserlessUser) {
      const page = await user.get('/account');
      expect(page.status).toBe(200);
      return formsOf(page);
    }

    test('revoking one app kills its tokens and its grant, not the other apps', async () => {
      const { user, login, id } = await patient();
      const appTokens = await app.tokens(user, {}, login);
      const otherTokens = await resourceServer.tokens(user, {}, login);
      const forms = await accountForms(user);
      const revokeApp = forms.find((f) => f.action.pathname === '/account/apps/revoke' && f.inputs.some((i) => i.name === 'client_id' && i.value === 'demo-app'))!;
      expect(revokeApp).toBeDefined();

      // Without the CSRF token nothing happens.
      const forged = await user.post(revokeApp.action, [['client_id', 'demo-app']]);
      expect(forged.status).toBe(403);
      expect(await app.isActive(appTokens.access_token)).toBe(true);

      const done = await user.post(revokeApp.action, hiddenFields(revokeApp));
      expect(done.status).toBe(303);
      expect(done.location!.pathname).toBe('/account');
      expect(await app.isActive(appTokens.access_token)).toBe(false);
      expect(await app.isActive(appTokens.refresh_token!)).toBe(false);
      expectError(await app.refresh(appTokens.refresh_token!), 400, 'invalid_grant');
      expect(await server.services.grants.byId(Grants.idFor(id, 'demo-app'))).toBeNull();
      expect(await resourceServer.isActive(otherTokens.access_token)).toBe(true);
      expect(await resourceServer.isActive(otherTokens.refresh_token!)).toBe(true);

      // Still signed in, but the app must ask again.
      expect((await user.authorize(app.prepare().url, login)).seen).toEqual(['consent']);
      expect((await user.authorize(resourceServer.prepare().url, login)).seen).toEqual([]);
    });

    test('"revoke everything" kills every token, grant and session of the patient', async () => {
      const { user, login, id } = await patient();
      const appTokens = await app.tokens(user, {}, login);
      const otherTokens = await resourceServer.tokens(user, {}, login);
      const secondBrowser = new BrowserlessUser(server.url);
      await secondBrowser.authorize(app.prepare().url, login);
      expect(secondBrowser.cookie('assent_session')).toBeDefined();

      const revokeAll = (await accountForms(user)).find((f) => f.action.pathname === '/account/revoke-all')!;
      expect((await user.post(revokeAll.action, [])).status).toBe(403);
      expect(await app.isActive(appTokens.access_token)).toBe(true);

      const done = await user.post(revokeAll.action, hiddenFields(revokeAll));
      expect(done.status).toBe(303);
      expect(done.location!.pathname).toBe('/login');
      for (const [client, token] of [
        [app, appTokens.access_token],
        [app, appTokens.refresh_token!],
        [resourceServer, otherTokens.access_token],
        [resourceServer, otherTokens.refresh_token!],
      ] as const) {
        expect(await client.isActive(token)).toBe(false);
      }
      expect(await server.services.grants.forAccount(id)).toEqual([]);
      expect(user.cookie('assent_session')).toBeUndefined();
      expect((await user.get('/account')).location?.pathname).toBe('/login');

      const { url, state } = app.prepare({ prompt: 'none' });
      expectErrorRedirect(await secondBrowser.get(url), 'login_required', state);
      expect((await user.authorize(app.prepare().url, login)).seen).toEqual(['login', 'consent']);
    });
  });
});

function decodePayload(jwt: string): Record<string, number | string> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));
}
