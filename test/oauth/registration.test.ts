import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { projectRoot } from '../../server/config/config.js';
import { hashSecret } from '../../server/crypto/secrets.js';
import { ProtocolError } from '../../server/protocol/errors.js';
import { registrationMetadata } from '../../server/http/registration.js';
import { ASSERTION_ALGORITHMS, CLIENT_AUTH_METHODS } from '../../server/oauth/clients/authenticate.js';
import { ClientRegistration } from '../../server/oauth/clients/registration.js';
import { storedDecisions } from '../support/decisions.js';
import type { ClientDocument } from '../../server/store/repositories/clients.js';
import { storeBackends } from '../support/stores.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** What the decision log stores (the input as JSON text). */

const INITIAL_ACCESS_TOKEN = 'initial-access-token-for-tests-0123456789';

const webClient = {
  client_name: 'Heart app',
  redirect_uris: ['https://app.example/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid profile',
  contacts: ['dev@app.example'],
};

describe.each(storeBackends)('dynamic client registration on the $name store', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.stop());

  const request = (method: string, pathname: string, options: { token?: string; json?: unknown; body?: string; type?: string } = {}) =>
    fetch(`${server.url}${pathname}`, {
      method,
      headers: {
        ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
        ...(options.json !== undefined || options.body !== undefined ? { 'Content-Type': options.type ?? 'application/json' } : {}),
      },
      body: options.json !== undefined ? JSON.stringify(options.json) : options.body,
    });
  const register = (json: unknown) => request('POST', '/register', { json });
  const clientDocuments = async () => (await server.services.store.collection<ClientDocument>('clients')).find({ source: 'registration' });

  async function expectError(response: Response, status: number, error: string, description?: RegExp) {
    expect(response.status).toBe(status);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = await response.json();
    expect(body.error).toBe(error);
    if (description) expect(body.error_description).toMatch(description);
  }

  test('register, read, update and delete a client (RFC 7591, RFC 7592)', async () => {
    const created = await register(webClient);
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const registered = await created.json();
    expect(registered).toMatchObject({
      ...webClient,
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      application_type: 'web',
      client_secret_expires_at: 0,
    });
    expect(registered.client_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Math.abs(registered.client_id_issued_at - Date.now() / 1000)).toBeLessThan(60);
    expect(registered.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(registered.registration_client_uri).toBe(`${server.url}/register/${registered.client_id}`);
    const token = registered.registration_access_token as string;
    const clientUri = new URL(registered.registration_client_uri).pathname;

    // The issued secret authenticates the client at the token endpoint.
    const authorization = `Basic ${Buffer.from(`${registered.client_id}:${registered.client_secret}`).toString('base64')}`;
    expect((await server.services.authenticateClient({ authorization, body: {}, address: '127.0.0.1' }))._id).toBe(registered.client_id);

    const read = await request('GET', clientUri, { token });
    expect(read.status).toBe(200);
    expect(read.headers.get('cache-control')).toBe('no-store');
    // Everything registered, except the secret, which is shown only once.
    expect(await read.json()).toEqual({ ...registered, client_secret: undefined });

    const replacement = { client_id: registered.client_id, client_secret: registered.client_secret, redirect_uris: ['https://app.example/v2/callback'], scope: 'openid' };
    const updated = await request('PUT', clientUri, { token, json: replacement });
    expect(updated.status).toBe(200);
    const afterUpdate = await updated.json();
    expect(afterUpdate).toMatchObject({ client_id: registered.client_id, redirect_uris: ['https://app.example/v2/callback'], scope: 'openid', registration_access_token: token });
    // Omitted members are removed (RFC 7592 §2.2); nothing is rotated.
    expect(afterUpdate.client_name).toBeUndefined();
    expect(afterUpdate.contacts).toBeUndefined();
    expect(afterUpdate.grant_types).toEqual(['authorization_code']);
    expect(afterUpdate.client_secret).toBeUndefined();
    expect(await (await request('GET', clientUri, { token })).json()).toEqual(afterUpdate);
    expect((await server.services.authenticateClient({ authorization, body: {}, address: '127.0.0.1' }))._id).toBe(registered.client_id);

    const deleted = await request('DELETE', clientUri, { token });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    await expectError(await request('GET', clientUri, { token }), 401, 'invalid_token');
    expect(await server.services.clients.byId(registered.client_id)).toBeNull();
  });

  test('discovery-ready metadata and the schema agree with what authentication supports', async () => {
    expect(registrationMetadata(server.url)).toEqual({
      registration_endpoint: `${server.url}/register`,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
      token_endpoint_auth_signing_alg_values_supported: ['ES256', 'ES384', 'RS256', 'RS384', 'PS256', 'EdDSA'],
    });
    const schema = JSON.parse(await readFile(path.join(projectRoot, 'schemas/client-metadata.schema.json'), 'utf8'));
    expect(schema.properties.token_endpoint_auth_method.enum).toEqual(CLIENT_AUTH_METHODS);
    expect(schema.properties.token_endpoint_auth_signing_alg.enum).toEqual(ASSERTION_ALGORITHMS);
  });

  describe('redirect URIs', () => {
    test.each([
      ['https', { redirect_uris: ['https://app.example/cb?x=1'] }],
      ['http on 127.0.0.1', { redirect_uris: ['http://127.0.0.1:8080/cb'] }],
      ['http on [::1]', { redirect_uris: ['http://[::1]/cb'] }],
      ['http on localhost', { redirect_uris: ['http://localhost:3000/cb'] }],
      ['a reverse-domain private-use scheme for a native client', { application_type: 'native', redirect_uris: ['com.example.app:/oauth2redirect'] }],
      ['UMA claims redirect URIs', { redirect_uris: ['https://app.example/cb'], claims_redirect_uris: ['https://app.example/claims'] }],
      ['a fully qualified host with its trailing dot', { redirect_uris: ['https://app.example./cb'] }],
    ])('accepted: %s', async (_name, metadata) => {
      const response = await register(metadata);
      expect(response.status).toBe(201);
      expect(await response.json()).toMatchObject(metadata);
    });

    test.each([
      ['plain http elsewhere', { redirect_uris: ['http://app.example/cb'] }, /https/],
      ['a fragment', { redirect_uris: ['https://app.example/cb#frag'] }, /fragment/],
      ['a relative URI', { redirect_uris: ['/cb'] }, /absolute/],
      ['a schemeless https', { redirect_uris: ['https:app.example/cb'] }, /absolute/],
      ['user credentials', { redirect_uris: ['https://user:pass@app.example/cb'] }, /credentials/],
      ['whitespace', { redirect_uris: [' https://app.example/cb'] }, /printable/],
      ['a private-use scheme for a web client', { redirect_uris: ['com.example.app:/cb'] }, /native/],
      ['a private-use scheme without a dot', { application_type: 'native', redirect_uris: ['myapp:/cb'] }, /reverse-domain/],
      ['javascript:', { application_type: 'native', redirect_uris: ['javascript:alert(1)'] }, /reverse-domain/],
      ['no redirect URI for the code grant', { client_name: 'x' }, /redirect_uris is required/],
      ['an empty redirect URI list for the code grant', { redirect_uris: [] }, /redirect_uris is required/],
      ['a bad claims redirect URI', { redirect_uris: ['https://app.example/cb'], claims_redirect_uris: ['http://app.example/claims'] }, /claims_redirect_uris\/0/],
      ['a bad post-logout redirect URI', { redirect_uris: ['https://app.example/cb'], post_logout_redirect_uris: ['https://app.example/#x'] }, /post_logout/],
      ['a string instead of a list', { redirect_uris: 'https://app.example/cb' }, /must be array/],
      ['a wildcard host', { redirect_uris: ['https://*.client.example/cb'] }, /wildcard/],
      ['a percent-encoded wildcard host', { redirect_uris: ['https://%2A.client.example/cb'] }, /wildcard/],
      ['a wildcard label elsewhere in the host', { redirect_uris: ['https://app.*/cb'] }, /wildcard/],
      ['a wildcard loopback-style host', { redirect_uris: ['http://*:8080/cb'] }, /wildcard/],
      ['a leading-dot domain suffix', { redirect_uris: ['https://.client.example/cb'] }, /empty label/],
      ['an empty label inside the host', { redirect_uris: ['https://app..example/cb'] }, /empty label/],
      ['a wildcard claims redirect URI', { redirect_uris: ['https://app.example/cb'], claims_redirect_uris: ['https://*.app.example/claims'] }, /claims_redirect_uris\/0 .*wildcard/],
    ])('refused with invalid_redirect_uri: %s', async (_name, metadata, description) => {
      await expectError(await register(metadata), 400, 'invalid_redirect_uri', description);
    });
  });

  describe('metadata consistency', () => {
    test.each([
      ['jwks and jwks_uri together', { grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }] }, jwks_uri: 'https://app.example/jwks' }, /together with jwks/],
      ['an unsupported auth method', { redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'client_secret_jwt' }, /token_endpoint_auth_method must be one of/],
      ['an unknown grant type', { redirect_uris: ['https://app.example/cb'], grant_types: ['password'] }, /grant_types\/0 must be one of/],
      ['the implicit response type', { redirect_uris: ['https://app.example/cb'], response_types: ['token'] }, /response_types\/0/],
      ['response type code without the code grant', { grant_types: ['client_credentials'], response_types: ['code'] }, /go together/],
      ['the code grant without response type code', { redirect_uris: ['https://app.example/cb'], response_types: [] }, /go together/],
      ['a public client with client_credentials', { grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' }, /public client/],
      ['private_key_jwt without keys', { grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt' }, /jwks or jwks_uri/],
      ['a private key in jwks', { grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', d: 'AA' }] } }, /public keys only/],
      ['a symmetric key in jwks', { grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'AA' }] } }, /kty/],
      ['a symmetric signing algorithm', { grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://app.example/jwks', token_endpoint_auth_signing_alg: 'HS256' }, /token_endpoint_auth_signing_alg must be one of/],
      ['a signing algorithm without private_key_jwt', { grant_types: ['client_credentials'], token_endpoint_auth_signing_alg: 'ES256' }, /applies only to private_key_jwt/],
      ['jwks_uri over http', { grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'http://app.example/jwks' }, /jwks_uri must use https/],
      ['a javascript: client_uri', { redirect_uris: ['https://app.example/cb'], client_uri: 'javascript:alert(1)' }, /client_uri/],
      ['a bad contact', { redirect_uris: ['https://app.example/cb'], contacts: ['not an email'] }, /contacts\/0/],
      ['a bad scope', { redirect_uris: ['https://app.example/cb'], scope: 'openid  "quoted"' }, /scope/],
      ['an array instead of a string', { redirect_uris: ['https://app.example/cb'], client_name: ['Heart', 'app'] }, /client_name must be string/],
      ['a number instead of a string', { redirect_uris: ['https://app.example/cb'], software_id: 42 }, /software_id must be string/],
      ['a JSON array body', [webClient], /JSON object/],
    ])('refused with invalid_client_metadata: %s', async (_name, metadata, description) => {
      await expectError(await register(metadata), 400, 'invalid_client_metadata', description);
    });

    test('defaults follow RFC 7591 §2; unknown and null members are ignored', async () => {
      const response = await register({ redirect_uris: ['https://app.example/cb'], client_name: null, 'client_name#fr': 'Appli', is_admin: true, client_secret: 'mine' });
      expect(response.status).toBe(201);
      const body = await response.json();
      expect(body).toMatchObject({ grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', application_type: 'web' });
      expect(body.scope).toBe('openid profile email offline_access');
      for (const ignored of ['client_name', 'client_name#fr', 'is_admin']) expect(body).not.toHaveProperty([ignored]);
      expect(body.client_secret).not.toBe('mine');
    });

    test('a client without the code grant needs no redirect URI and gets no response types', async () => {
      const response = await register({ grant_types: ['client_credentials'] });
      expect(response.status).toBe(201);
      expect(await response.json()).toMatchObject({ redirect_uris: [], response_types: [] });
    });

    test('a client that only acts for itself gets no default scope, as the consent policy says; read and update keep it so', async () => {
      const response = await register({ grant_types: ['client_credentials'] });
      expect(response.status).toBe(201);
      const { client_id: clientId, registration_access_token: token, ...information } = await response.json();
      expect(information).not.toHaveProperty('scope');
      expect((await server.services.clients.byId(clientId))?.metadata.scope).toBe('');
      const consents = await storedDecisions({ store: server.services.store, dataDir: server.services.config.dataDir }, 'consent');
      expect(consents.filter((d) => (d.input as { client: { client_id: string } }).client.client_id === clientId).map((d) => d.result)).toEqual([expect.objectContaining({ granted: [] })]);

      const read = await (await request('GET', `/register/${clientId}`, { token })).json();
      expect(read).not.toHaveProperty('scope');
      const issuedByServer = ['client_secret', 'client_secret_expires_at', 'client_id_issued_at', 'registration_client_uri', 'registration_access_token'];
      const metadata = Object.fromEntries(Object.entries(read).filter(([name]) => !issuedByServer.includes(name)));
      const updated = await request('PUT', `/register/${clientId}`, { token, json: { ...metadata, client_id: clientId } });
      expect(updated.status).toBe(200);
      expect(await updated.json()).not.toHaveProperty('scope');
      expect((await server.services.clients.byId(clientId))?.metadata.scope).toBe('');
    });

    test('a public client gets no secret; a private_key_jwt client neither', async () => {
      const publicClient = await (await register({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' })).json();
      expect(publicClient.client_secret).toBeUndefined();
      expect(publicClient.client_secret_expires_at).toBeUndefined();
      const keyed = await (
        await register({ grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://app.example/jwks', token_endpoint_auth_signing_alg: 'ES256' })
      ).json();
      expect(keyed).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://app.example/jwks' });
      expect(keyed.client_secret).toBeUndefined();
    });
  });

  describe('privileged scopes and members (the registration policy)', () => {
    const backend = { grant_types: ['client_credentials'] };
    test.each([
      ['smart/launch', { ...backend, scope: 'smart/launch' }, /only the operator can configure scope smart\/launch$/],
      ['access_evaluation', { ...backend, scope: 'uma_protection access_evaluation' }, /only the operator can configure scope access_evaluation$/],
      ['a system/ scope', { ...backend, scope: 'system/Patient.rs' }, /only the operator can configure scope system\/Patient\.rs$/],
      ['fhir_base_urls', { ...backend, scope: 'uma_protection', fhir_base_urls: ['https://fhir.example.org/r4'] }, /only the operator can configure fhir_base_urls$/],
      ['all of them', { ...backend, scope: 'smart/launch access_evaluation', fhir_base_urls: ['https://fhir.example.org/r4'] }, /scope access_evaluation, scope smart\/launch, fhir_base_urls$/],
    ])('%s is refused as invalid_client_metadata, recorded, and nothing is written', async (_name, metadata, description) => {
      const before = (await clientDocuments()).length;
      await expectError(await register(metadata), 400, 'invalid_client_metadata', description);
      expect((await clientDocuments()).length).toBe(before);
      const [last] = (await storedDecisions({ store: server.services.store, dataDir: server.services.config.dataDir }, 'registration')).slice(-1);
      expect(last).toMatchObject({ input: { source: 'registration', scopes: metadata.scope.split(' ') }, result: { allow: false } });
    });

    test('an update cannot add them either', async () => {
      const { client_id: clientId, registration_access_token: token } = await (await register({ ...backend, scope: 'uma_protection' })).json();
      const update = (extra: object) => request('PUT', `/register/${clientId}`, { token, json: { ...backend, client_id: clientId, ...extra } });
      await expectError(await update({ scope: 'smart/launch' }), 400, 'invalid_client_metadata', /smart\/launch/);
      await expectError(await update({ fhir_base_urls: ['https://fhir.example.org/r4'] }), 400, 'invalid_client_metadata', /fhir_base_urls/);
      expect((await server.services.clients.byId(clientId))?.metadata).toMatchObject({ scope: 'uma_protection' });
      expect((await server.services.clients.byId(clientId))?.metadata).not.toHaveProperty('fhir_base_urls');
    });

    test('a client_credentials-only client registered without scope gets a token without scope', async () => {
      const { client_id: clientId, client_secret: secret } = await (await register(backend)).json();
      const response = await fetch(`${server.url}/token`, {
        method: 'POST',
        headers: { Authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(body).toMatchObject({ token_type: 'Bearer' });
      expect(body).not.toHaveProperty('scope');
      const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1], 'base64url').toString());
      expect(claims.scope ?? '').toBe('');
    });
  });

  describe('bad input', () => {
    test('malformed, oversized, mistyped or non-JSON bodies are 4xx protocol errors and write nothing', async () => {
      const before = (await clientDocuments()).length;
      await expectError(await request('POST', '/register', { body: '{"redirect_uris": [' }), 400, 'invalid_request');
      await expectError(await request('POST', '/register', { body: JSON.stringify({ ...webClient, client_name: 'x'.repeat(100_000) }) }), 413, 'request_too_large');
      await expectError(await request('POST', '/register', { body: JSON.stringify({ ...webClient, client_name: 'x'.repeat(300) }) }), 400, 'invalid_client_metadata', /client_name/);
      await expectError(await request('POST', '/register', { body: JSON.stringify({ redirect_uris: Array.from({ length: 21 }, (_, i) => `https://app.example/${i}`) }) }), 400, 'invalid_redirect_uri');
      await expectError(
        await request('POST', '/register', { body: 'redirect_uris=https%3A%2F%2Fapp.example%2Fcb', type: 'application/x-www-form-urlencoded' }),
        415,
        'invalid_request',
        /application\/json/,
      );
      await expectError(await request('POST', '/register'), 415, 'invalid_request', /application\/json/);
      await expectError(await request('POST', '/register', { body: '"client"' }), 400, 'invalid_request');
      await expectError(await register({ redirect_uris: [['https://app.example/cb']] }), 400, 'invalid_redirect_uri');
      expect((await clientDocuments()).length).toBe(before);
    });
  });

  describe('registration access tokens', () => {
    let client: Record<string, string>;
    let clientPath: string;
    beforeAll(async () => {
      client = await (await register(webClient)).json();
      clientPath = `/register/${client.client_id}`;
    });

    test('a missing token is refused with a Bearer challenge', async () => {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const response = await request(method, clientPath, method === 'PUT' ? { json: { client_id: client.client_id, ...webClient } } : {});
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(response.headers.get('www-authenticate')).not.toContain('error=');
        await expectError(response, 401, 'invalid_token');
      }
    });

    test('a wrong token, a token for another client, an unknown client and a seeded client all get the same answer', async () => {
      const other = await (await register(webClient)).json();
      const attempts: [string, string][] = [
        [clientPath, 'wrong-token'],
        [clientPath, other.registration_access_token],
        ['/register/no-such-client', client.registration_access_token!],
        ['/register/demo-app', client.registration_access_token!],
      ];
      const bodies = new Set<string>();
      for (const [target, token] of attempts) {
        for (const method of ['GET', 'PUT', 'DELETE']) {
          const response = await request(method, target, { token, ...(method === 'PUT' ? { json: { client_id: client.client_id, ...webClient } } : {}) });
          expect(response.status).toBe(401);
          expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
          bodies.add(await response.text());
        }
      }
      expect([...bodies]).toEqual([JSON.stringify({ error: 'invalid_token', error_description: 'the registration access token is not valid for this client' })]);
      // Nothing was changed or deleted.
      expect(await (await request('GET', clientPath, { token: client.registration_access_token })).json()).toMatchObject(webClient);
      expect(await server.services.clients.byId('demo-app')).not.toBeNull();
    });

    test('a token in the query string is not accepted', async () => {
      await expectError(await request('GET', `${clientPath}?access_token=${client.registration_access_token}`), 401, 'invalid_token');
    });

    test('an update must name its own client_id and, if it sends one, the right client_secret', async () => {
      const token = client.registration_access_token;
      await expectError(await request('PUT', clientPath, { token, json: webClient }), 400, 'invalid_request', /client_id/);
      await expectError(await request('PUT', clientPath, { token, json: { ...webClient, client_id: 'someone-else' } }), 400, 'invalid_request', /client_id/);
      await expectError(await request('PUT', clientPath, { token, json: { ...webClient, client_id: client.client_id, client_secret: 'guess' } }), 400, 'invalid_request', /client_secret/);
      await expectError(await request('PUT', clientPath, { token, json: { client_id: client.client_id, redirect_uris: ['http://app.example/cb'] } }), 400, 'invalid_redirect_uri');
      await expectError(
        await request('PUT', clientPath, { token, json: { client_id: client.client_id, ...webClient, token_endpoint_auth_method: 'none' } }),
        400,
        'invalid_client_metadata',
        /register a new client/,
      );
      expect(await (await request('GET', clientPath, { token })).json()).toMatchObject(webClient);
    });

    test('an update may switch between the secret methods, keeping the secret', async () => {
      const token = client.registration_access_token;
      const response = await request('PUT', clientPath, { token, json: { client_id: client.client_id, ...webClient, token_endpoint_auth_method: 'client_secret_post' } });
      expect(response.status).toBe(200);
      const body = { client_id: client.client_id, client_secret: client.client_secret };
      expect((await server.services.authenticateClient({ body, address: '127.0.0.1' }))._id).toBe(client.client_id);
    });
  });

  test('client secrets and registration access tokens are stored only as hashes', async () => {
    const registered = await (await register(webClient)).json();
    const [stored] = (await clientDocuments()).filter((doc) => doc._id === registered.client_id);
    expect(stored).toBeDefined();
    expect(stored!.secretHash).toBe(hashSecret(registered.client_secret));
    expect(stored!.registrationTokenHash).toBe(hashSecret(registered.registration_access_token));
    const raw = JSON.stringify(stored);
    expect(raw).not.toContain(registered.client_secret);
    expect(raw).not.toContain(registered.registration_access_token);
  });
});

describe.each(storeBackends)('registration behind an initial access token on the $name store', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend, { ASSENT_REGISTRATION: 'token', ASSENT_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN });
  });
  afterAll(() => server.stop());

  const register = (authorization?: string) =>
    fetch(`${server.url}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(authorization ? { Authorization: authorization } : {}) },
      body: JSON.stringify(webClient),
    });

  test('registration needs the initial access token as a Bearer token', async () => {
    for (const [authorization, challenge] of [
      [undefined, /^Bearer$/],
      ['Bearer wrong-token', /^Bearer .*error="invalid_token"/],
      [`Bearer ${INITIAL_ACCESS_TOKEN}x`, /^Bearer .*error="invalid_token"/],
      [`Basic ${Buffer.from(`x:${INITIAL_ACCESS_TOKEN}`).toString('base64')}`, /^Bearer$/],
    ] as const) {
      const response = await register(authorization);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(challenge);
      expect((await response.json()).error).toBe('invalid_token');
    }
    expect(await (await server.services.store.collection<ClientDocument>('clients')).count({ source: 'registration' })).toBe(0);
    const response = await register(`Bearer ${INITIAL_ACCESS_TOKEN}`);
    expect(response.status).toBe(201);
    expect((await response.json()).client_id).toBeDefined();
  });
});

describe.each(storeBackends)('the registration service on the $name store', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(() => server.stop());
  const policyDeps = () => ({ decisions: server.services.decisions, revokeIssuance: async () => {} });

  test('deleting a client revokes its issuance before and after the client is gone', async () => {
    const { clients } = server.services;
    const seen: { clientId: string; stillThere: boolean }[] = [];
    const registration = new ClientRegistration({
      ...policyDeps(),
      clients,
      config: { issuer: 'https://as.example' },
      revokeIssuance: async (clientId) => {
        seen.push({ clientId, stillThere: (await clients.byId(clientId)) !== null });
      },
    });
    const { client_id: clientId, registration_access_token: token } = await registration.register(webClient);
    await expect(registration.delete(clientId, 'wrong')).rejects.toBeInstanceOf(ProtocolError);
    expect(seen).toEqual([]);
    await registration.delete(clientId, token);
    expect(seen).toEqual([
      { clientId, stillThere: true },
      { clientId, stillThere: false },
    ]);
  });

  test('a revocation that fails leaves the client in place, so the delete can be sent again', async () => {
    const { clients } = server.services;
    let failing = true;
    const registration = new ClientRegistration({
      ...policyDeps(),
      clients,
      config: { issuer: 'https://as.example' },
      revokeIssuance: async () => {
        if (failing) throw new Error('store unavailable');
      },
    });
    const { client_id: clientId, registration_access_token: token } = await registration.register(webClient);
    await expect(registration.delete(clientId, token)).rejects.toThrow('store unavailable');
    expect(await clients.byId(clientId)).not.toBeNull();
    failing = false;
    await registration.delete(clientId, token);
    expect(await clients.byId(clientId)).toBeNull();
  });

  test('plain http redirect URIs are accepted only when insecure redirects are allowed', async () => {
    const metadata = { redirect_uris: ['http://app.test/cb'] };
    const strict = new ClientRegistration({ ...policyDeps(), clients: server.services.clients, config: { issuer: 'https://as.example' } });
    await expect(strict.register(metadata)).rejects.toMatchObject({ code: 'invalid_redirect_uri' });
    const relaxed = new ClientRegistration({ ...policyDeps(), clients: server.services.clients, config: { issuer: 'https://as.example', allowInsecureRedirects: true } });
    expect(await relaxed.register(metadata)).toMatchObject(metadata);
  });
});
