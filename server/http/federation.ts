import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Services } from './services.js';
import { CALLBACK_PATH, beginFederation, completeFederation, type FederationOutcome } from '../federation/login.js';
import { expired as authorizationExpired, upstreamMaxAge } from '../oauth/authorization-flow.js';
import { CLAIMS_PATH, ClaimsInteractions, expired as claimsExpired } from '../uma/claims-interaction.js';
import { ProtocolError, invalidRequest } from '../protocol/errors.js';
import { checkCsrf, formOf, renderErrorPage, renderPage } from './pages.js';
import { linkAccessInput } from './access-input.js';

/**
 * Logging in through upstream identity providers. A trip upstream starts from a path the browser's
 * interaction cookie is sent to (`/interaction/:id/federation/:provider`,
 * `/uma/claims/:id/federation/:provider`), so only the browser that owns an interaction can
 * continue it with an upstream identity; `/login/federation/:provider` signs in to the account
 * pages. Linking is a CSRF-checked POST of the signed-in account.
 */
export function federationRoutes(router: Router, services: Services): void {
  router.get('/interaction/:id/federation/:provider', asPage(services, async (ctx) => {
    const found = await services.interactions.find(ctx, String(ctx.params.id));
    if (!found) throw authorizationExpired();
    return beginFederation(services, ctx, String(ctx.params.provider), 'login', found._id, upstreamMaxAge(found.request));
  }));

  router.get(`${CLAIMS_PATH}/:id/federation/:provider`, asPage(services, async (ctx) => {
    const found = await (await ClaimsInteractions.of(services.store)).find(ctx, String(ctx.params.id));
    if (!found) throw claimsExpired();
    return beginFederation(services, ctx, String(ctx.params.provider), 'claims', found._id);
  }));

  // Signing in to the account pages: no interaction to protect; the trip itself is bound to this browser.
  router.get('/login/federation/:provider', asPage(services, (ctx) => beginFederation(services, ctx, String(ctx.params.provider), 'account', 'account')));

  router.post('/account/identities/:provider/link', asPage(services, async (ctx) => {
    const session = await services.sessions.current(ctx);
    if (!session) return { kind: 'redirect', url: '/login' };
    checkCsrf(formOf(ctx).csrf, session.csrf);
    // A new way into the account needs a fresh proof of who is asking: the access policy's link rule.
    const { result } = await services.decisions.decide('access', linkAccessInput(session, new Date()));
    if (!result.allow) return { kind: 'redirect', url: '/login?reason=link' };
    return beginFederation(services, ctx, String(ctx.params.provider), 'link', session.accountId);
  }));

  router.post('/account/identities/unlink', asPage(services, async (ctx) => {
    const session = await services.sessions.current(ctx);
    if (!session) return { kind: 'redirect', url: '/login' };
    const form = formOf(ctx);
    checkCsrf(form.csrf, session.csrf);
    if (typeof form.identity !== 'string') throw invalidRequest('missing parameter identity');
    if (await services.identities.unlink(session.accountId, form.identity)) services.logger.info('federation: identity unlinked', { account: session.accountId });
    return { kind: 'redirect', url: '/account' };
  }));

  router.get(CALLBACK_PATH, asPage(services, (ctx) => completeFederation(services, ctx, String(ctx.params.provider))));
}

function redirect(ctx: Context, url: string) {
  ctx.set('Cache-Control', 'no-store');
  ctx.status = 303;
  ctx.redirect(url);
}

/** Everything here is for a person in a browser: outcomes and protocol errors are pages or redirects. */
function asPage(services: Services, handler: (ctx: Context) => Promise<FederationOutcome>): Middleware {
  return async (ctx) => {
    try {
      const outcome = await handler(ctx);
      if (outcome.kind === 'redirect') return redirect(ctx, outcome.url);
      renderPage(ctx, services.views, outcome.page, outcome.title, outcome.data, outcome.status);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      renderErrorPage(ctx, services.views, err);
    }
  };
}
