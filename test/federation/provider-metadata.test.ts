import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { UpstreamProviderConfig } from '../../server/config/config.js';
import { GOOGLE_ISSUER } from '../../server/federation/issuers.js';
import { FederationError, ProviderMetadata } from '../../server/federation/provider-metadata.js';

/**
 * ProviderMetadata on its own: discovery caching and refresh, outages, issuer and URL checks, and
 * the Google preset. Google's servers cannot exist here, so Google is played by a stand-in behind
 * the interface every upstream request goes through (`fetch`): it answers for
 * accounts.google.com and www.googleapis.com as Google does, with a key made for the test.
 */
const CLIENT_ID = '1234-assent.apps.googleusercontent.com';
const GOOGLE_JWKS = 'https://www.googleapis.com/oauth2/v3/certs';

interface StandIn {
  fetch: typeof fetch;
  requests: string[];
  /** While true every request fails as a network error does. */
  down: boolean;
  documents: Map<string, unknown>;
}

function standIn(documents: Record<string, unknown>): StandIn {
  const state: StandIn = {
    requests: [],
    down: false,
    documents: new Map(Object.entries(documents)),
    fetch: async (input) => {
      const url = String(input instanceof Request ? input.url : input);
      state.requests.push(url);
      if (state.down) throw new TypeError('fetch failed');
      const body = state.documents.get(url);
      return body === undefined ? new Response('not found', { status: 404 }) : Response.json(body);
    },
  };
  return state;
}

let key: { privateKey: CryptoKey; jwk: JWK };

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  key = { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid: 'google-1', alg: 'RS256', use: 'sig' } };
});

const google: UpstreamProviderConfig = { id: 'google', type: 'google', clientId: CLIENT_ID, displayName: 'Google' };

function googleStandIn() {
  return standIn({
    [`${GOOGLE_ISSUER}/.well-known/openid-configuration`]: {
      issuer: GOOGLE_ISSUER,
      authorization_endpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
      token_endpoint: 'https://oauth2.googleapis.com/token',
      userinfo_endpoint: 'https://openidconnect.googleapis.com/v1/userinfo',
      jwks_uri: GOOGLE_JWKS,
      id_token_signing_alg_values_supported: ['RS256'],
    },
    [GOOGLE_JWKS]: { keys: [] as JWK[] },
  });
}

async function googleIdToken(claims: Record<string, unknown>, options: { iss?: string; aud?: string; signWith?: CryptoKey } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ email: 'dr@clinic.example', email_verified: true, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'google-1' })
    .setIssuer(options.iss ?? 'https://accounts.google.com')
    .setAudience(options.aud ?? CLIENT_ID)
    .setSubject('110169484474386276334')
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(options.signWith ?? key.privateKey);
}

describe('the Google preset', () => {
  test('needs no issuer in configuration, discovers Google, and verifies its ID tokens with both iss forms', async () => {
    const googleServers = googleStandIn();
    googleServers.documents.set(GOOGLE_JWKS, { keys: [key.jwk] });
    const metadata = new ProviderMetadata([google], { fetch: googleServers.fetch });
    expect(metadata.issuerOf('google')).toBe(GOOGLE_ISSUER);
    expect(metadata.byIssuer('accounts.google.com')?.id).toBe('google');
    expect((await metadata.metadata('google')).authorization_endpoint).toBe('https://accounts.google.com/o/oauth2/v2/auth');
    for (const iss of ['https://accounts.google.com', 'accounts.google.com']) {
      const payload = await metadata.verifyIdToken('google', await googleIdToken({}, { iss }), { audiences: [CLIENT_ID] });
      expect(payload).toMatchObject({ iss: GOOGLE_ISSUER, sub: '110169484474386276334', email: 'dr@clinic.example' });
    }
    expect(googleServers.requests).toEqual([`${GOOGLE_ISSUER}/.well-known/openid-configuration`, GOOGLE_JWKS]);
  });

  test.each<[string, () => Promise<string>]>([
    ['for another client', () => googleIdToken({}, { aud: 'another-client.apps.googleusercontent.com' })],
    ['from another issuer', () => googleIdToken({}, { iss: 'https://accounts.example.com' })],
    ['signed by a key Google does not publish', async () => googleIdToken({}, { signWith: (await generateKeyPair('RS256')).privateKey })],
    ['with a nonce other than the expected one', () => googleIdToken({ nonce: 'other' })],
  ])('refuses an ID token %s', async (_name, make) => {
    const googleServers = googleStandIn();
    googleServers.documents.set(GOOGLE_JWKS, { keys: [key.jwk] });
    const metadata = new ProviderMetadata([google], { fetch: googleServers.fetch });
    await expect(metadata.verifyIdToken('google', await make(), { audiences: [CLIENT_ID], nonce: 'expected' })).rejects.toMatchObject({ name: 'FederationError', code: 'invalid_token' });
  });
});

