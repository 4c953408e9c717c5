import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Services } from './services.js';
import { linkIdentity, linkedAccount } from '../federation/identity-links.js';
import { CALLBACK_PATH, beginFederation, completeFederation, type UpstreamAnswer } from '../federation/login.js';
import type { FederationPurpose } from '../federation/federation-states.js';
import { continueAfterUpstreamLogin, expired as authorizationExpired, upstreamMaxAge } from '../oauth/authorization-flow.js';
import { completeClaimsInteraction, expired as claimsExpired } from '../uma/claims-interaction.js';
import { CLAIMS_PATH } from '../store/repositories/claims-interactions.js';
import { respondToAuthorization } from './authorize.js';
import { respondToClaims } from './uma-claims.js';
import { ProtocolError, invalidRequest } from '../protocol/errors.js';
import { setCookies } from './cookies.js';
import { checkCsrf, formOf, renderErrorPage, renderPage } from './pages.js';
import { linkAccessInput } from './access-input.js';

/**
 * Logging in through upstream identity providers. A trip upstream starts from a path the browser's
 * interaction cookie is sent to (`/interaction/:id/federation/:provider`,
 * `/uma/claims/:id/federation/:provider`), so only the browser that owns an interaction can
 * continue it with an upstream identity; `/login/federation/:provider` signs in to the account
 * pages. Linking is a CSRF-checked POST of the signed-in account. The callback continues the flow
 * the trip was made for with the identity server/federation/login.ts verified.
 */
/** Error codes an authorization response may carry (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6): only these are shown. */
const AUTHORIZATION_ERRORS = new Set(['invalid_request', 'unauthorized_client', 'unsupported_response_type', 'invalid_scope', 'server_error', 'temporarily_unavailable', 'interaction_required', 'login_required', 'account_selection_required', 'consent_required']);

interface Redirect {
  kind: 'redirect';
  url: string;
}
/** A handler answers with a redirect, or has written the page itself (nothing returned). */
type Handler = (ctx: Context, services: Services) => Promise<Redirect | void>;
type Verified = Extract<UpstreamAnswer, { kind: 'verified' }>;

export function federationRoutes(router: Router, services: Services): void {
  router.get('/interaction/:id/federation/:provider', asPage(services, startForAuthorization));
  router.get(`${CLAIMS_PATH}/:id/federation/:provider`, asPage(services, startForClaims));
  // Signing in to the account pages: no interaction to protect; the trip itself is bound to this browser.
  router.get('/login/federation/:provider', asPage(services, (ctx) => goUpstream(ctx, services, 'account', 'account')));
  router.post('/account/identities/:provider/link', asPage(services, startLink));
  router.post('/account/identities/unlink', asPage(services, unlink));
  router.get(CALLBACK_PATH, asPage(services, callback));
}

/** Sends the browser to provider `:provider` for `purpose`, bound to it by the trip's cookie. */
async function goUpstream(ctx: Context, services: Services, purpose: FederationPurpose, targetId: string, maxAge?: number): Promise<Redirect> {
  const { url, cookie } = await beginFederation(services, String(ctx.params.provider), purpose, targetId, maxAge);
  setCookies(ctx, cookie);
  return { kind: 'redirect', url };
}

async function startForAuthorization(ctx: Context, services: Services): Promise<Redirect> {
  const found = await services.interactions.find(String(ctx.params.id), ctx.cookies);
  if (!found) throw authorizationExpired();
  return goUpstream(ctx, services, 'login', found._id, upstreamMaxAge(found.request));
}

async function startForClaims(ctx: Context, services: Services): Promise<Redirect> {
  const found = await services.claimsInteractions.find(String(ctx.params.id), ctx.cookies);
  if (!found) throw claimsExpired();
  return goUpstream(ctx, services, 'claims', found._id);
}

async function startLink(ctx: Context, services: Services): Promise<Redirect> {
  const session = await services.sessions.current(ctx.cookies);
  if (!session) return { kind: 'redirect', url: '/login' };
  checkCsrf(formOf(ctx).csrf, session.csrf);
  // A new way into the account needs a fresh proof of who is asking: the access policy's link rule.
  const { result } = await services.decisions.decide('access', linkAccessInput(session, new Date()));
  if (!result.allow) return { kind: 'redirect', url: '/login?reason=link' };
  return goUpstream(ctx, services, 'link', session.accountId);
}

async function unlink(ctx: Context, services: Services): Promise<Redirect> {
  const session = await services.sessions.current(ctx.cookies);
  if (!session) return { kind: 'redirect', url: '/login' };
  const form = formOf(ctx);
  checkCsrf(form.csrf, session.csrf);
  if (typeof form.identity !== 'string') throw invalidRequest('missing parameter identity');
  if (await services.identities.unlink(session.accountId, form.identity)) services.logger.info('federation: identity unlinked', { account: session.accountId });
  return { kind: 'redirect', url: '/account' };
}

/** GET /federation/callback/:provider: the verified identity continues the flow its trip was made for. */
async function callback(ctx: Context, services: Services): Promise<Redirect | void> {
  const answer = await completeFederation(services, ctx.cookies, String(ctx.params.provider), ctx.querystring);
  setCookies(ctx, ...answer.cookies);
  if (answer.kind !== 'verified') return showFailure(ctx, services, answer);
  switch (answer.purpose) {
    case 'login':
      return continueAuthorization(ctx, services, answer);
    case 'account':
      if (!(await signIn(ctx, services, answer))) return;
      return { kind: 'redirect', url: '/account' };
    case 'claims':
      return continueClaims(ctx, services, answer);
    case 'link':
      return link(ctx, services, answer);
  }
}

