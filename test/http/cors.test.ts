import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';

/** The seeded public client demo-app redirects to http://localhost:4200/callback. */
const APP = 'http://localhost:4200';
const FOREIGN = 'https://evil.example';

const CORS_HEADERS = ['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-max-age', 'access-control-allow-credentials', 'access-control-expose-headers'];

function corsHeadersOf(response: Response): Record<string, string> {
  return Object.fromEntries(CORS_HEADERS.flatMap((name) => (response.headers.has(name) ? [[name, response.headers.get(name)!]] : [])));
}

describe.each(storeBackends)('CORS on the $name store', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.stop());

  const request = (path: string, origin: string, init: RequestInit = {}) => fetch(`${server.url}${path}`, { ...init, headers: { Origin: origin, ...init.headers } });
  const preflight = (path: string, origin: string, method = 'POST') =>
    request(path, origin, { method: 'OPTIONS', headers: { 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': 'authorization,content-type' } });

  test('discovery documents and the JWKS are readable from any origin, without credentials', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/.well-known/smart-configuration', '/.well-known/uma2-configuration', '/jwks']) {
      const response = await request(path, FOREIGN);
      expect(response.status).toBe(200);
      expect(corsHeadersOf(response)).toEqual({ 'access-control-allow-origin': '*' });
      expect(response.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    }
    const answered = await preflight('/jwks', FOREIGN, 'GET');
    expect(answered.status).toBe(204);
    expect(corsHeadersOf(answered)).toMatchObject({ 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET' });
  });

  test('the token, revocation and userinfo endpoints answer preflights from a registered redirect origin', async () => {
    for (const [path, methods] of [['/token', 'POST'], ['/revoke', 'POST'], ['/userinfo', 'GET, POST']] as const) {
      const response = await preflight(path, APP);
      expect(response.status).toBe(204);
      expect(corsHeadersOf(response)).toEqual({
        'access-control-allow-origin': APP,
        'access-control-allow-methods': methods,
        'access-control-allow-headers': 'Authorization, Content-Type',
        'access-control-max-age': '600',
      });
      expect(response.headers.get('vary')).toMatch(/origin/i);
    }
  });

  test('their answers, errors included, are readable from a registered redirect origin; the challenge is exposed', async () => {
    const token = await request('/token', APP, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=authorization_code&client_id=demo-app&code=nope' });
    expect(token.status).toBe(400);
    expect(corsHeadersOf(token)).toEqual({ 'access-control-allow-origin': APP, 'access-control-expose-headers': 'WWW-Authenticate' });
    const userinfo = await request('/userinfo', APP);
    expect(userinfo.status).toBe(401);
    expect(userinfo.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(corsHeadersOf(userinfo)).toMatchObject({ 'access-control-allow-origin': APP });
  });

  test('a foreign origin gets no CORS headers from them, nor does any origin from the other endpoints', async () => {
    for (const path of ['/token', '/revoke', '/userinfo']) {
      expect(corsHeadersOf(await preflight(path, FOREIGN))).toEqual({});
      expect(corsHeadersOf(await request(path, FOREIGN, { method: 'POST' }))).toEqual({});
    }
    for (const path of ['/introspect', '/register', '/authorize', '/login', '/account', '/healthz']) {
      expect(corsHeadersOf(await preflight(path, APP))).toEqual({});
      expect(corsHeadersOf(await request(path, APP))).toEqual({});
    }
  });

  test('a client registered a moment ago can call the token endpoint from its redirect origin', async () => {
    const origin = 'https://new-app.example';
    expect(corsHeadersOf(await preflight('/token', origin))).toEqual({});
    const registered = await fetch(`${server.url}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [`${origin}/callback`], token_endpoint_auth_method: 'none' }),
    });
    expect(registered.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(corsHeadersOf(await preflight('/token', origin))).toMatchObject({ 'access-control-allow-origin': origin });
  });
});
