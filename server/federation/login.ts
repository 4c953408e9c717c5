import * as client from 'openid-client';
import type { UpstreamProviderConfig } from '../config/config.js';
import type { Logger } from '../logger.js';
import { notFound, upstreamMisconfigured, upstreamUnavailable, type ProtocolError } from '../protocol/errors.js';
import type { CookieToSet, RequestCookies } from '../store/repositories/browser-bound.js';
import type { RequestingParty } from '../store/repositories/uma-requests.js';
import type { FederationPurpose, FederationStateDocument, FederationStates } from './federation-states.js';
import { FederationError, type ProviderMetadata } from './provider-metadata.js';
import { partyFromUpstreamClaims } from './upstream-party.js';

/**
 * Logging in through an upstream OpenID Connect (or plain OAuth 2.0) provider with openid-client:
 * authorization code with PKCE S256, `state` and `nonce`, all kept in a single-use record bound
 * to the browser (federation-states.ts). The verified claims become a requesting party, returned
 * with why the trip was made; the HTTP layer continues from there (an authorization request's
 * login, an account sign-in, a UMA claims interaction, or linking the identity).
 */

/**
 * Each provider has its own redirect URI, so an answer that comes back to one provider's address
 * for a trip made to another (a mix-up attack, RFC 9700 §4.4) is refused even when the provider
 * sends no RFC 9207 `iss`.
 */
export const CALLBACK_PATH = '/federation/callback/:provider';
const DEFAULT_SCOPES = ['openid', 'email', 'profile'];

export interface FederationDeps {
  config: { issuer: string };
  upstream: ProviderMetadata;
  federationStates: FederationStates;
  logger: Logger;
}

/** What came back to the callback, with the cookies to set whatever it was (the trip's binding is deleted). */
export type UpstreamAnswer = { cookies: CookieToSet[] } & (
  | { kind: 'verified'; purpose: FederationPurpose; targetId: string; provider: UpstreamProviderConfig; party: RequestingParty; authTime: number }
  /** No trip: unknown, expired, replayed, started in another browser, or no `state` at all. */
  | { kind: 'no-trip' }
  /** The answer came back to another provider's redirect URI than the trip went to. */
  | { kind: 'wrong-provider' }
  /** The provider answered with an error (`access_denied`: the person did not sign in). */
  | { kind: 'provider-error'; provider: UpstreamProviderConfig; error: string }
  | { kind: 'unreachable'; provider: UpstreamProviderConfig }
  /** The answer could not be verified (code, ID token, userinfo). */
  | { kind: 'unverified'; provider: UpstreamProviderConfig }
);

const callbackUrl = (deps: FederationDeps, providerId: string) => `${deps.config.issuer}/federation/callback/${providerId}`;

function requireProvider(deps: FederationDeps, id: string): UpstreamProviderConfig {
  const provider = deps.upstream.provider(id);
  if (!provider) throw notFound('there is no such identity provider here');
  return provider;
}

/** openid-client's view of the provider, built from the discovery document ProviderMetadata caches. */
async function configurationOf(deps: FederationDeps, provider: UpstreamProviderConfig): Promise<client.Configuration> {
  const metadata = await deps.upstream.metadata(provider.id);
  const auth = provider.clientSecret ? client.ClientSecretBasic(provider.clientSecret) : client.None();
  const configuration = new client.Configuration(metadata as client.ServerMetadata, provider.clientId, provider.clientSecret ? { client_secret: provider.clientSecret } : {}, auth);
  // Checked here, where failures are the provider's: buildAuthorizationUrl would throw only after the trip is stored.
  if (!configuration.serverMetadata().authorization_endpoint) throw new Error('the provider\'s metadata has no authorization_endpoint');
  if (provider.allowInsecureRequests) client.allowInsecureRequests(configuration);
  configuration[client.customFetch] = (url, options) => deps.upstream.fetch(url, options as RequestInit);
  configuration.timeout = 10;
  return configuration;
}

