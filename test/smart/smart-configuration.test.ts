import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';

describe.each(storeBackends)('/.well-known/smart-configuration on the $name store', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.stop());

  test('has exactly the SMART App Launch fields, consistent with the OpenID Connect discovery document', async () => {
    const response = await fetch(`${server.url}/.well-known/smart-configuration`);
    expect(response.status).toBe(200);
    const smart = (await response.json()) as Record<string, unknown>;
    const issuer = server.url;
    expect(Object.keys(smart).sort()).toEqual(
      [
        'issuer',
        'jwks_uri',
        'authorization_endpoint',
        'token_endpoint',
        'grant_types_supported',
        'token_endpoint_auth_methods_supported',
        'token_endpoint_auth_signing_alg_values_supported',
        'scopes_supported',
        'response_types_supported',
        'code_challenge_methods_supported',
        'introspection_endpoint',
        'revocation_endpoint',
        'registration_endpoint',
        'management_endpoint',
        'capabilities',
      ].sort(),
    );
    expect(smart).toMatchObject({
      issuer,
      jwks_uri: `${issuer}/jwks`,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      introspection_endpoint: `${issuer}/introspect`,
      revocation_endpoint: `${issuer}/revoke`,
      registration_endpoint: `${issuer}/register`,
      management_endpoint: `${issuer}/account`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']),
      token_endpoint_auth_methods_supported: expect.arrayContaining(['private_key_jwt', 'client_secret_basic', 'none']),
      token_endpoint_auth_signing_alg_values_supported: expect.arrayContaining(['RS384', 'ES384']),
      scopes_supported: expect.arrayContaining(['openid', 'fhirUser', 'launch', 'launch/patient', 'offline_access', 'patient/*.cruds', 'patient/*.read']),
    });
    expect(smart.capabilities).toEqual([
      'launch-ehr',
      'launch-standalone',
      'authorize-post',
      'client-public',
      'client-confidential-symmetric',
      'client-confidential-asymmetric',
      'sso-openid-connect',
      'context-banner',
      'context-style',
      'context-ehr-patient',
      'context-ehr-encounter',
      'context-standalone-patient',
      'permission-offline',
      'permission-patient',
      'permission-user',
      'permission-v1',
      'permission-v2',
    ]);
    const oidc = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    for (const name of ['grant_types_supported', 'token_endpoint_auth_methods_supported', 'token_endpoint_auth_signing_alg_values_supported']) expect(smart[name]).toEqual(oidc[name]);
  });

  test('is JSON whatever the Accept header, readable from any origin', async () => {
    for (const accept of ['text/html', 'application/fhir+json', 'application/xml', '*/*']) {
      const response = await fetch(`${server.url}/.well-known/smart-configuration`, { headers: { Accept: accept, Origin: 'https://app.example' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect((await response.json()) as unknown).toMatchObject({ issuer: server.url });
    }
  });
});
