import type { Context } from 'koa';
import * as client from 'openid-client';
import type { Services } from '../http/services.js';
import type { UpstreamProviderConfig } from '../config/config.js';
import { ProtocolError, upstreamMisconfigured, upstreamUnavailable } from '../protocol/errors.js';
import { continueAfterUpstreamLogin, type AuthorizationOutcome } from '../oauth/authorization-flow.js';
import { DuplicateKeyError } from '../store/port.js';
import type { RequestingParty } from '../store/repositories/uma-requests.js';
import type { PageName } from '../views/render.js';
import { completeClaimsInteraction } from '../uma/claims-interaction.js';
import { setCookies } from '../http/cookies.js';
import type { FederationPurpose, FederationStateDocument } from './federation-states.js';
import { FederationError } from './provider-metadata.js';
import { partyFromUpstreamClaims } from './upstream-party.js';

/**
 * Logging in through an upstream OpenID Connect (or plain OAuth 2.0) provider with openid-client:
 * authorization code with PKCE S256, `state` and `nonce`, all kept in a single-use record bound
 * to the browser (federation-states.ts). The verified claims become a requesting party; what
 * happens next depends on why the trip was made: an authorization request's login (the identity
 * must be linked to an account), a UMA claims interaction (no local account needed) or linking
 * the identity to the signed-in account.
 */

/**
 * Each provider has its own redirect URI, so an answer that comes back to one provider's address
 * for a trip made to another (a mix-up attack, RFC 9700 §4.4) is refused even when the provider
 * sends no RFC 9207 `iss`.
 */
export const CALLBACK_PATH = '/federation/callback/:provider';
const callbackUrl = (services: Services, providerId: string) => `${services.config.issuer}/federation/callback/${providerId}`;
const DEFAULT_SCOPES = ['openid', 'email', 'profile'];
/** Error codes an authorization response may carry (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6): only these are shown. */
const AUTHORIZATION_ERRORS = new Set(['invalid_request', 'unauthorized_client', 'unsupported_response_type', 'invalid_scope', 'server_error', 'temporarily_unavailable', 'interaction_required', 'login_required', 'account_selection_required', 'consent_required']);

/** What the HTTP layer should do next. */
export type FederationOutcome =
  | { kind: 'redirect'; url: string }
  | { kind: 'authorization'; outcome: AuthorizationOutcome }
  | { kind: 'page'; page: PageName; title: string; data: Record<string, unknown>; status?: number };

function requireProvider(services: Services, id: string): UpstreamProviderConfig {
  const provider = services.upstream.provider(id);
  if (!provider) throw new ProtocolError(404, 'invalid_request', 'there is no such identity provider here');
  return provider;
}

/** openid-client's view of the provider, built from the discovery document ProviderMetadata caches. */
async function configurationOf(services: Services, provider: UpstreamProviderConfig): Promise<client.Configuration> {
  const metadata = await services.upstream.metadata(provider.id);
  const auth = provider.clientSecret ? client.ClientSecretBasic(provider.clientSecret) : client.None();
  const configuration = new client.Configuration(metadata as client.ServerMetadata, provider.clientId, provider.clientSecret ? { client_secret: provider.clientSecret } : {}, auth);
  if (provider.allowInsecureRequests) client.allowInsecureRequests(configuration);
  configuration[client.customFetch] = (url, options) => services.upstream.fetch(url, options as RequestInit);
  configuration.timeout = 10;
  return configuration;
}

/**
 * Starts a trip to provider `providerId` for `purpose` (the caller has checked that this browser
 * owns `targetId`): records state, nonce and PKCE verifier, and sends the browser upstream. With
 * `maxAge` the provider is asked to have signed the person in at most that long ago (0: now, with
 * `prompt=login`), and its ID token's auth_time must show it.
 */
export async function beginFederation(services: Services, ctx: Context, providerId: string, purpose: FederationPurpose, targetId: string, maxAge?: number): Promise<FederationOutcome> {
  const provider = requireProvider(services, providerId);
  let configuration: client.Configuration;
  try {
    configuration = await configurationOf(services, provider);
  } catch (err) {
    throw upstreamFailure(services, provider, err);
  }
  const codeVerifier = client.randomPKCECodeVerifier();
  const nonce = provider.type === 'oauth2' ? undefined : client.randomNonce();
  const state = await services.federationStates.create(ctx, { providerId, purpose, targetId, nonce, codeVerifier, ...(maxAge !== undefined ? { maxAge } : {}) });
  const url = client.buildAuthorizationUrl(configuration, {
    redirect_uri: callbackUrl(services, providerId),
    response_type: 'code',
    scope: (provider.scopes ?? (provider.type === 'oauth2' ? [] : DEFAULT_SCOPES)).join(' '),
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    ...(nonce ? { nonce } : {}),
    ...(maxAge === 0 ? { prompt: 'login' } : {}),
    ...(maxAge !== undefined && provider.type !== 'oauth2' ? { max_age: String(maxAge) } : {}),
  });
  return { kind: 'redirect', url: url.href };
}