/**
 * Starts a trip to provider `providerId` for `purpose` (the caller has checked that this browser
 * owns `targetId`): records state, nonce and PKCE verifier, and returns the provider's URL to send
 * the browser to with the cookie binding the trip to it. With `maxAge` the provider is asked to
 * have signed the person in at most that long ago (0: now, with `prompt=login`), and its ID
 * token's auth_time must show it.
 */
export async function beginFederation(deps: FederationDeps, providerId: string, purpose: FederationPurpose, targetId: string, maxAge?: number): Promise<{ url: string; cookie: CookieToSet }> {
  const provider = requireProvider(deps, providerId);
  let configuration: client.Configuration;
  try {
    configuration = await configurationOf(deps, provider);
  } catch (err) {
    throw upstreamFailure(deps, provider, err);
  }
  const codeVerifier = client.randomPKCECodeVerifier();
  const nonce = provider.type === 'oauth2' ? undefined : client.randomNonce();
  const { state, cookie } = await deps.federationStates.create({ providerId, purpose, targetId, nonce, codeVerifier, ...(maxAge !== undefined ? { maxAge } : {}) });
  const url = client.buildAuthorizationUrl(configuration, {
    redirect_uri: callbackUrl(deps, providerId),
    response_type: 'code',
    scope: (provider.scopes ?? (provider.type === 'oauth2' ? [] : DEFAULT_SCOPES)).join(' '),
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    ...(nonce ? { nonce } : {}),
    ...(maxAge === 0 ? { prompt: 'login' } : {}),
    ...(maxAge !== undefined && provider.type !== 'oauth2' ? { max_age: String(maxAge) } : {}),
  });
  return { url: url.href, cookie };
}

/**
 * GET /federation/callback/:provider (`calledBackFor`, with the request's `querystring`): takes
 * the trip of the answer's `state` when `cookies` hold its binding, redeems the code and verifies
 * who signed in. Only a `verified` answer carries a party.
 */
export async function completeFederation(deps: FederationDeps, cookies: RequestCookies, calledBackFor: string, querystring: string): Promise<UpstreamAnswer> {
  const query = new URLSearchParams(querystring);
  // A parameter given twice counts as absent.
  const one = (name: string) => {
    const values = query.getAll(name);
    return values.length === 1 ? values[0] : undefined;
  };
  const stateParam = one('state');
  const { trip, cookies: clearing } = stateParam ? await deps.federationStates.take(stateParam, cookies) : { trip: null, cookies: [] };
  if (!trip) {
    deps.logger.warn('federation callback without a valid state', { reason: stateParam ? 'unknown, expired, replayed or other browser' : 'no state' });
    return { kind: 'no-trip', cookies: clearing };
  }
  if (trip.providerId !== calledBackFor) {
    deps.logger.warn('federation: an answer came back to another provider\'s redirect URI', { trip: trip.providerId, calledBackFor });
    return { kind: 'wrong-provider', cookies: clearing };
  }
  const provider = requireProvider(deps, trip.providerId);
  const error = one('error');
  if (error) {
    deps.logger.info('federation: the provider answered with an error', { provider: provider.id, error, purpose: trip.purpose });
    return { kind: 'provider-error', provider, error, cookies: clearing };
  }
  let verified: UpstreamLogin;
  try {
    verified = await redeem(deps, provider, trip, querystring);
  } catch (err) {
    return { kind: failure(deps, provider, err), provider, cookies: clearing };
  }
  deps.logger.info('federation: upstream login verified', { provider: provider.id, purpose: trip.purpose });
  return { kind: 'verified', purpose: trip.purpose, targetId: trip.targetId, provider, ...verified, cookies: clearing };
}

/** Who signed in upstream, and when (the ID token's auth_time when it has one, else now). */
interface UpstreamLogin {
  party: RequestingParty;
  authTime: number;
}

