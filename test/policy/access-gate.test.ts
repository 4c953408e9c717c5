import { storedDecisions } from '../support/decisions.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';

/**
 * The bearer gate of each of Assent's own APIs (requireBearer, asking the access policy): what a
 * refusal looks like on the wire (RFC 6750 §3), and that every decision is recorded.
 */
describe.each(storeBackends)('the bearer gate of the own APIs ($name store)', (backend) => {
  let server: TestServer;
  let ownerId: string;

  beforeAll(async () => {
    server = await startTestServer(backend);
    ownerId = (await server.services.accounts.byEmail('alice@example.org'))!._id;
  });
  afterAll(() => server?.stop());

  const token = async (scopes: string[], options: { subject?: string; audience?: string } = {}) =>
    (await server.services.tokenService.issueAccessToken({ clientId: 'demo-resource-server', accountId: ownerId, subject: options.subject ?? ownerId, scopes, ...(options.audience ? { audience: options.audience } : {}) })).token;

  async function call(method: string, path: string, bearer?: string) {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}), ...(method === 'POST' ? { 'Content-Type': 'application/json' } : {}) },
      ...(method === 'POST' ? { body: '{}' } : {}),
    });
    const body = (await response.json()) as { error?: string; error_description?: string };
    return { status: response.status, error: body.error, description: body.error_description, challenge: response.headers.get('www-authenticate'), cacheControl: response.headers.get('cache-control'), pragma: response.headers.get('pragma') };
  }

  it.each([
    ['GET', '/uma/resource_set'],
    ['GET', '/uma/rules'],
    ['POST', '/authz_request'],
    ['GET', '/userinfo'],
    ['POST', '/smart/launch'],
  ])('%s %s without a token: a bare challenge, and no-store', async (method, path) => {
    expect(await call(method, path)).toMatchObject({ status: 401, error: 'invalid_token', challenge: 'Bearer', cacheControl: 'no-store' });
  });

  it.each([
    ['GET', '/uma/resource_set', ['openid'], 'uma_protection', 'a protection API token (scope uma_protection, granted by the resource owner) is required'],
    ['GET', '/uma/rules', ['openid'], 'sharing_rules', 'an access token with scope sharing_rules, granted by the owner, is required'],
    ['POST', '/authz_request', ['openid'], 'uma_authorization', 'an authorization API token (scope uma_authorization) is required'],
    ['GET', '/userinfo', ['uma_protection'], 'openid', 'the access token lacks the openid scope'],
    ['POST', '/smart/launch', ['uma_protection'], 'smart/launch', 'an access token with scope smart/launch is required'],
  ])('%s %s with a token that lacks the scope: 403 insufficient_scope naming it', async (method, path, scopes, scope, description) => {
    expect(await call(method, path, await token(scopes))).toEqual({
      status: 403,
      error: 'insufficient_scope',
      description,
      challenge: `Bearer error="insufficient_scope", scope="${scope}"`,
      cacheControl: 'no-store',
      pragma: path === '/authz_request' ? 'no-cache' : null,
    });
  });

  it('takes a client acting for itself as no owner on the protection API', async () => {
    expect(await call('GET', '/uma/resource_set', await token(['uma_protection'], { subject: 'demo-resource-server' }))).toMatchObject({ status: 403, error: 'insufficient_scope' });
  });

  it.each([
    ['/uma/rules', ['sharing_rules'], 'the access token is not meant for this server'],
    ['/authz_request', ['uma_authorization'], 'the access token is invalid, expired or revoked'],
  ])('%s refuses a token meant for another server as invalid_token (401)', async (path, scopes, description) => {
    const other = await token(scopes, { audience: 'https://fhir.example.org' });
    expect(await call(path === '/authz_request' ? 'POST' : 'GET', path, other)).toMatchObject({
      status: 401,
      error: 'invalid_token',
      description,
      challenge: `Bearer error="invalid_token", error_description="${description}"`,
    });
  });

  it('records every decision it makes, allowed or refused, with the facts it decided on', async () => {
    const where = { store: server.services.store, dataDir: server.services.config.dataDir };
    const before = (await storedDecisions(where, 'access')).length;
    const pat = await token(['uma_protection']);
    expect((await call('GET', '/uma/resource_set', pat)).status).toBe(200);
    expect((await call('GET', '/userinfo', pat)).status).toBe(403);
    const recorded = (await storedDecisions(where, 'access')).slice(before);
    expect(recorded.map((r) => [r.input, r.result])).toEqual([
      [
        { api: 'uma_protection', now: expect.any(String), issuer: server.url, token: { scope: 'uma_protection', sub: ownerId, client_id: 'demo-resource-server', aud: [server.url] } },
        { allow: true, reason: 'a protection API token granted by the resource owner' },
      ],
      [
        expect.objectContaining({ api: 'userinfo' }),
        { allow: false, error: 'insufficient_scope', required_scope: 'openid', reason: 'the access token lacks the openid scope' },
      ],
    ]);
  });
});
