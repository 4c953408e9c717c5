import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from './services.js';
import { beginAuthorization, expired, showInteraction, submitConsent, submitLogin, type FlowOutcome } from '../oauth/authorization-flow.js';
import { ProtocolError, invalidRequest } from '../protocol/errors.js';
import { checkCsrf, formOf, renderErrorPage, renderPage } from './pages.js';

/** The authorization endpoint and the login/consent pages of an authorization request. */
export function authorizeRoutes(router: Router, services: Services): void {
  const { views } = services;

  const respond = (ctx: Context, outcome: FlowOutcome) => {
    ctx.set('Cache-Control', 'no-store');
    if (outcome.kind === 'redirect') {
      // 303 so a browser follows a POSTed form with a GET.
      ctx.status = 303;
      ctx.redirect(outcome.url);
      return;
    }
    renderPage(ctx, views, outcome.page, outcome.title, outcome.data, outcome.status);
  };

  /** Protocol errors in these routes are for a person in a browser: show them as a page. */
  const asPage = (handler: (ctx: Context) => Promise<FlowOutcome>) => async (ctx: Context) => {
    try {
      respond(ctx, await handler(ctx));
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      renderErrorPage(ctx, views, err);
    }
  };

  const interaction = async (ctx: Context) => {
    const found = await services.interactions.find(ctx, String(ctx.params.id));
    if (!found) throw expired();
    return found;
  };

  router.get('/authorize', asPage((ctx) => beginAuthorization(services, ctx, ctx.query)));
  router.post('/authorize', asPage(async (ctx) => {
    // OpenID Connect Core §3.1.2.1: a POSTed authorization request is form-serialized.
    if (!ctx.is('application/x-www-form-urlencoded')) throw invalidRequest('the body must be application/x-www-form-urlencoded');
    return beginAuthorization(services, ctx, formOf(ctx));
  }));

  router.get('/interaction/:id', asPage(async (ctx) => showInteraction(services, await interaction(ctx))));

  router.post('/interaction/:id/login', asPage(async (ctx) => {
    const found = await interaction(ctx);
    const form = formOf(ctx);
    checkCsrf(form.csrf, found.csrf);
    return submitLogin(services, ctx, found, { email: stringField(form.email), password: stringField(form.password) });
  }));

  router.post('/interaction/:id/consent', asPage(async (ctx) => {
    const found = await interaction(ctx);
    const form = formOf(ctx);
    checkCsrf(form.csrf, found.csrf);
    const chosen = ([] as unknown[]).concat(form.scope ?? []).filter((s): s is string => typeof s === 'string');
    return submitConsent(services, ctx, found, stringField(form.decision), chosen);
  }));
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
