import { randomBytes } from 'node:crypto';
import { BrowserlessUser, csrfOf, formOf, formsOf, hiddenFields, type Page } from '../support/browserless-user.js';
import { basicAuth, RawClient, type TokenSet } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';

/**
 * Hostile and broken input at every endpoint: missing, repeated (`a=1&a=2`), structured
 * (`a[x]=y`), oversized, malformed and wrongly typed parameters. The design's rule: a 4xx in the
 * protocol's error format (JSON, or an error page for a person's browser), never a 500 or a stack
 * trace, and nothing written.
 */

type Expectation =
  /** A JSON error body `{ error, error_description? }` with this status. */
  | { json: number; error?: string }
  /** An HTML error page with this status and no redirect. */
  | { page: number; code?: string }
  /** An OAuth error sent back to the client's registered redirect URI. */
  | { redirect: string }
  /** A status with whatever body the HTTP layer gives (before the application sees the request). */
  | { status: number };

interface Case {
  name: string;
  send: () => Promise<Page>;
  expect: Expectation;
}

const WATCHED = ['accounts', 'clients', 'authorization_codes', 'access_tokens', 'refresh_tokens', 'grants', 'sessions', 'interactions', 'signing_keys'] as const;

describe.each(storeBackends)('bad input on the $name store', (backend) => {
  let server: TestServer;
  let app: RawClient;
  let resourceSecret: string;
  /** A registered backend client allowed client_credentials (uma_authorization needs no user). */
  let backendAuth: Record<string, string>;
  /** A browser waiting at the login page of an interaction. */
  let atLogin: { user: BrowserlessUser; path: string; csrf: string };
  /** A signed-in browser waiting at the consent page of another interaction. */
  let atConsent: { user: BrowserlessUser; path: string; csrf: string; accountCsrf: string };
  let tokens: TokenSet;

  beforeAll(async () => {
    server = await startTestServer(backend);
    app = new RawClient(server.url);
    resourceSecret = server.seeded!.clientSecrets.find((s) => s.clientId === 'demo-resource-server')!.secret;

    const registered = await (
      await fetch(`${server.url}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ client_name: 'backend', grant_types: ['client_credentials'], scope: 'uma_authorization' }),
      })
    ).json();
    backendAuth = { Authorization: basicAuth(registered.client_id, registered.client_secret) };

    const loginUser = new BrowserlessUser(server.url);
    const loginPage = await loginUser.follow(await loginUser.get(app.prepare().url));
    const loginForm = formOf(loginPage, /\/login$/);
    atLogin = { user: loginUser, path: loginForm.action.pathname.replace(/\/login$/, ''), csrf: csrfOf(loginForm) };

    const consentUser = new BrowserlessUser(server.url);
    tokens = await app.tokens(consentUser, { scope: 'openid offline_access' });
    const consentPage = await consentUser.follow(await consentUser.get(app.prepare({ scope: 'openid email' }).url));
    const consentForm = formOf(consentPage, /\/consent$/);
    const account = formsOf(await consentUser.get('/account')).find((f) => f.action.pathname === '/account/revoke-all')!;
    atConsent = { user: consentUser, path: consentForm.action.pathname.replace(/\/consent$/, ''), csrf: csrfOf(consentForm), accountCsrf: csrfOf(account) };
  });
  afterAll(() => server.stop());

  const anonymous = () => new BrowserlessUser(server.url);
  const get = (path: string, headers: Record<string, string> = {}) => anonymous().send(path, { method: 'GET', headers });
  const send = (method: string, path: string, body?: string, headers: Record<string, string> = {}) => anonymous().send(path, { method, body, headers });
  const form = (path: string, body: string, headers: Record<string, string> = {}) => send('POST', path, body, { 'Content-Type': 'application/x-www-form-urlencoded', ...headers });
  const json = (path: string, body: string, headers: Record<string, string> = {}) => send('POST', path, body, { 'Content-Type': 'application/json', ...headers });
  const asResourceServer = () => ({ Authorization: basicAuth('demo-resource-server', resourceSecret) });
  /** A valid authorization query for demo-app with some parameters replaced (raw text, not re-encoded). */
  const authorizeQuery = (replace: Record<string, string> = {}, extra = '') => {
    // `scope[x]` replaces `scope`: the structured form stands in for the plain parameter.
    const url = app.prepare({ state: 'st', ...Object.fromEntries(Object.keys(replace).map((k) => [k.replace(/\[.*$/, ''), undefined])) }).url;
    const raw = Object.entries(replace).map(([k, v]) => `${k}=${v}`).join('&');
    return `/authorize${url.search}${raw ? `&${raw}` : ''}${extra}`;
  };
  const long = (n: number) => 'x'.repeat(n);

  async function counts() {
    const out: Record<string, number> = {};
    for (const name of WATCHED) out[name] = await (await server.services.store.collection(name)).count({});
    return out;
  }

  function check(reply: Page, expected: Expectation) {
    expect(reply.status).toBeGreaterThanOrEqual(300);
    expect(reply.status).toBeLessThan(500);
    expect(reply.html).not.toMatch(/\bat \S+ \(|node_modules|Error:|stack/);
    if ('json' in expected) {
      expect(reply.status).toBe(expected.json);
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
      const body = JSON.parse(reply.html) as Record<string, unknown>;
      expect(Object.keys(body).every((k) => k === 'error' || k === 'error_description')).toBe(true);
      expect(typeof body.error).toBe('string');
      if (expected.error) expect(body.error).toBe(expected.error);
      expect(reply.headers.get('cache-control')).toBe('no-store');
    } else if ('page' in expected) {
      expect(reply.status).toBe(expected.page);
      expect(reply.location).toBeUndefined();
      expect(reply.headers.get('content-type')).toMatch(/^text\/html/);
      if (expected.code) expect(reply.html).toContain(`<code>${expected.code}</code>`);
    } else if ('redirect' in expected) {
      expect(reply.status).toBe(303);
      expect(`${reply.location?.origin}${reply.location?.pathname}`).toBe('http://localhost:4200/callback');
      expect(reply.location!.searchParams.get('error')).toBe(expected.redirect);
      expect(reply.location!.searchParams.get('code')).toBeNull();
      expect(reply.location!.searchParams.get('iss')).toBe(server.url);
    } else {
      expect(reply.status).toBe(expected.status);
    }
  }

  const cases: Case[] = [
    // ---- /authorize (errors before the client and redirect URI are known go to the person, after: to the client)
    { name: '/authorize without parameters', send: () => get('/authorize'), expect: { page: 400, code: 'invalid_client' } },
    { name: '/authorize with client_id twice', send: () => get(authorizeQuery({}, '&client_id=demo-app')), expect: { page: 400, code: 'invalid_request' } },
    { name: '/authorize with redirect_uri twice', send: () => get(authorizeQuery({}, '&redirect_uri=http%3A%2F%2Flocalhost%3A4200%2Fcallback')), expect: { page: 400, code: 'invalid_request' } },
    { name: '/authorize with state twice', send: () => get(authorizeQuery({}, '&state=again')), expect: { page: 400, code: 'invalid_request' } },
    { name: '/authorize with a structured client_id', send: () => get('/authorize?client_id[x]=demo-app&response_type=code'), expect: { page: 400, code: 'invalid_client' } },
    { name: '/authorize with a structured scope', send: () => get(authorizeQuery({ 'scope[x]': 'openid' })), expect: { redirect: 'invalid_scope' } },
    { name: '/authorize with an oversized state', send: () => get(authorizeQuery({ state: long(9000) })), expect: { page: 400, code: 'invalid_request' } },
    { name: '/authorize with an oversized URL', send: () => get(authorizeQuery({ state: long(70_000) })), expect: { status: 431 } },
    { name: '/authorize with a NUL client_id', send: () => get('/authorize?client_id=%00'), expect: { page: 400, code: 'invalid_client' } },
    { name: '/authorize with broken percent-encoding', send: () => get('/authorize?client_id=%E0%A4%A&redirect_uri=%ZZ'), expect: { page: 400, code: 'invalid_client' } },
    { name: '/authorize with response_type token', send: () => get(authorizeQuery({ response_type: 'token' })), expect: { redirect: 'unsupported_response_type' } },
    { name: '/authorize with response_type code id_token', send: () => get(authorizeQuery({ response_type: 'code%20id_token' })), expect: { redirect: 'unsupported_response_type' } },
    { name: '/authorize without response_type', send: () => get(authorizeQuery({ response_type: '' })), expect: { redirect: 'unsupported_response_type' } },
    { name: '/authorize with response_mode fragment', send: () => get(authorizeQuery({ response_mode: 'fragment' })), expect: { redirect: 'invalid_request' } },
    { name: '/authorize with a request object', send: () => get(authorizeQuery({ request: 'eyJhbGciOiJub25lIn0.e30.' })), expect: { redirect: 'request_not_supported' } },
    { name: '/authorize with a request_uri', send: () => get(authorizeQuery({ request_uri: 'https%3A%2F%2Fevil.example%2Fr' })), expect: { redirect: 'request_not_supported' } },
    { name: '/authorize with a negative max_age', send: () => get(authorizeQuery({ max_age: '-1' })), expect: { redirect: 'invalid_request' } },
    { name: '/authorize with a non-numeric max_age', send: () => get(authorizeQuery({ max_age: '1e3' })), expect: { redirect: 'invalid_request' } },
    { name: '/authorize with an unknown prompt', send: () => get(authorizeQuery({ prompt: 'select_account' })), expect: { redirect: 'invalid_request' } },
    { name: '/authorize with prompt none plus login', send: () => get(authorizeQuery({ prompt: 'none%20login' })), expect: { redirect: 'invalid_request' } },
    { name: '/authorize with a relative resource', send: () => get(authorizeQuery({ resource: '%2Ffhir' })), expect: { redirect: 'invalid_target' } },
    { name: '/authorize with a resource with a fragment', send: () => get(authorizeQuery({ resource: 'https%3A%2F%2Ffhir.example%2F%23x' })), expect: { redirect: 'invalid_target' } },
    { name: '/authorize with an empty scope', send: () => get(authorizeQuery({ scope: '%20%20' })), expect: { redirect: 'invalid_scope' } },
    { name: 'POST /authorize with a JSON body', send: () => json('/authorize', JSON.stringify(Object.fromEntries(app.prepare().url.searchParams))), expect: { page: 400, code: 'invalid_request' } },
    { name: 'POST /authorize with a JSON body of structured values', send: () => json('/authorize', JSON.stringify({ client_id: { $ne: null }, redirect_uri: ['a', 'b'] })), expect: { page: 400, code: 'invalid_request' } },
    { name: 'POST /authorize as text/plain', send: () => send('POST', '/authorize', app.prepare().url.search.slice(1), { 'Content-Type': 'text/plain' }), expect: { page: 400 } },
    { name: 'POST /authorize with duplicated form fields', send: () => form('/authorize', `${app.prepare().url.search.slice(1)}&client_id=demo-app`), expect: { page: 400, code: 'invalid_request' } },
    { name: 'POST /authorize with an oversized body', send: () => form('/authorize', `state=${long(100_000)}`), expect: { json: 413, error: 'request_too_large' } },
    { name: 'PUT /authorize', send: () => send('PUT', '/authorize'), expect: { json: 405, error: 'method_not_allowed' } },

    // ---- /interaction/* (bound to the browser that started it)
    { name: 'GET /interaction with an unknown id', send: () => get(`/interaction/${randomBytes(32).toString('base64url')}`), expect: { page: 400, code: 'invalid_request' } },
    { name: 'GET /interaction with an oversized id', send: () => get(`/interaction/${long(6000)}`), expect: { page: 400, code: 'invalid_request' } },
    { name: 'GET /interaction with a broken percent-encoded id', send: () => get('/interaction/%ZZ%E0%A4%A'), expect: { page: 400, code: 'invalid_request' } },
    { name: 'GET /interaction with a NUL id', send: () => get('/interaction/%00'), expect: { page: 400, code: 'invalid_request' } },
    { name: 'GET /interaction with its id but no binding cookie', send: () => get(atLogin.path), expect: { page: 400, code: 'invalid_request' } },
    { name: 'GET /interaction with a forged binding cookie', send: () => get(atLogin.path, { cookie: `assent_interaction_${atLogin.path.split('/')[2]!.slice(0, 16)}=forged` }), expect: { page: 400, code: 'invalid_request' } },
    { name: 'login without a body', send: () => atLogin.user.send(`${atLogin.path}/login`, { method: 'POST' }), expect: { page: 403, code: 'invalid_request' } },
    { name: 'login with csrf twice', send: () => atLogin.user.post(`${atLogin.path}/login`, [['csrf', atLogin.csrf], ['csrf', atLogin.csrf], ['email', 'alice@example.org'], ['password', 'x']]), expect: { page: 403 } },
    { name: 'login with a structured csrf', send: () => atLogin.user.send(`${atLogin.path}/login`, { method: 'POST', body: `csrf[x]=${atLogin.csrf}`, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), expect: { page: 403 } },
    { name: 'login as JSON with a structured csrf', send: () => atLogin.user.send(`${atLogin.path}/login`, { method: 'POST', body: JSON.stringify({ csrf: [atLogin.csrf], email: { $ne: null } }), headers: { 'Content-Type': 'application/json' } }), expect: { page: 403 } },
    { name: 'login as multipart', send: () => atLogin.user.send(`${atLogin.path}/login`, { method: 'POST', body: `--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n${atLogin.csrf}\r\n--b--\r\n`, headers: { 'Content-Type': 'multipart/form-data; boundary=b' } }), expect: { page: 403 } },
    { name: 'login with a structured email', send: () => atLogin.user.send(`${atLogin.path}/login`, { method: 'POST', body: `csrf=${atLogin.csrf}&email[$ne]=x&password=x`, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), expect: { page: 401 } },
    { name: 'login with an oversized password', send: () => atLogin.user.post(`${atLogin.path}/login`, [['csrf', atLogin.csrf], ['email', 'alice@example.org'], ['password', long(100_000)]]), expect: { json: 413 } },
    { name: 'login with a malformed JSON body', send: () => atLogin.user.send(`${atLogin.path}/login`, { method: 'POST', body: '{"csrf":', headers: { 'Content-Type': 'application/json' } }), expect: { json: 400, error: 'invalid_request' } },
    { name: 'login at an unknown interaction', send: () => atLogin.user.post(`/interaction/${long(43)}/login`, [['csrf', atLogin.csrf]]), expect: { page: 400 } },
    { name: 'consent before login', send: () => atLogin.user.post(`${atLogin.path}/consent`, [['csrf', atLogin.csrf], ['decision', 'allow']]), expect: { page: 400, code: 'invalid_request' } },
    { name: 'consent without csrf', send: () => atConsent.user.post(`${atConsent.path}/consent`, [['scope', 'openid'], ['decision', 'allow']]), expect: { page: 403 } },
    { name: 'consent with the account csrf', send: () => atConsent.user.post(`${atConsent.path}/consent`, [['csrf', atConsent.accountCsrf], ['decision', 'allow']]), expect: { page: 403 } },
    { name: 'consent with a structured csrf', send: () => atConsent.user.send(`${atConsent.path}/consent`, { method: 'POST', body: `csrf[0]=${atConsent.csrf}&decision=allow`, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), expect: { page: 403 } },
    { name: 'GET on a form action', send: () => atConsent.user.get(`${atConsent.path}/consent`), expect: { json: 405 } },

    // ---- /token
    { name: 'GET /token', send: () => get('/token?grant_type=client_credentials'), expect: { json: 405, error: 'method_not_allowed' } },
    { name: '/token without a body', send: () => send('POST', '/token'), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token as JSON', send: () => json('/token', JSON.stringify({ grant_type: 'client_credentials' }), asResourceServer()), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token as text/plain', send: () => send('POST', '/token', 'grant_type=client_credentials', { 'Content-Type': 'text/plain', ...asResourceServer() }), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token as multipart', send: () => send('POST', '/token', '--b\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nclient_credentials\r\n--b--\r\n', { 'Content-Type': 'multipart/form-data; boundary=b', ...asResourceServer() }), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token with malformed JSON', send: () => json('/token', '{"grant_type":'), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token without client authentication', send: () => form('/token', 'grant_type=client_credentials'), expect: { json: 401, error: 'invalid_client' } },
    { name: '/token without grant_type', send: () => form('/token', '', asResourceServer()), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token with grant_type twice', send: () => form('/token', 'grant_type=client_credentials&grant_type=authorization_code', asResourceServer()), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token with a structured grant_type', send: () => form('/token', 'grant_type[x]=client_credentials', asResourceServer()), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token with an unknown grant_type', send: () => form('/token', 'grant_type=password&username=alice&password=x', asResourceServer()), expect: { json: 400, error: 'unsupported_grant_type' } },
    { name: '/token with the implicit grant', send: () => form('/token', 'grant_type=implicit', asResourceServer()), expect: { json: 400, error: 'unsupported_grant_type' } },
    { name: '/token with an oversized grant_type', send: () => form('/token', `grant_type=${long(9000)}`, asResourceServer()), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token with client_id twice', send: () => form('/token', 'grant_type=authorization_code&client_id=demo-app&client_id=demo-app'), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token with a structured client_id', send: () => form('/token', 'grant_type=authorization_code&client_id[$ne]=x'), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token with a structured code', send: () => form('/token', 'grant_type=authorization_code&client_id=demo-app&code[$ne]=x&code_verifier=' + long(43)), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token with code twice', send: () => form('/token', `grant_type=authorization_code&client_id=demo-app&code=a&code=b&code_verifier=${long(43)}`), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token with an oversized code', send: () => form('/token', `grant_type=authorization_code&client_id=demo-app&code=${long(9000)}&code_verifier=${long(43)}`), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token without a code', send: () => form('/token', `grant_type=authorization_code&client_id=demo-app&code_verifier=${long(43)}`), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token with a structured refresh_token', send: () => form('/token', 'grant_type=refresh_token&client_id=demo-app&refresh_token[$gt]='), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token with refresh_token twice', send: () => form('/token', `grant_type=refresh_token&client_id=demo-app&refresh_token=${tokens.refresh_token}&refresh_token=x`), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token with a structured scope on refresh', send: () => form('/token', `grant_type=refresh_token&client_id=demo-app&refresh_token=${tokens.refresh_token}&scope[]=openid`), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token with an unknown refresh token', send: () => form('/token', `grant_type=refresh_token&client_id=demo-app&refresh_token=${long(43)}`), expect: { json: 400, error: 'invalid_grant' } },
    { name: '/token client_credentials for a public client', send: () => form('/token', 'grant_type=client_credentials&client_id=demo-app'), expect: { json: 400, error: 'unauthorized_client' } },
    { name: '/token client_credentials with scope twice', send: () => form('/token', 'grant_type=client_credentials&scope=uma_authorization&scope=openid', backendAuth), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token client_credentials with a structured scope', send: () => form('/token', 'grant_type=client_credentials&scope[]=uma_authorization', backendAuth), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token client_credentials with only unknown scopes', send: () => form('/token', 'grant_type=client_credentials&scope=admin%00root', backendAuth), expect: { json: 400, error: 'invalid_scope' } },
    { name: '/token client_credentials with only user scopes', send: () => form('/token', 'grant_type=client_credentials&scope=openid', asResourceServer()), expect: { json: 400, error: 'invalid_scope' } },
    { name: '/token client_credentials with a relative resource', send: () => form('/token', 'grant_type=client_credentials&scope=uma_authorization&resource=not%20a%20uri', backendAuth), expect: { json: 400, error: 'invalid_target' } },
    { name: '/token client_credentials with a resource with a fragment', send: () => form('/token', 'grant_type=client_credentials&scope=uma_authorization&resource=https%3A%2F%2Ffhir.example%2F%23x', backendAuth), expect: { json: 400, error: 'invalid_target' } },
    { name: '/token client_credentials with resource twice', send: () => form('/token', 'grant_type=client_credentials&scope=uma_authorization&resource=https%3A%2F%2Fa.example&resource=https%3A%2F%2Fb.example', backendAuth), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token with an oversized body', send: () => form('/token', `grant_type=client_credentials&pad=${long(100_000)}`, asResourceServer()), expect: { json: 413, error: 'request_too_large' } },
    { name: '/token with a malformed Basic header', send: () => form('/token', 'grant_type=client_credentials', { Authorization: 'Basic !!!' }), expect: { json: 401, error: 'invalid_client' } },
    { name: '/token with a Basic header without a colon', send: () => form('/token', 'grant_type=client_credentials', { Authorization: `Basic ${Buffer.from('demo-resource-server').toString('base64')}` }), expect: { json: 401, error: 'invalid_client' } },
    { name: '/token with broken percent-encoding in Basic', send: () => form('/token', 'grant_type=client_credentials', { Authorization: `Basic ${Buffer.from('demo%E0%A4%A:x%ZZ').toString('base64')}` }), expect: { json: 401, error: 'invalid_client' } },
    { name: '/token with a Bearer header', send: () => form('/token', 'grant_type=client_credentials', { Authorization: 'Bearer abc' }), expect: { json: 401, error: 'invalid_client' } },
    { name: '/token with two client authentication methods', send: () => form('/token', `grant_type=client_credentials&client_secret=${resourceSecret}&client_id=demo-resource-server`, asResourceServer()), expect: { json: 400, error: 'invalid_request' } },
    { name: '/token with a garbage client assertion', send: () => form('/token', 'grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=a.b.c'), expect: { json: 401, error: 'invalid_client' } },
    { name: '/token with an oversized header', send: () => form('/token', 'grant_type=client_credentials', { Authorization: `Basic ${long(70_000)}` }), expect: { status: 431 } },

    // ---- /userinfo
    { name: '/userinfo without a token', send: () => get('/userinfo'), expect: { json: 401, error: 'invalid_token' } },
    { name: '/userinfo with an empty Bearer', send: () => get('/userinfo', { Authorization: 'Bearer ' }), expect: { json: 401, error: 'invalid_token' } },
    { name: '/userinfo with two tokens', send: () => get('/userinfo', { Authorization: `Bearer ${tokens.access_token} ${tokens.access_token}` }), expect: { json: 401, error: 'invalid_token' } },
    { name: '/userinfo with a Basic header', send: () => get('/userinfo', asResourceServer()), expect: { json: 401, error: 'invalid_token' } },
    { name: '/userinfo with garbage', send: () => get('/userinfo', { Authorization: 'Bearer not.a.jwt' }), expect: { json: 401, error: 'invalid_token' } },
    { name: '/userinfo with an unsigned JWT', send: () => get('/userinfo', { Authorization: `Bearer ${unsignedJwt({ typ: 'at+jwt', kid: 'x' }, { sub: 'x', scope: 'openid', client_id: 'demo-app', jti: 'j' })}` }), expect: { json: 401, error: 'invalid_token' } },
    { name: '/userinfo with a JWT whose kid is an object', send: () => get('/userinfo', { Authorization: `Bearer ${unsignedJwt({ alg: 'ES256', typ: 'at+jwt', kid: { $ne: null } }, { sub: 'x' })}` }), expect: { json: 401, error: 'invalid_token' } },
    { name: '/userinfo with the ID token', send: () => get('/userinfo', { Authorization: `Bearer ${tokens.id_token}` }), expect: { json: 401, error: 'invalid_token' } },
    { name: '/userinfo with the token in the query', send: () => get(`/userinfo?access_token=${tokens.access_token}`), expect: { json: 401, error: 'invalid_token' } },
    { name: '/userinfo with the token in a form body', send: () => form('/userinfo', `access_token=${tokens.access_token}`), expect: { json: 401, error: 'invalid_token' } },
    { name: '/userinfo with an oversized token', send: () => get('/userinfo', { Authorization: `Bearer ${long(12_000)}` }), expect: { json: 401, error: 'invalid_token' } },
    { name: '/userinfo with an oversized header', send: () => get('/userinfo', { Authorization: `Bearer ${long(70_000)}` }), expect: { status: 431 } },
    { name: 'DELETE /userinfo', send: () => send('DELETE', '/userinfo'), expect: { json: 405, error: 'method_not_allowed' } },

    // ---- /introspect and /revoke
    ...(['/introspect', '/revoke'] as const).flatMap((path): Case[] => [
      { name: `${path} without client authentication`, send: () => form(path, `token=${tokens.access_token}`), expect: { json: 401, error: 'invalid_client' } },
      { name: `${path} with a wrong client secret`, send: () => form(path, `token=${tokens.access_token}`, { Authorization: basicAuth('demo-resource-server', 'wrong') }), expect: { json: 401, error: 'invalid_client' } },
      { name: `${path} without a token`, send: () => form(path, '', asResourceServer()), expect: { json: 400, error: 'invalid_request' } },
      { name: `${path} with token twice`, send: () => form(path, `token=${tokens.access_token}&token=${tokens.refresh_token}`, asResourceServer()), expect: { json: 400, error: 'invalid_request' } },
      { name: `${path} with a structured token`, send: () => form(path, 'token[$ne]=x', asResourceServer()), expect: { json: 400, error: 'invalid_request' } },
      { name: `${path} with token_type_hint twice`, send: () => form(path, `token=${tokens.access_token}&token_type_hint=a&token_type_hint=b`, asResourceServer()), expect: { json: 400, error: 'invalid_request' } },
      { name: `${path} with an oversized token`, send: () => form(path, `token=${long(9000)}`, asResourceServer()), expect: { json: 400, error: 'invalid_request' } },
      { name: `${path} as JSON`, send: () => json(path, JSON.stringify({ token: tokens.access_token }), asResourceServer()), expect: { json: 400, error: 'invalid_request' } },
      { name: `${path} as text/plain`, send: () => send('POST', path, `token=${tokens.access_token}`, { 'Content-Type': 'text/plain', ...asResourceServer() }), expect: { json: 400, error: 'invalid_request' } },
      { name: `${path} with an oversized body`, send: () => form(path, `token=${long(100_000)}`, asResourceServer()), expect: { json: 413, error: 'request_too_large' } },
      { name: `GET ${path}`, send: () => get(`${path}?token=${tokens.access_token}`), expect: { json: 405, error: 'method_not_allowed' } },
    ]),

    // ---- /logout
    { name: '/logout with post_logout_redirect_uri twice', send: () => get('/logout?client_id=demo-app&post_logout_redirect_uri=a&post_logout_redirect_uri=b'), expect: { json: 400, error: 'invalid_request' } },
    { name: '/logout with client_id twice', send: () => get('/logout?client_id=demo-app&client_id=demo-resource-server'), expect: { json: 400, error: 'invalid_request' } },
    { name: 'POST /logout with state twice', send: () => form('/logout', 'client_id=demo-app&state=a&state=b'), expect: { json: 400, error: 'invalid_request' } },
    { name: '/logout with an oversized id_token_hint', send: () => get(`/logout?id_token_hint=${long(9000)}`), expect: { json: 400, error: 'invalid_request' } },
    { name: 'POST /logout with a wrong csrf while signed in', send: () => atConsent.user.post('/logout', [['csrf', long(43)], ['logout', 'client_id=demo-app']]), expect: { json: 403, error: 'invalid_request' } },
    { name: 'POST /logout with an oversized body', send: () => form('/logout', `csrf=x&logout=${long(100_000)}`), expect: { json: 413, error: 'request_too_large' } },
    { name: 'PUT /logout', send: () => send('PUT', '/logout'), expect: { json: 405, error: 'method_not_allowed' } },

    // ---- /register (RFC 7591 / 7592)
    { name: '/register as a form', send: () => form('/register', 'redirect_uris=https://app.example/cb'), expect: { json: 415, error: 'invalid_request' } },
    { name: '/register as text/plain', send: () => send('POST', '/register', '{"redirect_uris":["https://app.example/cb"]}', { 'Content-Type': 'text/plain' }), expect: { json: 415, error: 'invalid_request' } },
    { name: '/register without a body', send: () => send('POST', '/register'), expect: { json: 415, error: 'invalid_request' } },
    { name: '/register with malformed JSON', send: () => json('/register', '{"redirect_uris": ['), expect: { json: 400, error: 'invalid_request' } },
    { name: '/register with a JSON array', send: () => json('/register', '[{"redirect_uris":["https://app.example/cb"]}]'), expect: { json: 400 } },
    { name: '/register with JSON null', send: () => json('/register', 'null'), expect: { json: 400 } },
    { name: '/register with a JSON string', send: () => json('/register', '"client"'), expect: { json: 400 } },
    { name: '/register with redirect_uris as a string', send: () => json('/register', '{"redirect_uris":"https://app.example/cb"}'), expect: { json: 400, error: 'invalid_redirect_uri' } },
    { name: '/register with a javascript: redirect URI', send: () => json('/register', '{"redirect_uris":["javascript:alert(1)"]}'), expect: { json: 400, error: 'invalid_redirect_uri' } },
    { name: '/register with an unknown grant type', send: () => json('/register', '{"redirect_uris":["https://app.example/cb"],"grant_types":["password"]}'), expect: { json: 400, error: 'invalid_client_metadata' } },
    { name: '/register with a scope of the wrong type', send: () => json('/register', '{"redirect_uris":["https://app.example/cb"],"scope":["openid"]}'), expect: { json: 400, error: 'invalid_client_metadata' } },
    { name: '/register with a repeated member, the last one bad', send: () => json('/register', '{"redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"none","token_endpoint_auth_method":"magic"}'), expect: { json: 400, error: 'invalid_client_metadata' } },
    { name: '/register with a private key in jwks', send: () => json('/register', JSON.stringify({ grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'secret' }] } })), expect: { json: 400, error: 'invalid_client_metadata' } },
    { name: '/register with a deeply nested value (refused when the body is parsed)', send: () => json('/register', `{"redirect_uris":["https://app.example/cb"],"client_name":${'['.repeat(2000)}${']'.repeat(2000)}}`), expect: { json: 400, error: 'invalid_request' } },
    { name: '/register with an oversized body', send: () => json('/register', JSON.stringify({ redirect_uris: ['https://app.example/cb'], client_name: long(100_000) })), expect: { json: 413, error: 'request_too_large' } },
    { name: 'GET /register/:id without a token', send: () => get('/register/demo-app'), expect: { json: 401, error: 'invalid_token' } },
    { name: 'GET /register/:id of a seeded client with a token', send: () => get('/register/demo-app', { Authorization: `Bearer ${long(43)}` }), expect: { json: 401, error: 'invalid_token' } },
    { name: 'PUT /register/:id with a wrong token and bad JSON', send: () => send('PUT', '/register/demo-app', '{"x":', { Authorization: `Bearer ${long(43)}`, 'Content-Type': 'application/json' }), expect: { json: 400, error: 'invalid_request' } },
    { name: 'DELETE /register/:id with a broken percent-encoded id', send: () => send('DELETE', '/register/%ZZ', undefined, { Authorization: `Bearer ${long(43)}` }), expect: { json: 401, error: 'invalid_token' } },

    // ---- /login and /account/*
    { name: 'POST /login without csrf', send: () => form('/login', 'email=alice%40example.org&password=x'), expect: { json: 403, error: 'invalid_request' } },
    { name: 'POST /login with a structured csrf', send: () => form('/login', 'csrf[x]=y&email=alice%40example.org'), expect: { json: 403, error: 'invalid_request' } },
    { name: 'POST /account/revoke-all without csrf', send: () => atConsent.user.post('/account/revoke-all', []), expect: { json: 403, error: 'invalid_request' } },
    { name: 'POST /account/revoke-all with csrf twice', send: () => atConsent.user.post('/account/revoke-all', [['csrf', atConsent.accountCsrf], ['csrf', atConsent.accountCsrf]]), expect: { json: 403, error: 'invalid_request' } },
    { name: 'POST /account/revoke-all with the consent csrf', send: () => atConsent.user.post('/account/revoke-all', [['csrf', atConsent.csrf]]), expect: { json: 403, error: 'invalid_request' } },
    { name: 'POST /account/apps/revoke without client_id', send: () => atConsent.user.post('/account/apps/revoke', [['csrf', atConsent.accountCsrf]]), expect: { json: 400, error: 'invalid_request' } },
    { name: 'POST /account/apps/revoke with client_id twice', send: () => atConsent.user.post('/account/apps/revoke', [['csrf', atConsent.accountCsrf], ['client_id', 'demo-app'], ['client_id', 'demo-resource-server']]), expect: { json: 400, error: 'invalid_request' } },
    { name: 'POST /account/apps/revoke with a structured client_id', send: () => atConsent.user.send('/account/apps/revoke', { method: 'POST', body: `csrf=${atConsent.accountCsrf}&client_id[$ne]=x`, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), expect: { json: 400, error: 'invalid_request' } },
    { name: 'POST /account/apps/revoke with an oversized body', send: () => atConsent.user.post('/account/apps/revoke', [['csrf', atConsent.accountCsrf], ['client_id', long(100_000)]]), expect: { json: 413, error: 'request_too_large' } },
    { name: 'GET /account/revoke-all', send: () => atConsent.user.get('/account/revoke-all'), expect: { json: 405, error: 'method_not_allowed' } },
    { name: 'GET /account/unknown', send: () => atConsent.user.get('/account/unknown'), expect: { json: 404, error: 'not_found' } },
  ];

  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, { send: request, expect: expected }) => {
    const before = await counts();
    const reply = await request();
    check(reply, expected);
    expect(await counts()).toEqual(before);
  });

  test('the tokens and the waiting interactions survived all of it', async () => {
    expect(await app.isActive(tokens.access_token)).toBe(true);
    expect(await app.isActive(tokens.refresh_token!)).toBe(true);
    expect(atConsent.user.cookie('assent_session')).toBeDefined();
    const consent = formOf(await atConsent.user.get(atConsent.path), /\/consent$/);
    expect(csrfOf(consent)).toBe(atConsent.csrf);
    const login = formOf(await atLogin.user.get(atLogin.path), /\/login$/);
    expect(csrfOf(login)).toBe(atLogin.csrf);
  });

  test('signed-out account actions send the browser to sign in and change nothing', async () => {
    const before = await counts();
    for (const path of ['/account/revoke-all', '/account/apps/revoke', '/account/logout']) {
      const reply = await form(path, 'csrf=x&client_id=demo-app');
      expect(reply.status).toBe(302);
      expect(reply.location?.pathname).toBe('/login');
    }
    expect(await counts()).toEqual(before);
  });

  test('a consent decision other than allow fails closed as a denial', async () => {
    const user = new BrowserlessUser(server.url);
    await app.tokens(user, { scope: 'openid' });
    const page = await user.follow(await user.get(app.prepare({ scope: 'openid email' }).url));
    const consent = formOf(page, /\/consent$/);
    const before = await counts();
    const reply = await user.post(consent.action, [...hiddenFields(consent), ['scope', 'email'], ['decision', 'yes please']]);
    check(reply, { redirect: 'access_denied' });
    expect(await counts()).toMatchObject({ authorization_codes: before.authorization_codes, grants: before.grants, access_tokens: before.access_tokens });
  });

  test('registration ignores __proto__ and constructor members', async () => {
    const before = (await server.services.clients.byId('demo-app'))!;
    const reply = await json('/register', '{"redirect_uris":["https://app.example/cb"],"__proto__":{"token_endpoint_auth_method":"none","polluted":true},"constructor":{"prototype":{"polluted":true}}}');
    expect(reply.status).toBeLessThan(500);
    const body = JSON.parse(reply.html);
    if (reply.status === 201) expect(body.token_endpoint_auth_method).toBe('client_secret_basic');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).token_endpoint_auth_method).toBeUndefined();
    expect(await server.services.clients.byId('demo-app')).toEqual(before);
  });
});

function unsignedJwt(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', ...header })}.${part(payload)}.`;
}
