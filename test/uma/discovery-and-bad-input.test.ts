import type { Store } from '../../server/store/port.js';
import { basicAuth, postForm } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';
import { UMA_TICKET_GRANT as UMA_GRANT } from '../../server/uma/grant.js';

const WRITTEN = ['uma_tickets', 'uma_requests', 'uma_pcts', 'access_tokens', 'resources'];

async function counts(store: Store) {
  return Promise.all(WRITTEN.map(async (name) => (await store.collection(name)).count({})));
}

describe.each(storeBackends)('UMA discovery and bad input on the $name store', (backend) => {
  let server: TestServer;
  let client: { id: string; secret: string };
  beforeAll(async () => {
    server = await startTestServer(backend);
    const registered = await (await fetch(`${server.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_types: [UMA_GRANT, 'client_credentials'], response_types: [], redirect_uris: [], scope: 'uma_authorization' }),
    })).json();
    client = { id: registered.client_id, secret: registered.client_secret };
  });
  afterAll(() => server.stop());

  test('uma2-configuration extends the server metadata with the UMA endpoints that exist', async () => {
    const uma = await (await fetch(`${server.url}/.well-known/uma2-configuration`)).json();
    const oidc = await (await fetch(`${server.url}/.well-known/openid-configuration`)).json();
    expect(uma).toMatchObject({ ...oidc, claims_interaction_endpoint: `${server.url}/uma/claims`, resource_registration_endpoint: `${server.url}/uma/resource_set`, permission_endpoint: `${server.url}/uma/permission` });
    expect(uma.grant_types_supported).toContain(UMA_GRANT);
    // No upstream provider is trusted for its ID tokens here, so no token exchange could succeed.
    expect(oidc.grant_types_supported).not.toContain('urn:ietf:params:oauth:grant-type:token-exchange');
    for (const endpoint of [uma.claims_interaction_endpoint, uma.requesting_party_claims_endpoint]) {
      expect((await fetch(endpoint, { redirect: 'manual' })).status).toBeLessThan(500);
    }
    expect((await fetch(uma.rpt_endpoint, { method: 'POST' })).status).toBe(401);
  });

  test('WebFinger names the issuer for a known account and 404s for others', async () => {
    const found = await fetch(`${server.url}/.well-known/webfinger?resource=${encodeURIComponent('acct:Alice@example.org')}&rel=${encodeURIComponent('http://openid.net/specs/connect/1.0/issuer')}`);
    expect(found.status).toBe(200);
    expect(found.headers.get('content-type')).toContain('application/jrd+json');
    expect(await found.json()).toEqual({ subject: 'acct:alice@example.org', links: [{ rel: 'http://openid.net/specs/connect/1.0/issuer', href: server.url }] });
    for (const resource of ['acct:nobody@example.org', 'https://example.org/alice', 'acct:']) {
      const missing = await fetch(`${server.url}/.well-known/webfinger?resource=${encodeURIComponent(resource)}`);
      expect(missing.status).toBe(404);
      expect((await missing.json()).error).toBe('not_found');
    }
    expect((await fetch(`${server.url}/.well-known/webfinger`)).status).toBe(400);
    expect((await fetch(`${server.url}/.well-known/webfinger?resource=a&resource=b`)).status).toBe(400);
  });

  test.each([
    ['no ticket', {}, 400, 'invalid_request'],
    ['an unknown ticket', { ticket: 'not-a-ticket' }, 400, 'invalid_grant'],
    ['a repeated ticket', { ticket: ['a', 'b'] }, 400, 'invalid_request'],
    ['a claim token of the wrong format', { ticket: 'x', claim_token: 'y', claim_token_format: 'urn:other' }, 400, 'invalid_grant'],
  ])('the uma-ticket grant with %s is a protocol error and writes nothing', async (_name, fields, status, error) => {
    const before = await counts(server.services.store);
    const body = new URLSearchParams({ grant_type: UMA_GRANT });
    for (const [key, value] of Object.entries(fields)) for (const v of ([] as string[]).concat(value)) body.append(key, v);
    const response = await postForm(server.url, '/token', body, { authorization: basicAuth(client.id, client.secret) });
    expect(response.status).toBe(status);
    expect(response.body.error).toBe(error);
    expect(await counts(server.services.store)).toEqual(before);
  });

  test('the HIE of One rpt endpoint refuses missing, foreign and malformed input without writing', async () => {
    const aat = await postForm(server.url, '/token', { grant_type: 'client_credentials', scope: 'uma_authorization' }, { authorization: basicAuth(client.id, client.secret) });
    expect(aat.status).toBe(200);
    const before = await counts(server.services.store);
    const call = (body: string, type = 'application/json', token = String(aat.body.access_token)) =>
      fetch(`${server.url}/authz_request`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body });
    expect((await call('{}', 'application/json', 'garbage')).status).toBe(401);
    for (const [body, type] of [['{"ticket":"unknown"}', 'application/json'], ['{"ticket":5}', 'application/json'], ['{bad', 'application/json'], ['[]', 'application/json'], ['ticket=x', 'text/plain']]) {
      const response = await call(body!, type);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
    }
    expect(await counts(server.services.store)).toEqual(before);
  });
});