async function redeem(deps: FederationDeps, provider: UpstreamProviderConfig, trip: FederationStateDocument, querystring: string): Promise<UpstreamLogin> {
  const configuration = await configurationOf(deps, provider);
  const currentUrl = new URL(`${callbackUrl(deps, provider.id)}?${querystring}`);
  const oidc = provider.type !== 'oauth2';
  const tokens = await client.authorizationCodeGrant(configuration, currentUrl, {
    pkceCodeVerifier: trip.codeVerifier,
    expectedState: currentUrl.searchParams.get('state') ?? '',
    ...(trip.nonce ? { expectedNonce: trip.nonce } : {}),
    ...(trip.maxAge !== undefined && oidc ? { maxAge: trip.maxAge } : {}),
    idTokenExpected: oidc,
  });
  const now = Math.floor(Date.now() / 1000);
  let authTime = now;
  const issuer = deps.upstream.issuerOf(provider.id);
  const metadata = configuration.serverMetadata();
  let claims: Record<string, unknown>;
  if (oidc) {
    // openid-client checked iss, aud, exp, iat and nonce; the signature is checked here against
    // the provider's JWKS (an ID token is never taken on the strength of TLS alone).
    const verified = await deps.upstream.verifyIdToken(provider.id, tokens.id_token ?? '', {
      audiences: [provider.clientId],
      ...(trip.nonce ? { nonce: trip.nonce } : {}),
    });
    claims = { ...verified };
    if (typeof verified['auth_time'] === 'number' && verified['auth_time'] <= now) authTime = verified['auth_time'];
    if (metadata.userinfo_endpoint && tokens.access_token) {
      const userinfo = await client.fetchUserInfo(configuration, tokens.access_token, verified.sub);
      claims = { ...userinfo, ...stripUndefined(claims) };
    }
  } else {
    if (!metadata.userinfo_endpoint) throw new FederationError('unsupported', `upstream provider ${provider.id} has no userinfo endpoint`);
    claims = await plainUserinfo(configuration, tokens.access_token, new URL(metadata.userinfo_endpoint));
  }
  return { party: partyFromUpstreamClaims(issuer, provider, claims), authTime };
}

/**
 * A plain OAuth 2 provider's user endpoint: any JSON object (GitHub-style APIs have no `sub`; the
 * configured `subjectClaim` names the identifier), fetched with the access token.
 */
async function plainUserinfo(configuration: client.Configuration, accessToken: string, url: URL): Promise<Record<string, unknown>> {
  const response = await client.fetchProtectedResource(configuration, accessToken, url, 'GET', undefined, new Headers({ accept: 'application/json' }));
  if (response.status >= 500) throw new FederationError('provider_unavailable', `the user endpoint answered ${response.status}`);
  const body: unknown = response.ok ? await response.json().catch(() => undefined) : undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new FederationError('invalid_token', `the user endpoint answered ${response.status} without a JSON object`);
  return body as Record<string, unknown>;
}

/** A failure of the provider or of its answer: logged; never a session or a party. */
function failure(deps: FederationDeps, provider: UpstreamProviderConfig, err: unknown): 'unreachable' | 'unverified' {
  deps.logger.warn('federation: upstream login failed', {
    provider: provider.id,
    reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    ...(err instanceof client.ClientError && err.code ? { code: err.code } : {}),
  });
  return isUnavailable(err) ? 'unreachable' : 'unverified';
}

function upstreamFailure(deps: FederationDeps, provider: UpstreamProviderConfig, err: unknown): ProtocolError {
  deps.logger.warn('federation: cannot start upstream login', { provider: provider.id, reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  return isUnavailable(err)
    ? upstreamUnavailable(`${provider.displayName} could not be reached; try again in a moment`)
    : upstreamMisconfigured(`${provider.displayName} is not set up correctly here`);
}

function isUnavailable(err: unknown): boolean {
  if (err instanceof FederationError) return err.code === 'provider_unavailable';
  if (err instanceof client.ResponseBodyError) return err.status >= 500;
  // A network failure or timeout anywhere in the cause chain (fetch's TypeError may come from another realm).
  for (let cause: unknown = err, depth = 0; typeof cause === 'object' && cause !== null && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    const { name, code, message } = cause as { name?: unknown; code?: unknown; message?: unknown };
    if (code === 'OAUTH_TIMEOUT' || name === 'AbortError' || name === 'TimeoutError') return true;
    if (name === 'TypeError' && message === 'fetch failed') return true;
    if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|UND_ERR_)/.test(code)) return true;
  }
  return false;
}

function stripUndefined(record: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}