describe('discovery', () => {
  const issuer = 'https://idp.example.org/tenant';
  const discoveryUrl = `${issuer}/.well-known/openid-configuration`;
  const oidc: UpstreamProviderConfig = { id: 'idp', type: 'oidc', issuer, clientId: 'assent', displayName: 'IdP' };
  const document = { issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks` };

  test('is fetched once, shared by concurrent callers, and fetched again after the refresh interval', async () => {
    const idp = standIn({ [discoveryUrl]: document });
    const cached = new ProviderMetadata([oidc], { fetch: idp.fetch, refreshSeconds: 3600 });
    await Promise.all([cached.metadata('idp'), cached.metadata('idp'), cached.metadata('idp')]);
    await cached.metadata('idp');
    expect(idp.requests).toEqual([discoveryUrl]);

    const refreshed = new ProviderMetadata([oidc], { fetch: idp.fetch, refreshSeconds: 0 });
    await refreshed.metadata('idp');
    await refreshed.metadata('idp');
    expect(idp.requests).toHaveLength(3);
  });

  test('a failed fetch is not cached; a stale document is used while the provider is down', async () => {
    const idp = standIn({ [discoveryUrl]: document });
    idp.down = true;
    const metadata = new ProviderMetadata([oidc], { fetch: idp.fetch, refreshSeconds: 0 });
    await expect(metadata.metadata('idp')).rejects.toMatchObject({ code: 'provider_unavailable' });
    idp.down = false;
    expect(await metadata.metadata('idp')).toEqual(document);
    idp.down = true;
    expect(await metadata.metadata('idp')).toEqual(document);
    expect(idp.requests).toHaveLength(3);
  });

  test.each<[string, Record<string, unknown>]>([
    ['claims another issuer', { ...document, issuer: 'https://evil.example.org' }],
    ['has a plain-http endpoint', { ...document, token_endpoint: 'http://idp.example.org/token' }],
    ['has an endpoint that is not a string', { ...document, jwks_uri: 42 }],
  ])('is refused when it %s', async (_name, body) => {
    const metadata = new ProviderMetadata([oidc], { fetch: standIn({ [discoveryUrl]: body }).fetch });
    const failure = await metadata.metadata('idp').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(FederationError);
    expect(failure).toMatchObject({ code: 'provider_unavailable' });
  });

  test('a plain OAuth 2 provider is described by its configuration and issues no ID tokens', async () => {
    const idp = standIn({});
    const metadata = new ProviderMetadata(
      [{ id: 'social', type: 'oauth2', clientId: 'assent', displayName: 'Social', authorizationEndpoint: 'https://social.example/oauth/authorize', tokenEndpoint: 'https://social.example/oauth/token', userinfoEndpoint: 'https://social.example/api/me' }],
      { fetch: idp.fetch },
    );
    expect(await metadata.metadata('social')).toEqual({
      issuer: 'urn:assent:upstream:social',
      authorization_endpoint: 'https://social.example/oauth/authorize',
      token_endpoint: 'https://social.example/oauth/token',
      userinfo_endpoint: 'https://social.example/api/me',
    });
    await expect(metadata.verifyIdToken('social', 'x.y.z', { audiences: ['assent'] })).rejects.toMatchObject({ code: 'unsupported' });
    expect(idp.requests).toEqual([]);
  });
});