/** GET /federation/callback/:provider: checks the trip, redeems the code, and continues by purpose. */
export async function completeFederation(services: Services, ctx: Context, calledBackFor: string): Promise<FederationOutcome> {
  const query = ctx.query;
  const one = (name: string) => (typeof query[name] === 'string' ? (query[name] as string) : undefined);
  const stateParam = one('state');
  const trip = stateParam ? await services.federationStates.take(ctx, stateParam) : null;
  if (!trip) {
    services.logger.warn('federation callback without a valid state', { reason: stateParam ? 'unknown, expired, replayed or other browser' : 'no state' });
    return message(400, 'This sign-in has expired or was already used', 'This sign-in attempt is unknown, has expired, was already used, or was started in another browser. Go back to the app and start again.');
  }
  if (trip.providerId !== calledBackFor) {
    services.logger.warn('federation: an answer came back to another provider\'s redirect URI', { trip: trip.providerId, calledBackFor });
    return message(400, 'Sign-in failed', 'The answer came back from a different identity provider than the one this sign-in went to. Go back to the app and start again.');
  }
  const provider = requireProvider(services, trip.providerId);
  const error = one('error');
  if (error) {
    services.logger.info('federation: the provider answered with an error', { provider: provider.id, error, purpose: trip.purpose });
    return error === 'access_denied'
      ? message(403, 'Sign-in cancelled', `You did not sign in at ${provider.displayName}. Go back to the app to try again or to sign in another way.`)
      : message(400, 'Sign-in failed', `${provider.displayName} could not sign you in${AUTHORIZATION_ERRORS.has(error) ? ` (${error})` : ''}. Go back to the app and try again.`);
  }
  let verified: UpstreamLogin;
  try {
    verified = await redeem(services, provider, trip, ctx.querystring);
  } catch (err) {
    return failure(services, provider, err);
  }
  services.logger.info('federation: upstream login verified', { provider: provider.id, purpose: trip.purpose });
  return continueTrip(services, ctx, provider, trip, verified);
}

/** Who signed in upstream, and when (the ID token's auth_time when it has one, else now). */
interface UpstreamLogin {
  party: RequestingParty;
  authTime: number;
}

async function redeem(services: Services, provider: UpstreamProviderConfig, trip: FederationStateDocument, querystring: string): Promise<UpstreamLogin> {
  const configuration = await configurationOf(services, provider);
  const currentUrl = new URL(`${callbackUrl(services, provider.id)}?${querystring}`);
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
  const issuer = services.upstream.issuerOf(provider.id);
  const metadata = configuration.serverMetadata();
  let claims: Record<string, unknown>;
  if (oidc) {
    // openid-client checked iss, aud, exp, iat and nonce; the signature is checked here against
    // the provider's JWKS (an ID token is never taken on the strength of TLS alone).
    const verified = await services.upstream.verifyIdToken(provider.id, tokens.id_token ?? '', {
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

async function continueTrip(services: Services, ctx: Context, provider: UpstreamProviderConfig, trip: FederationStateDocument, { party, authTime }: UpstreamLogin): Promise<FederationOutcome> {
  switch (trip.purpose) {
    case 'login':
    case 'account': {
      const identity = await services.identities.find(party.iss, party.sub);
      // An identity still linked to an account that was deleted since counts as unlinked.
      const account = identity && (await services.accounts.byId(identity.accountId));
      if (account?.disabled) return message(403, 'This account is disabled', 'The account linked to this identity is disabled. Ask the operator of this server to enable it.');
      if (!identity || !account) {
        services.logger.info('federation: login with an unlinked identity', { provider: provider.id });
        return message(
          403,
          'This identity is not linked to an account',
          `You signed in at ${provider.displayName}${party.email ? ` as ${party.email}` : ''}, but that identity is not linked to an account here. Sign in with your password, link this identity from your account page first, then use it to sign in.`,
        );
      }
      if (trip.purpose === 'login') return { kind: 'authorization', outcome: await continueAfterUpstreamLogin(services, trip.targetId, { accountId: identity.accountId, authTime }) };
      await services.sessions.start(ctx, identity.accountId, authTime);
      return { kind: 'redirect', url: '/account' };
    }
    case 'claims': {
      const interaction = await services.claimsInteractions.byId(trip.targetId);
      if (!interaction) return message(400, 'This request has expired', 'This claims request has expired or was already used; start again from the app.');
      const completed = await completeClaimsInteraction(services, interaction._id, party);
      setCookies(ctx, ...completed.cookies);
      return completed;
    }
    case 'link': {
      const session = await services.sessions.current(ctx);
      if (!session || session.accountId !== trip.targetId) return message(403, 'Sign in again', 'You are no longer signed in as the account that asked to link this identity. Sign in and try again.');
      try {
        await services.identities.link({
          accountId: session.accountId,
          providerId: provider.id,
          issuer: party.iss,
          subject: party.sub,
          ...(party.email ? { email: party.email } : {}),
        });
      } catch (err) {
        if (!(err instanceof DuplicateKeyError)) throw err;
        const existing = await services.identities.find(party.iss, party.sub);
        if (existing?.accountId === session.accountId) return { kind: 'redirect', url: '/account' };
        return message(409, 'Already linked elsewhere', `This ${provider.displayName} identity is already linked to another account. Unlink it there first.`);
      }
      services.logger.info('federation: identity linked', { provider: provider.id, account: session.accountId });
      return { kind: 'redirect', url: '/account' };
    }
  }
}

function message(status: number, title: string, text: string): FederationOutcome {
  return { kind: 'page', page: 'message', title, data: { title, message: text }, status };
}

/** A failure of the provider or of its answer: logged, shown as a page, never a session or a party. */
function failure(services: Services, provider: UpstreamProviderConfig, err: unknown): FederationOutcome {
  const unavailable = isUnavailable(err);
  services.logger.warn('federation: upstream login failed', {
    provider: provider.id,
    reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    ...(err instanceof client.ClientError && err.code ? { code: err.code } : {}),
  });
  return unavailable
    ? message(502, `${provider.displayName} is not answering`, `${provider.displayName} could not be reached to finish signing you in. Try again in a moment.`)
    : message(400, 'Sign-in failed', `The answer from ${provider.displayName} could not be verified, so you were not signed in. Go back to the app and try again.`);
}

function upstreamFailure(services: Services, provider: UpstreamProviderConfig, err: unknown): ProtocolError {
  services.logger.warn('federation: cannot start upstream login', { provider: provider.id, reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
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