/** An authorization request's login: the identity's account signs in and the request goes on (consent or code). */
async function continueAuthorization(ctx: Context, services: Services, answer: Verified): Promise<void> {
  const account = await accountOf(ctx, services, answer);
  if (!account) return;
  // The outcome carries the sign-in, which respondToAuthorization starts as a session.
  await respondToAuthorization(ctx, services, await continueAfterUpstreamLogin(services, answer.targetId, { accountId: account, authTime: answer.authTime }));
}

/** Starts a session for the identity's account, or shows why it cannot sign in; the account when it did. */
async function signIn(ctx: Context, services: Services, answer: Verified): Promise<string | undefined> {
  const account = await accountOf(ctx, services, answer);
  if (account) setCookies(ctx, (await services.sessions.start(ctx.cookies, account, answer.authTime)).cookie);
  return account;
}

/** The account the identity is linked to, or undefined after showing why there is none. */
async function accountOf(ctx: Context, services: Services, { provider, party }: Verified): Promise<string | undefined> {
  const linked = await linkedAccount(services, provider, party);
  if (linked.kind === 'account') return linked.accountId;
  if (linked.kind === 'disabled') return message(ctx, services, 403, 'This account is disabled', 'The account linked to this identity is disabled. Ask the operator of this server to enable it.');
  message(
    ctx,
    services,
    403,
    'This identity is not linked to an account',
    `You signed in at ${provider.displayName}${party.email ? ` as ${party.email}` : ''}, but that identity is not linked to an account here. Sign in with your password, link this identity from your account page first, then use it to sign in.`,
  );
}

/** A UMA claims interaction: the verified party's claims go with a new ticket back to the client. */
async function continueClaims(ctx: Context, services: Services, answer: Verified): Promise<void> {
  const interaction = await services.claimsInteractions.byId(answer.targetId);
  if (!interaction) return message(ctx, services, 400, 'This request has expired', 'This claims request has expired or was already used; start again from the app.');
  respondToClaims(ctx, services, await completeClaimsInteraction(services, interaction._id, answer.party));
}

/** Linking: only to the account that asked, while it is still signed in here. */
async function link(ctx: Context, services: Services, { targetId, provider, party }: Verified): Promise<Redirect | void> {
  const session = await services.sessions.current(ctx.cookies);
  if (!session || session.accountId !== targetId) return message(ctx, services, 403, 'Sign in again', 'You are no longer signed in as the account that asked to link this identity. Sign in and try again.');
  if ((await linkIdentity(services, session.accountId, provider, party)) === 'elsewhere') {
    return message(ctx, services, 409, 'Already linked elsewhere', `This ${provider.displayName} identity is already linked to another account. Unlink it there first.`);
  }
  return { kind: 'redirect', url: '/account' };
}

/** What went wrong before any identity was verified, as a page (never a session or a party). */
function showFailure(ctx: Context, services: Services, answer: Exclude<UpstreamAnswer, { kind: 'verified' }>): void {
  switch (answer.kind) {
    case 'no-trip':
      return message(ctx, services, 400, 'This sign-in has expired or was already used', 'This sign-in attempt is unknown, has expired, was already used, or was started in another browser. Go back to the app and start again.');
    case 'wrong-provider':
      return message(ctx, services, 400, 'Sign-in failed', 'The answer came back from a different identity provider than the one this sign-in went to. Go back to the app and start again.');
    case 'provider-error': {
      const { provider, error } = answer;
      return error === 'access_denied'
        ? message(ctx, services, 403, 'Sign-in cancelled', `You did not sign in at ${provider.displayName}. Go back to the app to try again or to sign in another way.`)
        : message(ctx, services, 400, 'Sign-in failed', `${provider.displayName} could not sign you in${AUTHORIZATION_ERRORS.has(error) ? ` (${error})` : ''}. Go back to the app and try again.`);
    }
    case 'unreachable':
      return message(ctx, services, 502, `${answer.provider.displayName} is not answering`, `${answer.provider.displayName} could not be reached to finish signing you in. Try again in a moment.`);
    case 'unverified':
      return message(ctx, services, 400, 'Sign-in failed', `The answer from ${answer.provider.displayName} could not be verified, so you were not signed in. Go back to the app and try again.`);
  }
}

function message(ctx: Context, services: Services, status: number, title: string, text: string): undefined {
  renderPage(ctx, services.views, 'message', title, { title, message: text }, status);
  return undefined;
}

function redirect(ctx: Context, url: string) {
  ctx.set('Cache-Control', 'no-store');
  ctx.status = 303;
  ctx.redirect(url);
}

/** Everything here is for a person in a browser: protocol errors are pages. */
function asPage(services: Services, handler: Handler): Middleware {
  return async (ctx) => {
    try {
      const outcome = await handler(ctx, services);
      if (outcome) redirect(ctx, outcome.url);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      renderErrorPage(ctx, services.views, err);
    }
  };
}
