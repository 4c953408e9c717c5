import { decodeJwt } from 'jose';
import { hashPassword } from '../../server/crypto/password.js';
import { BrowserlessUser, csrfOf, DEMO_EMAIL, formsOf, textOf, type Page } from '../support/browserless-user.js';
import { RawClient, type TokenSet } from '../support/oauth-flow.js';
import { DEMO_PASSWORD, startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';

const ADMIN = 'root.admin-test@example.org';

/**
 * Token administration (/admin/tokens): the admin sees every client's grants and live tokens and
 * revokes a token, a grant or a client's issuance; anyone else signed in gets 403, nobody signed
 * in is sent to sign in; forged forms and bad ids are refused with a 4xx.
 */
describe.each(storeBackends)('token administration ($name store)', (backend) => {
  let server: TestServer;
  let app: RawClient;
  let admin: BrowserlessUser;
  let adminCsrf: string;

  beforeAll(async () => {
    server = await startTestServer(backend);
    await server.services.accounts.create({ email: ADMIN, name: 'Root', emailVerified: true, passwordHash: await hashPassword(DEMO_PASSWORD), roles: ['admin'] });
    app = new RawClient(server.url);
    admin = new BrowserlessUser(server.url);
    expect((await admin.signIn(ADMIN, DEMO_PASSWORD)).status).toBe(303);
    adminCsrf = csrfOf(formsOf(await admin.get('/admin/tokens')).find((f) => f.action.pathname === '/admin/tokens/clients/revoke')!);
  });
  afterAll(() => server?.stop());

  /** Alice grants the demo app and gets tokens: a fresh grant's access and refresh token. */
  async function alicesTokens(scope = 'openid email offline_access'): Promise<TokenSet> {
    return app.tokens(new BrowserlessUser(server.url), { scope });
  }

  const adminPage = async (user = admin): Promise<Page> => user.get('/admin/tokens');
  const post = (path: string, fields: [string, string][], user = admin) => user.post(path, fields);

  it('sends nobody signed in to sign in, and gives a signed-in non-admin 403', async () => {
    const anonymous = new BrowserlessUser(server.url);
    const page = await adminPage(anonymous);
    expect(page.status).toBe(302);
    expect(page.location?.pathname).toBe('/login');
    expect((await post('/admin/tokens/clients/revoke', [['client_id', 'demo-app']], anonymous)).location?.pathname).toBe('/login');

    const alice = new BrowserlessUser(server.url);
    await alice.signIn(DEMO_EMAIL, DEMO_PASSWORD);
    expect((await alice.get('/account')).html).not.toContain('href="/admin/tokens"');
    expect((await admin.get('/account')).html).toContain('href="/admin/tokens"');
    const refused = await adminPage(alice);
    expect(refused.status).toBe(403);
    expect(refused.html).not.toContain('/admin/tokens/revoke');
    const aliceCsrf = csrfOf(formsOf(await alice.get('/account')).find((f) => f.action.pathname === '/account/revoke-all')!);
    const tokens = await alicesTokens();
    expect((await post('/admin/tokens/clients/revoke', [['csrf', aliceCsrf], ['client_id', 'demo-app']], alice)).status).toBe(403);
    expect(await app.isActive(tokens.access_token)).toBe(true);
  });

  it('lists each client with its grants and live tokens', async () => {
    const tokens = await alicesTokens();
    const { jti } = decodeJwt(tokens.access_token);
    const page = await adminPage();
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const section = page.html.slice(page.html.indexOf('id="client-demo-app"'));
    const text = textOf(section.slice(0, section.indexOf('</section>')));
    expect(text).toMatch(/\d+ grants, \d+ access tokens, \d+ refresh tokens live/);
    expect(text).toContain(DEMO_EMAIL);
    expect(text).toContain('email offline_access openid');
    expect(text).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    const revokeForms = formsOf(page).filter((f) => f.action.pathname === '/admin/tokens/revoke');
    expect(revokeForms.some((f) => f.inputs.some((i) => i.name === 'id' && i.value === jti))).toBe(true);
    expect(formsOf(page).some((f) => f.action.pathname === '/admin/tokens/clients/revoke' && f.inputs.some((i) => i.value === 'demo-resource-server'))).toBe(true);
  });

  it('revoking an access token makes its introspection inactive, and it leaves the list', async () => {
    const tokens = await alicesTokens();
    const jti = String(decodeJwt(tokens.access_token).jti);
    const done = await post('/admin/tokens/revoke', [['csrf', adminCsrf], ['kind', 'access'], ['id', jti]]);
    expect(done.status).toBe(303);
    expect(done.location?.pathname + (done.location?.search ?? '')).toBe('/admin/tokens?done=token-revoked');
    expect(await app.introspect(tokens.access_token)).toEqual({ active: false });
    expect(await app.isActive(tokens.refresh_token!)).toBe(true);
    const page = await admin.follow(done);
    expect(textOf(page.html)).toContain('The token was revoked.');
    expect(page.html).not.toContain(jti);
    // Once revoked, it is no longer there to revoke.
    expect((await post('/admin/tokens/revoke', [['csrf', adminCsrf], ['kind', 'access'], ['id', jti]])).status).toBe(404);
  });

  it('revokes a refresh token by the id the page lists', async () => {
    const tokens = await alicesTokens();
    const page = await adminPage();
    const refreshIds = formsOf(page).filter((f) => f.inputs.some((i) => i.name === 'kind' && i.value === 'refresh')).map((f) => f.inputs.find((i) => i.name === 'id')!.value);
    for (const id of refreshIds) expect((await post('/admin/tokens/revoke', [['csrf', adminCsrf], ['kind', 'refresh'], ['id', id]])).status).toBe(303);
    expect(await app.isActive(tokens.refresh_token!)).toBe(false);
    expect(await app.isActive(tokens.access_token)).toBe(true);
  });

  it('revoking a grant revokes its tokens and removes it', async () => {
    const tokens = await alicesTokens();
    const alice = await server.services.accounts.byEmail(DEMO_EMAIL);
    const grantId = `${alice!._id}|demo-app`;
    expect((await post('/admin/tokens/grants/revoke', [['csrf', adminCsrf], ['grant_id', grantId]])).status).toBe(303);
    expect(await app.isActive(tokens.access_token)).toBe(false);
    expect(await app.isActive(tokens.refresh_token!)).toBe(false);
    expect(await server.services.grants.byId(grantId)).toBeNull();
  });

  it('revoking a client’s issuance revokes everything it holds; the client stays registered', async () => {
    const tokens = await alicesTokens();
    expect((await post('/admin/tokens/clients/revoke', [['csrf', adminCsrf], ['client_id', 'demo-app']])).status).toBe(303);
    expect(await app.isActive(tokens.access_token)).toBe(false);
    expect(await app.isActive(tokens.refresh_token!)).toBe(false);
    expect(await server.services.clients.byId('demo-app')).not.toBeNull();
    const section = (await adminPage()).html.split('id="client-demo-app"')[1]!.split('</section>')[0]!;
    expect(textOf(section)).toContain('0 grants, 0 access tokens, 0 refresh tokens live.');
  });

  it('refuses a form without the session’s CSRF token (403) and changes nothing', async () => {
    const tokens = await alicesTokens();
    const jti = String(decodeJwt(tokens.access_token).jti);
    expect((await post('/admin/tokens/revoke', [['kind', 'access'], ['id', jti]])).status).toBe(403);
    expect((await post('/admin/tokens/clients/revoke', [['csrf', 'x'.repeat(adminCsrf.length)], ['client_id', 'demo-app']])).status).toBe(403);
    expect(await app.isActive(tokens.access_token)).toBe(true);
  });

  it.each([
    ['an unknown access token', '/admin/tokens/revoke', [['kind', 'access'], ['id', 'no-such-jti']], 404],
    ['an unknown refresh token', '/admin/tokens/revoke', [['kind', 'refresh'], ['id', 'no-such-hash']], 404],
    ['an unknown kind of token', '/admin/tokens/revoke', [['kind', 'id_token'], ['id', 'x']], 400],
    ['a token without an id', '/admin/tokens/revoke', [['kind', 'access']], 400],
    ['an id given twice', '/admin/tokens/revoke', [['kind', 'access'], ['id', 'a'], ['id', 'b']], 400],
    ['an unknown grant', '/admin/tokens/grants/revoke', [['grant_id', 'nobody|nothing']], 404],
    ['no grant id', '/admin/tokens/grants/revoke', [], 400],
    ['an unknown client', '/admin/tokens/clients/revoke', [['client_id', 'no-such-client']], 404],
    ['an oversized client id', '/admin/tokens/clients/revoke', [['client_id', 'c'.repeat(9000)]], 400],
  ] as [string, string, [string, string][], number][])('refuses %s with a 4xx page', async (_name, path, fields, status) => {
    const page = await post(path, [['csrf', adminCsrf], ...fields]);
    expect(page.status).toBe(status);
    expect(page.headers.get('content-type')).toContain('text/html');
  });

  it('shows the patient her connected apps’ scopes in plain language', async () => {
    const alice = new BrowserlessUser(server.url);
    await app.tokens(alice, { scope: 'openid email offline_access' });
    expect(textOf((await alice.get('/account')).html)).toContain('Demo patient app See your email address and whether it is verified; Keep access until you revoke it, even when you are not using the app; Confirm who you are (sign you in)');
    // A SMART app's resource scopes, as a grant holds them.
    const account = await server.services.accounts.byEmail(DEMO_EMAIL);
    await server.services.grants.remember(account!._id, 'demo-app', ['patient/Observation.rs']);
    expect(textOf((await alice.get('/account')).html)).toContain('Read your observations');
  });
});
