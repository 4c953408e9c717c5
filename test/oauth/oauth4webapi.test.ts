import { exportJWK, generateKeyPair } from 'jose';
import * as oauth from 'oauth4webapi';
import { BrowserlessUser, DEMO_EMAIL } from '../support/browserless-user.js';
import { leftHalfSha256, RawClient } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;

/**
 * panva's `oauth4webapi` is deliberately strict: it validates the discovery document, requires
 * `iss` in authorization responses when the server advertises it (RFC 9207), checks ID tokens and
 * RFC 9068 access tokens claim by claim and insists on exact content types. Assent must pass all of it.
 */
describe.each(storeBackends)('oauth4webapi against Assent on the $name store', (backend) => {
  let server: TestServer;
  let as: oauth.AuthorizationServer;
  const publicClient: oauth.Client = { client_id: 'demo-app', token_endpoint_auth_method: 'none' };
  const redirectUri = 'http://localhost:4200/callback';

  beforeAll(async () => {
    server = await startTestServer(backend);
    const issuer = new URL(server.url);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  });
  afterAll(() => server.stop());

  /** Runs the browser part of a code flow for demo-app; returns the callback and the PKCE verifier. */
  async function authorize(params: Record<string, string> = {}) {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const url = new URL(as.authorization_endpoint!);
    const all = {
      client_id: publicClient.client_id,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'openid email offline_access',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...params,
    };
    for (const [name, value] of Object.entries(all)) url.searchParams.set(name, value);
    const callback = await new BrowserlessUser(server.url).authorizeForCode(url);
    return { callback, verifier, state, nonce };
  }

  test('the discovery document passes validation, and only for this issuer', async () => {
    expect(as).toMatchObject({
      issuer: server.url,
      authorization_endpoint: `${server.url}/authorize`,
      token_endpoint: `${server.url}/token`,
      jwks_uri: `${server.url}/jwks`,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
    const other = new URL('http://127.0.0.1:1/');
    await expect(oauth.processDiscoveryResponse(other, await oauth.discoveryRequest(new URL(server.url), insecure))).rejects.toMatchObject({
      code: oauth.JSON_ATTRIBUTE_COMPARISON,
    });
  });

  test('authorization response (with iss), code exchange with ID token, and the RFC 9068 access token', async () => {
    const { callback, verifier, state, nonce } = await authorize();
    const params = oauth.validateAuthResponse(as, publicClient, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(as, publicClient, oauth.None(), params, redirectUri, verifier, insecure);
    const result = await oauth.processAuthorizationCodeResponse(as, publicClient, response, { expectedNonce: nonce, requireIdToken: true, maxAge: 300 });
    expect(result.token_type).toBe('bearer');
    expect(result.refresh_token).toEqual(expect.any(String));
    const alice = await server.services.accounts.byEmail(DEMO_EMAIL);
    const idToken = oauth.getValidatedIdTokenClaims(result)!;
    expect(idToken).toMatchObject({ iss: server.url, aud: 'demo-app', sub: alice!._id, nonce, email: DEMO_EMAIL, at_hash: leftHalfSha256(result.access_token) });
    expect(typeof idToken.auth_time).toBe('number');

    const request = new Request(`${server.url}/fhir/Patient`, { headers: { Authorization: `Bearer ${result.access_token}` } });
    const claims = await oauth.validateJwtAccessToken(as, request, server.url, insecure);
    expect(claims).toMatchObject({ iss: server.url, aud: server.url, sub: alice!._id, client_id: 'demo-app', scope: 'email offline_access openid' });
    expect(claims.jti).toEqual(expect.any(String));
    expect(claims.auth_time).toBe(idToken.auth_time);
    await expect(oauth.validateJwtAccessToken(as, request, 'https://another-resource.example', insecure)).rejects.toMatchObject({ code: oauth.JWT_CLAIM_COMPARISON });

    // The ID token is a JWT but not an access token: its typ is refused.
    const idAsAccess = new Request(`${server.url}/fhir/Patient`, { headers: { Authorization: `Bearer ${result.id_token}` } });
    await expect(oauth.validateJwtAccessToken(as, idAsAccess, server.url, insecure)).rejects.toThrow(/typ/);

    const introspection = await oauth.introspectionRequest(as, publicClient, oauth.None(), result.access_token, insecure);
    const introspected = await oauth.processIntrospectionResponse(as, publicClient, introspection);
    expect(introspected).toMatchObject({ active: true, client_id: 'demo-app', sub: alice!._id, jti: claims.jti, token_type: 'Bearer' });
  });

  test('a resource indicator becomes the access token audience', async () => {
    const resource = 'https://fhir.example/r4';
    const { callback, verifier, state, nonce } = await authorize({ resource, scope: 'openid' });
    const params = oauth.validateAuthResponse(as, publicClient, callback, state);
    const result = await oauth.processAuthorizationCodeResponse(
      as,
      publicClient,
      await oauth.authorizationCodeGrantRequest(as, publicClient, oauth.None(), params, redirectUri, verifier, insecure),
      { expectedNonce: nonce },
    );
    const request = new Request(`${resource}/Observation`, { headers: { Authorization: `Bearer ${result.access_token}` } });
    expect(await oauth.validateJwtAccessToken(as, request, resource, insecure)).toMatchObject({ aud: resource });
  });

  test('an authorization response without iss, with a foreign iss or with the wrong state is refused', async () => {
    const { callback, state } = await authorize({ scope: 'openid' });
    const withoutIss = new URL(callback);
    withoutIss.searchParams.delete('iss');
    expect(() => oauth.validateAuthResponse(as, publicClient, withoutIss, state)).toThrow(/iss/);
    const foreignIss = new URL(callback);
    foreignIss.searchParams.set('iss', 'https://evil.example');
    expect(() => oauth.validateAuthResponse(as, publicClient, foreignIss, state)).toThrow(/iss/);
    expect(() => oauth.validateAuthResponse(as, publicClient, callback, 'another-state')).toThrow(/state/);
  });

  test('an error response from the authorization endpoint carries iss and state', async () => {
    const state = oauth.generateRandomState();
    const url = new RawClient(server.url).prepare({ state, scope: 'openid', code_challenge_method: 'plain' }).url;
    const page = await new BrowserlessUser(server.url).get(url);
    expect(page.status).toBe(303);
    expect(() => oauth.validateAuthResponse(as, publicClient, page.location!, state)).toThrow(oauth.AuthorizationResponseError);
    try {
      oauth.validateAuthResponse(as, publicClient, page.location!, state);
    } catch (err) {
      expect((err as oauth.AuthorizationResponseError).error).toBe('invalid_request');
    }
  });

  describe('client_credentials', () => {
    async function register(metadata: Partial<oauth.OmitSymbolProperties<oauth.Client>>) {
      const response = await oauth.dynamicClientRegistrationRequest(as, metadata, insecure);
      return oauth.processDynamicClientRegistrationResponse(response);
    }

    async function expectServiceToken(client: oauth.Client, auth: oauth.ClientAuth) {
      const response = await oauth.clientCredentialsGrantRequest(as, client, auth, { scope: 'uma_authorization' }, insecure);
      const result = await oauth.processClientCredentialsResponse(as, client, response);
      expect(result).toMatchObject({ token_type: 'bearer', scope: 'uma_authorization' });
      expect(result.id_token).toBeUndefined();
      expect(result.refresh_token).toBeUndefined();
      const request = new Request(`${server.url}/resource`, { headers: { Authorization: `Bearer ${result.access_token}` } });
      const claims = await oauth.validateJwtAccessToken(as, request, server.url, insecure);
      expect(claims).toMatchObject({ sub: client.client_id, client_id: client.client_id, scope: 'uma_authorization' });
      const introspected = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, result.access_token, insecure));
      expect(introspected).toMatchObject({ active: true, client_id: client.client_id });
      // Revocation of the access token by the client itself (RFC 7009).
      await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, result.access_token, insecure));
      const after = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, result.access_token, insecure));
      expect(after.active).toBe(false);
    }

    test('with client_secret_basic', async () => {
      const registered = await register({ client_name: 'backend (secret)', grant_types: ['client_credentials'], scope: 'uma_authorization', token_endpoint_auth_method: 'client_secret_basic' });
      expect(registered.client_secret).toEqual(expect.any(String));
      const client: oauth.Client = { client_id: registered.client_id, token_endpoint_auth_method: 'client_secret_basic' };
      await expectServiceToken(client, oauth.ClientSecretBasic(registered.client_secret as string));
      const wrong = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic('not-the-secret'), { scope: 'uma_authorization' }, insecure);
      // A 401 with a Basic challenge: oauth4webapi surfaces the challenge; the body is the OAuth error.
      const error = await oauth.processClientCredentialsResponse(as, client, wrong).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
      const challenge = error as oauth.WWWAuthenticateChallengeError;
      expect(challenge.status).toBe(401);
      expect(challenge.cause[0]).toMatchObject({ scheme: 'basic' });
      expect(await challenge.response.json()).toMatchObject({ error: 'invalid_client' });
    });

    /** A client_credentials token requested without `scope`, and its JWT claims. */
    async function tokenWithoutScope(registered: oauth.Client) {
      const client: oauth.Client = { client_id: registered.client_id, token_endpoint_auth_method: 'client_secret_basic' };
      const auth = oauth.ClientSecretBasic(registered.client_secret as string);
      const result = await oauth.processClientCredentialsResponse(as, client, await oauth.clientCredentialsGrantRequest(as, client, auth, {}, insecure));
      const request = new Request(`${server.url}/resource`, { headers: { Authorization: `Bearer ${result.access_token}` } });
      const claims = await oauth.validateJwtAccessToken(as, request, server.url, insecure);
      const introspected = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, result.access_token, insecure));
      return { client, auth, result, claims, introspected };
    }

    test('a machine client registered without a scope gets none, and a token without scope (RFC 6749 §3.3)', async () => {
      const registered = await register({ client_name: 'backend (no scope)', grant_types: ['client_credentials'] });
      expect(registered.scope).toBeUndefined();
      const { client, auth, result, claims, introspected } = await tokenWithoutScope(registered);
      expect(result.token_type).toBe('bearer');
      expect(result.scope).toBeUndefined();
      expect(claims).toMatchObject({ sub: client.client_id, client_id: client.client_id });
      expect(claims).not.toHaveProperty('scope');
      expect(introspected).toMatchObject({ active: true, client_id: client.client_id });
      expect(introspected).not.toHaveProperty('scope');
      // Asking for a scope that needs a user is still an error.
      const refused = await oauth.clientCredentialsGrantRequest(as, client, auth, { scope: 'openid' }, insecure);
      await expect(oauth.processClientCredentialsResponse(as, client, refused)).rejects.toMatchObject({ error: 'invalid_scope', status: 400 });
    });

    test('without scope a client gets those of its registered scopes that need no user', async () => {
      const registered = await register({ client_name: 'backend (mixed)', grant_types: ['client_credentials'], scope: 'openid uma_authorization profile' });
      const { result, claims, introspected } = await tokenWithoutScope(registered);
      expect(result.scope).toBe('uma_authorization');
      expect(claims.scope).toBe('uma_authorization');
      expect(introspected.scope).toBe('uma_authorization');
    });

    test('a client that also acts for users keeps the user scopes as defaults; without scope client_credentials gives none of them', async () => {
      const registered = await register({ client_name: 'web and backend', grant_types: ['authorization_code', 'client_credentials'], redirect_uris: ['https://app.example/cb'] });
      expect(registered.scope).toBe('openid profile email offline_access');
      const { result, claims } = await tokenWithoutScope(registered);
      expect(result.scope).toBeUndefined();
      expect(claims).not.toHaveProperty('scope');
    });

    test('with private_key_jwt and a registered jwks', async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'backend-key-1', alg: 'ES256', use: 'sig' };
      const registered = await register({
        client_name: 'backend (key)',
        grant_types: ['client_credentials'],
        scope: 'uma_authorization',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [jwk] },
      });
      expect(registered.client_secret).toBeUndefined();
      const client: oauth.Client = { client_id: registered.client_id, token_endpoint_auth_method: 'private_key_jwt' };
      await expectServiceToken(client, oauth.PrivateKeyJwt({ key: privateKey, kid: 'backend-key-1' }));

      // A key the client did not register cannot authenticate it.
      const stranger = await generateKeyPair('ES256');
      const refused = await oauth.clientCredentialsGrantRequest(as, client, oauth.PrivateKeyJwt({ key: stranger.privateKey, kid: 'backend-key-1' }), { scope: 'uma_authorization' }, insecure);
      await expect(oauth.processClientCredentialsResponse(as, client, refused)).rejects.toMatchObject({ error: 'invalid_client', status: 401 });
    });
  });
});
