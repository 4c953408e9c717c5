import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { idTokenAlgorithm } from '../../server/oauth/id-token-algorithm.js';
import { BrowserlessUser } from '../support/browserless-user.js';
import { leftHalfSha256, RawClient } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';

const REDIRECT = 'https://app.example/callback';

describe('the algorithm of a client\'s ID tokens', () => {
  test('what the client registered; else RS256 for a client with SMART scopes; else ES256', () => {
    expect(idTokenAlgorithm({ scope: 'openid patient/Observation.rs', id_token_signed_response_alg: 'ES256' })).toBe('ES256');
    expect(idTokenAlgorithm({ scope: 'openid', id_token_signed_response_alg: 'RS256' })).toBe('RS256');
    expect(idTokenAlgorithm({ scope: 'openid fhirUser launch/patient patient/Observation.rs' })).toBe('RS256');
    expect(idTokenAlgorithm({ scope: 'openid user/*.read' })).toBe('RS256');
    expect(idTokenAlgorithm({ scope: 'openid profile email offline_access' })).toBe('ES256');
  });
});

describe.each(storeBackends)('RS256 ID tokens on the $name store', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.stop());

  async function registered(metadata: Record<string, unknown>): Promise<Response> {
    return fetch(`${server.url}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', scope: 'openid profile', ...metadata }),
    });
  }

  test('a client that registered id_token_signed_response_alg RS256 gets ID tokens that verify against /jwks', async () => {
    const response = await registered({ id_token_signed_response_alg: 'RS256' });
    expect(response.status).toBe(201);
    const client = (await response.json()) as { client_id: string; id_token_signed_response_alg: string };
    expect(client.id_token_signed_response_alg).toBe('RS256');
    const tokens = await new RawClient(server.url, client.client_id, REDIRECT).tokens(new BrowserlessUser(server.url), { scope: 'openid profile' });
    const jwks = createRemoteJWKSet(new URL(`${server.url}/jwks`));
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, jwks, { issuer: server.url, audience: client.client_id, algorithms: ['RS256'] });
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    expect(payload.at_hash).toBe(leftHalfSha256(tokens.access_token));
    expect(decodeProtectedHeader(tokens.access_token).alg).toBe('ES256');
  });

  test('a client without a preference keeps ES256; an algorithm outside ES256 and RS256 is refused at registration', async () => {
    const client = (await (await registered({})).json()) as { client_id: string };
    const tokens = await new RawClient(server.url, client.client_id, REDIRECT).tokens(new BrowserlessUser(server.url), { scope: 'openid' });
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('ES256');
    const refused = await registered({ id_token_signed_response_alg: 'HS256' });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'invalid_client_metadata' });
  });

  test('discovery lists both ID token algorithms, and the JWKS publishes an RSA key', async () => {
    const metadata = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata.id_token_signing_alg_values_supported).toEqual(['ES256', 'RS256']);
    const { keys } = (await (await fetch(`${server.url}/jwks`)).json()) as { keys: { kty: string; alg: string; n?: string; d?: string }[] };
    const rsa = keys.filter((k) => k.kty === 'RSA');
    expect(rsa.length).toBeGreaterThan(0);
    for (const key of rsa) expect(key).toMatchObject({ alg: 'RS256', n: expect.any(String) });
    expect(keys.some((k) => k.d !== undefined)).toBe(false);
  });
});
