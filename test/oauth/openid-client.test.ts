import * as client from 'openid-client';
import { BrowserlessUser, DEMO_EMAIL, formOf, hiddenFields } from '../support/browserless-user.js';
import { leftHalfSha256, RawClient } from '../support/oauth-flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { storeBackends } from '../support/stores.js';

/**
 * A relying party built on panva's `openid-client` (v6), the way an application would use it:
 * discovery, dynamic registration, the authorization code flow with PKCE, state and nonce, ID token
 * validation, refresh, UserInfo, introspection, revocation and RP-initiated logout. A browserless
 * user plays the person at the login and consent pages.
 */
describe.each(storeBackends)('openid-client against Assent on the $name store', (backend) => {
  let server: TestServer;
  let config: client.Configuration;
  const callback = 'http://127.0.0.1:8123/callback';
  const afterLogout = 'http://127.0.0.1:8123/signed-out';
  const scope = 'openid profile email offline_access';

  beforeAll(async () => {
    server = await startTestServer(backend);
    config = await client.dynamicClientRegistration(
      new URL(server.url),
      {
        client_name: 'openid-client RP',
        redirect_uris: [callback],
        post_logout_redirect_uris: [afterLogout],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope,
      },
      client.ClientSecretBasic(),
      { execute: [client.allowInsecureRequests] },
    );
  });
  afterAll(() => server.stop());

  test('discovery and dynamic registration give a usable configuration', async () => {
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(server.url);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
    expect(metadata.supportsPKCE()).toBe(true);
    const registered = config.clientMetadata();
    expect(registered.client_id).toEqual(expect.any(String));
    expect(registered.client_secret).toEqual(expect.any(String));
    expect(registered.registration_access_token).toEqual(expect.any(String));
    const stored = await server.services.clients.byId(registered.client_id);
    expect(stored).toMatchObject({ source: 'registration', metadata: { token_endpoint_auth_method: 'client_secret_basic', post_logout_redirect_uris: [afterLogout] } });
  });

  test('code flow with PKCE, state and nonce; refresh; userinfo; introspection; revocation; logout', async () => {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const authorizationUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: callback,
      scope,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      max_age: '600',
    });

    const user = new BrowserlessUser(server.url);
    const started = Math.floor(Date.now() / 1000);
    const result = await user.authorize(authorizationUrl);
    expect(result.seen).toEqual(['login', 'consent']);
    expect(result.callback?.origin + result.callback!.pathname).toBe(callback);
    expect(result.callback!.searchParams.get('iss')).toBe(server.url);

    // The library checks iss, state, PKCE, and the ID token: signature, iss, aud, exp, nonce, auth_time against max_age.
    const tokens = await client.authorizationCodeGrant(config, result.callback!, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      maxAge: 600,
      idTokenExpected: true,
    });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.scope?.split(' ').sort()).toEqual(scope.split(' ').sort());
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const claims = tokens.claims()!;
    const alice = await server.services.accounts.byEmail(DEMO_EMAIL);
    expect(claims).toMatchObject({ iss: server.url, sub: alice!._id, aud: config.clientMetadata().client_id, nonce, email: DEMO_EMAIL, email_verified: true, name: 'Alice Demo' });
    expect(claims.at_hash).toBe(leftHalfSha256(tokens.access_token));
    expect(claims.auth_time).toBeGreaterThanOrEqual(started - 1);
    expect(claims.auth_time).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));

    // Refresh: rotation gives a new refresh token and an ID token for the same user.
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    const refreshedClaims = refreshed.claims()!;
    expect(refreshedClaims.sub).toBe(claims.sub);
    expect(refreshedClaims.auth_time).toBe(claims.auth_time);
    expect(refreshedClaims.at_hash).toBe(leftHalfSha256(refreshed.access_token));

    const userinfo = await client.fetchUserInfo(config, refreshed.access_token, claims.sub);
    expect(userinfo).toEqual({ sub: claims.sub, name: 'Alice Demo', email: DEMO_EMAIL, email_verified: true });

    const introspected = await client.tokenIntrospection(config, refreshed.access_token);
    expect(introspected).toMatchObject({ active: true, client_id: config.clientMetadata().client_id, sub: claims.sub, iss: server.url, token_type: 'Bearer' });
    expect(String(introspected.scope).split(' ').sort()).toEqual(scope.split(' ').sort());
    const introspectedRefresh = await client.tokenIntrospection(config, refreshed.refresh_token!);
    expect(introspectedRefresh).toMatchObject({ active: true, token_type: 'refresh_token', sub: claims.sub });
    // The first refresh token was rotated away.
    expect((await client.tokenIntrospection(config, tokens.refresh_token!)).active).toBe(false);

    // Revoking the refresh token takes its family along, access tokens included.
    await client.tokenRevocation(config, refreshed.refresh_token!);
    expect((await client.tokenIntrospection(config, refreshed.refresh_token!)).active).toBe(false);
    expect((await client.tokenIntrospection(config, refreshed.access_token)).active).toBe(false);
    await expect(client.fetchUserInfo(config, refreshed.access_token, claims.sub)).rejects.toThrow();
    await expect(client.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    // RP-initiated logout: a confirmation page, then back to the registered post-logout URI with state.
    const logoutState = client.randomState();
    const endSession = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: afterLogout, state: logoutState });
    expect(endSession.origin + endSession.pathname).toBe(`${server.url}/logout`);
    const confirmation = await user.get(endSession);
    expect(confirmation.status).toBe(200);
    expect(confirmation.html).toContain('openid-client RP');
    const form = formOf(confirmation, /^\/logout$/);
    const done = await user.post(form.action, hiddenFields(form));
    expect(done.status).toBe(303);
    expect(done.location!.origin + done.location!.pathname).toBe(afterLogout);
    expect(done.location!.searchParams.get('state')).toBe(logoutState);
    expect(user.cookie('assent_session')).toBeUndefined();

    // Signed out for real: a silent authorization now needs a login.
    const silent = client.buildAuthorizationUrl(config, {
      redirect_uri: callback,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state,
      prompt: 'none',
    });
    const answer = await user.authorize(silent);
    expect(answer.callback?.searchParams.get('error')).toBe('login_required');
  });

  test('a logout to an unregistered post_logout_redirect_uri stays on the server', async () => {
    const user = new BrowserlessUser(server.url);
    const tokens = await new RawClient(server.url).tokens(user);
    const endSession = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://evil.example/', state: 'x' });
    const confirmation = await user.get(endSession);
    const done = await user.post(formOf(confirmation, /^\/logout$/).action, hiddenFields(formOf(confirmation, /^\/logout$/)));
    expect(done.status).toBe(200);
    expect(done.location).toBeUndefined();
    expect(done.html).toContain('You are signed out.');
    expect(user.cookie('assent_session')).toBeUndefined();
  });

  test('the ID token is checked against the nonce the client expected', async () => {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: callback,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce: client.randomNonce(),
    });
    const result = await new BrowserlessUser(server.url).authorize(url);
    const error = await client
      .authorizationCodeGrant(config, result.callback!, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: client.randomNonce() })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(client.ClientError);
    expect((error as client.ClientError).code).toBe('OAUTH_JWT_CLAIM_COMPARISON_FAILED');
    // openid-client wraps oauth4webapi's error, which names the claim that did not match.
    expect(JSON.stringify(causes(error))).toContain('"claim":"nonce"');
  });
});

/** An error's cause chain, as plain data. */
function causes(error: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) out.push({ ...(e as object), message: (e as Error).message });
  return out;
}
